"""Tests for the strategies package: argument validation, consistency, reachability, shrinking."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings, target
from hypothesis.errors import InvalidArgument

from gradharness.model.case import NetworkCase
from gradharness.model.network import forward_propagation_n
from gradharness.model.parameters import LayerSizes, parameter_shapes
from strategies import (
    batch_sizes,
    inputs,
    labels,
    layer_sizes,
    network_cases,
    parameters,
)

TINY_NORMAL = np.finfo(np.float64).tiny
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# find() without shrinking: we only need to know an example exists, not its minimal form.
EXISTS = settings(max_examples=1000, phases=[Phase.generate], database=None, deadline=None)


def forward(case: NetworkCase) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reference cost and Z1, Z2, Z3, A3 (overflow warnings silenced for adversarial draws)."""
    with np.errstate(all="ignore"):
        cost, cache = forward_propagation_n(case.X, case.Y, case.parameters)
    return cost, cache[0], cache[4], cache[8], cache[9]


# --- argument validation ----------------------------------------------------------------

BAD_ARGUMENTS = [
    (layer_sizes, (), {"min_units": 0}, "min_units=0 must be at least 1"),
    (layer_sizes, (), {"min_units": 5, "max_units": 3}, "min_units=5 is larger than max_units=3"),
    (layer_sizes, (), {"min_units": True}, "min_units must be an integer, got True"),
    (layer_sizes, (), {"max_units": 2.5}, "max_units must be an integer, got 2.5"),
    (layer_sizes, (), {"max_units": None}, "max_units must be an integer, got None"),
    (layer_sizes, (), {"n0": -1}, "n0=-1 must be at least 1"),
    (layer_sizes, (), {"n1": "3"}, "n1 must be an integer, got '3'"),
    (layer_sizes, (), {"n2": 2.0}, "n2 must be an integer, got 2.0"),
    (layer_sizes, (), {"n3": 0}, "n3=0 must be at least 1"),
    (layer_sizes, (), {"n3": False}, "n3 must be an integer, got False"),
    (layer_sizes, (), {"max_output_units": 0}, "max_output_units=0 must be at least 1"),
    (
        layer_sizes,
        (),
        {"min_units": 3, "max_output_units": 2},
        "min_units=3 is larger than max_output_units=2",
    ),
    (batch_sizes, (), {"min_size": 0}, "min_size=0 must be at least 1"),
    (batch_sizes, (), {"min_size": 4, "max_size": 2}, "min_size=4 is larger than max_size=2"),
    (batch_sizes, (), {"max_size": 1.5}, "max_size must be an integer, got 1.5"),
    (inputs, (0, 3), {}, "n0=0 must be at least 1"),
    (inputs, (2, 0), {}, "m=0 must be at least 1"),
    (inputs, (2, 2), {"adversarial": 1}, "adversarial must be a bool, got 1"),
    (labels, (0, 1), {}, "n3=0 must be at least 1"),
    (labels, (1, 1.0), {}, "m must be an integer, got 1.0"),
    (parameters, ((4, 5, 3, 1),), {}, "sizes must be a LayerSizes, got (4, 5, 3, 1)"),
    (parameters, (LayerSizes(1, 1, 1, 1),), {"adversarial": "yes"}, "adversarial must be a bool"),
    (network_cases, (), {"max_batch": 2.5}, "max_batch must be an integer, got 2.5"),
    (network_cases, (), {"min_batch": 0}, "min_batch=0 must be at least 1"),
    (network_cases, (), {"min_batch": 3, "max_batch": 2}, "min_batch=3 is larger than max_batch=2"),
    (network_cases, (), {"batch_size": 0}, "batch_size=0 must be at least 1"),
    (network_cases, (), {"batch_size": True}, "batch_size must be an integer, got True"),
    (network_cases, (), {"min_units": 5, "max_units": 3}, "min_units=5 is larger than max_units=3"),
    (network_cases, (), {"n1": 0}, "n1=0 must be at least 1"),
    (network_cases, (), {"max_output_units": -2}, "max_output_units=-2 must be at least 1"),
    (network_cases, (), {"adversarial": None}, "adversarial must be a bool, got None"),
]


