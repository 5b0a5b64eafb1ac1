"""Default draws exercise every gradient block by construction; edge cases come in a known share."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, seed, settings
from tiers import quick_first

from gradharness.bench.draws import survey
from gradharness.model.case import NetworkCase
from gradharness.model.network import backward_propagation_n, forward_propagation_n
from gradharness.model.parameters import GRADIENT_NAMES, LayerSizes
from strategies import network_cases, points_1d
from strategies._liveness import (
    EDGE_SHARE,
    MARGIN,
    Edge,
    edge_kind,
    live_case,
    live_weights,
    wrapped_diagonal,
)
from strategies.one_d import MIN_INPUT, POINT_BOUND

DRAWN = settings(
    max_examples=400, phases=[Phase.generate], database=None, deadline=None, suppress_health_check=list(HealthCheck)
)


def pre_activations(case: NetworkCase) -> tuple[np.ndarray, np.ndarray]:
    """Z1 and Z2 as the reference forward computes them."""
    _, cache = forward_propagation_n(case.X, case.Y, case.parameters)
    return cache[0], cache[4]


def exercised(case: NetworkCase) -> dict[str, bool]:
    """Per block: is the true gradient non-zero?"""
    _, cache = forward_propagation_n(case.X, case.Y, case.parameters)
    gradients = backward_propagation_n(case.X, case.Y, cache)
    return {name: bool(np.any(gradients[name] != 0.0)) for name in GRADIENT_NAMES}


def drawn_cases(**kwargs) -> list[NetworkCase]:
    """The cases a seeded Hypothesis run draws (generation only, as a check's first pass does)."""
    cases: list[NetworkCase] = []

    @seed(11)
    @DRAWN
    @given(network_cases(**kwargs))
    def collect(case):
        cases.append(case)

    collect()
    return cases


def dead_units(case: NetworkCase) -> int:
    return sum(int((Z <= 0.0).all(axis=1).sum()) for Z in pre_activations(case))


@pytest.mark.parametrize(
    "kwargs", quick_first([{}, {"n0": 4, "n1": 5, "n2": 3, "n3": 1}], 1), ids=["free sizes", "4-5-3-1"]
)
def test_nine_in_ten_default_cases_exercise_every_block(kwargs):
    cases = drawn_cases(**kwargs)
    per_block = Counter(name for case in cases for name, live in exercised(case).items() if live)
    assert min(per_block[name] for name in GRADIENT_NAMES) >= 0.9 * len(cases), per_block


@pytest.mark.slow
def test_adversarial_draws_keep_their_degenerate_cases():
    cases = drawn_cases(adversarial=True)
    assert sum(not all(exercised(case).values()) for case in cases) >= 0.2 * len(cases)


@pytest.mark.slow
def test_every_example_has_an_input_and_every_unit_a_weight_in_and_out():
    for case in drawn_cases():
        assert case.X.any(axis=0).all()
        for name in ("W1", "W2", "W3"):
            W = case.parameters[name]
            assert W.any(axis=0).all() and W.any(axis=1).all()


def test_every_hidden_unit_is_on_somewhere_unless_planted_dead():
    for case in drawn_cases():
        edge = edge_of(case)
        # An exact zero planted at a unit's best example leaves it on nowhere else: a kink, not a dead unit.
        expected = {Edge.NONE: {0}, Edge.DEAD_UNIT: {1}, Edge.EXACT_ZERO: {0, 1}}[edge]
        assert dead_units(case) in expected, case


def edge_of(case: NetworkCase) -> Edge:
    """The planted edge case, recognised from the case itself."""
    Z1, Z2 = pre_activations(case)
    if any((Z == 0.0).any() for Z in (Z1, Z2)):
        return Edge.EXACT_ZERO
    dead = any(((Z <= -MARGIN + 1e-12).all(axis=1)).any() for Z in (Z1, Z2))
    return Edge.DEAD_UNIT if dead else Edge.NONE


@pytest.mark.slow
def test_edge_cases_come_in_the_planned_share():
    cases = drawn_cases()
    kinds = Counter(edge_of(case) for case in cases)
    share = (kinds[Edge.DEAD_UNIT] + kinds[Edge.EXACT_ZERO]) / len(cases)
    # Hypothesis starts with a few simplest draws (no edge case): the share lies a little under the plan.
    assert 0.5 * EDGE_SHARE <= share <= 1.5 * EDGE_SHARE, kinds
    assert kinds[Edge.DEAD_UNIT] > 0 and kinds[Edge.EXACT_ZERO] > 0
    assert 0.1 <= sum(case.m == 1 for case in cases) / len(cases) <= 0.35


def test_the_edge_bytes_pick_the_kind_high_values_first():
    assert edge_kind(bytes([0, 0])) is Edge.NONE
    assert edge_kind(bytes([215, 9])) is Edge.NONE
    assert edge_kind(bytes([216, 0])) is Edge.DEAD_UNIT
    assert edge_kind(bytes([255, 0])) is Edge.EXACT_ZERO


def zero_case(sizes: LayerSizes, m: int) -> NetworkCase:
    shapes = {"W1": (sizes.n1, sizes.n0), "W2": (sizes.n2, sizes.n1), "W3": (sizes.n3, sizes.n2)}
    parameters = {name: live_weights(np.zeros(shape)) for name, shape in shapes.items()}
    for layer, n in (("1", sizes.n1), ("2", sizes.n2), ("3", sizes.n3)):
        parameters["b" + layer] = np.zeros((n, 1))
    return NetworkCase(sizes, np.zeros((sizes.n0, m)), np.zeros((sizes.n3, m)), parameters)


def test_a_planted_dead_unit_goes_in_a_layer_of_two_units():
    case = live_case(zero_case(LayerSizes(2, 1, 2, 1), 3), bytes([220, 0]))
    Z1, Z2 = pre_activations(case)
    assert (Z1 > 0).any(axis=1).all() and (Z2 <= -MARGIN).all(axis=1).sum() == 1


def test_a_dead_unit_falls_back_to_an_exact_zero_when_every_hidden_layer_has_one_unit():
    case = live_case(zero_case(LayerSizes(2, 1, 1, 1), 2), bytes([220, 7]))
    assert (pre_activations(case)[0] == 0.0).any()


@pytest.mark.slow
def test_a_planted_exact_zero_is_exact_in_the_forward():
    @seed(3)
    @DRAWN
    @given(network_cases(min_units=2, min_batch=2))
    def check(case):
        if edge_of(case) is Edge.EXACT_ZERO:
            Z1, Z2 = pre_activations(case)
            assert ((Z1 == 0.0).sum() + (Z2 == 0.0).sum()) >= 1

    check()


def test_the_wrapped_diagonal_holds_every_row_and_column():
    for shape in [(1, 1), (3, 5), (5, 3), (4, 4)]:
        rows, cols = wrapped_diagonal(*shape)
        assert set(rows) == set(range(shape[0])) and set(cols) == set(range(shape[1]))


@pytest.mark.slow
def test_a_failure_in_dz1_shrinks_to_a_case_that_still_exercises_dw1():
    # The exercise's complaint: a buggy dZ1 used to shrink to X = 0, where dW1 is 0 vs 0.
    def dz1_bug_shows(case: NetworkCase) -> bool:
        _, cache = forward_propagation_n(case.X, case.Y, case.parameters)
        right = backward_propagation_n(case.X, case.Y, cache)
        (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
        dZ2 = right["dZ2"]
        dZ1 = np.dot(W2.T, dZ2) * (A1 > 0) * 2.0
        return not np.allclose(np.dot(dZ1, case.X.T) / case.m, right["dW1"])

    case = find(network_cases(), dz1_bug_shows, settings=settings(database=None, deadline=None))
    assert exercised(case)["dW1"] and case.sizes.as_tuple() == (1, 1, 1, 1)


@given(points_1d())
def test_1d_points_exercise_the_derivative(point):
    x, theta = point
    assert MIN_INPUT <= abs(x) <= POINT_BOUND and abs(theta) <= POINT_BOUND


def test_1d_points_shrink_to_x_one_and_theta_zero():
    assert find(points_1d(), lambda p: True) == (1.0, 0.0)
    assert find(points_1d(), lambda p: p[0] < 0) == (-1.0, 0.0)


@pytest.mark.parametrize(
    "kwargs", quick_first([{}, {"n0": 4, "n1": 5, "n2": 3, "n3": 1}], 1), ids=["free sizes", "4-5-3-1"]
)
def test_drawn_cases_are_not_repeated(kwargs):
    # Each case is one packed choice: Hypothesis's mutator, which copies a choice onto another of the
    # same kind, has nothing to copy onto, so no drawn case is the same network twice.
    cases = drawn_cases(**kwargs)[:100]
    keys = {(c.sizes, c.X.tobytes(), c.Y.tobytes(), *(v.tobytes() for v in c.parameters.values())) for c in cases}
    assert len(keys) >= len(cases) - 1


def test_the_draws_survey_counts_what_the_cases_hold():
    counts = survey(40, 2, n0=4, n1=5, n2=3, n3=1)
    assert counts["cases"] == 40 and counts["repeated"] == 0
    assert all(counts[name] >= 36 for name in GRADIENT_NAMES)
    adversarial = survey(40, 2, adversarial=True)
    assert adversarial["dead unit"] > counts["dead unit"]
