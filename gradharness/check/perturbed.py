"""All 2P perturbed passes of the reference network at once, with no Python loop over parameters.

Perturbing ``W_l[i, j]`` by e moves only row i of Z_l, by ``e * A_{l-1}[j, :]``
(``b_l[i]``: by e). While no ReLU unit downstream comes near its kink, the rest
of the network is linear in that change up to Z3, where it arrives as

    dZ3[:, t] = H_l[i, :, t] * e * A_{l-1}[j, t]

with H_3 = I, ``H_2[i, o, t] = W3[o, i] [Z2[i, t] > 0]`` and
``H_1[i, o, t] = sum_k W3[o, k] [Z2[k, t] > 0] W2[k, i] [Z1[i, t] > 0]``.
So all 2P passes cost one elementwise evaluation of the loss change at Z3 +- dZ3
(no matrix product per perturbation), chunked to bound memory, computed without
cancellation from the numerically stable loss L(z) = softplus(z) - y z:

    L(z + d) - L(z - d) = log1p(expm1(2 d) / (1 + exp(d - z))) - 2 y d.

Which perturbations may bring a unit within round-off of its kink follows from a
per-unit bound (how far Z may move, and how strongly layer 1 pushes layer 2);
those few are recomputed exactly, row update by row update, and flagged (``kink``)
when they do reach it.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from gradharness.model.parameters import PARAMETER_NAMES, LayerSizes, Parameters, block_slices

UNIT_ROUNDOFF = np.finfo(np.float64).eps / 2
_SMALLEST = float(np.nextafter(0.0, 1.0))  # a margin this small flags any move at all
_CHUNK_ELEMENTS = 1 << 17  # elements of the largest temporary in the linear passes (1 MiB)
_EXACT_CHUNK_ELEMENTS = 1 << 20  # elements of the largest temporary in the exact row updates
_THREADED_ELEMENTS = 1 << 21  # work above which chunks run on several threads (numpy frees the GIL)
_REACH_SAFETY = 1.0 - 1e-6  # the exact path may round a ReLU change up by a few ulps


class PerturbedPasses(NamedTuple):
    """Per-entry results of the perturbed passes, in dictionary_to_vector order."""

    gradapprox: np.ndarray
    kink: np.ndarray


class BasePass(NamedTuple):
    """The unperturbed pass of the reference network, and how far each ReLU input is from its kink.

    ``margin1``/``margin2``: |Z| minus its rounding bound (at least the smallest
    positive float); a change of Z this large may reach the kink. ``absW2``: |W2|.
    """

    X: np.ndarray
    Y: np.ndarray
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    W3: np.ndarray
    b3: np.ndarray
    Z1: np.ndarray
    A1: np.ndarray
    Z2: np.ndarray
    A2: np.ndarray
    Z3: np.ndarray
    margin1: np.ndarray
    margin2: np.ndarray
    absW2: np.ndarray

    @property
    def m(self) -> int:
        """Batch size."""
        return self.X.shape[1]

    def theta(self) -> np.ndarray:
        """The parameters as one flat vector, in dictionary_to_vector order."""
        blocks = (self.W1, self.b1, self.W2, self.b2, self.W3, self.b3)
        return np.concatenate([block.ravel() for block in blocks])

    def output_sensitivity(self) -> np.ndarray:
        """A bound on how far a unit change of each parameter moves Z3 (any output, any example), flat.

        Ignores the ReLU masks (so it bounds from above): W3[o, k] moves Z3 by A2[k], W2[i, j] by
        max_o |W3[o, i]| A1[j], W1[i, j] by max_o (|W3| |W2|)[o, i] X[j]; the biases by the same without the input.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            reach2 = np.abs(self.W3).max(axis=0)  # (n2,)
            reach1 = (np.abs(self.W3) @ self.absW2).max(axis=0)  # (n1,)
            blocks = (
                np.outer(reach1, np.abs(self.X).max(axis=1)), reach1,
                np.outer(reach2, np.abs(self.A1).max(axis=1)), reach2,
                np.broadcast_to(np.abs(self.A2).max(axis=1), self.W3.shape), np.ones(self.b3.shape[0]),
            )  # fmt: skip
            return np.concatenate([np.ravel(block) for block in blocks])


