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

from gradharness.parameters import Parameters
from gradharness.perturbed import UNIT_ROUNDOFF


class CostFormula(Enum):
    """How the cost whose round-off is modelled is evaluated."""

    SEED = "seed"  # -Y log(A3) - (1 - Y) log(1 - A3), A3 = 1 / (1 + exp(-Z3))
    STABLE = "stable"  # softplus(Z3) - Y Z3 (the batched reference passes)


def cost_roundoff(
    X: np.ndarray, Y: np.ndarray, parameters: Parameters, formula: CostFormula = CostFormula.SEED
) -> float:
    """Bound on the absolute rounding error of J(theta) for the reference network (inf if J overflows)."""
    u = UNIT_ROUNDOFF
    W1, b1, W2, b2, W3, b3 = (np.asarray(parameters[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    m = X.shape[1]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        Z1 = W1 @ X + b1
        A1 = np.maximum(Z1, 0.0)
        Z2 = W2 @ A1 + b2
        A2 = np.maximum(Z2, 0.0)
        Z3 = W3 @ A2 + b3
        # A3 and 1 - A3 without cancellation, to weigh the seed formula's error.
        A3 = np.exp(-np.logaddexp(0.0, -Z3))
        one_minus_A3 = np.exp(-np.logaddexp(0.0, Z3))
        loss = np.logaddexp(0.0, Z3) - Y * Z3

        dZ3 = (A3 - Y) / m
        dZ2 = (W3.T @ dZ3) * (Z2 > 0)
        dZ1 = (W2.T @ dZ2) * (Z1 > 0)

        if formula is CostFormula.SEED:
            # Every pass recomputes J from scratch: each product's rounding counts,
            # weighted by dJ/dZ, and so does the final sum over the m examples.
            layers = 0.0
            for dZ, W, A, b in ((dZ1, W1, X, b1), (dZ2, W2, A1, b2), (dZ3, W3, A2, b3)):
                local = (W.shape[1] + 2) * u * (np.abs(W) @ np.abs(A) + np.abs(b))
                layers += float(np.sum(np.abs(dZ) * local))
            # log(A3) inherits A3's relative error (a few u); log(1 - A3) inherits
            # the absolute error of A3 divided by 1 - A3.
            amplification = Y * 4.0 + (1 - Y) * 4.0 * (1.0 + A3 / one_minus_A3)
            terms = float(np.sum(amplification + np.abs(loss))) * u / m
            summation = (Y.size + 2) * u * float(np.sum(np.abs(loss))) / m
        else:
            # The batched passes share the unperturbed products and add a small change
            # to them, and sum per-example loss differences: what remains is the
            # rounding of Z + delta (weighted by dJ/dZ) and of each loss evaluation.
            layers = sum(float(np.sum(np.abs(dZ) * np.abs(Z))) for dZ, Z in ((dZ1, Z1), (dZ2, Z2), (dZ3, Z3))) * 4 * u
            terms = float(np.sum(4.0 * np.abs(loss) + 4.0 * np.abs(Z3) * np.abs(A3 - Y))) * u / m
            summation = 0.0
    total = layers + terms + summation
    return float(total) if np.isfinite(total) else float("inf")


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
