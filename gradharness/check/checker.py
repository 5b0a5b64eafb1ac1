"""Numerical gradient checking, right in both directions.

The seed's measure is kept as is:
    difference = ||grad - gradapprox|| / (||grad|| + ||gradapprox||)
but a difference above the threshold is only blamed on the gradient when the
numerics cannot explain it:

* entries whose perturbation crosses a ReLU kink are set aside (``kink``);
* entries whose perturbed cost is not finite are set aside (``saturated``);
* a block whose remaining disagreement is within the estimated numerical error
  of the centred difference (round-off model + a second step size) is
  ``imprecise``, not wrong.

A check runs in stages, each in its own module: the numerical side
(:mod:`~gradharness.check.numerical`), the entries set aside
(:mod:`~gradharness.check.exclusions`), the verdict per block
(:mod:`~gradharness.check.blocks`), and the result's named entries and reason
(:mod:`~gradharness.check.entries`, :mod:`~gradharness.check.summary`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from gradharness.check.blocks import BlockVerdicts, judge_blocks
from gradharness.check.entries import worst_entries
from gradharness.check.exclusions import Exclusions, exclusions
from gradharness.check.layout import BlockLayout, block_layout, flat_gradient
from gradharness.check.numerical import NumericalGradient, NumericalSide, numerical_gradient, numerical_side
from gradharness.check.result import BlockResult, EntryReport, GradientCheckResult, relative_difference
from gradharness.check.scalar import gradient_check
from gradharness.check.screening import DEFAULT_PROBES
from gradharness.check.summary import overall_difference, reason
from gradharness.check.verdict import BY_RANK, NOISE_SAFETY, Verdict
from gradharness.model.parameters import LayerSizes, Parameters
from gradharness.settings import DEFAULT_THRESHOLD

__all__ = [
    "NOISE_SAFETY",
    "BlockResult",
    "EntryReport",
    "GradientCheckResult",
    "NumericalGradient",
    "gradient_check",
    "gradient_check_n",
    "numerical_gradient",
    "relative_difference",
]


def gradient_check_n(
    parameters: Parameters,
    gradients: Mapping[str, object],
    X: np.ndarray,
    Y: np.ndarray,
    epsilon: float | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    forward: Callable | None = None,
    method: str = "auto",
    max_named: int = 5,
    numerical: NumericalGradient | None = None,
    screen: bool | None = None,
    probes: int = DEFAULT_PROBES,
) -> GradientCheckResult:
    """Check backprop gradients of the 3-layer network against centred differences.

    - ``epsilon``: fixed step, or None (default) for cbrt(machine eps) * max(1, |theta_i|);
      the seed's setting is 1e-7.
    - ``threshold``: the seed's 1e-7 on the relative difference.
    - ``forward``: the forward pass whose numerical gradient is the reference
      (default: the built-in :func:`gradharness.model.network.forward_propagation_n`).
    - ``method``: "batched" (all perturbed passes at once; built-in forward only),
      "loop" (one call per perturbation, the seed's way) or "auto".
    - ``max_named``: how many entries the result names (``worst_entries``, default 5).
    - ``numerical``: a precomputed :func:`numerical_gradient` of these parameters, X and Y
      (then ``epsilon``, ``forward`` and ``method`` are taken from it); the numerical side
      depends only on the forward pass, so one serves every backward pass checked on the case.
    - ``screen``: first check each block of more than 64 entries (``SCREEN_MIN_ENTRIES``) with ``probes`` random
      directional probes (2 forward calls each, see :mod:`gradharness.check.screening`), and run
      the full check only on the blocks they do not settle, which localises wrong entries.
      None (default): screen when the forward is called once per perturbation ("loop"),
      not for the built-in batched passes. ``BlockResult.mode`` says which mode gave each verdict.
    - ``probes``: random directions per screened block (default 4).
    """
    if not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold={threshold!r} must be a positive finite number")
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    layout = block_layout(LayerSizes.of(parameters))
    grad = flat_gradient(gradients, layout)
    side = numerical_side(
        parameters, grad, X, Y, layout, epsilon=epsilon, forward=forward, method=method, numerical=numerical,
        screen=screen, probes=probes, threshold=threshold,
    )  # fmt: skip
    masks = exclusions(side.gradapprox, side.kink, side.screened, layout)
    verdicts = judge_blocks(grad, side, masks, layout, threshold)
    return result_of_stages(grad, side, masks, verdicts, layout, threshold, max_named)


def result_of_stages(
    grad: np.ndarray,
    side: NumericalSide,
    masks: Exclusions,
    verdicts: BlockVerdicts,
    layout: BlockLayout,
    threshold: float,
    max_named: int,
) -> GradientCheckResult:
    """The check's result from its stages: overall verdict and difference, named entries, reason."""
    verdict = verdicts.verdict
    every_entry_checked = masks.clean and not side.screened
    named = worst_entries(
        layout, grad, side.gradapprox, verdicts.status, verdicts.allowances, threshold, max_named,
        masks.considered, all_passed=every_entry_checked and verdict is Verdict.PASS,
    )  # fmt: skip
    difference = overall_difference(
        grad, side.gradapprox, verdicts.sums, masks.considered, side.screened.values(),
        every_entry_checked=every_entry_checked,
    )  # fmt: skip
    status = verdicts.status
    entry_status = tuple(map(BY_RANK.__getitem__, status.tolist())) if np.count_nonzero(status) else None
    return GradientCheckResult(
        difference=difference,
        verdict=verdict,
        reason=reason(verdict, verdicts.blocks, named, threshold, side.epsilon),
        epsilon=side.epsilon,
        threshold=threshold,
        method=side.method,
        blocks=verdicts.blocks,
        worst_entries=named,
        sizes=layout.sizes,
        shapes=tuple(tuple(shape) for shape in layout.shapes),
        grad=grad,
        gradapprox=side.gradapprox,
        entry_status=entry_status or (Verdict.PASS,) * status.size,
    )
