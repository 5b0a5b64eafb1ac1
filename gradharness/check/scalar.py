"""The seed's 1-D check of J(theta) = theta * x, with the same verdicts as the network's."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gradharness.check.finite_diff import cost_of, epsilon_vector
from gradharness.check.perturbed import UNIT_ROUNDOFF
from gradharness.check.result import BlockResult, EntryReport, GradientCheckResult, relative_difference
from gradharness.check.verdict import Verdict, block_verdict
from gradharness.model import network
from gradharness.settings import DEFAULT_THRESHOLD


def step_1d(theta: float, epsilon: float | None) -> float:
    """The centred difference's step at ``theta``: ``epsilon``, or None for cbrt(machine eps) * max(1, |theta|)."""
    return float(epsilon_vector(np.array([theta], dtype=np.float64), epsilon)[0])


def gradient_check(
    x: float,
    theta: float,
    epsilon: float | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    forward: Callable[[float, float], object] = network.forward_propagation,
    backward: Callable[[float, float], object] = network.backward_propagation,
) -> GradientCheckResult:
    """The seed's 1-D check of J(theta) = theta * x: backward against the centred difference.

    ``epsilon`` None means cbrt(machine eps) * max(1, |theta|); the seed uses 1e-7.
    """
    if not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold={threshold!r} must be a positive finite number")
    step = step_1d(theta, epsilon)

    def approx(h: float) -> tuple[float, float]:
        J_plus = cost_of(forward(x, theta + h))
        J_minus = cost_of(forward(x, theta - h))
        return (J_plus - J_minus) / (2.0 * h), max(abs(J_plus), abs(J_minus))

    with np.errstate(all="ignore"):
        gradapprox, scale = approx(step)
        grad = cost_of(backward(x, theta))

    def numerical_error() -> float:
        # round-off of J over the step, plus how far the estimate moves when the step doubles
        with np.errstate(all="ignore"):
            doubled, _ = approx(2 * step)
        return 8 * UNIT_ROUNDOFF * scale / step + abs(doubled - gradapprox)

    difference = relative_difference(np.array([grad]), np.array([gradapprox]))
    if not np.isfinite(grad):
        verdict, noise = Verdict.WRONG, float("nan")
    elif not np.isfinite(gradapprox):
        verdict, noise = Verdict.SATURATED, float("nan")
    else:
        verdict, noise = block_verdict(difference, abs(grad - gradapprox), threshold, numerical_error)
    entry = EntryReport("dtheta", float(grad), float(gradapprox), float("nan"), verdict)
    return GradientCheckResult(
        difference=difference,
        verdict=verdict,
        reason=_reason(verdict, entry, difference, threshold, noise),
        epsilon=epsilon,
        threshold=threshold,
        method="loop",
        blocks=(BlockResult("dtheta", difference, verdict, 1, 0, int(verdict is Verdict.SATURATED), noise),),
        worst_entries=(entry,),
        grad=np.array([grad]),
        gradapprox=np.array([gradapprox]),
        entry_status=(verdict,),
    )


def _reason(verdict: Verdict, entry: EntryReport, difference: float, threshold: float, noise: float) -> str:
    if verdict is Verdict.WRONG:
        return f"backprop disagrees with the numerical gradient: {entry}"
    if verdict is Verdict.PASS:
        return f"difference {difference:.3g} <= threshold {threshold:g}"
    return f"{entry}; within the numerical error ({noise:.2g})"
