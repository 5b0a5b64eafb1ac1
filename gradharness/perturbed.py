"""All 2P perturbed passes of the reference network at once, with no Python loop over parameters.

Perturbing one entry of layer l leaves every layer before l unchanged, and
perturbing W[i, j] moves only row i of Z_l. So the perturbed passes are row
updates propagated forward as rank-1 changes, done for a chunk of rows at a
time with numpy broadcasting. Two by-products come for free:

* the centred difference J(theta + e) - J(theta - e) is accumulated from
  per-example loss differences with the numerically stable loss
  softplus(Z3) - Y * Z3, so saturation does not ruin it;
* the ReLU activation pattern of every perturbed pass is visible, so each
  entry whose perturbation crosses (or grazes) a kink is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradharness.parameters import LayerSizes, Parameters, block_slices

UNIT_ROUNDOFF = np.finfo(np.float64).eps / 2
_CHUNK_ELEMENTS = 4_000_000  # bounds the largest temporary at ~32 MB of float64


@dataclass(frozen=True)
class PerturbedPasses:
    """Per-entry results of the perturbed passes, in dictionary_to_vector order."""

    gradapprox: np.ndarray
    kink: np.ndarray


def stable_loss(Z3: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per-entry cross-entropy -Y log(sigmoid(Z3)) - (1 - Y) log(1 - sigmoid(Z3)), computed stably."""
    return np.logaddexp(0.0, Z3) - Y * Z3


