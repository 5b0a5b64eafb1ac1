"""The L-layer strategies: the sizes and shapes they promise, informative draws, validation, and where they shrink."""

from __future__ import annotations

from collections import Counter
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis.errors import InvalidArgument

from gradharness.model import deep
from strategies import block_cases, deep_cases, deep_layer_sizes
from strategies._deep_draws import OUTPUT_BOUND, ZERO_CLEARANCE, clear_biases, deep_layout, planted_zero
from strategies._liveness import wrapped_diagonal
from tests import strategy_support

SHRUNK = settings(database=None, deadline=None, max_examples=200, suppress_health_check=list(HealthCheck))


def drawn(strategy, examples: int = 200) -> list:
    """What a seeded, generation-only run draws (as a check's first pass does)."""
    return strategy_support.drawn(strategy, examples)


@cache
def default_cases() -> tuple[deep.DeepCase, ...]:
    return tuple(drawn(deep_cases()))


@cache
def default_blocks(function: str) -> tuple[deep.BlockCase, ...]:
    return tuple(drawn(block_cases(function), examples=120))


def hidden_Z(case: deep.DeepCase) -> list[np.ndarray]:
    _, caches = deep.L_model_forward(case.X, case.parameters)
    return [cache[1] for cache in caches[:-1]]


# --- sizes and shapes ----------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, database=None)
@given(deep_layer_sizes(min_layers=1, max_layers=4, max_units=3))
def test_layer_sizes_stay_in_their_ranges(sizes):
    assert 1 <= sizes.L <= 4
    assert all(1 <= n <= 3 for n in sizes.dims)


@settings(max_examples=30, deadline=None, database=None)
@given(deep_layer_sizes(max_units=8, output_size=5))
def test_a_fixed_output_size_is_kept_and_a_drawn_one_is_at_most_three(sizes):
    assert sizes.dims[-1] == 5
    assert all(n <= 8 for n in sizes.dims)


def test_default_cases_cover_every_depth_and_output_count_and_their_shapes_fit():
    cases = default_cases()
    assert {case.sizes.L for case in cases} == {2, 3, 4, 5}
    assert {case.sizes.dims[-1] for case in cases} == {1, 2, 3}
    for case in cases:
        assert max(case.sizes.dims[:-1]) <= 6 and 1 <= case.m <= 8
        assert case.X.shape == (case.sizes.dims[0], case.m) and case.Y.shape == (case.sizes.dims[-1], case.m)
        assert set(np.unique(case.Y)) <= {0.0, 1.0}
        for name, shape in deep.parameter_shapes(case.sizes).items():
            assert case.parameters[name].shape == shape and case.parameters[name].dtype == np.float64


def test_m_is_one_in_a_tenth_to_a_third_of_the_cases():
    share = Counter(case.m for case in default_cases())[1] / len(default_cases())
    assert 0.10 <= share <= 0.35


@settings(max_examples=20, deadline=None, database=None)
@given(deep_cases(batch_size=3, output_size=2, max_layers=3))
def test_fixed_batch_and_output_sizes_are_kept(case):
    assert case.m == 3 and case.sizes.dims[-1] == 2 and case.sizes.L <= 3


@settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(deep_cases(max_units=20, max_layers=6, max_batch=12))
def test_cases_too_large_for_one_packed_draw_are_drawn_array_by_array_and_still_informative(case):
    assert deep_layout((20, 6, 3, 12)) is None
    check_informative(case)


# --- informative by construction -----------------------------------------------------------------------------


