"""The likely cause of a wrong gradient of the L-layer model, its building blocks and the regularisation exercise:
each mistake of tests/deep_mistakes.py named by the operator that makes it, at the user's line."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pytest
from deep_mistakes import MISTAKES, mistake_file
from mistakes import made_file
from regularisation_mistakes import MISTAKES as REGULARISATION_MISTAKES
from tiers import quick_first

from gradharness.check.verdict import Verdict
from gradharness.judge.checks import check_file
from gradharness.model import deep
from gradharness.model.deep_case import DeepCase
from gradharness.model.deep_sizes import DeepSizes
from gradharness.mutation.causes import UserLines, explain
from gradharness.mutation.causes_deep import (
    MODEL,
    Example,
    deep_mutants,
    explain_deep_failure,
    gradients_on,
    true_gradients,
)
from gradharness.records.check import BlockRecord, CheckRecord, FailureRecord, GradientRecord, ObservedCase
from gradharness.records.status import FailureKind
from gradharness.settings import IsolationSettings, RunSettings

FIXTURES = Path(__file__).parent / "fixtures" / "user_code"
RUN = RunSettings(seed=0, max_examples=20)
THRESHOLD = 1e-7

WRONG_GRADIENT = {
    "buggy_dAL_sign.py": ("dAL_sign_flipped", "dAL = np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)"),
    "buggy_relu_mask.py": ("relu_mask_on_upstream", "dZ[dA <= 0] = 0"),
    "buggy_sigmoid_backward.py": ("sigmoid_without_one_minus_s", "dZ = dA * s"),
    "buggy_linear_backward_dA.py": ("drop_transpose", "dA_prev = np.dot(W, dZ)"),
    "buggy_cache_index.py": ("cache_index_off_by_one", "current_cache = caches[l + 1]"),
}
"""The mistakes that give a wrong gradient (not only a crash or a misshapen block): the operator that makes each,
and the user's line it is written on."""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("deep_mistakes")
    made = {name: mistake_file(name, folder) for name in MISTAKES}
    return made | {name: made_file(name, mistake, folder) for name, mistake in REGULARISATION_MISTAKES.items()}


@functools.cache
def _checked(path: Path) -> CheckRecord:
    return explain(check_file(path, RUN, isolation=IsolationSettings(level="none")))


def _wrong_gradients(record: CheckRecord) -> list[FailureRecord]:
    return [f for f in record.failures if f.kind is FailureKind.WRONG and f.gradient_check is not None]


@pytest.mark.parametrize("name", quick_first(sorted(WRONG_GRADIENT), 1))
def test_each_mistake_is_named_by_its_operator_at_the_users_line(made: dict[str, Path], name: str) -> None:
    operator, mistaken = WRONG_GRADIENT[name]
    path = made[name]
    record = _checked(path)
    failures = _wrong_gradients(record)
    assert failures, f"{name}: no wrong gradient found ({[f.message for f in record.failures]})"
    source = path.read_text(encoding="utf-8").splitlines()
    for failure in failures:
        named = [c for c in failure.likely_causes if c.operator == operator]
        assert named, f"{name}, {failure.property}: {operator} not among {failure.likely_causes}"
        [cause, *_] = named
        wrong = {b.name for b in failure.gradient_check.blocks if b.verdict is Verdict.WRONG}  # type: ignore[union-attr]
        assert set(cause.blocks) <= wrong and cause.cases == cause.tried == 1
        assert cause.as_if is not None and cause.variable is not None
        assert cause.line is not None and cause.where == f"line {cause.line}"
        assert source[cause.line - 1].strip() == mistaken, (failure.property, cause)


@pytest.mark.slow
def test_the_cause_that_speaks_for_a_mask_mistake_in_the_model_is_the_mask(made: dict[str, Path]) -> None:
    """On a shrunk 1-1-1 network the neighbouring layer's cache gives the same numbers as a ReLU mask on dA: the
    line the file has tells them apart, and the model's failure is put down to the mask, first."""
    record = _checked(made["buggy_relu_mask.py"])
    [model] = [f for f in _wrong_gradients(record) if f.property == "MODEL_AGREES"]
    assert model.likely_causes[0].operator == "relu_mask_on_upstream"
    assert model.likely_causes[0].as_if == "dZ[dA <= 0] = 0"