def rounding_margin(W: np.ndarray, A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bound on the rounding error of Z = W A + b, per unit and example.

    Two implementations of the same layer (ours, a user's) can disagree on the
    sign of Z when |Z| is below this, so such units count as sitting on a kink.
    """
    fan_in = W.shape[1] + 2
    return 4 * fan_in * UNIT_ROUNDOFF * (np.abs(W) @ np.abs(A) + np.abs(b))


def _near_or_crossing(Z: np.ndarray, Zp: np.ndarray, Zm: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Elementwise: the unit moved and its sign changed, or it moved within tol of zero."""
    moved = (Zp != Z) | (Zm != Z)
    sign = np.sign(Z)
    crossed = (np.sign(Zp) != sign) | (np.sign(Zm) != sign)
    grazed = (np.abs(Z) <= tol) | (np.abs(Zp) <= tol) | (np.abs(Zm) <= tol)
    return moved & (crossed | grazed)


def _rows_per_chunk(row_elements: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(1, row_elements))


def perturbed_passes(X: np.ndarray, Y: np.ndarray, parameters: Parameters, epsilon: np.ndarray) -> PerturbedPasses:
    """Centred-difference gradient and kink flags of the reference network for every entry.

    ``epsilon`` is the per-entry step, in dictionary_to_vector order.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    W1, b1, W2, b2, W3, b3 = (np.asarray(parameters[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    sizes = LayerSizes.of({"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3})
    m = X.shape[1]
    slices = block_slices(sizes)
    eps = {name: np.asarray(epsilon, dtype=np.float64).reshape(-1)[s] for name, s in slices.items()}

    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0.0)
    Z2 = W2 @ A1 + b2
    A2 = np.maximum(Z2, 0.0)
    Z3 = W3 @ A2 + b3
    tol1 = rounding_margin(W1, X, b1)
    tol2 = rounding_margin(W2, A1, b2) + np.abs(W2) @ tol1

    gradapprox = np.empty(sum(e.size for e in eps.values()))
    kink = np.zeros(gradapprox.size, dtype=bool)

    def layer3(delta: np.ndarray) -> np.ndarray:
        # delta: (..., n3, m) change of Z3; returns J(+delta) - J(-delta)
        return (stable_loss(Z3 + delta, Y) - stable_loss(Z3 - delta, Y)).sum(axis=(-2, -1)) / m

    def from_layer2(rows: np.ndarray, dZ2p: np.ndarray, dZ2m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # rows: indices i of Z2 that change; dZ2p/dZ2m: (c, k, m) changes of those rows.
        Zp = Z2[rows][:, None, :] + dZ2p
        Zm = Z2[rows][:, None, :] + dZ2m
        base = Z2[rows][:, None, :]
        flags = _near_or_crossing(base, Zp, Zm, tol2[rows][:, None, :]).any(axis=-1)
        dAp = np.maximum(Zp, 0.0) - A2[rows][:, None, :]
        dAm = np.maximum(Zm, 0.0) - A2[rows][:, None, :]
        w = W3[:, rows].T[:, None, :, None]  # (c, 1, n3, 1)
        Z3p = Z3 + w * dAp[:, :, None, :]
        Z3m = Z3 + w * dAm[:, :, None, :]
        diff = (stable_loss(Z3p, Y) - stable_loss(Z3m, Y)).sum(axis=(-2, -1)) / m
        return diff, flags

    def from_layer1(rows: np.ndarray, dZ1p: np.ndarray, dZ1m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        base1 = Z1[rows][:, None, :]
        Zp1 = base1 + dZ1p
        Zm1 = base1 + dZ1m
        flags = _near_or_crossing(base1, Zp1, Zm1, tol1[rows][:, None, :]).any(axis=-1)
        dA1p = np.maximum(Zp1, 0.0) - A1[rows][:, None, :]
        dA1m = np.maximum(Zm1, 0.0) - A1[rows][:, None, :]
        w2 = W2[:, rows].T[:, None, :, None]  # (c, 1, n2, 1)
        Z2p = Z2 + w2 * dA1p[:, :, None, :]
        Z2m = Z2 + w2 * dA1m[:, :, None, :]
        flags |= _near_or_crossing(np.broadcast_to(Z2, Z2p.shape), Z2p, Z2m, np.broadcast_to(tol2, Z2p.shape)).any(
            axis=(-2, -1)
        )
        Z3p = Z3 + np.einsum("ab,...bk->...ak", W3, np.maximum(Z2p, 0.0) - A2)
        Z3m = Z3 + np.einsum("ab,...bk->...ak", W3, np.maximum(Z2m, 0.0) - A2)
        diff = (stable_loss(Z3p, Y) - stable_loss(Z3m, Y)).sum(axis=(-2, -1)) / m
        return diff, flags

    n1, n0 = W1.shape
    n2 = W2.shape[0]
    n3 = W3.shape[0]

    # Layer 3: no ReLU after Z3, so no kinks; W3[i, j] moves Z3[i, :] by e * A2[j, :].
    e = eps["W3"].reshape(n3, n2)
    delta = np.zeros((n3, n2, n3, m))
    delta[np.arange(n3), :, np.arange(n3), :] = e[:, :, None] * A2[None, :, :]
    gradapprox[slices["W3"]] = (layer3(delta) / (2 * e)).reshape(-1)
    e = eps["b3"]
    delta = np.zeros((n3, n3, m))
    delta[np.arange(n3), np.arange(n3), :] = e[:, None]
    gradapprox[slices["b3"]] = layer3(delta) / (2 * e)

    # Layer 2: W2[i, j] moves Z2[i, :] by e * A1[j, :]; b2[i] by e.
    e = eps["W2"].reshape(n2, n1)
    e_b = eps["b2"]
    step = _rows_per_chunk((n1 + 1) * n3 * m * 4)
    for start in range(0, n2, step):
        rows = np.arange(start, min(n2, start + step))
        dZ = e[rows][:, :, None] * A1[None, :, :]
        diff, flags = from_layer2(rows, dZ, -dZ)
        sel = (rows[:, None] * n1 + np.arange(n1)[None, :]).reshape(-1)
        gradapprox[slices["W2"].start + sel] = (diff / (2 * e[rows])).reshape(-1)
        kink[slices["W2"].start + sel] = flags.reshape(-1)
        dZ = np.broadcast_to(e_b[rows][:, None, None], (rows.size, 1, m))
        diff, flags = from_layer2(rows, dZ, -dZ)
        gradapprox[slices["b2"].start + rows] = diff[:, 0] / (2 * e_b[rows])
        kink[slices["b2"].start + rows] = flags[:, 0]

    # Layer 1: W1[i, j] moves Z1[i, :] by e * X[j, :]; b1[i] by e.
    e = eps["W1"].reshape(n1, n0)
    e_b = eps["b1"]
    step = _rows_per_chunk((n0 + 1) * (n2 + n3) * m * 6)
    for start in range(0, n1, step):
        rows = np.arange(start, min(n1, start + step))
        dZ = e[rows][:, :, None] * X[None, :, :]
        diff, flags = from_layer1(rows, dZ, -dZ)
        sel = (rows[:, None] * n0 + np.arange(n0)[None, :]).reshape(-1)
        gradapprox[slices["W1"].start + sel] = (diff / (2 * e[rows])).reshape(-1)
        kink[slices["W1"].start + sel] = flags.reshape(-1)
        dZ = np.broadcast_to(e_b[rows][:, None, None], (rows.size, 1, m))
        diff, flags = from_layer1(rows, dZ, -dZ)
        gradapprox[slices["b1"].start + rows] = diff[:, 0] / (2 * e_b[rows])
        kink[slices["b1"].start + rows] = flags[:, 0]

    return PerturbedPasses(gradapprox=gradapprox, kink=kink)
