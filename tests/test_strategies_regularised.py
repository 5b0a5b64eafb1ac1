"""The regularisation exercise's strategies: the cases they promise, informative masks, validation, shrinking."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis.errors import InvalidArgument

from gradharness.model.regularised_case import DropoutCase, RegularisationCase
from gradharness.model.regularised_passes import dropout_masks
from strategies import dropout_cases, regularisation_cases
from strategies._deep_draws import HIDDEN_BOUND, OUTPUT_BOUND, ZERO_CLEARANCE
from tests import strategy_support

SHRUNK = settings(database=None, deadline=None, max_examples=300, suppress_health_check=list(HealthCheck))


def drawn(strategy) -> list:
    """What a seeded, generation-only run draws (as a check's first pass does)."""
    return strategy_support.drawn(strategy, 150)


@cache
def l2_cases() -> tuple[RegularisationCase, ...]:
    return tuple(drawn(regularisation_cases()))


@cache
def masked_cases() -> tuple[DropoutCase, ...]:
    return tuple(drawn(dropout_cases()))


def _hidden(case: DropoutCase):
    D1, D2 = dropout_masks(case.seed, case.keep_prob, case.sizes.dims[1], case.sizes.dims[2], case.m)
    p = case.parameters
    Z1 = p["W1"] @ case.X + p["b1"]
    Z2 = p["W2"] @ (np.maximum(0, Z1) * D1 / case.keep_prob) + p["b2"]
    Z3 = p["W3"] @ (np.maximum(0, Z2) * D2 / case.keep_prob) + p["b3"]
    return (D1, Z1), (D2, Z2), Z3


def test_regularisation_cases_are_the_exercises_network_with_a_lambd() -> None:
    cases = l2_cases()
    assert all(case.sizes.L == 3 and case.sizes.dims[-1] == 1 for case in cases)
    assert all(0.0 <= case.lambd <= 5.0 and abs(case.lambd * 100 - round(case.lambd * 100)) < 1e-9 for case in cases)
    lambds = {case.lambd for case in cases}
    assert 0.0 in lambds and len(lambds) > 20  # no regularisation now and then, and many strengths
    assert sum(case.lambd == 0.0 for case in cases) < len(cases) / 10
    assert any(case.m == 1 for case in cases) and len({case.sizes.dims for case in cases}) > 20


def test_dropout_cases_draw_keep_probs_and_seeds() -> None:
    cases = masked_cases()
    assert all(case.sizes.L == 3 and case.sizes.dims[-1] == 1 for case in cases)
    assert all(0.5 <= case.keep_prob <= 1.0 for case in cases)
    assert any(case.keep_prob == 1.0 for case in cases) and any(case.keep_prob < 0.9 for case in cases)
    assert len({case.seed for case in cases}) > 20 and max(case.seed for case in cases) > 2**31


def test_dropout_cases_keep_a_live_unit_in_each_hidden_layer_for_their_masks() -> None:
    for case in masked_cases():
        (D1, Z1), (D2, Z2), Z3 = _hidden(case)
        assert np.any(D1 & (Z1 > 0)) and np.any(D2 & (Z2 > 0)), case.describe()
        assert np.all(np.abs(Z3) <= OUTPUT_BOUND * (1 + 1e-12))
        if not (D1.all() and D2.all()):  # repaired for the masks: the second layer's Z live and clear again
            assert np.all(np.abs(Z2) <= 2 * HIDDEN_BOUND + 1e-9)
            assert np.all(np.abs(Z2) > ZERO_CLEARANCE) and np.all(np.any(Z2 > 0, axis=1))


def test_output_size_and_batch_size_are_passed_on() -> None:
    for case in drawn(regularisation_cases(output_size=2, batch_size=3, max_units=2))[:30]:
        assert case.sizes.dims[-1] == 2 and case.m == 3 and max(case.sizes.dims[:3]) <= 2
    for case in drawn(dropout_cases(output_size=None, min_keep_prob=0.9))[:30]:
        assert 1 <= case.sizes.dims[-1] <= 3 and case.keep_prob >= 0.9


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (lambda: regularisation_cases(max_units=0), "max_units=0 must be at least 1"),
        (lambda: regularisation_cases(output_size=0), "output_size=0 must be at least 1"),
        (lambda: regularisation_cases(batch_size=1.5), "batch_size must be an integer"),
        (lambda: regularisation_cases(max_batch=0), "max_batch=0 must be at least 1"),
        (lambda: regularisation_cases(max_lambd=0), "max_lambd=0 must be larger than 0"),
        (lambda: regularisation_cases(max_lambd=0.001), "max_lambd=0.001 must be at least 0.01"),
        (lambda: regularisation_cases(max_lambd=float("inf")), "max_lambd must be a finite number"),
        (lambda: regularisation_cases(max_lambd="1"), "max_lambd must be a finite number"),
        (lambda: dropout_cases(min_keep_prob=0), "min_keep_prob=0 must be larger than 0"),
        (lambda: dropout_cases(min_keep_prob=1.5), "min_keep_prob=1.5 must be at most 1.0"),
        (lambda: dropout_cases(min_keep_prob=True), "min_keep_prob must be a finite number"),
        (lambda: dropout_cases(max_units=True), "max_units must be an integer"),
    ],
)
def test_bad_arguments_name_the_argument(strategy, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        strategy()


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        regularisation_cases(6)  # type: ignore[misc]
    with pytest.raises(TypeError):
        dropout_cases(6)  # type: ignore[misc]


@pytest.mark.slow
def test_cases_shrink_towards_the_smallest_network_and_the_simplest_arguments() -> None:
    smallest = find(regularisation_cases(), lambda case: True, settings=SHRUNK)
    assert smallest.sizes.dims == (1, 1, 1, 1) and smallest.m == 1 and smallest.lambd == 0.01
    masked = find(dropout_cases(), lambda case: True, settings=SHRUNK)
    assert masked.sizes.dims == (1, 1, 1, 1) and masked.m == 1 and masked.keep_prob == 0.5
    (D1, _), (D2, _), _ = _hidden(masked)
    assert D1.all() and D2.all()  # the first seed from 0 on that keeps the one unit of each layer
    full = find(dropout_cases(min_keep_prob=1.0), lambda case: True, settings=SHRUNK)
    assert full.keep_prob == 1.0 and full.seed == 0  # every unit kept: the seed itself


@settings(max_examples=30, deadline=None, database=None)
@given(dropout_cases(max_units=3, max_batch=3))
def test_every_dropout_case_is_a_valid_case(case: DropoutCase) -> None:
    assert DropoutCase.from_json(case.to_json()).describe() == case.describe()
