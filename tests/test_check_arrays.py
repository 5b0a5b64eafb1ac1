"""The checker of a scalar function of named arrays: the exercise's stages, for blocks of any shapes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradharness.check.arrays import check_arrays, loop_costs_of
from gradharness.check.checker import gradient_check_n
from gradharness.check.entries import worst_entries
from gradharness.check.layout import array_layout, block_layout
from gradharness.check.numerical import method_roundoff
from gradharness.check.perturbed import base_pass, perturbed_passes
from gradharness.check.verdict import Verdict
from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.model.parameters import LayerSizes, entry_name, parameter_count
from gradharness.settings import SEED_EPSILON

RNG = np.random.default_rng(13)
U = float(np.finfo(np.float64).eps)


class Counted:
    """A costs callable that remembers each call's groups (block, indices, steps)."""

    def __init__(self, costs: Callable) -> None:
        self.costs, self.calls = costs, []

    def __call__(self, groups):
        self.calls.append([(g.block, np.asarray(g.indices).copy(), np.asarray(g.steps).copy()) for g in groups])
        return self.costs(groups)


def check(J, point, gradients, *, roundoff=None, **options):
    """check_arrays with the loop costs of J, and the costs callable (to count its calls)."""
    costs = Counted(loop_costs_of(J, point))
    if roundoff is None:
        roundoff = 16 * U * max(1.0, abs(float(J({k: np.array(v, dtype=float) for k, v in point.items()}))))
    return check_arrays(point, gradients, costs, roundoff=roundoff, **options), costs


# --- functions of several arrays, and their gradients --------------------------------------------------------


def linear_case():
    """sum(dout * (W @ A + b)): the course's linear_forward with an upstream gradient."""
    W, A, b, dout = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 5)), RNG.normal(size=(3, 1)), RNG.normal(size=(3, 5))

    def J(p):
        return float(np.sum(dout * (p["W"] @ p["A"] + p["b"])))

    grads = {"W": dout @ A.T, "A": W.T @ dout, "b": dout.sum(axis=1, keepdims=True)}
    return J, {"W": W, "A": A, "b": b}, grads


def four_d_case():
    """sum(dout * tanh(x @ w)) for a 4-D x and a 1-D w."""
    x, w, dout = RNG.normal(size=(2, 3, 4, 5)), RNG.normal(size=5), RNG.normal(size=(2, 3, 4))

    def J(p):
        return float(np.sum(dout * np.tanh(p["x"] @ p["w"])))

    dz = dout * (1 - np.tanh(x @ w) ** 2)
    return J, {"x": x, "w": w}, {"x": dz[..., np.newaxis] * w, "w": np.einsum("abcd,abc->d", x, dz)}


def tanh_case():
    x, dout = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    return (lambda p: float(np.sum(dout * np.tanh(p["x"])))), {"x": x}, {"x": dout * (1 - np.tanh(x) ** 2)}


@pytest.mark.parametrize("case", [linear_case, four_d_case, tanh_case])
def test_a_correct_gradient_passes_with_one_call_of_costs(case):
    J, point, grads = case()
    result, costs = check(J, point, grads)
    assert result.verdict is Verdict.PASS and result.passed, result.summary()
    assert [b.name for b in result.blocks] == ["d" + name for name in point]
    assert all(b.verdict is Verdict.PASS and b.exercised and b.mode == "full" for b in result.blocks)
    assert result.method == "loop" and result.sizes is None and result.difference < 1e-7
    total = sum(np.size(v) for v in point.values())
    assert result.grad.size == result.gradapprox.size == len(result.entry_status) == total
    assert len(costs.calls) == 1  # every block in one call; no error estimate needed
    asked = [(block, indices.size) for block, indices, _ in costs.calls[0]]
    assert asked == [(name, np.size(value)) for name, value in point.items()]


def test_every_block_is_named_by_its_gradient_and_position():
    J, point, grads = four_d_case()
    grads["x"] = grads["x"].copy()
    grads["x"][1, 2, 3, 4] += 0.5
    result, costs = check(J, point, grads)
    assert result.verdict is Verdict.WRONG and result.wrong_blocks == ("dx",)
    assert result.worst_entries[0].name == "dx[1, 2, 3, 4]"
    assert result.worst_entries[0].backprop == pytest.approx(result.worst_entries[0].numerical + 0.5, abs=1e-6)
    assert result.block("x").verdict is Verdict.WRONG and result.block("dw").verdict is Verdict.PASS
    assert "dx (difference" in result.reason and "dx[1, 2, 3, 4]" in result.reason
    assert len(costs.calls) == 2  # the error estimate: every block at twice the step, in one more call
    for (block, indices, steps), (block2, indices2, steps2) in zip(*costs.calls, strict=True):
        assert block == block2 and np.array_equal(indices, indices2) and np.array_equal(steps2, 2 * steps)