@pytest.mark.parametrize(
    ("strategy", "args", "kwargs", "message"),
    BAD_ARGUMENTS,
    ids=[f"{s.__name__}-{m}" for s, _, _, m in BAD_ARGUMENTS],
)
def test_bad_arguments_raise_at_call_time(strategy, args, kwargs, message):
    # Calling the function (no draw) must already raise, naming the argument.
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        strategy(*args, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n0": 9, "max_units": 3},
        {"min_units": 4, "n3": 1},
        {"min_units": 3, "n3": 1, "max_output_units": 1},
        {"n0": np.int64(2)},
        {"min_batch": 5, "max_batch": 6, "batch_size": 1},
    ],
)
def test_fixed_sizes_may_lie_outside_the_drawn_range(kwargs):
    network_cases(**kwargs)


# --- drawn cases are consistent ---------------------------------------------------------


def assert_consistent(case: NetworkCase) -> None:
    n0, _, _, n3 = case.sizes.as_tuple()
    assert case.X.shape == (n0, case.m)
    assert case.Y.shape == (n3, case.m)
    assert set(case.parameters) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for name, shape in parameter_shapes(case.sizes).items():
        assert case.parameters[name].shape == shape, name
    for array in (case.X, case.Y, *case.parameters.values()):
        assert array.dtype == np.float64
        assert np.all(np.isfinite(array))
        assert np.all((array == 0.0) | (np.abs(array) >= TINY_NORMAL)), "subnormal value"
    assert np.all((case.Y == 0.0) | (case.Y == 1.0))


@FAST
@given(network_cases())
def test_default_cases_are_consistent_and_in_bounds(case):
    assert_consistent(case)
    assert 1 <= min(case.sizes.as_tuple()) and max(case.sizes.as_tuple()) <= 6
    assert 1 <= case.m <= 8
    assert np.all(np.abs(case.X) <= 2.0)
    assert_live_bounds(case)


def assert_live_bounds(case: NetworkCase) -> None:
    """Weights and the output bias within their drawn bounds; hidden biases within the repair's."""
    for layer in ("1", "2", "3"):
        W = case.parameters["W" + layer]
        assert np.all(np.abs(W) <= 1.5 / math.sqrt(W.shape[1]))
        assert np.all(np.sum(np.abs(W), axis=1) <= 2.0 + 1e-12)
    assert np.all(np.abs(case.parameters["b1"]) <= 4.25 + 1e-12)
    assert np.all(np.abs(case.parameters["b2"]) <= 10.25 + 1e-12)
    assert np.all(np.abs(case.parameters["b3"]) <= 1.0)


@FAST
@given(network_cases(adversarial=True))
def test_adversarial_cases_are_consistent_and_finite(case):
    assert_consistent(case)
    for array in (case.X, *case.parameters.values()):
        assert np.all(np.abs(array) <= 100.0)


@FAST
@given(network_cases(n0=7, n2=2, max_units=3, batch_size=5))
def test_fixed_sizes_are_respected(case):
    assert case.sizes.n0 == 7
    assert case.sizes.n2 == 2
    assert 1 <= case.sizes.n1 <= 3 and 1 <= case.sizes.n3 <= 3
    assert case.m == 5


@FAST
@given(layer_sizes(min_units=2, max_units=5, max_output_units=3))
def test_output_units_follow_max_output_units(sizes):
    assert 2 <= sizes.n3 <= 3
    assert all(2 <= n <= 5 for n in (sizes.n0, sizes.n1, sizes.n2))


@FAST
@given(batch_sizes(min_size=2, max_size=4))
def test_batch_sizes_are_in_range(m):
    assert 2 <= m <= 4


@FAST
@given(labels(3, 4))
def test_labels_are_exact_zero_or_one(Y):
    assert Y.shape == (3, 4) and Y.dtype == np.float64
    assert np.all((Y == 0.0) | (Y == 1.0))


