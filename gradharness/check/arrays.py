"""Gradient checking of a scalar function of named arrays of any shapes, by the exercise checker's stages.

The function is reached only through ``costs``, which answers the costs at many perturbed points at
once: a loop in this process (:func:`loop_costs_of`), or the evaluator in one round trip. A check
asks it twice at most: every entry of every block at the step, then, only when some block is above
the threshold, every entry again at twice the step for the error estimate. The entries set aside,
the verdict per block, the named entries and the reason are the exercise's own
(:mod:`~gradharness.check.exclusions`, :mod:`~gradharness.check.blocks`,
:func:`~gradharness.check.checker.result_of_stages`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from gradharness.check.blocks import judge_blocks
from gradharness.check.checker import result_of_stages
from gradharness.check.exclusions import exclusions
from gradharness.check.finite_diff import Perturbations, PerturbedCosts, cost_of, epsilon_vector
from gradharness.check.layout import BlockLayout, array_layout, flat_gradient
from gradharness.check.numerical import NumericalSide
from gradharness.check.result import GradientCheckResult
from gradharness.check.step_error import DoubledStepError
from gradharness.settings import DEFAULT_THRESHOLD

__all__ = ["CostsOf", "KinksOf", "check_arrays", "loop_costs_of"]

CostsOf = Callable[[Sequence[Perturbations]], PerturbedCosts]
"""J(theta + step e_i) and J(theta - step e_i) for every perturbation of every group (one group per block)."""

KinksOf = Callable[[np.ndarray], np.ndarray]
"""For flat per-entry steps, the flat bool flags of the entries whose centred difference straddles a kink."""


def check_arrays(
    point: Mapping[str, np.ndarray],
    gradients: Mapping[str, object],
    costs: CostsOf,
    *,
    roundoff: float,
    kinks: KinksOf | None = None,
    gradient_names: Sequence[str] | None = None,
    epsilon: float | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    max_named: int = 5,
    gradient_error: np.ndarray | None = None,
) -> GradientCheckResult:
    """Check backprop's gradients of a scalar J(point) against centred differences, block by block.

    - ``point``: the arrays J is differentiated with respect to, by name, in block order.
    - ``gradients``: backprop's gradient of each, by the same names (a missing or misshapen one raises).
    - ``costs``: the costs at perturbed points, see :data:`CostsOf` (e.g. :func:`loop_costs_of`).
    - ``roundoff``: the caller's bound on the rounding error of J at ``point``.
    - ``kinks``: the entries to set aside as KINK at given steps (default None: J is smooth).
    - ``gradient_names``: each block's gradient as shown (default ``"d" + name``: ``dx[0, 1, 2, 3]``).
    - ``epsilon``: fixed step, or None (default) for cbrt(machine eps) * max(1, |theta_i|).
    - ``threshold``: the seed's 1e-7 on the relative difference; ``max_named``: entries named (5).
    - ``gradient_error``: flat, per entry, the rounding backprop's gradient may carry (single precision code,
      :func:`gradharness.check.precision.gradient_allowance`), allowed beside the numerical side's error.

    A non-finite perturbed cost makes its entry SATURATED; a block whose numerical gradient is 0 on
    every checked entry is not ``exercised``. The result is :func:`gradient_check_n`'s, method "loop".
    """
    if not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold={threshold!r} must be a positive finite number")
    if not (math.isfinite(roundoff) and roundoff >= 0):
        raise ValueError(f"roundoff={roundoff!r} must be a finite number >= 0")
    if isinstance(max_named, bool) or not isinstance(max_named, int) or max_named < 0:
        raise ValueError(f"max_named={max_named!r} must be a whole number >= 0")
    values = {name: _array(name, value) for name, value in point.items()}
    layout = array_layout({name: value.shape for name, value in values.items()}, gradient_names)
    grad = flat_gradient(gradients, layout, keys=layout.names)
    theta = np.concatenate([value.ravel() for value in values.values()])
    steps = epsilon_vector(theta, epsilon)
    gradapprox = centred_differences(costs, layout, steps)
    kink = kink_flags(kinks, steps, layout.total)

    def doubled() -> tuple[np.ndarray, np.ndarray]:
        return centred_differences(costs, layout, 2 * steps), kink_flags(kinks, 2 * steps, layout.total)

    error = DoubledStepError(roundoff, steps, gradapprox, doubled, gradient_error)
    side = NumericalSide(epsilon, "loop", gradapprox, kink, error)
    masks = exclusions(gradapprox, kink, (), layout)
    verdicts = judge_blocks(grad, side, masks, layout, threshold)
    return result_of_stages(grad, side, masks, verdicts, layout, threshold, max_named)


def _array(name: str, value: object) -> np.ndarray:
    """A float64 copy of one block of the point (later changes to the caller's array do not move it)."""
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"array {name} is not an array of real numbers") from None


