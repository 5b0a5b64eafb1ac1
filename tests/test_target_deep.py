"""The ``deep`` target on files written as students and researchers write them (tests/fixtures/user_code/deep/, and
each mistake of tests/deep_mistakes.py made in the course-structure file).

Correct files in several styles pass; each mistake fails the property of the function it is in, naming the wrong
gradients, with the smallest failing case. Most run the file in this process (the fixtures are trusted); the
evaluator's path is checked on a correct and a wrong file, and on code that writes into its cache.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from deep_mistakes import MISTAKES as MISTAKE_FILES
from deep_mistakes import mistake_file
from tiers import quick_first

from gradharness.judge.checks import check_file
from gradharness.records.check import CheckRecord, PropertyStatus
from gradharness.records.verdict import RunVerdict
from gradharness.settings import IsolationSettings, RunSettings

DEEP = Path(__file__).parent / "fixtures" / "user_code" / "deep"
IN_PROCESS = IsolationSettings(level="none")

CORRECT = ["correct_course.py", "correct_single_function.py", "correct_dict_caches.py", "correct_tuple_caches.py"]

# file -> (the property that fails, a gradient it names wrong or None for a malformed or crashing one)
MISTAKES = {
    "buggy_dAL_sign.py": ("MODEL_AGREES", "dW1"),
    "buggy_relu_mask.py": ("RELU_BACKWARD", "dZ"),
    "buggy_sigmoid_backward.py": ("SIGMOID_BACKWARD", "dZ"),
    "buggy_db_all_axes.py": ("LINEAR_BACKWARD", None),
    "buggy_linear_backward_dA.py": ("LINEAR_BACKWARD", None),
    "buggy_grad_key.py": ("MODEL_SHAPES", None),
    "buggy_cache_index.py": ("MODEL_SHAPES", None),
}


@pytest.fixture(scope="module", autouse=True)
def _mistakes(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("deep")
    MADE.update({name: mistake_file(name, folder) for name in MISTAKE_FILES})


MADE: dict[str, Path] = {}


def _check(name: str, seed: int = 0, isolation: IsolationSettings = IN_PROCESS, **run: object) -> CheckRecord:
    settings = RunSettings(seed=seed, max_examples=int(run.pop("max_examples", 20)), **run)  # type: ignore[arg-type]
    return check_file(MADE.get(name, DEEP / name), settings, isolation=isolation, timeout=120)


@pytest.mark.parametrize("name", CORRECT)
@pytest.mark.parametrize("seed", [0, pytest.param(7, marks=pytest.mark.slow)])
def test_correct_files_in_every_style_pass(name: str, seed: int) -> None:
    record = _check(name, seed)
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert {p.target for p in record.properties} == {"deep"}
    assert all(p.status is PropertyStatus.PASSED and p.examples > 0 for p in record.properties)
    assert any(p.name == "MODEL_AGREES" for p in record.properties)


@pytest.mark.parametrize(("name", "expected"), quick_first(list(MISTAKES.items()), 1))
def test_each_mistake_fails_the_property_of_its_function(name: str, expected: tuple[str, str | None]) -> None:
    prop, block = expected
    record = _check(name)
    assert record.verdict is RunVerdict.FAIL
    failed = {f.property: f for f in record.failures}
    assert prop in failed, sorted(failed)
    failure = failed[prop]
    assert failure.target == "deep" and failure.description and failure.case_description
    if block is not None:
        assert failure.gradient_check is not None
        assert block in failure.gradient_check.worst_entries[0].name or block in {
            b.name for b in failure.gradient_check.blocks if b.verdict.value == "wrong"
        }


@pytest.mark.slow
def test_a_loop_that_passes_the_courses_own_test_cases_fails_on_a_deeper_network() -> None:
    record = _check("buggy_hardcoded_layer.py")
    assert record.verdict is RunVerdict.FAIL
    smallest = [f.case["sizes"] for f in record.failures if f.case is not None and "sizes" in f.case]
    assert smallest and all(len(sizes) - 1 >= 3 for sizes in smallest)  # L >= 3: the course's cases have L <= 2
    at_two_layers = _check("buggy_hardcoded_layer.py", strategy=_layers(2, 2))
    assert at_two_layers.verdict is RunVerdict.PASS


def _layers(low: int, high: int):
    from gradharness.settings import StrategyOptions

    return StrategyOptions(min_layers=low, max_layers=high)


def test_a_file_with_no_deep_functions_says_what_it_looked_for() -> None:
    record = _check("bad_no_deep_functions.py")
    assert record.verdict is RunVerdict.ERROR
    assert "L_model_forward and L_model_backward" in (record.error or "")
    assert "linear_backward" in (record.error or "")


def test_forcing_another_target_checks_only_it() -> None:
    record = _check("correct_course.py", target="exercise")
    assert record.verdict is RunVerdict.ERROR
    assert "exercise" in (record.error or "") and "forward_propagation_n" in (record.error or "")


@pytest.mark.slow
def test_through_the_evaluator_a_correct_file_passes_and_a_wrong_one_fails() -> None:
    jailed = IsolationSettings()
    passed = _check("correct_dict_caches.py", 3, jailed, max_examples=15)
    assert passed.verdict is RunVerdict.PASS, [f.message for f in passed.failures] or passed.error
    failed = _check("buggy_dAL_sign.py", 3, jailed, max_examples=15)
    assert failed.verdict is RunVerdict.FAIL
    assert {f.property for f in failed.failures} == {"MODEL_AGREES"}


@pytest.mark.slow
def test_a_backward_that_writes_into_its_cache_changes_the_parameters(tmp_path: Path) -> None:
    source = (DEEP / "correct_course.py").read_text(encoding="utf-8")
    marker = "def L_model_backward(AL, Y, caches):\n"
    assert marker in source
    path = tmp_path / "writes_cache.py"
    path.write_text(source.replace(marker, marker + "    caches[0][0][1][0, 0] += 1.0\n"), encoding="utf-8")
    for isolation in (IN_PROCESS, IsolationSettings()):
        record = check_file(path, RunSettings(seed=0, max_examples=10), isolation=isolation, timeout=120)
        assert "MODEL_UNCHANGED" in {f.property for f in record.failures}, (isolation, record.error)
        (failure,) = [f for f in record.failures if f.property == "MODEL_UNCHANGED"]
        assert "parameter W1 was modified in place" in failure.message


def test_the_readme_lists_every_function_of_every_target() -> None:
    from gradharness.targets.specs import SPECS

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Targets: what is checked") : readme.index("**The `deep` target**")]
    for spec in SPECS.values():
        assert f"| `{spec.name}` |" in table
        for function in spec.functions:
            assert f"`{function.signature()}`" in table, function.signature()


def test_a_cost_right_at_the_drawn_point_only_fails_the_reference_property() -> None:
    from gradharness.check.program import perturbed_results
    from gradharness.model import deep
    from gradharness.properties.failures import PropertyFailure
    from gradharness.settings import CheckOptions
    from gradharness.targets.deep.properties import check_model_case
    from gradharness.targets.target import TargetFunctions

    functions = {name: getattr(deep, name) for name in ("L_model_forward", "compute_cost", "L_model_backward")}

    def tilted(program, groups, result):  # the perturbed costs of a forward that scales them by 1.001
        return [(plus * 1.001, minus * 1.001) for plus, minus in perturbed_results(functions, program, groups, result)]

    case = deep.DeepCase(
        deep.DeepSizes((2, 3, 1)),
        np.array([[1.0, -0.5], [0.25, 2.0]]),
        np.array([[1.0, 0.0]]),
        {"W1": np.array([[0.5, -0.3], [0.2, 0.8], [-0.6, 0.4]]), "b1": np.array([[0.1], [0.2], [0.3]]),
         "W2": np.array([[0.7, -0.2, 0.5]]), "b2": np.array([[0.05]])},
    )  # fmt: skip
    honest = TargetFunctions.in_process(functions, ["L-layer model"])
    assert check_model_case(honest, case, CheckOptions()).verdict.value == "pass"
    with pytest.raises(PropertyFailure) as raised:
        check_model_case(TargetFunctions(functions, ("L-layer model",), tilted), case, CheckOptions())
    assert raised.value.prop.name == "MODEL_MATCHES" and "W1[0, 0] + " in raised.value.message
    with pytest.raises(PropertyFailure) as unaudited:  # --no-reference: the backward is then found wrong
        check_model_case(TargetFunctions(functions, ("L-layer model",), tilted), case, CheckOptions(reference=False))
    assert unaudited.value.prop.name == "MODEL_AGREES"


@pytest.mark.slow
def test_the_report_highlights_the_line_of_the_likely_cause_not_every_assignment_of_its_variable() -> None:
    from datetime import UTC, datetime

    from gradharness.mutation.causes import explain
    from gradharness.render.html.viewmodels import build_check_view

    record = explain(_check("buggy_cache_index.py"))
    lines = {c.line for f in record.failures for c in f.likely_causes if c.variable == "current_cache"}
    assert len(lines) == 1, [c for f in record.failures for c in f.likely_causes]
    view = build_check_view(record, created=datetime.now(UTC))
    assert view.source is not None
    marked = [line.number for line in view.source.full if line.highlighted and "current_cache" in line.text]
    assert marked == sorted(lines), marked  # the other `current_cache = caches[L-1]`, which is right, is not