@pytest.mark.parametrize(
    ("description", "condition"),
    [
        ("m = 1 with several outputs", lambda c: c.m == 1 and c.sizes.n3 > 1),
        (
            "no square weight matrix",
            lambda c: c.sizes.n0 != c.sizes.n1 and c.sizes.n1 != c.sizes.n2 != c.sizes.n3,
        ),
        ("largest batch and output layer", lambda c: c.m == 8 and c.sizes.n3 == 6),
        ("labels of both classes", lambda c: 0.0 in c.Y and 1.0 in c.Y),
    ],
)
def test_shapes_are_reachable(description, condition):
    find(network_cases(), condition, settings=EXISTS)  # raises NoSuchExample if unreachable


# --- default draws are well-behaved for the reference network ---------------------------


def worst_case_abs_z3(p: dict[str, np.ndarray], input_bound: float) -> float:
    """Largest |Z3| over all X with |X| <= input_bound (interval bound through the ReLUs)."""
    a0 = np.full((p["W1"].shape[1], 1), input_bound)
    z1 = np.abs(p["W1"]) @ a0 + np.abs(p["b1"])
    z2 = np.abs(p["W2"]) @ z1 + np.abs(p["b2"])
    z3 = np.abs(p["W3"]) @ z2 + np.abs(p["b3"])
    return float(np.max(z3))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"min_units": 6, "max_units": 10, "max_batch": 3}],
    ids=["default", "wide"],
)
def test_default_draws_give_finite_reference_cost(kwargs):
    # No example database: with one, Hypothesis also keeps a Pareto front of targeted examples
    # to save, and ordering the packed draws for it costs far more than the test itself.
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(network_cases(**kwargs))
    def check(case):
        cost, Z1, Z2, Z3, A3 = forward(case)
        assert math.isfinite(cost)
        assert np.all((A3 > 0.0) & (A3 < 1.0))
        # The documented bounds: a repaired or planted bias never lets an activation grow past them.
        target(float(np.max(np.abs(Z3))), label="|Z3|")
        assert np.max(Z1) <= 5.0 + 1e-9
        assert np.max(Z2) <= 11.0 + 1e-9
        assert np.max(np.abs(Z3)) <= 23.0 + 1e-9

    check()


def test_drawn_parameters_bound_z3_for_every_input():
    # parameters() alone, before a case's biases are repaired for its X: |Z3| <= 23 for every |X| <= 2.
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(layer_sizes().flatmap(parameters))
    def check(p):
        worst = worst_case_abs_z3(p, input_bound=2.0)
        target(worst, label="worst-case |Z3|")
        assert worst <= 23.0 + 1e-9

    check()


# --- adversarial draws stress the kinks and the saturation ------------------------------


def test_adversarial_draws_reach_relu_kinks():
    def kink(case):
        Z1 = forward(case)[1]
        return np.any(case.X == 0.0) and np.any(case.X != 0.0) and np.any(Z1 == 0.0)

    find(network_cases(adversarial=True), kink, settings=EXISTS)


def test_adversarial_draws_contain_tiny_and_large_values():
    find(network_cases(adversarial=True), lambda c: np.any(np.abs(c.X) == 1e-8), settings=EXISTS)
    find(network_cases(adversarial=True), lambda c: np.any(np.abs(c.parameters["W2"]) > 50.0), settings=EXISTS)


def test_adversarial_draws_saturate_the_sigmoid():
    find(network_cases(adversarial=True), lambda c: np.max(np.abs(forward(c)[3])) > 40.0, settings=EXISTS)
    find(network_cases(adversarial=True), lambda c: np.any(forward(c)[4] == 1.0), settings=EXISTS)
    find(network_cases(adversarial=True), lambda c: np.any(forward(c)[4] == 0.0), settings=EXISTS)


# --- shrinking ---------------------------------------------------------------------------


def test_cases_shrink_to_the_smallest_network():
    case = find(network_cases(adversarial=True), lambda c: True)
    assert case.sizes.as_tuple() == (1, 1, 1, 1)
    assert case.m == 1
    for array in (case.X, case.Y, *case.parameters.values()):
        assert np.all(array == 0.0)


