"""The campaign's cases: drawn once, reproducibly; numerical gradients computed once and reused."""

from __future__ import annotations

import numpy as np
import pytest

from gradharness.check.checker import gradient_check_n
from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.mutation.cases import conclusive, draw_cases, prepare_case, prepare_cases, probe_cases
from gradharness.settings import StrategyOptions


def test_the_same_seed_draws_the_same_cases() -> None:
    first = draw_cases(StrategyOptions(), 15, 3)
    again = draw_cases(StrategyOptions(), 15, 3)
    assert len(first) == 15
    assert [c.to_json() for c in first] == [c.to_json() for c in again]


def test_fixed_sizes_are_respected() -> None:
    assert {str(c.sizes) for c in draw_cases(StrategyOptions(n0=4, n1=5, n2=3, n3=1), 10, 0)} == {"4-5-3-1"}


@pytest.mark.parametrize("case", [seed_test_case(), *probe_cases()], ids=lambda c: c.describe())
@pytest.mark.parametrize("epsilon", [None, 1e-6])
def test_a_cached_numerical_gradient_gives_the_checkers_own_verdict(case, epsilon) -> None:
    prepared = prepare_case(case, network.forward_propagation_n, network.backward_propagation_n_buggy, True, epsilon)
    fresh = gradient_check_n(case.copy_parameters(), prepared.gradients, case.X, case.Y, epsilon)
    cached = gradient_check_n(case.copy_parameters(), prepared.gradients, case.X, case.Y, numerical=prepared.numerical)
    assert cached.verdict is fresh.verdict
    assert cached.wrong_blocks == fresh.wrong_blocks
    assert cached.difference == pytest.approx(fresh.difference, rel=1e-12)
    assert [b.difference for b in cached.blocks] == pytest.approx([b.difference for b in fresh.blocks], rel=1e-12)


def test_a_users_forward_is_looped_and_agrees_with_the_batched_one() -> None:
    case = probe_cases()[0]

    def users_forward(X, Y, parameters):
        return network.forward_propagation_n(X, Y, parameters)

    looped = prepare_case(case, users_forward, network.backward_propagation_n, False, None)
    batched = prepare_case(case, network.forward_propagation_n, network.backward_propagation_n, True, None)
    assert looped.numerical.method == "loop" and batched.numerical.method == "batched"
    assert np.allclose(looped.numerical.gradapprox, batched.numerical.gradapprox, rtol=1e-6, atol=1e-9)


def test_a_failing_backward_leaves_no_reference_gradients() -> None:
    def crashes(X, Y, cache):
        raise RuntimeError("boom")

    prepared = prepare_case(seed_test_case(), network.forward_propagation_n, crashes, True, None)
    assert prepared.gradients is None
    assert not conclusive(prepared, 1e-7)


def test_probes_and_the_exercise_case_come_with_every_preparation() -> None:
    prepared = prepare_cases(
        [seed_test_case()], network.forward_propagation_n, network.backward_propagation_n, builtin=True,
        epsilon=None, threshold=1e-7,
    )  # fmt: skip
    assert len(prepared.cases) == 1 and prepared.exercise.case.describe() == "sizes 4-5-3-1, m=3"
    assert len(prepared.probes) == 4 and all(p.case.m > 1 for p in prepared.probes)


def test_conclusive_keeps_only_cases_the_bare_rule_passes_by_a_margin() -> None:
    case = seed_test_case()
    good = prepare_case(case, network.forward_propagation_n, network.backward_propagation_n, True, 1e-6)
    assert conclusive(good, 1e-7)
    coarse = prepare_case(case, network.forward_propagation_n, network.backward_propagation_n, True, 1e-1)
    assert not conclusive(coarse, 1e-7)  # truncation error of a huge step: a correct checker would fail here