def check_informative(case: deep.DeepCase) -> bool:
    """Assert what makes a case informative; return whether it has a planted exact zero."""
    assert case.X.any(axis=0).all(), "an all-zero input column"
    for layer in range(1, case.sizes.L + 1):
        W = case.parameters[f"W{layer}"]
        assert W[wrapped_diagonal(*W.shape)].all(), f"W{layer} has a zero on its wrapped diagonal"
    AL, caches = deep.L_model_forward(case.X, case.parameters)
    assert np.isfinite(deep.compute_cost(AL, case.Y))
    assert np.abs(caches[-1][1]).max() <= OUTPUT_BOUND + 1e-12
    planted = False
    for Z in hidden_Z(case):
        zero = Z == 0.0
        planted |= bool(zero.any())
        assert np.all(zero | (np.abs(Z) > ZERO_CLEARANCE)), "a ReLU input near its kink"
        live = (Z > 0).any(axis=1)
        assert np.all(live | zero.any(axis=1)), "a dead hidden unit"
    return planted


def test_default_cases_are_informative_with_a_few_planted_exact_zeros():
    planted = [check_informative(case) for case in default_cases()]
    share = sum(planted) / len(planted)
    assert 0.01 <= share <= 0.12
    # planted zeros come one to a case, in one unit
    for case, has in zip(default_cases(), planted, strict=True):
        if has:
            assert sum(int((Z == 0.0).any(axis=1).sum()) for Z in hidden_Z(case)) == 1


def test_every_gradient_block_of_a_default_case_is_exercised():
    for case in default_cases()[:120]:
        if any((Z == 0.0).any() for Z in hidden_Z(case)):
            continue  # a planted zero may be a single unit's only example, which cuts the layers below off
        AL, caches = deep.L_model_forward(case.X, case.parameters)
        grads = deep.L_model_backward(AL, case.Y, caches)
        for key in deep.gradient_keys(case.sizes.L):
            if key.startswith(("dW", "db")) or key == f"dA{case.sizes.L - 1}":
                assert np.any(grads[key] != 0.0), (key, case.describe())


def test_default_cases_are_seldom_repeated():
    keys = {(case.describe(), case.X.tobytes(), case.Y.tobytes()) for case in default_cases()}
    assert len(keys) >= 0.95 * len(default_cases())


def test_clear_biases_turns_a_dead_unit_on_and_moves_every_Z_off_the_kink():
    P = np.array([[-1.0, -2.0, -0.5], [0.0005, -0.0004, 2.0], [1.0, 0.5, 0.25]])
    b = np.zeros((3, 1))
    Z = P + clear_biases(P, b)
    assert (Z > 0).any(axis=1).all() and (np.abs(Z) > ZERO_CLEARANCE).all()
    np.testing.assert_array_equal(Z[2], P[2])  # a unit already clear is left alone
    assert Z[0].max() == pytest.approx(0.25)  # a dead unit comes on at its best example, by MARGIN


def test_planted_zero_is_exact_and_keeps_the_unit_on_elsewhere():
    P = np.array([[0.3, 1.0, 0.7]])
    b = planted_zero(P, np.zeros((1, 1)), 0)
    Z = P + b
    assert (Z == 0.0).sum() == 1 and (Z > 0).any()


# --- building blocks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", list(deep.BLOCK_ARRAYS))
def test_block_cases_hold_the_blocks_arrays_with_a_nonzero_upstream_gradient(function):
    cases = default_blocks(function)
    assert all(case.function == function for case in cases)
    assert Counter(case.m for case in cases)[1] >= 0.1 * len(cases)
    shapes = {np.shape(case.arrays[case.inputs[0]]) for case in cases}
    assert any(rows != cols for rows, cols in shapes)  # odd sizes, not only squares
    for case in cases:
        assert set(case.arrays) == set(deep.BLOCK_ARRAYS[function])
        upstream = case.arrays[case.upstream]
        assert np.all(upstream != 0.0) and np.abs(upstream).max() <= 1.0
        assert all(max(np.shape(value)) <= 8 for value in case.arrays.values())
        assert all(np.shape(value)[0] <= 6 for value in case.arrays.values())
    if function == "linear_activation_backward":
        assert {case.activation for case in cases} == {"relu", "sigmoid"}
    else:
        assert {case.activation for case in cases} == {None}


