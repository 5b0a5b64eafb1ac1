"""Loading real exercise files: tolerated failures, shims, encodings, tabs, keys in either case."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from exercise_files import EXERCISE, EXPECTED_EXIT, EXPECTED_NOTES, EXPECTED_STUDENT_CHECKER
from user_files import FIXTURES

from gradharness.errors import UserCodeError
from gradharness.model.keys import KeyCaseDict
from gradharness.properties.student_checker import check_student_checker
from gradharness.records.check import PropertyStatus
from gradharness.records.status import FailureKind
from gradharness.settings import FunctionNames, RunSettings
from gradharness.usercode.discover import with_key_case
from gradharness.usercode.loader import load_user_file
from gradharness.usercode.shims import gc_utils as shim
from gradharness.usercode.source import read_source


@pytest.fixture(autouse=True)
def isolated_imports():
    """Loading a user file registers modules and a sys.path entry; undo that after each test."""
    modules, path = dict(sys.modules), list(sys.path)
    yield
    for name in set(sys.modules) - set(modules):
        del sys.modules[name]
    sys.modules.update(modules)
    sys.path[:] = path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


LOADABLE = [name for name, code in EXPECTED_EXIT.items() if code != 2]


@pytest.mark.parametrize("name", LOADABLE)
def test_every_exercise_file_loads_with_its_notes(name: str) -> None:
    loaded = load_user_file(EXERCISE / name)
    assert loaded.found.network is not None or loaded.found.one_d is not None
    joined = " | ".join(loaded.notes)
    for words in EXPECTED_NOTES[name]:
        assert words in joined, f"{name}: note {words!r} missing from {joined!r}"
    assert (loaded.found.checker is not None) == (name in EXPECTED_STUDENT_CHECKER)


@pytest.mark.parametrize(
    "name",
    [
        "scripts/lowercase_keys_crlf.py",
        "scripts/imports_gc_utils_not_shipped.py",
        "scripts/gradient_checking_exported.py",
    ],
)
def test_correct_exercise_files_pass_through_the_pytest_plugin(name: str, backprop_check) -> None:
    forward, backward = load_user_file(EXERCISE / name).found.network
    backprop_check(forward, backward, max_examples=8, seed=5)


def test_module_level_failures_are_one_note_and_later_definitions_still_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "student.py",
        """
        from __future__ import annotations
        import numpy as np
        from public_tests import *
        forward_propagation_test(None)
        assert 1 == 2, "my own test"

        def forward_propagation(x: np.ndarray, theta) -> float:
            return theta * x

        def backward_propagation(x, theta):
            return x
        """,
    )
    loaded = load_user_file(path)
    assert loaded.found.one_d is not None
    assert len(loaded.skipped) == 3
    [note] = [n for n in loaded.notes if "module-level" in n]
    assert "line 4: ModuleNotFoundError: No module named 'public_tests'; 2 more failed" in note
    # from __future__ import annotations still applies to the later statements
    assert loaded.module.forward_propagation.__annotations__["x"] == "np.ndarray"


def test_a_missing_module_a_checked_function_uses_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "f.py",
        "import scipy_not_here\ndef forward_propagation(x, t):\n    return scipy_not_here.dot(t, x)\n"
        "def backward_propagation(x, t):\n    return x\n",
    )
    with pytest.raises(UserCodeError, match=r"f.py: forward_propagation uses scipy_not_here, bound by line 1 "):
        load_user_file(path)


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("bad_import.py", "No module named 'not_a_real_module_xyz'"),
        ("bad_sys_exit.py", r"called sys.exit\(3\) while loading"),
        ("bad_syntax.py", r"syntax error \(line 34\)"),
        ("bad_no_functions.py", "has no functions to check"),
    ],
)
def test_existing_bad_fixtures_keep_their_errors(fixture: str, message: str) -> None:
    with pytest.raises(UserCodeError, match=message):
        load_user_file(FIXTURES / fixture)


def test_a_checked_function_needing_a_skipped_import_is_an_error() -> None:
    with pytest.raises(UserCodeError) as caught:
        load_user_file(EXERCISE / "scripts" / "needs_testcases.py")
    text = str(caught.value)
    assert "backward_propagation_n uses relu_backward" in text
    assert "No module named 'testCases'" in text
    assert "\n" not in text


def test_the_exercise_gc_utils_beside_the_file_wins_over_the_shim() -> None:
    load_user_file(EXERCISE / "notebooks" / "Gradient_Checking_corrected.ipynb")
    assert Path(sys.modules["gc_utils"].__file__) == EXERCISE / "notebooks" / "gc_utils.py"
    load_user_file(EXERCISE / "scripts" / "imports_gc_utils_not_shipped.py")
    assert sys.modules["gc_utils"] is shim


def test_magics_in_a_plain_script_are_ignored_on_a_second_try(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pasted.py",
        "%matplotlib inline\n!pip install numpy\ndef forward_propagation(x, t):\n    return t * x\ndef backward_propagation(x, t):\n    return x\n",
    )
    loaded = load_user_file(path)
    assert any("ignored 2 IPython magic/shell lines" in n for n in loaded.notes)


def test_read_source_gives_a_notebooks_python() -> None:
    text = read_source(EXERCISE / "notebooks" / "Gradient_Checking.ipynb")
    assert "def backward_propagation_n(X, Y, cache):" in text
    assert "%load_ext" not in text
    compile(text, "nb", "exec")


def test_a_file_with_a_declared_but_wrong_encoding_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    path.write_bytes(b"# -*- coding: utf-8 -*-\n# caf\xe9\n")
    with pytest.raises(UserCodeError, match="cannot decode"):
        load_user_file(path)


def test_keys_in_either_case_reach_the_users_forward() -> None:
    seen = {}

    def forward(X, Y, parameters):
        seen["w1"] = parameters["w1"]
        parameters["B1"] = "replaced"
        return 0.0, None

    parameters = {"W1": np.ones((2, 2)), "b1": np.zeros((2, 1))}
    with_key_case(forward)(None, None, parameters)
    assert seen["w1"] is parameters["W1"]
    assert parameters["B1"] == "replaced"  # stores are copied back for the side-effect check


def test_key_case_dict() -> None:
    d = KeyCaseDict({"dW1": 1})
    assert d["dw1"] == 1 and d.get("DW1") == 1 and "dw1" in d and d.get("x", 7) == 7
    with pytest.raises(KeyError):
        d["dW2"]


@pytest.mark.parametrize("sizes", [(3, 2, 2, 2), (1, 1, 1, 1), (7, 4, 6, 3), (2, 3, 3, 3, 1)])
def test_gc_utils_shim_round_trips_any_layer_sizes(sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(sizes))
    parameters = {}
    for layer in range(1, len(sizes)):
        parameters[f"W{layer}"] = rng.standard_normal((sizes[layer], sizes[layer - 1]))
        parameters[f"b{layer}"] = rng.standard_normal((sizes[layer], 1))
    theta, keys = shim.dictionary_to_vector(parameters)
    assert theta.shape == (sum(v.size for v in parameters.values()), 1)
    assert keys[0] == "W1" and keys[-1] == f"b{len(sizes) - 1}"
    back = shim.vector_to_dictionary(theta)
    assert set(back) == set(parameters)
    for name, value in parameters.items():
        np.testing.assert_array_equal(back[name], value)
    gradients = {"d" + k.lower(): v for k, v in parameters.items()} | {"dZ1": np.zeros(3)}
    np.testing.assert_array_equal(shim.gradients_to_vector(gradients), theta)


def test_gc_utils_shim_falls_back_to_the_exercise_layout_and_names_an_unknown_length() -> None:
    shim._layouts.clear()
    parameters = shim.vector_to_dictionary(np.arange(47.0).reshape(-1, 1))
    assert parameters["W1"].shape == (5, 4) and parameters["b3"].shape == (1, 1)
    with pytest.raises(ValueError, match="13 entries"):
        shim.vector_to_dictionary(np.zeros((13, 1)))
    assert shim.relu(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]
    assert shim.sigmoid(0.0) == 0.5


def _checker_of(name: str):
    return load_user_file(EXERCISE / name).found.checker


def test_the_exercise_checker_accepts_correct_and_rejects_wrong_backprops() -> None:
    findings = check_student_checker(
        _checker_of("notebooks/Gradient_Checking.ipynb"), RunSettings(seed=3, max_examples=6)
    )
    assert findings.property.status is PropertyStatus.PASSED and not findings.failures
    assert findings.accepted >= 1 and findings.rejected >= 4


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("scripts/checker_forgets_two.py", "for a correct backprop"),
        ("scripts/checker_norms_only.py", "for a wrong backprop"),
    ],
)
def test_a_wrong_student_checker_is_a_finding(name: str, words: str) -> None:
    findings = check_student_checker(_checker_of(name), RunSettings(seed=3, max_examples=6))
    [failure] = findings.failures
    assert failure.property == "STUDENT_CHECKER" and failure.kind is FailureKind.WRONG
    assert words in failure.message
    assert failure.case["sizes"] == [4, 5, 3, 1]


def test_a_student_checker_that_returns_nothing_or_crashes_is_a_finding() -> None:
    def prints_only(parameters, gradients, X, Y, epsilon=1e-7):
        print("difference is small")

    def crashes(parameters, gradients, X, Y):
        return parameters["W9"]

    for checker, kind in ((prints_only, FailureKind.MALFORMED), (crashes, FailureKind.CRASHED)):
        [failure] = check_student_checker(checker, RunSettings(seed=1, max_examples=3)).failures
        assert failure.kind is kind


def test_function_names_the_user_gave_must_exist() -> None:
    with pytest.raises(UserCodeError, match="no functions to check named nope and nada; functions defined: "):
        load_user_file(FIXTURES / "correct_seed_style.py", FunctionNames(forward_n="nope", backward_n="nada"))
    found = load_user_file(FIXTURES / "correct_seed_style.py", FunctionNames()).found
    assert found.network is not None and found.one_d is not None