@pytest.mark.parametrize(
    ("change", "entry"),
    [
        (lambda g: g * 1.1, None),
        (lambda g: g + np.where(np.arange(g.size).reshape(g.shape) == 4, 0.3, 0.0), "dW[1, 0]"),
    ],
)
def test_a_wrong_weight_gradient_is_wrong_and_named(change, entry):
    J, point, grads = linear_case()
    grads["W"] = change(grads["W"])
    result, costs = check(J, point, grads)
    assert result.verdict is Verdict.WRONG and not result.passed
    assert result.wrong_blocks == ("dW",)
    assert result.block("A").verdict is Verdict.PASS and result.block("b").verdict is Verdict.PASS
    assert all(e.name.startswith("dW[") for e in result.worst_entries if e.status is Verdict.WRONG)
    if entry is not None:
        assert result.worst_entries[0].name == entry
        assert [e.name for e in result.worst_entries if e.status is Verdict.WRONG] == [entry]
    assert len(costs.calls) == 2


def test_a_transposed_gradient_is_wrong():
    W, A, dout = RNG.normal(size=(3, 3)), RNG.normal(size=(3, 2)), RNG.normal(size=(3, 2))
    dW = dout @ A.T
    assert not np.allclose(dW, dW.T)
    result, _ = check(lambda p: float(np.sum(dout * (p["W"] @ p["A"]))), {"W": W, "A": A}, {"W": dW.T, "A": W.T @ dout})
    assert result.verdict is Verdict.WRONG and result.wrong_blocks == ("dW",)


def test_custom_gradient_names():
    J, point, grads = linear_case()
    grads["b"] = grads["b"] + 1.0
    result, _ = check(J, point, grads, gradient_names=("dW", "dA_prev", "db"))
    assert [b.name for b in result.blocks] == ["dW", "dA_prev", "db"]
    assert result.wrong_blocks == ("db",) and result.worst_entries[0].name.startswith("db[")
    assert result.block("dA_prev").verdict is Verdict.PASS


# --- what the numerics explain is not WRONG --------------------------------------------------------------------


def test_kinks_are_set_aside_as_kink():
    x = np.array([[0.0, 1.5], [-2.0, 0.0]])
    subgradient = np.where(x >= 0, 1.0, -1.0)  # 1 at |x|'s kink, where the centred difference is 0

    def J(p):
        return float(np.sum(np.abs(p["x"])))

    seen = []

    def kinks(steps):
        seen.append(steps.copy())
        return np.abs(x.reshape(-1)) < steps

    blind, _ = check(J, {"x": x}, {"x": subgradient})
    assert blind.verdict is Verdict.WRONG and blind.worst_entries[0].name in ("dx[0, 0]", "dx[1, 1]")
    result, _ = check(J, {"x": x}, {"x": subgradient}, kinks=kinks)
    assert result.verdict is Verdict.KINK and result.passed
    assert result.block("x").kinks == 2 and result.block("x").saturated == 0
    assert [s.value for s in result.entry_status] == ["kink", "pass", "pass", "kink"]
    assert len(seen) == 1 and seen[0].shape == (4,)
    assert "crosses" in result.reason


def test_a_non_finite_perturbed_cost_is_saturated():
    x = np.array([1e-7, 1.0, 2.0])  # log(x - step) is NaN for the first entry

    result, _ = check(lambda p: float(np.sum(np.log(p["x"]))), {"x": x}, {"x": 1.0 / x})
    assert result.verdict is Verdict.SATURATED and result.passed
    assert result.block("x").saturated == 1
    assert [s.value for s in result.entry_status] == ["saturated", "pass", "pass"]