@pytest.mark.parametrize("function", ["relu_backward", "linear_activation_backward"])
def test_a_relus_input_is_clear_of_the_kink_but_for_a_few_planted_zeros(function):
    planted = 0
    relus = 0
    for case in default_blocks(function):
        if case.activation == "sigmoid":
            a = case.arrays
            assert np.abs(np.dot(a["W"], a["A_prev"]) + a["b"]).max() <= OUTPUT_BOUND + 1e-12
            continue
        relus += 1
        a = case.arrays
        Z = a["Z"] if "Z" in a else np.dot(a["W"], a["A_prev"]) + a["b"]
        assert np.all((Z == 0.0) | (np.abs(Z) > ZERO_CLEARANCE))
        planted += int((Z == 0.0).any())
    assert 0 < planted <= 0.25 * relus


# --- shrinking -----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_deep_cases_shrink_to_the_smallest_live_network():
    case = find(deep_cases(), lambda case: True, settings=SHRUNK)
    assert case.sizes.dims == (1, 1, 1) and case.m == 1
    np.testing.assert_array_equal(case.X, [[1.0]])
    np.testing.assert_array_equal(case.Y, [[0.0]])
    assert case.parameters["W1"][0, 0] == 0.75 and case.parameters["b1"][0, 0] == 0.0
    assert hidden_Z(case)[0][0, 0] > 0


def test_a_failure_that_needs_depth_shrinks_to_the_shallowest_case_that_has_it():
    case = find(deep_cases(), lambda case: case.sizes.L >= 4 and case.m >= 2, settings=SHRUNK)
    assert case.sizes.dims == (1, 1, 1, 1, 1) and case.m == 2


def test_block_cases_shrink_to_one_by_one_arrays_and_an_upstream_of_ones():
    case = find(block_cases("linear_backward"), lambda case: True, settings=SHRUNK)
    assert all(np.shape(value) == (1, 1) for value in case.arrays.values())
    np.testing.assert_array_equal(case.arrays["dZ"], [[1.0]])


def test_sizes_shrink_to_min_layers():
    sizes = find(deep_layer_sizes(min_layers=3), lambda sizes: True, settings=SHRUNK)
    assert sizes.dims == (1, 1, 1, 1)


# --- validation ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: deep_layer_sizes(min_layers=0), "min_layers=0 must be at least 1"),
        (lambda: deep_layer_sizes(min_layers=4, max_layers=3), "min_layers=4 is larger than max_layers=3"),
        (lambda: deep_layer_sizes(max_layers=2.5), "max_layers must be an integer"),
        (lambda: deep_layer_sizes(max_units=0), "max_units=0 must be at least 1"),
        (lambda: deep_layer_sizes(output_size=0), "output_size=0 must be at least 1"),
        (lambda: deep_layer_sizes(output_size=True), "output_size must be an integer"),
        (lambda: deep_cases(batch_size=0), "batch_size=0 must be at least 1"),
        (lambda: deep_cases(max_batch=0), "max_batch=0 must be at least 1"),
        (lambda: deep_cases(max_layers="5"), "max_layers must be an integer"),
        (lambda: deep_cases(min_layers=3, max_layers=2), "min_layers=3 is larger than max_layers=2"),
        (lambda: block_cases("tanh_backward"), "function='tanh_backward'; building blocks are"),
        (lambda: block_cases(None), "function=None"),
        (lambda: block_cases("relu_backward", max_units=0), "max_units=0 must be at least 1"),
        (lambda: block_cases("relu_backward", max_batch=1.0), "max_batch must be an integer"),
    ],
)
def test_bad_arguments_raise_invalid_argument_naming_the_argument(make, message):
    with pytest.raises(InvalidArgument, match=message):
        make()


def test_the_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        deep_cases(2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        block_cases("relu_backward", 3)  # type: ignore[misc]
