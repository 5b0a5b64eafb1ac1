"""The batched perturbed passes must give the seed loop's numerical gradient, to round-off."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from gradharness.check import perturbed as perturbed_module
from gradharness.check.error_model import CostFormula, cost_roundoff
from gradharness.check.finite_diff import epsilon_vector, gradapprox_loop
from gradharness.check.perturbed import base_pass, directional_passes, perturbed_passes
from gradharness.model import network
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.parameters import LayerSizes, block_slices, dictionary_to_vector, parameter_shapes
from strategies import network_cases


def random_case(sizes: tuple[int, int, int, int], m: int, seed: int = 0) -> NetworkCase:
    rng = np.random.default_rng(seed)
    layer = LayerSizes(*sizes)
    parameters = {name: rng.normal(size=shape) / np.sqrt(shape[1]) for name, shape in parameter_shapes(layer).items()}
    return NetworkCase(layer, rng.normal(size=(sizes[0], m)), (rng.random((sizes[3], m)) < 0.5) * 1.0, parameters)


def steps_of(case: NetworkCase, epsilon: float | None = None) -> np.ndarray:
    return epsilon_vector(dictionary_to_vector(case.parameters)[0], epsilon)


def seed_loop(case: NetworkCase, steps: np.ndarray) -> np.ndarray:
    """One call of the exercise's forward per perturbation, as the seed does it."""
    with np.errstate(all="ignore"):
        return gradapprox_loop(network.forward_propagation_n, case.X, case.Y, case.parameters, steps)


def roundoff_allowance(case: NetworkCase, steps: np.ndarray) -> np.ndarray:
    """Both computations' round-off, from the error model (the seed loop's dominates)."""
    seed = cost_roundoff(case.X, case.Y, case.parameters, CostFormula.SEED)
    ours = cost_roundoff(case.X, case.Y, case.parameters, CostFormula.STABLE)
    return 3 * (seed + ours) / steps