@pytest.mark.slow
def test_a_mistake_no_operator_makes_gets_no_mutant_and_no_constant_of_one_entry(made: dict[str, Path]) -> None:
    """The hard-coded dA{L-1} of the loop: no operator makes it, so no mutant's line is claimed for it; and on its
    shrunk network every wrong block has one entry, of which "c x the true gradient" holds for some c whatever it is."""
    [failure] = _wrong_gradients(_checked(made["buggy_hardcoded_layer.py"]))
    assert all(c.operator is None and c.line is None for c in failure.likely_causes)
    single = all(b.shape == [1, 1] for b in failure.gradient_check.blocks if b.verdict is Verdict.WRONG)  # type: ignore[union-attr]
    assert not single or not any(
        c.fit == "multiple"
        and "x the true gradient" in c.description
        and not any(words in c.description for words in (" 2 x", " 4 x", " 1/2 x", " 1/4 x", " -1 x", " m x", " 1/m x"))
        for c in failure.likely_causes
    )


@pytest.mark.parametrize("name", ["buggy_db_all_axes.py", "buggy_grad_key.py"])
def test_mistakes_that_give_no_wrong_gradient_get_no_cause(made: dict[str, Path], name: str) -> None:
    """db of shape () and a missing dW{L-1} are found as misshapen or missing blocks: nothing to explain."""
    record = _checked(made[name])
    assert record.failures and not _wrong_gradients(record)
    assert not any(f.likely_causes for f in record.failures)


@pytest.mark.parametrize(
    "path", [FIXTURES / "deep" / "correct_course.py", FIXTURES / "regularisation" / "correct_regularisation.py"]
)
def test_a_correct_file_gets_no_likely_cause(path: Path) -> None:
    record = _checked(path)
    assert record.verdict.value == "pass" and not any(f.likely_causes for f in record.failures)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "operator", "lines"),
    [
        ("buggy_l2_term_missing.py", "regularisation_term_dropped", ["dW2 = 1. / m * np.dot(dZ2, A1.T)"]),
        (
            "buggy_l2_lambd_not_over_m.py",
            "lambd_without_m",
            [f"dW{k} = 1. / m * np.dot(dZ{k}, {a}.T) + lambd * W{k}" for k, a in ((3, "A2"), (2, "A1"), (1, "X"))],
        ),
    ],
)
def test_the_l2_mistakes_are_named_at_each_line_they_are_on(
    made: dict[str, Path], name: str, operator: str, lines: list[str]
) -> None:
    path = made[name]
    [failure] = _wrong_gradients(_checked(path))
    source = path.read_text(encoding="utf-8").splitlines()
    named = [c for c in failure.likely_causes if c.operator == operator]
    wrong = {b.name for b in failure.gradient_check.blocks if b.verdict is Verdict.WRONG}  # type: ignore[union-attr]
    shown = {source[c.line - 1].strip() for c in named if c.line is not None}
    assert shown == set(lines[: len(wrong)]) and {b for c in named for b in c.blocks} == wrong


def test_a_dropout_mask_missing_is_named_with_the_masks_the_forward_drew(made: dict[str, Path]) -> None:
    [failure] = _wrong_gradients(_checked(made["buggy_dropout_mask_missing.py"]))
    named = [c for c in failure.likely_causes if c.operator == "dropout_mask_dropped"]
    assert named and all(set(c.blocks) <= {"dA1", "dA2"} and c.variable in ("dA1", "dA2") for c in named)
    assert all(c.line is not None for c in named)


# -- the rule on records made here ----------------------------------------------------------------------------


def _case(dims: tuple[int, ...], m: int, seed: int) -> DeepCase:
    rng = np.random.default_rng(seed)
    sizes = DeepSizes(dims)
    parameters = {
        name: rng.normal(size=shape) if name.startswith("W") else rng.uniform(0.1, 0.5, size=shape)
        for name, shape in deep.parameter_shapes(sizes).items()
    }
    Y = (rng.uniform(size=(dims[-1], m)) < 0.5).astype(np.float64)
    return DeepCase(sizes, rng.normal(size=(dims[0], m)), Y, parameters)


def _example(case: DeepCase) -> Example:
    blocks = (*(f"d{name}" for name in case.parameters), *(f"dA{layer}" for layer in range(case.sizes.L)))
    return Example(MODEL, case, blocks)


