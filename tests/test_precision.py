"""Single precision code: the ``layers`` and ``signature`` targets judge float32 code at float32 and say so.

``tests/fixtures/user_code/layers/correct_layers_float32.py`` casts to float32 and runs the correct layers beside
it: it passes, every property saying float32, where a float64 threshold would fail its normalisations (their
rounding in a dgamma whose terms cancel is float32's). The planted mistakes, made in the float32 file's layers,
still fail, and their messages say the precision. A layer given float32 inputs by ``check_layer(dtype=...)`` is
judged from float64 copies. The exercise keeps rejecting float32 gradients.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_support import gradharness
from layers_mistakes import LAYERS, MISTAKES
from mistakes import made_file
from tiers import quick_first

from gradharness import check_layer
from gradharness.check.precision import (
    DOUBLE,
    SINGLE,
    gradient_allowance,
    precision_of,
    step_at,
    term_sizes,
    threshold_at,
)
from gradharness.judge.checks import check_builtin, check_file
from gradharness.model import network
from gradharness.records.check import CheckRecord, PropertyStatus
from gradharness.records.status import FailureKind
from gradharness.records.verdict import RunVerdict
from gradharness.settings import IsolationSettings, RunSettings

FLOAT32_LAYERS = LAYERS / "correct_layers_float32.py"
SIGNATURE = "(N,D),(D)->(N,D)"


def _check(path: Path, seed: int = 0, examples: int = 25, level: str | None = None) -> CheckRecord:
    run = RunSettings(seed=seed, max_examples=examples, target="layers")
    return check_file(path, run, isolation=IsolationSettings(level=level))


# --- the rule -----------------------------------------------------------------------------------------------


def test_the_threshold_scales_by_the_square_root_of_the_epsilons_ratio() -> None:
    assert threshold_at(1e-7, DOUBLE) == 1e-7
    ratio = np.finfo(np.float32).eps / np.finfo(np.float64).eps
    assert threshold_at(1e-7, SINGLE) == pytest.approx(1e-7 * np.sqrt(ratio))
    assert 2e-3 < threshold_at(1e-7, SINGLE) < 2.5e-3  # jax's check_grads uses 2e-3 for float32


def test_the_precision_is_the_coarsest_of_the_returned_arrays() -> None:
    assert precision_of([np.ones(2), 3.0, np.arange(2)]) == DOUBLE
    assert precision_of([np.ones(2), np.ones(2, dtype=np.float32)]) == SINGLE


def test_a_float32_numerical_side_takes_the_float32_step() -> None:
    assert step_at(None, DOUBLE) is None and step_at(1e-4, SINGLE) == 1e-4
    assert step_at(None, SINGLE) == pytest.approx(np.cbrt(np.finfo(np.float32).eps))


def test_the_allowance_follows_the_terms_not_the_result() -> None:
    gradients = {"dgamma": np.array([1e-7])}  # terms of size 1 that cancel to nearly 0
    plus, minus, steps = np.array([[1.0, -1.0]]), np.array([[-1.0, 1.0]]), np.array([1.0])
    terms = term_sizes(np.ones(2), plus, minus, steps)
    assert terms.tolist() == [2.0]
    small = gradient_allowance(gradients, SINGLE, 8)
    large = gradient_allowance(gradients, SINGLE, 8, terms)
    assert small is not None and large is not None and large[0] > 1e6 * small[0]
    assert gradient_allowance(gradients, DOUBLE, 8, terms) is None


# --- the layers target ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", quick_first([0, 1, 2], 1))
def test_correct_float32_layers_pass_judged_at_float32(seed: int) -> None:
    record = _check(FLOAT32_LAYERS, seed)
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert all(p.status is PropertyStatus.PASSED for p in record.properties)
    assert {p.precision for p in record.properties} == {SINGLE}


def test_float64_layers_say_float64(tmp_path: Path) -> None:
    record = _check(LAYERS / "correct_layers.py", examples=10, level="none")
    assert record.verdict is RunVerdict.PASS and {p.precision for p in record.properties} == {DOUBLE}


@pytest.mark.parametrize(
    ("mistake", "prop", "block"),
    quick_first(
        [
            ("buggy_batchnorm_mean_term_missing.py", "BATCHNORM_BACKWARD", "dx"),
            ("buggy_affine_db_mean.py", "AFFINE_BACKWARD", "db"),
            ("buggy_softmax_not_over_n.py", "SOFTMAX_LOSS", "dx"),
            ("buggy_layernorm_wrong_axis.py", "LAYERNORM_BACKWARD", "dx"),
        ],
        1,
    ),
)
def test_a_mistake_in_float32_code_still_fails_saying_the_precision(
    tmp_path: Path, mistake: str, prop: str, block: str
) -> None:
    made = made_file(mistake, MISTAKES[mistake], tmp_path)
    made.rename(tmp_path / "correct_layers.py")  # the float32 file runs the layers beside it
    path = tmp_path / "layers_float32.py"
    shutil.copy(FLOAT32_LAYERS, path)
    record = _check(path, examples=15)
    failing = [f for f in record.failures if f.property == prop]
    assert record.verdict is RunVerdict.FAIL and failing, [f.message for f in record.failures]
    assert failing[0].kind is FailureKind.WRONG
    assert f"{block}" in failing[0].message and "judged at float32 precision (threshold 0.0023)" in failing[0].message


def test_the_exercise_keeps_rejecting_float32_gradients() -> None:
    def float32_backward(X, Y, cache):
        gradients = network.backward_propagation_n(X, Y, cache)
        return {key: value.astype(np.float32) for key, value in gradients.items()}

    record = check_builtin(float32_backward, "float32", RunSettings(seed=0, max_examples=5))
    assert record.verdict is RunVerdict.FAIL
    assert any(f.kind is FailureKind.MALFORMED and "is float32" in f.message for f in record.failures)


# --- the signature target and check_layer ----------------------------------------------------------------------


def tanh_forward(x, a):
    t = np.tanh(x)
    return t * a, (t, a)


def tanh_backward(dout, cache):
    t, a = cache
    return dout * a * (1.0 - t**2), np.sum(dout * t, axis=0)


def single_forward(x, a):
    return tanh_forward(x.astype(np.float32), a.astype(np.float32))


def single_backward(dout, cache):
    return tanh_backward(dout.astype(np.float32), cache)


def test_a_layer_that_casts_to_float32_passes_at_float32_and_fails_at_float64_thresholds() -> None:
    assert check_layer(single_forward, single_backward, signature=SIGNATURE, names=("x", "a")).passed


def test_a_layer_given_float32_inputs_is_judged_from_float64_copies() -> None:
    seen: list[np.dtype] = []

    def watched_forward(x, a):
        seen.append(x.dtype)
        return tanh_forward(x, a)

    result = check_layer(watched_forward, tanh_backward, signature=SIGNATURE, dtype="float32", max_examples=20)
    assert result.passed, result.failure
    assert {np.dtype(np.float32), np.dtype(np.float64)} <= set(seen)  # the call judged, the numerical side


def test_a_float32_mistake_fails_with_its_precision() -> None:
    def mean_backward(dout, cache):
        dx, da = single_backward(dout, cache)
        return dx, da / dout.shape[0]

    result = check_layer(single_forward, mean_backward, signature=SIGNATURE, names=("x", "a"))
    assert not result.passed and result.failure is not None
    assert "da wrong" in result.failure and "judged at float32 precision" in result.failure


def test_an_unknown_dtype_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match="the precisions judged are float64 and float32"):
        check_layer(tanh_forward, tanh_backward, signature=SIGNATURE, dtype="float16")


def test_a_float32_file_through_the_evaluator_says_float32(tmp_path: Path) -> None:
    path = tmp_path / "layer.py"
    path.write_text(
        "import numpy as np\n"
        'GRADHARNESS_SIGNATURES = {"scaled_tanh": "(N,D),(D)->(N,D)"}\n'
        "def scaled_tanh_forward(x, a):\n"
        "    t = np.tanh(x.astype(np.float32))\n"
        "    return t * a.astype(np.float32), (t, a.astype(np.float32))\n"
        "def scaled_tanh_backward(dout, cache):\n"
        "    t, a = cache\n"
        "    d = dout.astype(np.float32)\n"
        "    return d * a * (1 - t**2), np.sum(d * t, axis=0)\n"
    )
    record = check_file(path, RunSettings(seed=0, max_examples=30))
    assert record.verdict is RunVerdict.PASS, [f.message for f in record.failures] or record.error
    assert record.target["isolation"] == "namespace"
    assert {p.precision for p in record.properties} == {SINGLE}
    run = gradharness("check", str(path), "--seed", "0", "--max-examples", "10", "--html", str(tmp_path / "r.html"))
    assert run.returncode == 0 and "(10 examples, judged at float32)" in run.stdout
    assert "judged at float32" in (tmp_path / "r.html").read_text()


def test_a_one_percent_error_in_a_layer_that_casts_to_float32_fails() -> None:
    def off_backward(dout, cache):
        dx, da = single_backward(dout, cache)
        return dx * np.float32(1.01), da

    result = check_layer(single_forward, off_backward, signature=SIGNATURE, names=("x", "a"))
    assert not result.passed and result.failure is not None and "dx wrong" in result.failure