def stable_loss(Z3: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per-entry cross-entropy -Y log(sigmoid(Z3)) - (1 - Y) log(1 - sigmoid(Z3)), computed stably."""
    return np.logaddexp(0.0, Z3) - Y * Z3


def rounding_margin(W: np.ndarray, A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bound on the rounding error of Z = W A + b, per unit and example.

    Two implementations of the same layer (ours, a user's) can disagree on the
    sign of Z when |Z| is below this, so such units count as sitting on a kink.
    """
    fan_in = W.shape[1] + 2
    return float(4 * fan_in * UNIT_ROUNDOFF) * (np.abs(W) @ np.abs(A) + np.abs(b))


def base_pass(X: np.ndarray, Y: np.ndarray, parameters: Parameters) -> BasePass:
    """The unperturbed forward pass (without the loss) and the kink margins of both ReLU layers."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    W1, b1, W2, b2, W3, b3 = [np.asarray(parameters[k], dtype=np.float64) for k in PARAMETER_NAMES]
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0.0)
    Z2 = W2 @ A1 + b2
    A2 = np.maximum(Z2, 0.0)
    Z3 = W3 @ A2 + b3
    tol1 = rounding_margin(W1, X, b1)
    absW2 = np.abs(W2)
    # rounding of layer 2 itself, plus layer 1's rounding carried through |W2|
    factor2 = float(4 * (W2.shape[1] + 2) * UNIT_ROUNDOFF)
    tol2 = absW2 @ (factor2 * A1 + tol1) + factor2 * np.abs(b2)
    margin1 = np.maximum(np.abs(Z1) - tol1, _SMALLEST)
    margin2 = np.maximum(np.abs(Z2) - tol2, _SMALLEST)
    return BasePass(X, Y, W1, b1, W2, b2, W3, b3, Z1, A1, Z2, A2, Z3, margin1, margin2, absW2)


@lru_cache(maxsize=64)
def _layout(n0: int, n1: int, n2: int, n3: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each flat entry: its row of Z (layers stacked), its input row (X;1;A1;1;A2;1 stacked), its layer."""
    rows, cols, layers = [], [], []
    row0 = col0 = 0
    for layer, (out, fan_in) in enumerate(((n1, n0), (n2, n1), (n3, n2)), start=1):
        i, j = np.divmod(np.arange(out * fan_in), fan_in)
        for r, c in ((i, j), (np.arange(out), np.full(out, fan_in))):  # W_l, then b_l (the row of ones)
            rows.append(row0 + r)
            cols.append(col0 + c)
            layers.append(np.full(r.size, layer, dtype=np.int8))
        row0 += out
        col0 += fan_in + 1
    layout = (np.concatenate(rows), np.concatenate(cols), np.concatenate(layers))
    for array in layout:
        array.flags.writeable = False
    return layout


def _symmetric_loss_change(Z3: np.ndarray, dZ: np.ndarray, Y2: np.ndarray) -> np.ndarray:
    """Sum over outputs and examples of L(Z3 + dZ) - L(Z3 - dZ), per leading index; Y2 is 2 Y."""
    e = np.subtract(dZ, Z3)
    np.exp(e, out=e)
    e += 1.0
    q = np.multiply(dZ, 2.0)
    np.expm1(q, out=q)
    np.divide(q, e, out=q)
    np.log1p(q, out=q)
    np.multiply(dZ, Y2, out=e)
    q -= e
    return np.add.reduce(q, axis=(-2, -1))


def _loss_change(Z3: np.ndarray, dZp: np.ndarray, dZm: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Sum over outputs and examples of L(Z3 + dZp) - L(Z3 + dZm), per leading index, without cancellation."""
    q = dZp - dZm
    e = np.exp(-(Z3 + dZm))
    e += 1.0
    out = np.log1p(np.expm1(q) / e) - Y * q
    return out.sum(axis=(-2, -1))


def _direct_loss_change(Z3: np.ndarray, dZp: np.ndarray, dZm: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """As :func:`_loss_change`, by subtracting the two losses: for changes too large for expm1."""
    return (stable_loss(Z3 + dZp, Y) - stable_loss(Z3 + dZm, Y)).sum(axis=(-2, -1))


class _Linearised:
    """Everything the linear passes share: H_l stacked by row of Z, inputs stacked, kink reach per row."""

    def __init__(self, base: BasePass) -> None:
        n1, n2, n3, m = base.W1.shape[0], base.W2.shape[0], base.W3.shape[0], base.m
        identity, ones, never = _constants(n3, m)
        self.H = H = np.empty((n1 + n2 + n3, n3, m))  # H1, H2, H3 stacked, written in place
        H2 = np.multiply(base.W3.T[:, :, None], (base.Z2 > 0)[:, None, :], out=H[n1 : n1 + n2])  # (n2, n3, m)
        np.multiply((base.W2.T @ H2.reshape(n2, n3 * m)).reshape(n1, n3, m), (base.Z1 > 0)[:, None, :], out=H[:n1])
        H[n1 + n2 :] = identity
        self.inputs = np.concatenate((base.X, ones, base.A1, ones, base.A2, ones))
        self.reach = np.concatenate((np.minimum(base.margin1, _layer2_reach(base)), base.margin2, never))
        self.Y2 = 2.0 * base.Y


@lru_cache(maxsize=64)
def _constants(n3: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H_3 (the identity per example), a row of ones, and the infinite kink reach of the output layer."""
    return np.broadcast_to(np.eye(n3)[:, :, None], (n3, n3, m)), np.ones((1, m)), np.full((n3, m), np.inf)


def _layer2_reach(base: BasePass) -> np.ndarray:
    """R[i, t]: a change of A1[i, t] smaller than this keeps every unit of layer 2 clear of its kink."""
    absW2 = base.absW2
    n2, n1 = absW2.shape
    m = base.margin2.shape[1]
    step = max(1, _EXACT_CHUNK_ELEMENTS // max(1, n2 * m))
    if step >= n1:  # division by zero gives inf (no reach limit); the caller ignores the warning
        return np.minimum.reduce(base.margin2[:, None, :] / absW2[:, :, None], axis=0) * _REACH_SAFETY
    reach = np.empty((n1, m))
    for start in range(0, n1, step):
        cols = slice(start, start + step)
        reach[cols] = (base.margin2[:, None, :] / absW2[:, cols, None]).min(axis=0) * _REACH_SAFETY
    return reach


def _linear_chunk(base: BasePass, lin: _Linearised, rows: np.ndarray, cols: np.ndarray, steps: np.ndarray):
    """Centred cost differences (times m) of one chunk, and which of its entries need the exact path."""
    d = lin.inputs[cols] * steps[:, None]
    suspect = np.logical_or.reduce(np.abs(d) >= lin.reach[rows], axis=1)
    dZ = lin.H[rows] * d[:, None, :]
    total = _symmetric_loss_change(base.Z3, dZ, lin.Y2)
    if np.count_nonzero(np.isfinite(total)) != total.size:
        bad = ~np.isfinite(total)
        total[bad] = _direct_loss_change(base.Z3, dZ[bad], -dZ[bad], base.Y)
    return total, suspect


def _exact_layer1(base: BasePass, rows: np.ndarray, inputs: np.ndarray, steps: np.ndarray):
    """Row updates of Z1 pushed exactly through both ReLU layers; cost differences (times m) and kink flags."""
    d = inputs * steps[:, None]
    kink = (np.abs(d) >= base.margin1[rows]).any(axis=1)
    Z, A = base.Z1[rows], base.A1[rows]
    dA1p = np.maximum(Z + d, 0.0) - A
    dA1m = np.maximum(Z - d, 0.0) - A
    w = base.W2.T[rows][:, :, None]  # (N, n2, 1)
    dZ2p = w * dA1p[:, None, :]
    dZ2m = w * dA1m[:, None, :]
    kink |= (np.maximum(np.abs(dZ2p), np.abs(dZ2m)) >= base.margin2).any(axis=(1, 2))
    dZ3p = base.W3 @ (np.maximum(base.Z2 + dZ2p, 0.0) - base.A2)
    dZ3m = base.W3 @ (np.maximum(base.Z2 + dZ2m, 0.0) - base.A2)
    return _exact_total(base, dZ3p, dZ3m), kink


def _exact_layer2(base: BasePass, rows: np.ndarray, inputs: np.ndarray, steps: np.ndarray):
    """Row updates of Z2 pushed exactly through the second ReLU layer; cost differences (times m) and kink flags."""
    d = inputs * steps[:, None]
    kink = (np.abs(d) >= base.margin2[rows]).any(axis=1)
    Z, A = base.Z2[rows], base.A2[rows]
    w = base.W3.T[rows][:, :, None]  # (N, n3, 1)
    dZ3p = w * (np.maximum(Z + d, 0.0) - A)[:, None, :]
    dZ3m = w * (np.maximum(Z - d, 0.0) - A)[:, None, :]
    return _exact_total(base, dZ3p, dZ3m), kink


def _exact_total(base: BasePass, dZ3p: np.ndarray, dZ3m: np.ndarray) -> np.ndarray:
    total = _loss_change(base.Z3, dZ3p, dZ3m, base.Y)
    bad = ~np.isfinite(total)
    if bad.any():
        total[bad] = _direct_loss_change(base.Z3, dZ3p[bad], dZ3m[bad], base.Y)
    return total


def _wanted(sizes: LayerSizes, blocks: Collection[str]) -> np.ndarray:
    slices = block_slices(sizes)
    unknown = sorted(set(blocks) - set(slices))
    if unknown:
        raise ValueError(f"unknown blocks {', '.join(unknown)}; blocks are {', '.join(slices)}")
    picked = [np.arange(s.start, s.stop) for name, s in slices.items() if name in blocks]
    return np.concatenate(picked) if picked else np.zeros(0, dtype=np.intp)


def perturbed_passes(
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
    epsilon: np.ndarray,
    *,
    blocks: Collection[str] | None = None,
    base: BasePass | None = None,
) -> PerturbedPasses:
    """Centred-difference gradient and kink flags of the reference network for every entry.

    - ``epsilon``: the per-entry step, in dictionary_to_vector order.
    - ``blocks``: only these parameter blocks (e.g. ``{"W2", "b1"}``); the other
      entries are NaN (gradapprox) and False (kink). Default: all.
    - ``base``: the :func:`base_pass` at these parameters, if already computed.
    """
    if base is None:
        LayerSizes.of(parameters)  # validates the shapes
        base = base_pass(X, Y, parameters)
    shape = (base.W1.shape[1], base.W1.shape[0], base.W2.shape[0], base.W3.shape[0])
    rows_of, cols_of, layer_of = _layout(*shape)
    total = rows_of.size
    steps = np.asarray(epsilon, dtype=np.float64).reshape(-1)
    if steps.size != total:
        raise ValueError(f"epsilon has {steps.size} entries, the network has {total} parameters")
    wanted = None if blocks is None else _wanted(LayerSizes(*shape), blocks)
    if wanted is not None and wanted.size == 0:
        return PerturbedPasses(np.full(total, np.nan), np.zeros(total, dtype=bool))
    return _passes(base, rows_of, cols_of, layer_of, steps, wanted)


@np.errstate(all="ignore")  # overflow and NaN are the callers' to judge (saturated, non-finite)
def _passes(
    base: BasePass,
    rows_of: np.ndarray,
    cols_of: np.ndarray,
    layer_of: np.ndarray,
    steps: np.ndarray,
    wanted: np.ndarray | None,
) -> PerturbedPasses:
    """:func:`perturbed_passes` once the layout is known: linear passes, then the exact path where needed."""
    lin = _Linearised(base)
    gradapprox, suspect = _linear_passes(base, lin, rows_of, cols_of, steps, wanted)
    kink = np.zeros(rows_of.size, dtype=bool)
    if np.count_nonzero(suspect):
        _redo_exactly(base, lin, np.flatnonzero(suspect), rows_of, cols_of, layer_of, steps, gradapprox, kink)
    gradapprox /= (2.0 * base.m) * steps
    return PerturbedPasses(gradapprox, kink)


def _linear_passes(
    base: BasePass,
    lin: _Linearised,
    rows_of: np.ndarray,
    cols_of: np.ndarray,
    steps: np.ndarray,
    wanted: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cost differences (times m) of the ``wanted`` entries (None: all; the rest NaN) and which need the exact path.

    Chunked to bound memory; large networks run their chunks on several threads.
    """
    total = rows_of.size
    count = total if wanted is None else wanted.size
    per_entry = base.W3.shape[0] * base.m
    step = max(1, _CHUNK_ELEMENTS // per_entry)
    if wanted is None and count <= step:  # one chunk of every entry: no chunk bookkeeping
        return _linear_chunk(base, lin, rows_of, cols_of, steps)
    gradapprox = np.full(total, np.nan) if wanted is not None else np.empty(total)
    suspects = np.zeros(total, dtype=bool)

    def run(chunk: slice) -> None:
        where = chunk if wanted is None else wanted[chunk]
        gradapprox[where], suspects[where] = _linear_chunk(base, lin, rows_of[where], cols_of[where], steps[where])

    chunks = [slice(start, min(count, start + step)) for start in range(0, count, step)]
    workers = min(len(chunks), os.cpu_count() or 1)
    if workers > 1 and count * per_entry >= _THREADED_ELEMENTS:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, chunks))
    else:
        for chunk in chunks:
            run(chunk)
    return gradapprox, suspects


def _redo_exactly(base, lin, redo, rows_of, cols_of, layer_of, steps, gradapprox, kink) -> None:
    """Recompute the entries that may reach a kink by exact row updates (in place)."""
    n1 = base.W1.shape[0]
    for layer, exact, per_entry, row0 in (
        (1, _exact_layer1, base.W2.shape[0] * base.m, 0),
        (2, _exact_layer2, base.W3.shape[0] * base.m, n1),
    ):
        picked = redo[layer_of[redo] == layer]
        step = max(1, _EXACT_CHUNK_ELEMENTS // max(1, per_entry))
        for start in range(0, picked.size, step):
            where = picked[start : start + step]
            value, flags = exact(base, rows_of[where] - row0, lin.inputs[cols_of[where]], steps[where])
            gradapprox[where] = value
            kink[where] = flags


def directional_passes(base: BasePass, name: str, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """J(theta + delta_k) - J(theta - delta_k) for perturbations of block ``name`` only, and their kink flags.

    ``deltas``: (k, size of the block), one perturbation per row. A random
    direction moves every row of Z_l at once, so each pass is pushed exactly
    through the ReLU layers after it (no linearisation); a pass is flagged when
    it moves a ReLU input within round-off of its kink.
    """
    layer = int(name[1])
    weights = (base.W1, base.W2, base.W3)[layer - 1]
    inputs = (base.X, base.A1, base.A2)[layer - 1]
    k = len(deltas)
    m = base.m
    with np.errstate(all="ignore"):
        if name[0] == "W":
            dZp = np.asarray(deltas, dtype=np.float64).reshape((k, *weights.shape)) @ inputs
        else:
            dZp = np.broadcast_to(np.asarray(deltas, dtype=np.float64).reshape(k, -1, 1), (k, weights.shape[0], m))
        dZm = -dZp
        kink = np.zeros(k, dtype=bool)
        for here, (margin, Z, A, W_next) in enumerate(
            ((base.margin1, base.Z1, base.A1, base.W2), (base.margin2, base.Z2, base.A2, base.W3)), start=1
        ):
            if here < layer:
                continue
            kink |= (np.maximum(np.abs(dZp), np.abs(dZm)) >= margin).any(axis=(1, 2))
            dZp = W_next @ (np.maximum(Z + dZp, 0.0) - A)
            dZm = W_next @ (np.maximum(Z + dZm, 0.0) - A)
        total = _loss_change(base.Z3, dZp, dZm, base.Y)
        bad = ~np.isfinite(total)
        if bad.any():
            total[bad] = _direct_loss_change(base.Z3, dZp[bad], dZm[bad], base.Y)
    return total / m, kink
