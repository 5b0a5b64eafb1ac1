"""The ``deep`` target's regularisation exercise on files written as students write them
(tests/fixtures/user_code/regularisation/): its L2 and dropout parts.

Correct files pass for several seeds; each mistake fails the agreement of its part, naming the wrong gradients and
the likely mistake; a forward whose masks come from elsewhere fails the determinism property, never a gradient
one. Most run the file in this process (the fixtures are trusted); the evaluator's path is checked on a whole
notebook, a mistake of each part, and a backward that writes into its cache. Also here: the programs' moved
arguments (``Argument``, ``Alongside``), the notebook's helper modules and how its imports are read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from mistakes import made_file
from regularisation_mistakes import MISTAKES as REGULARISATION_MISTAKES
from tiers import quick_first

from gradharness.check.program import Alongside, Argument, Call, Output, Varied, perturbed_results
from gradharness.errors import UserCodeError
from gradharness.judge.checks import check_file
from gradharness.records.check import CheckRecord, FailureRecord, PropertyStatus
from gradharness.records.verdict import RunVerdict
from gradharness.settings import CheckOptions, IsolationSettings, RunSettings
from gradharness.targets.regularisation.properties import DROPOUT_ORDER, L2_ORDER
from gradharness.usercode.loader import load_user_file

FIXTURES = Path(__file__).parent / "fixtures" / "user_code"
REGULARISATION = FIXTURES / "regularisation"
MADE: dict[str, Path] = {}  # each mistake of regularisation_mistakes.py, made in a folder of the module's


@pytest.fixture(scope="module", autouse=True)
def _mistakes(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("regularisation")
    MADE.update({name: made_file(name, mistake, folder) for name, mistake in REGULARISATION_MISTAKES.items()})


def _file(name: str) -> Path:
    return MADE.get(name, REGULARISATION / name)


REFERENCE = Path(__file__).parent.parent / "gradharness" / "model" / "regularised.py"
IN_PROCESS = IsolationSettings(level="none")
L2 = {p.name for p in L2_ORDER}
DROPOUT = {p.name for p in DROPOUT_ORDER}

CORRECT = {
    "correct_regularisation.py": L2,
    "correct_dropout.py": DROPOUT,
    "correct_dropout_global_rng.py": DROPOUT,
}

# file -> (the property that fails, the gradients it may name wrong, a gradient it names, the likely mistake)
MISTAKES = {
    "buggy_l2_term_missing.py": ("L2_AGREES", {"dW2"}, "dW2", "the L2 term lambd / m * W missing"),
    "buggy_l2_lambd_not_over_m.py": ("L2_AGREES", {"dW1", "dW2", "dW3"}, "dW1", "lambd * W where lambd / m * W belongs"),
    "buggy_dropout_mask_missing.py": ("DROPOUT_AGREES", {"dA1", "dA2"}, None, "the mask D missing from dA"),
    "buggy_dropout_keep_prob_missing.py": (
        "DROPOUT_AGREES", {"dW1", "db1", "dW2", "db2", "dA1", "dA2"}, "dW2", "the / keep_prob missing from dA",
    ),
}  # fmt: skip


def _check(path: Path, seed: int = 0, isolation: IsolationSettings = IN_PROCESS, **run: object) -> CheckRecord:
    settings = RunSettings(seed=seed, max_examples=int(run.pop("max_examples", 20)), **run)  # type: ignore[arg-type]
    return check_file(path, settings, isolation=isolation, timeout=120)


def _wrong_blocks(failure: FailureRecord) -> set[str]:
    assert failure.gradient_check is not None
    return {b.name for b in failure.gradient_check.blocks if b.verdict.value == "wrong"}


@pytest.mark.parametrize("name", CORRECT)
@pytest.mark.parametrize("seed", quick_first([0, 5], 1))
def test_correct_files_pass(name: str, seed: int) -> None:
    record = _check(_file(name), seed)
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert {p.target for p in record.properties} == {"regularisation"}
    assert {p.name for p in record.properties} == CORRECT[name]
    assert all(p.status is PropertyStatus.PASSED and p.examples > 0 for p in record.properties)


def test_the_reference_passes_as_a_file_with_its_own_forward_and_cost() -> None:
    record = _check(REFERENCE, 3)  # its own forward_propagation and compute_cost are the file's
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert {p.name for p in record.properties} == L2 | DROPOUT


@pytest.mark.parametrize(("name", "expected"), quick_first(list(MISTAKES.items()), 2))
def test_each_mistake_fails_its_parts_agreement_naming_the_wrong_gradients(name: str, expected: tuple) -> None:
    prop, allowed, named, mistake = expected
    record = _check(_file(name))
    assert record.verdict is RunVerdict.FAIL
    assert {f.property for f in record.failures} == {prop}, [f.message for f in record.failures]
    (failure,) = record.failures
    assert failure.target == "regularisation" and failure.case_description
    wrong = _wrong_blocks(failure)
    assert wrong and wrong <= allowed, wrong
    assert named is None or named in wrong
    assert f"({mistake}?)" in failure.message


@pytest.mark.parametrize("seed", [0, 3])
def test_a_forward_with_masks_from_elsewhere_fails_determinism_and_no_gradient_property(seed: int) -> None:
    record = _check(_file("buggy_dropout_unseeded.py"), seed, max_examples=40)
    assert record.verdict is RunVerdict.FAIL
    # Masks from an unseeded generator coincide by chance on a small case now and then (one unit, keep_prob near
    # 1): a call pair that repeats can then fail the agreement at the perturbed points, a second finding.
    assert {f.property for f in record.failures} <= {"DROPOUT_DETERMINISTIC", "DROPOUT_AGREES"}
    [failure] = [f for f in record.failures if f.property == "DROPOUT_DETERMINISTIC"]
    assert "seeded with" in failure.message and "np.random.default_rng()" in failure.message


def test_without_the_reference_comparison_the_matches_properties_are_left_out() -> None:
    record = _check(REGULARISATION / "correct_dropout.py", 1, check=CheckOptions(reference=False))
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert {p.name for p in record.properties} == DROPOUT - {"DROPOUT_MATCHES"}


@pytest.mark.slow
def test_through_the_evaluator_the_whole_notebook_passes_and_each_parts_mistake_fails() -> None:
    jailed = IsolationSettings()
    passed = _check(REGULARISATION / "correct_notebook.py", 2, jailed, max_examples=12)
    assert passed.verdict is RunVerdict.PASS, [f.message for f in passed.failures] or passed.error
    assert {p.name for p in passed.properties} == L2 | DROPOUT
    l2 = _check(_file("buggy_l2_term_missing.py"), 2, jailed, max_examples=12)  # the reference's forward
    assert {f.property for f in l2.failures} == {"L2_AGREES"} and _wrong_blocks(l2.failures[0]) == {"dW2"}
    unseeded = _check(_file("buggy_dropout_unseeded.py"), 2, jailed, max_examples=12)
    assert {f.property for f in unseeded.failures} == {"DROPOUT_DETERMINISTIC"}


def test_a_backward_that_writes_into_its_cache_changes_the_parameters(tmp_path: Path) -> None:
    source = (REGULARISATION / "correct_regularisation.py").read_text(encoding="utf-8")
    marker = "    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache\n"
    assert marker in source
    path = tmp_path / "writes_cache.py"
    path.write_text(source.replace(marker, marker + "    W1[0, 0] += 1.0\n"), encoding="utf-8")
    for isolation in (IN_PROCESS, IsolationSettings()):
        record = _check(path, 0, isolation, max_examples=5)
        failures = [f for f in record.failures if f.property == "L2_UNCHANGED"]
        assert failures and "parameter W1 was modified in place" in failures[0].message, (isolation, record.error)


# --- the notebook's files ------------------------------------------------------------------------------------


def test_the_notebooks_helper_modules_are_supplied_and_its_imports_are_not_the_exercises_1d_model() -> None:
    loaded = load_user_file(REGULARISATION / "correct_notebook.py")
    assert any("compatible reg_utils" in note for note in loaded.notes)
    assert any("compatible testCases" in note for note in loaded.notes)
    # reg_utils' forward_propagation and backward_propagation are imported: not the file's (x, theta) pair
    assert loaded.found.one_d is None and loaded.found.network is None
    assert set(loaded.found.targets["regularisation"]) == {
        "compute_cost_with_regularization", "backward_propagation_with_regularization",
        "forward_propagation_with_dropout", "backward_propagation_with_dropout",
    }  # fmt: skip


def test_the_notebooks_test_cases_are_only_for_its_own_files() -> None:
    load_user_file(REGULARISATION / "correct_regularisation.py")
    assert sys.modules["testCases"].__name__ == "gradharness.usercode.shims.testCases"
    # the gradient checking exercise's testCases is another module: its files still miss it
    with pytest.raises(UserCodeError, match="No module named 'testCases'"):
        load_user_file(FIXTURES.parent / "exercise" / "scripts" / "needs_testcases.py")
    assert "testCases" not in sys.modules


# --- programs whose calls share the moved argument -------------------------------------------------------------


def _cost(A: np.ndarray, p: dict[str, np.ndarray]) -> float:
    return float(np.sum(A) + np.sum(p["w"] ** 2))


def test_a_later_call_can_take_the_first_calls_argument_as_moved() -> None:
    functions = {"forward": lambda x, p: x * p["w"], "cost": _cost}
    p = {"w": np.array([1.0, 2.0])}
    x = np.array([3.0, 5.0])
    program = [Call("forward", (x, p)), Call("cost", (Output(0), Argument(1)))]
    [(plus, minus)] = perturbed_results(functions, program, [Varied(1, "w", np.array([1]), np.array([0.5]))], Output(1))
    # J(w) = sum(x w) + sum(w^2), w[1] = 2 +- 0.5
    assert plus.tolist() == [3.0 + 5.0 * 2.5 + 1.0 + 2.5**2] and minus.tolist() == [3.0 + 5.0 * 1.5 + 1.0 + 1.5**2]
    assert p["w"].tolist() == [1.0, 2.0]


def test_an_argument_alongside_takes_the_given_value_at_each_perturbed_point() -> None:
    p = {"w": np.array([1.0, 2.0])}
    A = np.zeros(2)
    alongside = Alongside(0, plus=np.array([[10.0, 0.0], [20.0, 0.0]]), minus=np.array([[-10.0, 0.0], [-20.0, 0.0]]))
    group = Varied(1, "w", np.array([0, 1]), np.array([0.5, 0.25]), (alongside,))
    [(plus, minus)] = perturbed_results({"cost": _cost}, [Call("cost", (A, p))], [group], Output(0))
    assert plus.tolist() == [10.0 + 1.5**2 + 4.0, 20.0 + 1.0 + 2.25**2]
    assert minus.tolist() == [-10.0 + 0.5**2 + 4.0, -20.0 + 1.0 + 1.75**2]
    assert A.tolist() == [0.0, 0.0]
