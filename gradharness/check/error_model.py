"""How much round-off a forward pass of the reference network can carry.

First-order error analysis: each operation's local rounding error, weighted by
the sensitivity of J to that operation's output, summed. For the matrix
products Z_l = W_l A_{l-1} + b_l the local error is bounded by
(fan_in + 2) u (|W_l| |A_{l-1}| + |b_l|) and its weight is |dJ/dZ_l|; for the
seed's cost  -Y log(A3) - (1 - Y) log(1 - A3)  the term log(1 - A3) amplifies
the rounding of A3 by A3 / (1 - A3), which is what makes the seed's formula
lose all precision when the sigmoid saturates. A centred difference divides
twice this by 2 epsilon, so the numerical gradient's round-off is
``cost_roundoff(...) / epsilon``.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from gradharness.check.perturbed import UNIT_ROUNDOFF, BasePass, base_pass
from gradharness.model.parameters import Parameters


class CostFormula(Enum):
    """How the cost whose round-off is modelled is evaluated."""

    SEED = "seed"  # -Y log(A3) - (1 - Y) log(1 - A3), A3 = 1 / (1 + exp(-Z3))
    STABLE = "stable"  # softplus(Z3) - Y Z3 (the batched reference passes)


def cost_roundoff(
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
    formula: CostFormula = CostFormula.SEED,
    *,
    base: BasePass | None = None,
) -> float:
    """Bound on the absolute rounding error of J(theta) for the reference network (inf if J overflows).

    ``base``: the :func:`~gradharness.check.perturbed.base_pass` at these parameters, if already computed.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if base is None:
            base = base_pass(X, Y, parameters)
        Y = base.Y
        m = Y.shape[1]
        # A3 without cancellation, to weigh the error of the loss.
        A3 = np.exp(-np.logaddexp(0.0, -base.Z3))
        dZ3 = (A3 - Y) / m
        dZ2 = (base.W3.T @ dZ3) * (base.Z2 > 0)
        dZ1 = (base.W2.T @ dZ2) * (base.Z1 > 0)
        bound = _seed_formula if formula is CostFormula.SEED else _stable_formula
        total = bound(base, A3, (dZ1, dZ2, dZ3))
    return float(total) if np.isfinite(total) else float("inf")


def _seed_formula(base: BasePass, A3: np.ndarray, dZ: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    """The bound for the seed's formula; ``dZ``: dJ/dZ1, dJ/dZ2, dJ/dZ3."""
    u, Y, Z3 = UNIT_ROUNDOFF, base.Y, base.Z3
    m = Y.shape[1]
    # Every pass recomputes J from scratch: each product's rounding counts,
    # weighted by dJ/dZ, and so does the final sum over the m examples.
    layers = 0.0
    products = ((base.W1, base.X, base.b1), (base.W2, base.A1, base.b2), (base.W3, base.A2, base.b3))
    for dZl, (W, A, b) in zip(dZ, products, strict=True):
        local = (W.shape[1] + 2) * u * (np.abs(W) @ np.abs(A) + np.abs(b))
        layers += float(np.vdot(np.abs(dZl), local))
    loss = np.abs(np.logaddexp(0.0, Z3) - Y * Z3)
    # log(A3) inherits A3's relative error (a few u); log(1 - A3) inherits
    # the absolute error of A3 divided by 1 - A3.
    one_minus_A3 = np.exp(-np.logaddexp(0.0, Z3))
    amplification = Y * 4.0 + (1 - Y) * 4.0 * (1.0 + A3 / one_minus_A3)
    terms = float(np.sum(amplification + loss)) * u / m
    summation = (Y.size + 2) * u * float(np.sum(loss)) / m
    return layers + terms + summation


def _stable_formula(base: BasePass, A3: np.ndarray, dZ: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    """The bound for the batched passes' softplus(Z3) - Y Z3; ``dZ``: dJ/dZ1, dJ/dZ2, dJ/dZ3."""
    u, Y, Z3 = UNIT_ROUNDOFF, base.Y, base.Z3
    m = Y.shape[1]
    # The batched passes share the unperturbed products and add a small change
    # to them, and sum per-example loss differences: what remains is the
    # rounding of Z + delta (weighted by dJ/dZ) and of each loss evaluation.
    weighted = sum(float(np.vdot(np.abs(dZl), np.abs(Z))) for dZl, Z in zip(dZ, (base.Z1, base.Z2, Z3), strict=True))
    layers = weighted * 4 * u
    # softplus(Z3) - Y Z3 cancels when the label matches a saturated output:
    # its rounding is relative to the two terms, not to the small loss.
    magnitude = np.logaddexp(0.0, Z3) + np.abs(Y * Z3)
    terms = float(np.sum(magnitude + np.abs(Z3) * np.abs(A3 - Y))) * 4 * u / m
    return layers + terms


def sigmoid_saturates(X: np.ndarray, parameters: Parameters, margin: float = 0.0) -> bool:
    """True when 1 / (1 + exp(-Z3)) rounds to exactly 0 or 1 for some output (log of 0 follows).

    ``margin`` widens Z3 by that much, to cover the perturbed passes.
    """
    W1, b1, W2, b2, W3, b3 = (np.asarray(parameters[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    with np.errstate(over="ignore", invalid="ignore"):
        Z3 = W3 @ np.maximum(W2 @ np.maximum(W1 @ X + b1, 0.0) + b2, 0.0) + b3
        for z in (Z3 - margin, Z3 + margin):
            A3 = 1 / (1 + np.exp(-z))
            if not np.all(np.isfinite(Z3)) or np.any(A3 == 1.0) or np.any(A3 == 0.0):
                return True
    return False
