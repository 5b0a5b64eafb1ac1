"""Property: forward returns the network's cost, at the drawn parameters and at every perturbed point.

A forward pass that is not the network can still agree with its own backward pass (a constant cost
with zero gradients, an extra ``0.5 ||W2||^2`` with ``dW2 + W2``, costs tuned to the checker's
loop), so each cost the user's forward returns is compared with the seed's cross-entropy averaged
over m at the same parameters. The perturbed points are compared in one batched pass of the
reference (:func:`~gradharness.model.network.stacked_costs`). Two correct implementations may
differ by the rounding of each: the tolerance is the error model's bound for either formula, with
the checker's safety factor, and at least a few ulps of the cost.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np

from gradharness.check.error_model import CostFormula, cost_roundoff
from gradharness.check.finite_diff import ForwardN, Perturbations, PerturbedCosts, cost_of, perturbed_costs
from gradharness.check.perturbed import UNIT_ROUNDOFF, base_pass
from gradharness.check.verdict import NOISE_SAFETY
from gradharness.model import network
from gradharness.model.case import NetworkCase
from gradharness.model.parameters import Parameters
from gradharness.properties.failures import ForwardReferenceFailure
from gradharness.properties.remembered import case_digest, exactly, remembered
from gradharness.records.status import FailureKind

_ULPS = 64.0


def cost_tolerance(X: np.ndarray, Y: np.ndarray, parameters: Parameters) -> float:
    """How far a correct forward's cost may be from the reference's here (inf where the cost overflows)."""
    with np.errstate(all="ignore"):
        base = base_pass(X, Y, parameters)
        bound = max(cost_roundoff(X, Y, parameters, formula, base=base) for formula in CostFormula)
    return 2.0 * NOISE_SAFETY * bound


def cost_hint(cost: float, expected: float, m: int, outputs: int) -> str:
    """A likely reason for the mismatch, in parentheses, or ''."""
    if expected == 0 or not math.isfinite(cost):
        return ""
    ratio = cost / expected
    if m > 1 and math.isclose(ratio, m, rel_tol=1e-6):
        return f" ({m} = m times larger: is the 1/m missing?)"
    if m > 1 and math.isclose(ratio, 1 / m, rel_tol=1e-6):
        return f" (m = {m} times smaller: is it divided by m twice?)"
    if outputs > 1 and math.isclose(ratio, 1 / outputs, rel_tol=1e-6):
        return f" (n3 = {outputs} times smaller: is it averaged over the output units too?)"
    if math.isclose(ratio, -1.0, rel_tol=1e-6):
        return " (the opposite sign)"
    return f" (off by {cost - expected:+.3g})"


class ReferenceAudit:
    """The user's forward pass, with every cost it returns compared with the network's cost there.

    Called like the forward (the drawn parameters), and through ``perturbed_costs`` by the checker
    (the perturbed points); raises :class:`ForwardReferenceFailure` at the first cost that is off.
    """

    def __init__(self, forward: ForwardN, name: str, case: NetworkCase) -> None:
        self._forward, self._name, self._case = forward, name, case
        self.one_round_trip = bool(getattr(forward, "one_round_trip", False))  # as the forward it audits
        self._digest = case_digest(case)
        self._tolerance = remembered(
            self._digest + b"tolerance", lambda: cost_tolerance(case.X, case.Y, case.parameters)
        )
        self._first = True

    def __call__(self, X: np.ndarray, Y: np.ndarray, parameters: Parameters) -> object:
        """The user's forward at ``parameters``; its cost checked when it is a finite real number.

        Any other cost is the cost property's to judge (malformed, or not finite where it should be).
        """
        returned = self._forward(X, Y, parameters)
        try:
            cost = cost_of(returned)
        except (TypeError, ValueError):
            return returned
        if not math.isfinite(cost) and self._first:  # the cost property says where a finite cost was due
            self._first = False
            return returned
        self._first = False
        expected = remembered(self._digest + b"cost", self._case_cost)  # the same at every call
        self._compare(np.array([cost]), np.array([expected]), lambda _k: "")
        return returned

    def _case_cost(self) -> float:
        with np.errstate(all="ignore"):
            cost, _ = network.forward_propagation_n(self._case.X, self._case.Y, self._case.copy_parameters())
        return cost

    def perturbed_costs(
        self, X: np.ndarray, Y: np.ndarray, parameters: Parameters, groups: Sequence[Perturbations]
    ) -> PerturbedCosts:
        """The user's costs at the perturbed points, each compared with the reference's."""
        costs = perturbed_costs(self._forward, X, Y, parameters, groups)
        base = {k: np.asarray(v, dtype=np.float64) for k, v in self._case.parameters.items()}
        for group, (plus, minus) in zip(groups, costs, strict=True):
            expected = remembered(
                (self._digest, group.block, *map(exactly, (group.indices, group.steps, group.deltas))),
                functools.partial(self._network_costs, group, base),
            )
            # The + side, then the - side: the first cost off is the one the sequential loop would name.
            where = functools.partial(_where_either, group, shape=base[group.block].shape)
            self._compare(np.concatenate([plus, minus]), expected, where)
        return costs

    def _network_costs(self, group: Perturbations, base: Parameters) -> np.ndarray:
        """The network's costs at the group's points, the + side then the - side, in one batched pass."""
        stack = np.concatenate([group.stacked(base[group.block], sign) for sign in (1.0, -1.0)])
        with np.errstate(all="ignore"):
            expected = network.stacked_costs(self._case.X, self._case.Y, base, group.block, stack)
        expected.flags.writeable = False
        return expected

    def _compare(self, user: np.ndarray, expected: np.ndarray, where: Callable[[int], str]) -> None:
        tolerance = self._tolerance + _ULPS * UNIT_ROUNDOFF * np.abs(expected)
        checked = np.isfinite(expected) & np.isfinite(tolerance)
        off = checked & ~(np.abs(user - expected) <= tolerance)  # a NaN cost is off too
        if not off.any():
            return
        k = int(np.flatnonzero(off)[0])
        cost, reference = float(user[k]), float(expected[k])
        raise ForwardReferenceFailure(
            f"{self._name} returns {cost:.6g} where the network's cost is {reference:.6g}"
            f"{cost_hint(cost, reference, self._case.m, self._case.Y.shape[0])}{where(k)} for {self._case.describe()}",
            FailureKind.WRONG,
            self._case,
        )


def _where_either(group: Perturbations, k: int, *, shape: tuple[int, ...]) -> str:
    """Where the k-th of the group's + points then its - points is."""
    if k < len(group):
        return _where(group, k, sign=1.0, shape=shape)
    return _where(group, k - len(group), sign=-1.0, shape=shape)


def _where(group: Perturbations, k: int, *, sign: float, shape: tuple[int, ...]) -> str:
    entry, delta = group.delta(k, shape)
    if entry is None:
        return f" at the parameters moved along a direction in {group.block}"
    return f" at {group.block}{list(entry)} {'+' if sign > 0 else '-'} {float(delta):.3g}"