def test_a_block_the_cost_does_not_depend_on_is_not_exercised():
    x, y = RNG.normal(size=(2, 3)), RNG.normal(size=4)

    def J(p):
        return float(np.sum(p["x"] ** 2) + 0.0 * np.sum(p["y"]))

    result, _ = check(J, {"x": x, "y": y}, {"x": 2 * x, "y": np.zeros(4)})
    assert result.verdict is Verdict.PASS
    assert result.block("x").exercised and not result.block("y").exercised
    wrong, _ = check(J, {"x": x, "y": y}, {"x": 2 * x, "y": np.ones(4)})
    assert wrong.wrong_blocks == ("dy",) and not wrong.block("y").exercised


def test_round_off_of_a_huge_cost_is_imprecise_not_wrong():
    x = RNG.normal(size=(4, 3))

    def J(p):
        return float(1e10 + np.sum(1e-3 * p["x"]))  # the differences of J are a few ulps of 1e10

    honest = 4 * U * 1e10
    result, costs = check(J, {"x": x}, {"x": np.full((4, 3), 1e-3)}, roundoff=honest)
    block = result.block("x")
    assert block.difference > result.threshold  # not a pass: round-off swamps the gradient
    assert result.verdict is Verdict.IMPRECISE and result.passed, result.summary()
    assert np.isfinite(block.noise) and block.noise > 0 and "numerical error" in result.reason
    assert len(costs.calls) == 2
    wrong, _ = check(J, {"x": x}, {"x": np.full((4, 3), 100.0)}, roundoff=honest)
    assert wrong.verdict is Verdict.WRONG  # the bound excuses round-off, not a wrong gradient


# --- the exercise, by check_arrays: the same stages give the same result -----------------------------------------


@pytest.mark.parametrize("backward", [network.backward_propagation_n, network.backward_propagation_n_buggy])
def test_the_exercise_through_check_arrays_is_gradient_check_n(backward):
    case = seed_test_case()
    X, Y, parameters = case.X, case.Y, case.parameters
    _, cache = network.forward_propagation_n(X, Y, parameters)
    grads = backward(X, Y, cache)
    expected = gradient_check_n(parameters, grads, X, Y, SEED_EPSILON, method="loop", screen=False)
    forward = network.forward_propagation_n
    costs = Counted(loop_costs_of(lambda p: forward(X, Y, p), parameters))
    result = check_arrays(
        parameters, {name[1:]: grads[name] for name in ("dW1", "db1", "dW2", "db2", "dW3", "db3")}, costs,
        roundoff=method_roundoff(X, Y, parameters, "loop", forward, base_pass(X, Y, parameters)),
        kinks=lambda steps: perturbed_passes(X, Y, parameters, steps).kink, epsilon=SEED_EPSILON,
    )  # fmt: skip
    assert expected.verdict is not Verdict.PASS  # both need the error estimate (IMPRECISE at 1e-7, WRONG)
    assert repr(result.blocks) == repr(expected.blocks)
    assert result.worst_entries == expected.worst_entries
    assert result.verdict is expected.verdict and result.difference == expected.difference
    assert result.reason == expected.reason
    np.testing.assert_array_equal(result.gradapprox, expected.gradapprox)
    assert result.entry_status == expected.entry_status
    assert len(costs.calls) == 2 and [g[0] for g in costs.calls[0]] == ["W1", "b1", "W2", "b2", "W3", "b3"]


# --- layouts --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [LayerSizes(4, 5, 3, 1), LayerSizes(3, 2, 7, 4), LayerSizes(1, 1, 1, 1)])
def test_the_exercise_entry_names_are_unchanged(sizes):
    layout = block_layout(sizes)
    names = [layout.entry_name(i) for i in range(parameter_count(sizes))]
    assert names == [entry_name(sizes, i, "d") for i in range(parameter_count(sizes))]
    grad, approx = RNG.normal(size=layout.total), RNG.normal(size=layout.total)
    status, allowances = np.zeros(layout.total, dtype=np.int8), np.zeros(layout.total)
    assert worst_entries(layout, grad, approx, status, allowances, 1e-7, 5) == worst_entries(
        sizes, grad, approx, status, allowances, 1e-7, 5
    )
    with pytest.raises(IndexError):
        layout.entry_name(layout.total)


