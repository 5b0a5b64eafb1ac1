"""The checker must be right in both directions: correct code never fails, wrong code is caught."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings

from gradharness.bench.speed import seed_gradient_check_n  # the exercise's own loop, the parity reference
from gradharness.check.checker import gradient_check, gradient_check_n, relative_difference
from gradharness.check.verdict import Verdict
from gradharness.model import network
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.parameters import (
    LayerSizes,
    gradients_to_vector,
    parameter_shapes,
)
from gradharness.settings import DEFAULT_THRESHOLD, SEED_EPSILON
from strategies import network_cases

BLOCKS = ("dW1", "db1", "dW2", "db2", "dW3", "db3")


def gradients_of(case: NetworkCase, backward=network.backward_propagation_n):
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    return backward(case.X, case.Y, cache)


# --- parity with the exercise -------------------------------------------------------------


def test_exercise_numbers_buggy():
    case = seed_test_case()
    grads = gradients_of(case, network.backward_propagation_n_buggy)
    assert seed_gradient_check_n(case.parameters, grads, case.X, case.Y) == pytest.approx(0.2850931567761623, rel=1e-12)
    result = gradient_check_n(case.parameters, grads, case.X, case.Y, SEED_EPSILON, method="loop")
    assert result.difference == pytest.approx(0.2850931567761623, rel=1e-12)
    assert result.verdict is Verdict.WRONG
    assert set(result.wrong_blocks) == {"dW2", "db1"}
    assert result.worst_entries[0].name.startswith(("dW2[", "db1["))
    assert "backprop" in str(result.worst_entries[0]) and "numerical" in str(result.worst_entries[0])


def test_exercise_numbers_correct():
    case = seed_test_case()
    grads = gradients_of(case)
    expected = 1.1890913024229996e-07
    assert seed_gradient_check_n(case.parameters, grads, case.X, case.Y) == pytest.approx(expected, rel=1e-9)
    result = gradient_check_n(case.parameters, grads, case.X, case.Y, SEED_EPSILON, method="loop")
    assert result.difference == pytest.approx(expected, rel=1e-9)
    # Above the exercise's own threshold, but the numerics explain it: not a failure.
    assert result.difference > DEFAULT_THRESHOLD
    assert result.verdict is Verdict.IMPRECISE and result.passed
    at_1e5 = gradient_check_n(case.parameters, grads, case.X, case.Y, 1e-5, method="loop")
    assert at_1e5.difference == pytest.approx(9.3e-10, rel=0.05)
    default = gradient_check_n(case.parameters, grads, case.X, case.Y)
    assert default.verdict is Verdict.PASS and default.difference < 1e-9


def test_exercise_one_d_numbers():
    result = gradient_check(2.0, 4.0, 1e-7)
    assert result.difference == pytest.approx(2.919335883291695e-10, rel=1e-6)
    assert result.verdict is Verdict.PASS
    wrong = gradient_check(2.0, 4.0, backward=lambda x, theta: theta)
    assert wrong.verdict is Verdict.WRONG and "dtheta" in wrong.reason


# --- the relative difference ------------------------------------------------------------------


def test_relative_difference_edge_cases():
    assert relative_difference(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_difference(np.array([np.nan]), np.array([1.0])) == float("inf")
    assert relative_difference(np.array([1.0]), np.array([1.0])) == 0.0
    assert relative_difference(np.array([2.0]), np.array([1.0])) == pytest.approx(1 / 3)


def test_nan_gradient_is_wrong_not_passed():
    case = seed_test_case()
    grads = dict(gradients_of(case))
    grads["dW1"] = grads["dW1"].copy()
    grads["dW1"][0, 0] = np.nan
    result = gradient_check_n(case.parameters, grads, case.X, case.Y)
    assert result.verdict is Verdict.WRONG and "dW1" in result.wrong_blocks
    assert not np.isnan(result.difference)


def test_missing_or_misshapen_gradient_is_an_error():
    case = seed_test_case()
    grads = dict(gradients_of(case))
    del grads["db2"]
    with pytest.raises(ValueError, match="db2 is missing"):
        gradient_check_n(case.parameters, grads, case.X, case.Y)
    grads = dict(gradients_of(case), db1=np.zeros(5))
    with pytest.raises(ValueError, match=r"db1 has shape \(5,\)"):
        gradient_check_n(case.parameters, grads, case.X, case.Y)


@pytest.mark.parametrize("bad", [0.0, -1e-7, np.nan, np.inf])
def test_bad_settings_rejected(bad):
    case = seed_test_case()
    grads = gradients_of(case)
    with pytest.raises(ValueError, match="epsilon"):
        gradient_check_n(case.parameters, grads, case.X, case.Y, bad)
    with pytest.raises(ValueError, match="threshold"):
        gradient_check_n(case.parameters, grads, case.X, case.Y, threshold=bad)


# --- correct code never fails --------------------------------------------------------------


@settings(max_examples=150)
@given(network_cases())
def test_correct_backprop_never_wrong_default_batched(case):
    result = gradient_check_n(case.parameters, gradients_of(case), case.X, case.Y)
    assert result.passed, result.summary()


@settings(max_examples=150)
@given(network_cases(adversarial=True))
def test_correct_backprop_never_wrong_adversarial_batched(case):
    with np.errstate(all="ignore"):
        result = gradient_check_n(case.parameters, gradients_of(case), case.X, case.Y)
    assert result.passed, result.summary()


def _z_mask_backward(X, Y, cache):
    # The other ReLU convention: derivative 1 at Z == 0.
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dA2 = W3.T @ dZ3
    dZ2 = dA2 * (Z2 >= 0)
    dA1 = W2.T @ dZ2
    dZ1 = dA1 * (Z1 >= 0)
    return {
        "dW3": dZ3 @ A2.T / m, "db3": dZ3.sum(axis=1, keepdims=True) / m,
        "dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m,
        "dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
    }  # fmt: skip


@pytest.mark.slow
@settings(max_examples=100)
@given(network_cases(adversarial=True))
def test_both_relu_conventions_pass_with_the_user_loop(case):
    with np.errstate(all="ignore"):
        cost, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
        assume(np.isfinite(cost))
        for backward in (network.backward_propagation_n, _z_mask_backward):
            result = gradient_check_n(
                case.parameters, backward(case.X, case.Y, cache), case.X, case.Y, forward=network.forward_propagation_n,
                method="loop",
            )  # fmt: skip
            assert result.passed, result.summary()


def test_exact_kink_is_diagnosed_not_blamed():
    # X = 0 and b1 = 0 put every first-layer unit exactly on the kink.
    sizes = LayerSizes(2, 3, 2, 1)
    rng = np.random.default_rng(3)
    parameters = {
        "W1": rng.normal(size=(3, 2)), "b1": np.zeros((3, 1)), "W2": rng.normal(size=(2, 3)),
        "b2": np.array([[0.5], [0.7]]), "W3": rng.normal(size=(1, 2)), "b3": np.zeros((1, 1)),
    }  # fmt: skip
    case = NetworkCase(sizes, np.zeros((2, 2)), np.array([[1.0, 0.0]]), parameters)
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    z_mask = _z_mask_backward(case.X, case.Y, cache)
    result = gradient_check_n(case.parameters, z_mask, case.X, case.Y)
    assert result.passed
    assert result.block("db1").kinks == 3
    assert result.block("db1").verdict is Verdict.KINK


def test_saturated_sigmoid_is_diagnosed_not_blamed():
    sizes = LayerSizes(1, 1, 1, 1)
    parameters = {
        "W1": np.array([[30.0]]), "b1": np.array([[0.0]]), "W2": np.array([[30.0]]),
        "b2": np.array([[0.0]]), "W3": np.array([[30.0]]), "b3": np.array([[0.0]]),
    }  # fmt: skip
    case = NetworkCase(sizes, np.array([[1.0]]), np.array([[0.0]]), parameters)
    with np.errstate(all="ignore"):
        cost, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
        assert not np.isfinite(cost)  # the exercise's cost overflows here
        grads = network.backward_propagation_n(case.X, case.Y, cache)
        looped = gradient_check_n(
            case.parameters, grads, case.X, case.Y, forward=network.forward_propagation_n, method="loop"
        )
    assert looped.passed and looped.verdict in (Verdict.SATURATED, Verdict.IMPRECISE)
    batched = gradient_check_n(case.parameters, grads, case.X, case.Y)
    # The stable loss stays finite; a cost of ~27000 still limits the digits of a difference.
    assert batched.passed and batched.verdict in (Verdict.PASS, Verdict.IMPRECISE)


# --- wrong code is caught --------------------------------------------------------------------


def well_conditioned(case: NetworkCase, grads, block: str) -> bool:
    with np.errstate(all="ignore"):
        _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    A3 = cache[9]
    g = grads[block]
    whole = np.linalg.norm(gradients_to_vector(grads))
    return bool(np.all((A3 > 0.01) & (A3 < 0.99)) and np.linalg.norm(g) > 0.05 * whole and np.min(np.abs(g)) > 1e-3)


def well_conditioned_cases(count: int, seed: int):
    """Random networks with O(1) gradients, no saturation, every unit clear of its kink."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        sizes = LayerSizes(*(int(n) for n in rng.integers(1, 7, size=4)))
        m = int(rng.integers(1, 9))
        parameters = {
            name: rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1, 1], size=shape) / np.sqrt(shape[1])
            for name, shape in parameter_shapes(sizes).items()
        }
        case = NetworkCase(sizes, rng.normal(size=(sizes.n0, m)), (rng.random((sizes.n3, m)) < 0.5) * 1.0, parameters)
        _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
        Z1, Z2, A3 = cache[0], cache[4], cache[9]
        if np.min(np.abs(Z1)) > 1e-3 and np.min(np.abs(Z2)) > 1e-3 and np.all((A3 > 0.01) & (A3 < 0.99)):
            made += 1
            yield case