def centred_differences(costs: CostsOf, layout: BlockLayout, steps: np.ndarray) -> np.ndarray:
    """(J(theta + step e_i) - J(theta - step e_i)) / (2 step_i) for every entry, from one call of ``costs``.

    A non-finite perturbed cost leaves its entry non-finite (the entry is SATURATED).
    """
    groups = [
        Perturbations(name, indices=np.arange(block.stop - block.start), steps=steps[block])
        for name, block in zip(layout.names, layout.slices, strict=True)
    ]
    with np.errstate(all="ignore"):
        answered = costs(groups)
        if len(answered) != len(groups):
            raise ValueError(f"costs answered {len(answered)} groups of perturbations, expected {len(groups)}")
        gradapprox = np.empty(layout.total)
        for name, block, pair in zip(layout.names, layout.slices, answered, strict=True):
            plus, minus = (np.asarray(side, dtype=np.float64) for side in pair)
            count = block.stop - block.start
            if plus.shape != (count,) or minus.shape != (count,):
                raise ValueError(
                    f"costs answered {plus.shape} and {minus.shape} costs for block {name}, expected ({count},) each"
                )
            gradapprox[block] = (plus - minus) / (2.0 * steps[block])
    return gradapprox


def kink_flags(kinks: KinksOf | None, steps: np.ndarray, total: int) -> np.ndarray:
    """The entries whose centred difference at ``steps`` straddles a kink (none without ``kinks``)."""
    if kinks is None:
        return np.zeros(total, dtype=bool)
    flags = np.asarray(kinks(steps))
    if flags.shape != (total,) or flags.dtype != np.bool_:
        raise ValueError(f"kinks answered {flags.dtype} flags of shape {flags.shape}, expected ({total},) bool")
    return flags


def loop_costs_of(J: Callable[[dict[str, np.ndarray]], object], point: Mapping[str, np.ndarray]) -> CostsOf:
    """:data:`CostsOf` for a J in this process: one call per perturbed point, each on fresh copies of the arrays.

    ``J`` takes the arrays by name and returns a real scalar (a float, or an array of one entry);
    whatever it does to its arguments stays with that call.
    """
    base = {name: _array(name, value) for name, value in point.items()}

    def costs(groups: Sequence[Perturbations]) -> PerturbedCosts:
        out = []
        for group in groups:
            plus, minus = np.empty(len(group)), np.empty(len(group))
            for k in range(len(group)):
                plus[k] = _cost_at(J, base, group, k, 1.0)
                minus[k] = _cost_at(J, base, group, k, -1.0)
            out.append((plus, minus))
        return out

    return costs


def _cost_at(
    J: Callable[[dict[str, np.ndarray]], object], base: dict[str, np.ndarray], group: Perturbations, k: int, sign: float
) -> float:
    """J with the k-th perturbation of ``group`` applied ``sign`` times to a fresh copy of every array."""
    arrays = {name: value.copy() for name, value in base.items()}
    arrays[group.block] = group.perturbed(base[group.block], k, sign)
    return cost_of(J(arrays))