def test_default_cases_shrink_to_the_smallest_live_network():
    case = find(network_cases(), lambda c: True)
    assert case.sizes.as_tuple() == (1, 1, 1, 1) and case.m == 1
    assert case.X.tolist() == [[1.0]] and case.Y.tolist() == [[0.0]]
    values = [case.parameters[name].item() for name in ("W1", "b1", "W2", "b2", "W3", "b3")]
    assert values == [0.75, 0.0, 0.75, 0.0, 0.75, 0.0]


@pytest.mark.slow
def test_cases_shrink_to_the_lower_bounds():
    case = find(network_cases(min_units=2, min_batch=3, n0=4), lambda c: True)
    assert case.sizes.as_tuple() == (4, 2, 2, 2)
    assert case.m == 3


@pytest.mark.slow
def test_a_case_that_needs_nonzero_values_still_shrinks_to_the_smallest_network():
    # The values a failure needs must end up in the entries a smaller network keeps.
    def needs_values(case):
        return np.any(case.X != 0.0) and np.any(case.parameters["W2"] != 0.0) and 1.0 in case.Y

    strategy = network_cases(max_units=3, max_batch=3, adversarial=True)
    case = find(strategy, needs_values, settings=settings(derandomize=True, database=None, deadline=None))
    assert case.sizes.as_tuple() == (1, 1, 1, 1) and case.m == 1
    assert np.count_nonzero(case.X) == 1 and np.count_nonzero(case.parameters["W2"]) == 1 and case.Y[0, 0] == 1.0
    assert all(np.all(case.parameters[name] == 0.0) for name in ("W1", "b1", "b2", "W3", "b3"))


# --- large arrays are drawn entry by entry, with the same bounds ---------------------------------


@pytest.mark.slow
@FAST
@given(network_cases(min_units=17, max_units=20, min_batch=15, max_batch=20))
def test_large_default_cases_are_consistent_and_in_bounds(case):
    assert_consistent(case)
    assert np.all(np.abs(case.X) <= 2.0)
    assert_live_bounds(case)


@pytest.mark.slow
@FAST
@given(network_cases(min_units=12, max_units=16, min_batch=12, max_batch=16, adversarial=True))
def test_large_adversarial_cases_are_consistent_and_finite(case):
    assert_consistent(case)
    for array in (case.X, *case.parameters.values()):
        assert np.all(np.abs(array) <= 100.0)


@pytest.mark.parametrize("shape", [(3, 4), (20, 20)], ids=["packed", "entry-by-entry"])
@pytest.mark.parametrize("adversarial", [False, True])
def test_inputs_and_labels_keep_their_bounds(shape, adversarial):
    @FAST
    @given(inputs(*shape, adversarial=adversarial), labels(*shape))
    def check(X, Y):
        assert X.shape == Y.shape == shape and X.dtype == Y.dtype == np.float64
        assert np.all(np.abs(X) <= (100.0 if adversarial else 2.0))
        assert np.all((X == 0.0) | (np.abs(X) >= TINY_NORMAL))
        assert np.all((Y == 0.0) | (Y == 1.0))

    check()


@pytest.mark.parametrize("sizes", [LayerSizes(4, 5, 3, 1), LayerSizes(12, 12, 8, 2)], ids=["packed", "entry-by-entry"])
def test_parameters_keep_their_bounds(sizes):
    @FAST
    @given(parameters(sizes))
    def check(p):
        for name, shape in parameter_shapes(sizes).items():
            assert p[name].shape == shape and p[name].dtype == np.float64
        for layer in ("1", "2", "3"):
            W = p["W" + layer]
            assert np.all(np.abs(W) <= 1.5 / math.sqrt(W.shape[1]))
            assert np.all(np.sum(np.abs(W), axis=1) <= 2.0 + 1e-12)
            assert np.all(np.abs(p["b" + layer]) <= 1.0)

    check()