def test_array_layout_of_any_shapes():
    layout = array_layout({"x": (2, 3, 4, 5), "w": (5,), "s": ()})
    assert layout.names == ("x", "w", "s") and layout.gradient_names == ("dx", "dw", "ds")
    assert layout.shapes == ((2, 3, 4, 5), (5,), ()) and layout.sizes is None
    assert layout.slices == (slice(0, 120), slice(120, 125), slice(125, 126)) and layout.total == 126
    assert layout.starts.tolist() == [0, 120, 125] and not layout.starts.flags.writeable
    assert [layout.entry_name(i) for i in (0, 1, 5, 119, 120, 124, 125)] == [
        "dx[0, 0, 0, 0]", "dx[0, 0, 0, 1]", "dx[0, 0, 1, 0]", "dx[1, 2, 3, 4]", "dw[0]", "dw[4]", "ds",
    ]  # fmt: skip
    assert array_layout({"x": [2, 3, 4, 5], "w": (5,), "s": ()}) is layout  # cached per shapes and names
    assert array_layout({"W": (2, 2)}, ["grad_W"]).entry_name(3) == "grad_W[1, 1]"


@pytest.mark.parametrize(
    ("shapes", "names", "message"),
    [
        ({}, None, "there are no arrays to check"),
        ({"x": (2, 0)}, None, r"array x has shape \(2, 0\): no entries to check"),
        ({"x": (2, -1)}, None, r"array x has shape \(2, -1\): no entries to check"),
        ({"x": (2.5,)}, None, "array x has shape .* not a tuple of whole numbers"),
        ({"x": (2,), "y": (3,)}, ["dx"], r"1 gradient names for 2 arrays \(x, y\)"),
        ({"x": (2,), "y": (3,)}, ["g", "g"], "gradient names repeat: g, g"),
    ],
)
def test_bad_layouts_are_refused(shapes, names, message):
    with pytest.raises(ValueError, match=message):
        array_layout(shapes, names)


# --- arguments and answers ------------------------------------------------------------------------------------


def test_loop_costs_give_each_call_fresh_copies():
    x = RNG.normal(size=(2, 3))
    kept = x.copy()

    def J(p):
        p["x"] *= 2.0  # writes into its argument: only that call's copy
        p["y"] = None
        return np.array([[np.sum(p["x"])]])

    costs = loop_costs_of(J, {"x": x})
    x[0, 0] = 1e6  # the point was copied when the costs were made
    result = check_arrays({"x": kept}, {"x": np.full((2, 3), 2.0)}, costs, roundoff=1e-15)
    assert result.verdict is Verdict.PASS and np.allclose(result.gradapprox, 2.0)


def _linear_check(**changes):
    J, point, grads = linear_case()
    arguments = {"point": point, "gradients": grads, "costs": loop_costs_of(J, point), "roundoff": 1e-14} | changes
    return check_arrays(**arguments)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gradients": {"W": np.zeros((3, 4)), "A": np.zeros((4, 5))}}, r"gradient b is missing \(got keys A, W\)"),
        (
            {"gradients": {"W": np.zeros((3, 4)), "A": np.zeros((4, 5)), "b": np.zeros(3)}},
            r"gradient b has shape \(3,\), expected \(3, 1\)",
        ),
        ({"threshold": 0.0}, "threshold=0.0 must be a positive finite number"),
        ({"roundoff": float("nan")}, "roundoff=nan must be a finite number >= 0"),
        ({"roundoff": -1.0}, "roundoff=-1.0 must be a finite number >= 0"),
        ({"epsilon": 0.0}, "epsilon=0.0 must be a positive finite number"),
        ({"max_named": -1}, "max_named=-1 must be a whole number >= 0"),
        ({"point": {"W": "not numbers"}}, "array W is not an array of real numbers"),
        ({"costs": lambda groups: []}, "costs answered 0 groups of perturbations, expected 3"),
        (
            {"costs": lambda groups: [(np.zeros(len(g)), np.zeros(1)) for g in groups]},
            r"costs answered \(12,\) and \(1,\) costs for block W, expected \(12,\) each",
        ),
        ({"kinks": lambda steps: np.zeros(3, dtype=bool)}, r"kinks answered bool flags of shape \(3,\), expected"),
        ({"kinks": lambda steps: np.zeros(steps.size)}, "kinks answered float64 flags"),
    ],
)
def test_bad_arguments_and_answers_are_refused_by_name(changes, message):
    with pytest.raises(ValueError, match=message):
        _linear_check(**changes)


def test_max_named_limits_the_named_entries():
    assert len(_linear_check(max_named=2).worst_entries) == 2
    assert _linear_check(max_named=0).worst_entries == ()