def _flat(gradients: dict[str, np.ndarray], example: Example) -> list[float]:
    return [float(v) for name in example.blocks for v in gradients[name].ravel()]


def _failure(case: DeepCase, user: dict[str, np.ndarray], observed: list[ObservedCase]) -> FailureRecord:
    example = _example(case)
    true = true_gradients(example)
    assert true is not None
    blocks = []
    for name in example.blocks:
        wrong = not np.allclose(user[name], true[name], rtol=1e-12, atol=0.0)
        verdict = Verdict.WRONG if wrong else Verdict.PASS
        blocks.append(
            BlockRecord(name, 1.0 if wrong else 0.0, verdict, user[name].size, 0, 0, shape=list(user[name].shape))
        )
    check = GradientRecord(1.0, Verdict.WRONG, "", None, THRESHOLD, "loop", blocks, [], _flat(user, example), [], [])
    return FailureRecord("MODEL_AGREES", FailureKind.WRONG, "wrong", 1, case=case.to_json(), gradient_check=check,
                         observed=observed, target="deep")  # fmt: skip


def _sign_flipped() -> dict:
    [mutant] = [m for m in deep_mutants("deep") if m.operator == "dAL_sign_flipped"]
    return mutant.functions


def test_a_cause_counts_the_other_cases_the_record_has_the_users_gradients_of() -> None:
    failing, drawn = _case((3, 4, 4, 1), 3, seed=1), _case((2, 3, 3, 3, 1), 4, seed=2)
    wrong = _sign_flipped()
    user = gradients_on(wrong, _example(failing))
    on_drawn = gradients_on(wrong, _example(drawn))
    assert user is not None and on_drawn is not None
    observed = [ObservedCase(drawn.to_json(), _flat(on_drawn, _example(drawn)))]
    [cause] = explain_deep_failure(_failure(failing, user, observed), UserLines()).likely_causes
    assert cause.operator == "dAL_sign_flipped" and (cause.cases, cause.tried) == (2, 2)
    assert cause.description.startswith("every gradient block wrong: the sign of dAL flipped")
    assert cause.line is None  # no file to find it in

    right = true_gradients(_example(drawn))
    assert right is not None
    observed = [ObservedCase(drawn.to_json(), _flat(right, _example(drawn)))]
    [cause] = explain_deep_failure(_failure(failing, user, observed), UserLines()).likely_causes
    assert (cause.cases, cause.tried) == (1, 2)


def test_the_failing_case_alone_is_tried_when_the_record_has_no_other() -> None:
    failing = _case((3, 4, 4, 1), 3, seed=1)
    true = true_gradients(_example(failing))
    assert true is not None
    user = {**true, "dW2": 2.0 * true["dW2"]}
    [cause] = explain_deep_failure(_failure(failing, user, []), UserLines()).likely_causes
    assert cause.blocks == ["dW2"] and cause.fit == "multiple" and (cause.cases, cause.tried) == (1, 1)
    assert cause.description == "dW2 is 2 x the true gradient"


def test_right_gradients_and_unreadable_cases_get_no_cause() -> None:
    failing = _case((3, 4, 1), 2, seed=3)
    true = true_gradients(_example(failing))
    assert true is not None
    assert explain_deep_failure(_failure(failing, true, []), UserLines()).likely_causes == []
    garbled = _failure(failing, {**true, "dW1": -true["dW1"]}, [])
    garbled = dataclasses.replace(garbled, case={"sizes": [3, 4, 1]})
    assert explain_deep_failure(garbled, UserLines()).likely_causes == []


def test_a_file_changed_since_the_check_gets_causes_without_lines(made: dict[str, Path], tmp_path: Path) -> None:
    record = _checked(made["buggy_dAL_sign.py"])
    changed = tmp_path / "dAL.py"
    changed.write_text("\n\n" + made["buggy_dAL_sign.py"].read_text(encoding="utf-8"), encoding="utf-8")
    [failure] = _wrong_gradients(explain(dataclasses.replace(record, target={**record.target, "path": str(changed)})))
    assert failure.likely_causes and all(c.line is None for c in failure.likely_causes)
    assert failure.likely_causes[0].operator == "dAL_sign_flipped"