def all_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every entry of layers 1 and 2 through the exact row updates instead of the linear passes."""
    linear = perturbed_module._linear_chunk

    def everything_suspect(base, lin, rows, cols, steps):
        total, _ = linear(base, lin, rows, cols, steps)
        return total, rows < base.W1.shape[0] + base.W2.shape[0]

    monkeypatch.setattr(perturbed_module, "_linear_chunk", everything_suspect)


@pytest.mark.parametrize(
    ("sizes", "m"),
    [((4, 5, 3, 1), 3), ((1, 1, 1, 1), 1), ((3, 7, 2, 4), 1), ((6, 2, 8, 3), 8), ((20, 12, 9, 2), 17)],
)
@pytest.mark.parametrize("epsilon", [None, 1e-7, 1e-4])
def test_agrees_with_the_seed_loop_to_round_off(sizes, m, epsilon):
    case = random_case(sizes, m, seed=sum(sizes) + m)
    steps = steps_of(case, epsilon)
    batched = perturbed_passes(case.X, case.Y, case.parameters, steps)
    looped = seed_loop(case, steps)
    assert not batched.kink.any()
    gap = np.abs(batched.gradapprox - looped)
    assert np.all(gap <= roundoff_allowance(case, steps)), np.max(gap / roundoff_allowance(case, steps))


def test_exercise_case_matches_the_seed_loop():
    case = seed_test_case()
    steps = steps_of(case, 1e-7)
    batched = perturbed_passes(case.X, case.Y, case.parameters, steps).gradapprox
    assert np.all(np.abs(batched - seed_loop(case, steps)) <= roundoff_allowance(case, steps))


@settings(max_examples=60)
@given(network_cases(adversarial=True))
def test_linear_passes_match_exact_row_updates(case):
    steps = steps_of(case)
    with np.errstate(all="ignore"):
        fast = perturbed_passes(case.X, case.Y, case.parameters, steps)
        with pytest.MonkeyPatch.context() as patch:
            all_exact(patch)
            exact = perturbed_passes(case.X, case.Y, case.parameters, steps)
        allowance = roundoff_allowance(case, steps)
    assert np.array_equal(fast.kink, exact.kink)
    both = np.isfinite(exact.gradapprox) & np.isfinite(allowance)
    assert np.all(
        np.abs(fast.gradapprox - exact.gradapprox)[both] <= allowance[both] + 1e-12 * np.abs(exact.gradapprox[both])
    )


def test_kinks_are_flagged_where_a_unit_sits_on_zero():
    # X = 0 and b1 = 0: every first-layer unit is exactly on its kink, so b1's entries move across it.
    rng = np.random.default_rng(3)
    parameters = {
        "W1": rng.normal(size=(3, 2)), "b1": np.zeros((3, 1)), "W2": rng.normal(size=(2, 3)),
        "b2": np.array([[0.5], [0.7]]), "W3": rng.normal(size=(1, 2)), "b3": np.zeros((1, 1)),
    }  # fmt: skip
    case = NetworkCase(LayerSizes(2, 3, 2, 1), np.zeros((2, 2)), np.array([[1.0, 0.0]]), parameters)
    result = perturbed_passes(case.X, case.Y, case.parameters, steps_of(case))
    slices = block_slices(case.sizes)
    assert result.kink[slices["b1"]].all()
    assert not result.kink[slices["W1"]].any()  # X = 0: W1 does not move Z1
    assert not result.kink[slices["W3"]].any() and not result.kink[slices["b3"]].any()


def test_chunked_and_threaded_passes_give_identical_results(monkeypatch):
    case = random_case((30, 16, 9, 2), 12, seed=5)
    steps = steps_of(case)
    whole = perturbed_passes(case.X, case.Y, case.parameters, steps)
    monkeypatch.setattr(perturbed_module, "_CHUNK_ELEMENTS", 50)
    monkeypatch.setattr(perturbed_module, "_THREADED_ELEMENTS", 1)
    chunked = perturbed_passes(case.X, case.Y, case.parameters, steps)
    assert np.array_equal(whole.gradapprox, chunked.gradapprox)
    assert np.array_equal(whole.kink, chunked.kink)


def test_only_the_requested_blocks_are_computed():
    case = random_case((5, 4, 3, 2), 4, seed=9)
    steps = steps_of(case)
    whole = perturbed_passes(case.X, case.Y, case.parameters, steps)
    part = perturbed_passes(case.X, case.Y, case.parameters, steps, blocks={"W2", "b1"})
    slices = block_slices(case.sizes)
    for name, block in slices.items():
        if name in ("W2", "b1"):
            assert np.array_equal(part.gradapprox[block], whole.gradapprox[block])
        else:
            assert np.isnan(part.gradapprox[block]).all()
    with pytest.raises(ValueError, match="unknown blocks W4"):
        perturbed_passes(case.X, case.Y, case.parameters, steps, blocks={"W4"})
    with pytest.raises(ValueError, match="epsilon has 3 entries"):
        perturbed_passes(case.X, case.Y, case.parameters, np.ones(3))


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2", "W3", "b3"])
def test_directional_passes_match_the_seed_forward(name):
    case = random_case((6, 5, 4, 2), 5, seed=11)
    rng = np.random.default_rng(0)
    deltas = rng.normal(size=(3, case.parameters[name].size)) * 1e-5
    change, kink = directional_passes(base_pass(case.X, case.Y, case.parameters), name, deltas)
    expected = []
    for delta in deltas:
        step = delta.reshape(case.parameters[name].shape)
        plus = network.forward_propagation_n(case.X, case.Y, {**case.parameters, name: case.parameters[name] + step})[0]
        minus = network.forward_propagation_n(case.X, case.Y, {**case.parameters, name: case.parameters[name] - step})[
            0
        ]
        expected.append(plus - minus)
    bound = 4 * cost_roundoff(case.X, case.Y, case.parameters, CostFormula.SEED)
    assert np.all(np.abs(change - np.array(expected)) <= bound)
    assert not kink.any()
