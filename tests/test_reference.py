"""The forward pass's costs against the network's: every perturbed point, both signs, named when one is off."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gradharness.check.finite_diff import Perturbations, perturbed_costs
from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.properties.failures import ForwardReferenceFailure
from gradharness.properties.reference import ReferenceAudit

CASE = seed_test_case()


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_stack_holds_exactly_the_perturbed_blocks_one_by_one(sign: float) -> None:
    rng = np.random.default_rng(5)
    block = CASE.parameters["W1"]
    groups = [
        Perturbations("W1", indices=np.array([19, 0, 7]), steps=rng.uniform(1e-7, 1e-5, 3)),
        Perturbations("W1", deltas=rng.normal(size=(4, block.size)) * 1e-6),
    ]
    for group in groups:
        one_by_one = np.stack([group.perturbed(block, k, sign) for k in range(len(group))])
        stacked = group.stacked(block, sign)
        assert stacked.dtype == np.float64 and np.array_equal(stacked, one_by_one)
    assert np.array_equal(block, seed_test_case().parameters["W1"])  # the block itself is left alone


class _OffAt:
    """The network's forward, its cost off by 1e-3 at the perturbed points of one sign of W2[1, 2]."""

    def __init__(self, sign: float) -> None:
        self.sign = sign

    def __call__(self, X, Y, parameters):
        cost, cache = network.forward_propagation_n(X, Y, parameters)
        moved = parameters["W2"][1, 2] - CASE.parameters["W2"][1, 2]
        return (cost + 1e-3 if moved * self.sign > 0 else cost), cache


@pytest.mark.parametrize(("sign", "says"), [(1.0, "W2[1, 2] + "), (-1.0, "W2[1, 2] - ")])
def test_a_cost_off_at_one_perturbed_point_is_named_with_its_sign(sign: float, says: str) -> None:
    audit = ReferenceAudit(_OffAt(sign), "forward_propagation_n", CASE)
    groups = [
        Perturbations(name, indices=np.arange(value.size), steps=np.full(value.size, 1e-6))
        for name, value in CASE.parameters.items()
    ]
    with pytest.raises(ForwardReferenceFailure, match=f"where the network's cost is .* at {re.escape(says)}"):
        audit.perturbed_costs(CASE.X, CASE.Y, CASE.copy_parameters(), groups)
    right = ReferenceAudit(network.forward_propagation_n, "forward_propagation_n", CASE)
    costs = right.perturbed_costs(CASE.X, CASE.Y, CASE.copy_parameters(), groups)
    expected = perturbed_costs(network.forward_propagation_n, CASE.X, CASE.Y, CASE.copy_parameters(), groups)
    assert all(
        np.array_equal(a, b)
        for pair, other in zip(costs, expected, strict=True)
        for a, b in zip(pair, other, strict=True)
    )