@pytest.mark.parametrize("block", BLOCKS)
def test_tiny_factor_is_caught_on_well_conditioned_examples(block):
    caught = tried = 0
    for case in well_conditioned_cases(60, seed=len(block) * 7 + BLOCKS.index(block)):
        grads = gradients_of(case)
        if np.linalg.norm(grads[block]) < 1e-3:
            continue  # a dead layer: nothing to scale
        tried += 1
        wrong = dict(grads, **{block: grads[block] * (1 + 1e-6)})
        result = gradient_check_n(case.parameters, wrong, case.X, case.Y)
        assert set(result.wrong_blocks) <= {block}, result.summary()
        caught += result.verdict is Verdict.WRONG
    assert tried >= 20
    assert caught == tried, f"caught {caught} of {tried}"


@pytest.mark.parametrize("block", BLOCKS)
def test_tiny_factor_is_caught_through_the_user_loop(block):
    case = seed_test_case()
    grads = gradients_of(case)
    wrong = dict(grads, **{block: grads[block] * (1 + 1e-6)})
    result = gradient_check_n(
        case.parameters, wrong, case.X, case.Y, forward=network.forward_propagation_n, method="loop"
    )
    assert result.method == "loop"
    assert result.wrong_blocks == (block,), result.summary()


@settings(max_examples=60)
@given(network_cases(min_units=2, min_batch=2))
def test_seed_bugs_are_named(case):
    grads = gradients_of(case, network.backward_propagation_n_buggy)
    result = gradient_check_n(case.parameters, grads, case.X, case.Y)
    good = gradients_of(case)
    expected = {b for b in ("dW2", "db1") if np.linalg.norm(good[b]) > 1e-6}
    assert set(result.wrong_blocks) <= {"dW2", "db1"}
    assert expected <= set(result.wrong_blocks) | {
        b.name for b in result.blocks if b.verdict in (Verdict.KINK, Verdict.IMPRECISE)
    }
    for entry in result.worst_entries:
        if entry.status is Verdict.WRONG:
            assert entry.name.startswith(("dW2[", "db1["))
