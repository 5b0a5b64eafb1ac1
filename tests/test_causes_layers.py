"""The likely cause of a wrong gradient of the ``layers`` target: each mistake of tests/layers_mistakes.py that an
operator of operators_layers.py makes is named by that operator, at the user's line; the others get no mutant's cause.

Each mistake's file is cut down to the layer it is in (and the layers its function calls or is called by), so that
only those parts are checked: the same failure as the whole file's, found in a fraction of the time.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import json
from pathlib import Path

import numpy as np
import pytest
from cli_support import gradharness
from layers_mistakes import CORRECT_LAYERS, MISTAKES
from mistakes import made_file

from gradharness.check.verdict import Verdict
from gradharness.judge.checks import check_file
from gradharness.model import layers
from gradharness.model.layer_case import LayerCase
from gradharness.mutation.causes import UserLines, explain
from gradharness.mutation.causes_deep import gradients_on
from gradharness.mutation.causes_layers import LayerExample, explain_layers_failure, layer_mutants, reference_defining
from gradharness.records.check import BlockRecord, CheckRecord, FailureRecord, GradientRecord
from gradharness.records.status import FailureKind
from gradharness.settings import IsolationSettings, RunSettings
from gradharness.targets.registry import TARGETS
from gradharness.usercode.source import read_user_source

RUN = RunSettings(seed=0, max_examples=20, target="layers")
THRESHOLD = 1e-7

NAMED = {
    "buggy_affine_db_mean.py": ("AFFINE_BACKWARD", "mean_for_sum", "db = dout.mean(axis=0)"),
    "buggy_affine_dx_transposed.py": ("AFFINE_BACKWARD", "transposed_before_reshape", "dx = dx.T.reshape(x.shape)"),
    "buggy_relu_mask_dout.py": ("RELU_BACKWARD", "mask_from_wrong_array", "dx = dout * (dout > 0)"),
    "buggy_softmax_not_over_n.py": ("SOFTMAX_LOSS", "division_by_size_dropped", None),
    "buggy_batchnorm_mean_term_missing.py": ("BATCHNORM_BACKWARD", "term_dropped", "dx = dxc.copy()"),
    "buggy_batchnorm_alt_scalar_sum.py": ("BATCHNORM_BACKWARD_ALT", "sum_axis_dropped", None),
    "buggy_layernorm_wrong_axis.py": ("LAYERNORM_BACKWARD", "sum_axis_changed", None),
    "buggy_maxpool_assign.py": ("MAX_POOL_BACKWARD_NAIVE", "accumulation_overwritten", "dx[n, c, top + r, left + s] = dout[n, c, i, j]"),
}  # fmt: skip
"""The mistakes an operator makes: the failing property, the operator, and the user's line it is named at (None: the
file names no line: its statement is missing (softmax's ``dx = dx / N``), or its variable is the file's own name,
``row_sum`` for the reference's ``dx_hat_sum``)."""

UNNAMED = {
    "buggy_svm_correct_class_missing.py": "SVM_LOSS",  # a missing `dx[rows, y] -= num_pos`: no operator drops it
    "buggy_dropout_mask_missing.py": "DROPOUT_BACKWARD",  # `dx = dout` for `dout * mask`: no operator makes it
}
"""Wrong gradients no operator makes (the other two mistakes, conv's ``pad:-pad`` and group norm's dgamma summed
over too few axes, give misshapen gradients: no wrong gradient to explain)."""

LAYER_OF = {
    "affine": ("affine_forward", "affine_backward"),
    "relu": (
        "relu_forward",
        "relu_backward",
        "affine_forward",
        "affine_backward",
        "affine_relu_forward",
        "affine_relu_backward",
    ),
    "svm": ("svm_loss",),
    "softmax": ("softmax_loss",),
    "batchnorm_alt": ("batchnorm_forward", "batchnorm_backward_alt"),
    "batchnorm": ("batchnorm_forward", "batchnorm_backward"),
    "layernorm": ("layernorm_forward", "layernorm_backward"),
    "dropout": ("dropout_forward", "dropout_backward"),
    "conv": ("conv_forward_naive", "conv_backward_naive"),
    "maxpool": ("max_pool_forward_naive", "max_pool_backward_naive"),
    "groupnorm": ("spatial_groupnorm_forward", "spatial_groupnorm_backward"),
}
"""The functions each mistake's file is cut down to, by the word of its name (the first that matches)."""


def _cut_down(path: Path, keep: tuple[str, ...], folder: Path) -> Path:
    """The file with only the top-level functions ``keep`` (and its docstring and imports), written into ``folder``."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    for node in reversed(ast.parse(text).body):
        if isinstance(node, ast.FunctionDef) and node.name not in keep:
            del lines[node.lineno - 1 : node.end_lineno]
    cut = folder / f"{path.stem}_cut.py"
    cut.write_text("".join(lines), encoding="utf-8")
    return cut


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("layers_causes")
    files = {}
    for name, mistake in MISTAKES.items():
        keep = next(functions for word, functions in LAYER_OF.items() if f"_{word}_" in name)
        files[name] = _cut_down(made_file(name, mistake, folder), keep, folder)
    return files


@functools.cache
def _checked(path: Path) -> CheckRecord:
    return explain(check_file(path, RUN, isolation=IsolationSettings(level="none")))


def _wrong_gradients(record: CheckRecord) -> list[FailureRecord]:
    return [f for f in record.failures if f.kind is FailureKind.WRONG and f.gradient_check is not None]


def _assert_named(path: Path, failure: FailureRecord, operator: str, line: str | None) -> None:
    named = [c for c in failure.likely_causes if c.operator == operator]
    assert named, f"{failure.property}: {operator} not among {failure.likely_causes}"
    [cause, *_] = named
    check = failure.gradient_check
    assert check is not None
    assert set(cause.blocks) <= {b.name for b in check.blocks if b.verdict is Verdict.WRONG}
    assert cause.as_if is not None and (cause.cases, cause.tried) == (1, 1)
    if line is None:
        return
    assert cause.line is not None and cause.where == f"line {cause.line}", cause
    assert path.read_text(encoding="utf-8").splitlines()[cause.line - 1].strip() == line, cause


@pytest.mark.parametrize("name", sorted(NAMED))
def test_each_mistake_an_operator_makes_is_named_by_it(made: dict[str, Path], name: str) -> None:
    prop, operator, line = NAMED[name]
    record = _checked(made[name])
    failures = {f.property: f for f in _wrong_gradients(record)}
    assert prop in failures, [f.message for f in record.failures]
    _assert_named(made[name], failures[prop], operator, line)


def test_a_mistake_in_a_function_another_calls_is_named_at_the_callees_line(made: dict[str, Path]) -> None:
    """The ReLU mask read from dout fails affine_relu_backward in every block: the cause is the relu_backward line."""
    record = _checked(made["buggy_relu_mask_dout.py"])
    [failure] = [f for f in _wrong_gradients(record) if f.property == "AFFINE_RELU_BACKWARD"]
    _assert_named(made["buggy_relu_mask_dout.py"], failure, "mask_from_wrong_array", "dx = dout * (dout > 0)")


@pytest.mark.parametrize("name", sorted(UNNAMED))
def test_a_mistake_no_operator_makes_gets_no_mutants_cause(made: dict[str, Path], name: str) -> None:
    record = _checked(made[name])
    [failure] = _wrong_gradients(record)
    assert failure.property == UNNAMED[name]
    assert all(c.operator is None and c.line is None for c in failure.likely_causes), failure.likely_causes


def test_a_correct_file_and_misshapen_gradients_get_no_cause(made: dict[str, Path], tmp_path: Path) -> None:
    record = _checked(_cut_down(CORRECT_LAYERS, LAYER_OF["relu"] + LAYER_OF["batchnorm"], tmp_path))
    assert record.verdict.value == "pass" and not record.failures
    for name in ("buggy_conv_crop_negative_pad.py", "buggy_groupnorm_dgamma_axes.py"):
        failures = _checked(made[name]).failures
        assert failures and not _wrong_gradients(_checked(made[name]))
        assert not any(f.likely_causes for f in failures)


def test_the_command_reports_the_cause_in_its_json(made: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    path = made["buggy_affine_db_mean.py"]
    run = gradharness("check", str(path), "--target", "layers", "--seed", "0", "--max-examples", "20",
                      "--isolation", "none", "--json", str(out))  # fmt: skip
    assert run.returncode == 1, run.stderr
    [failure] = [f for f in json.loads(out.read_text(encoding="utf-8"))["failures"] if f["likely_causes"]]
    [cause] = failure["likely_causes"]
    assert (failure["property"], cause["operator"], cause["as_if"]) == (
        "AFFINE_BACKWARD", "mean_for_sum", "db = np.mean(dout, axis=0)"
    )  # fmt: skip
    assert path.read_text(encoding="utf-8").splitlines()[cause["line"] - 1].strip() == "db = dout.mean(axis=0)"
    assert "likely cause: db is 1/2 x the true gradient" in run.stdout


def test_the_layers_target_names_its_operator_table() -> None:
    assert TARGETS["layers"].operators == "layers"


# -- the rule on records made here ----------------------------------------------------------------------------


def _dropout_failure(user: np.ndarray, gradapprox: np.ndarray, case: LayerCase) -> FailureRecord:
    block = BlockRecord("dx", 1.0, Verdict.WRONG, user.size, 0, 0, shape=list(user.shape))
    check = GradientRecord(
        1.0, Verdict.WRONG, "", None, THRESHOLD, "loop", [block], [], [float(v) for v in user.ravel()],
        [float(v) for v in gradapprox.ravel()], [Verdict.WRONG] * user.size,
    )  # fmt: skip
    return FailureRecord("DROPOUT_BACKWARD", FailureKind.WRONG, "wrong", 1, case=case.to_json(), gradient_check=check,
                         target="layers")  # fmt: skip


def test_a_dropout_failure_is_explained_only_on_the_masks_the_reference_draws() -> None:
    """dx half the true one: a closed-form fit, when the check's numerical gradient is the reference mask's; none
    when the file's forward drew another mask (the reference would be called on a case the file never saw)."""
    rng = np.random.default_rng(5)
    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    case = LayerCase("dropout", {"x": x, "dout": dout}, {"dropout_param": {"mode": "train", "p": 0.5, "seed": 3}})
    reference = reference_defining("dropout_backward")
    assert reference is not None and reference.name == "layers"
    functions = {"dropout_forward": layers.dropout_forward, "dropout_backward": layers.dropout_backward}
    true = gradients_on(functions, LayerExample("dropout_backward", case, ("dx",)))
    assert true is not None and np.any(true["dx"]) and not np.all(true["dx"])
    [cause] = explain_layers_failure(_dropout_failure(true["dx"] / 2, true["dx"], case), UserLines()).likely_causes
    assert cause.description == "dx is 1/2 x the true gradient" and cause.operator is None
    other_mask = dout * (rng.uniform(size=dout.shape) < 0.5) / 0.5
    assert explain_layers_failure(_dropout_failure(true["dx"] / 2, other_mask, case), UserLines()).likely_causes == []


def test_only_the_mutants_of_functions_the_file_calls_are_tried() -> None:
    """The file's spatial_batchnorm_backward calls batchnorm_backward_alt, the reference's the graph one: for the
    file, the graph one's mutants are no mistake of its spatial batch norm."""
    reference = reference_defining("spatial_batchnorm_backward")
    assert reference is not None and reference.name == "layers_norm"
    unread = {m.function for m in layer_mutants(reference, "spatial_batchnorm_backward", UserLines())}
    assert unread == {"batchnorm_backward"}  # the reference's own spatial backward has no operator's change
    read = dataclasses.replace(UserLines(), source=read_user_source(CORRECT_LAYERS))
    assert layer_mutants(reference, "spatial_batchnorm_backward", read) == ()
    assert {m.function for m in layer_mutants(reference, "batchnorm_backward_alt", read)} == {"batchnorm_backward_alt"}
