"""What the checker needs of the L-layer reference: its cost computed stably, round-off bounds, exact perturbed passes.

- :func:`stable_cost` is the course's cost as softplus(ZL) - Y ZL, finite wherever ZL is, where the course's
  ``log(1 - AL)`` gives inf once the sigmoid rounds to 1.
- :func:`cost_roundoff` bounds the rounding error of the course's ``compute_cost(L_model_forward(X, parameters)[0], Y)``
  in float64, to first order: each layer's Z = W A + b carries at most gamma_{n+1} (|W| |A| + |b|)
  (gamma_k = k u / (1 - k u), n the fan-in), weighted by |dJ/dZ| of that layer; the loss adds its own
  rounding, where ``log(1 - AL)`` amplifies the rounding of AL by AL / (1 - AL) as the sigmoid nears 1.
  (:mod:`gradharness.check.error_model` reasons the same way for the 3-layer network.)
- :func:`kink_flags` and :func:`gradapprox` come from all 2P perturbed passes at once, stacked along a leading
  axis: each pass carries its change of Z through the layers exactly (the ReLUs applied, nothing linearised).
  A pass is at a kink where it moves a ReLU input across zero, or to within its rounding margin of zero
  (twice the gamma bound above, carried through the layers: two evaluations of Z, ours and a user's, may
  each be off by that bound and disagree on its sign).
- The ``activation_*`` functions do the same for the rest of the network after layer l, as a function of that
  layer's activation A (l = 0: A is X), which is what checks the course's dA{l}. The course's dA{l} is m times
  the gradient of :func:`activation_cost` (its dA are gradients of the summed loss, its dW and db of the mean).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from gradharness.model.deep_sizes import DeepSizes

UNIT_ROUNDOFF = float(np.finfo(np.float64).eps / 2)


def gamma(k: int) -> float:
    """gamma_k = k u / (1 - k u): the relative error bound of k rounded operations in a row (Higham)."""
    return k * UNIT_ROUNDOFF / (1 - k * UNIT_ROUNDOFF)


class _Forward(NamedTuple):
    """A forward pass from layer ``start``'s activation: the layers after it and what it computed.

    ``A[k]`` is the input of ``weights[k]`` (``A[0]`` the given activation), ``Z[k]`` its output,
    ``margins[k]`` the rounding margin of ``Z[k]`` (hidden layers only: one entry fewer than Z).
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    A: tuple[np.ndarray, ...]
    Z: tuple[np.ndarray, ...]
    margins: tuple[np.ndarray, ...]

    @property
    def m(self) -> int:
        """Batch size."""
        return int(self.A[0].shape[1])


def _layers(parameters: Mapping[str, Any]) -> tuple[DeepSizes, list[np.ndarray], list[np.ndarray]]:
    sizes = DeepSizes.of(parameters)
    weights = [np.asarray(parameters[f"W{layer}"], dtype=np.float64) for layer in range(1, sizes.L + 1)]
    biases = [np.asarray(parameters[f"b{layer}"], dtype=np.float64) for layer in range(1, sizes.L + 1)]
    return sizes, weights, biases


def _matrix(name: str, value: Any, rows: int, m: int | None = None) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != rows or (m is not None and array.shape[1] != m):
        expected = f"({rows}, {'m' if m is None else m})"
        raise ValueError(f"{name} has shape {array.shape}, expected {expected}")
    return array


def _forward(start: int, A: Any, parameters: Mapping[str, Any], *, margins: bool = True) -> _Forward:
    """The pass from layer ``start``'s activation A (0: X) to ZL, computed as the course computes it.

    ``margins=False`` leaves the rounding margins out (an empty tuple): a cost alone does not need them.
    """
    sizes, weights, biases = _layers(parameters)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < sizes.L:
        raise ValueError(
            f"layer={start!r}: the layers of an L={sizes.L} network read the activations of 0..{sizes.L - 1}"
        )
    A = _matrix("X" if start == 0 else f"A{start}", A, sizes.dims[start])
    inputs, outputs, bounds = [A], [], []
    error = np.zeros_like(A)  # the given activation is exact
    for k in range(start, sizes.L):
        W, b = weights[k], biases[k]
        Z = np.dot(W, A) + b
        outputs.append(Z)
        if k < sizes.L - 1:
            if margins:
                error = gamma(W.shape[1] + 1) * (np.abs(W) @ np.abs(A) + np.abs(b)) + np.abs(W) @ error
                bounds.append(2.0 * error)
            A = np.maximum(0, Z)
            inputs.append(A)
    return _Forward(tuple(weights[start:]), tuple(biases[start:]), tuple(inputs), tuple(outputs), tuple(bounds))


def _stable_loss(ZL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per-entry -Y log(sigmoid(ZL)) - (1 - Y) log(1 - sigmoid(ZL)), as softplus(ZL) - Y ZL."""
    return np.logaddexp(0.0, ZL) - Y * ZL


def _labels(Y: Any, forward: _Forward) -> np.ndarray:
    return _matrix("Y", Y, forward.Z[-1].shape[0], forward.m)


def stable_cost(X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, Any]) -> float:
    """The course's cost, computed as mean over examples of sum over outputs of softplus(ZL) - Y ZL."""
    return activation_cost(0, X, parameters, Y)


def activation_cost(layer: int, A: np.ndarray, parameters: Mapping[str, Any], Y: np.ndarray) -> float:
    """The reference cost (:func:`stable_cost`'s form) of the layers after ``layer`` given its activation A (layer 0: X)."""
    forward = _forward(layer, A, parameters, margins=False)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sum(_stable_loss(forward.Z[-1], _labels(Y, forward))) / forward.m)


def _dJ_dZ(forward: _Forward, Y: np.ndarray) -> list[np.ndarray]:
    """dJ/dZ of every layer of the pass (J the mean cost), from the output back."""
    ZL = forward.Z[-1]
    AL = np.exp(-np.logaddexp(0.0, -ZL))  # sigmoid(ZL) without cancellation
    dZ = [(AL - Y) / forward.m]
    for k in range(len(forward.Z) - 2, -1, -1):
        dZ.insert(0, (forward.weights[k + 1].T @ dZ[0]) * (forward.Z[k] > 0))
    return dZ


def _layers_roundoff(forward: _Forward, Y: np.ndarray) -> float:
    """Sum over the layers of |dJ/dZ| times the rounding bound of Z = W A + b."""
    total = 0.0
    for W, b, A, dZ in zip(forward.weights, forward.biases, forward.A, _dJ_dZ(forward, Y), strict=True):
        local = gamma(W.shape[1] + 1) * (np.abs(W) @ np.abs(A) + np.abs(b))
        total += float(np.vdot(np.abs(dZ), local))
    return total


def cost_roundoff(X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, Any]) -> float:
    """Bound on the rounding error of ``compute_cost(L_model_forward(X, parameters)[0], Y)`` (inf where it is not finite)."""
    forward = _forward(0, X, parameters, margins=False)
    Y = _labels(Y, forward)
    ZL, m = forward.Z[-1], forward.m
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        course_AL = 1 / (1 + np.exp(-ZL))
        if not np.all(np.isfinite(ZL)) or np.any(course_AL == 0.0) or np.any(course_AL == 1.0):
            return float("inf")  # log(0) in the course's formula
        loss = _stable_loss(ZL, Y)
        AL = np.exp(-np.logaddexp(0.0, -ZL))
        one_minus_AL = np.exp(-np.logaddexp(0.0, ZL))
        # AL carries a few u of relative error: log(AL) inherits it, log(1 - AL) inherits it times AL / (1 - AL);
        # each log adds u times its value, and the sum of the Y.size terms and the 1/m add gamma_{size+2}.
        amplification = Y * 4.0 + (1 - Y) * 4.0 * (1.0 + AL / one_minus_AL)
        terms = float(np.sum(amplification + loss)) * UNIT_ROUNDOFF / m
        summation = gamma(Y.size + 2) * float(np.sum(loss)) / m
        total = _layers_roundoff(forward, Y) + terms + summation
    return total if np.isfinite(total) else float("inf")


def activation_cost_roundoff(layer: int, A: np.ndarray, parameters: Mapping[str, Any], Y: np.ndarray) -> float:
    """Bound on the rounding error of :func:`activation_cost` (layer 0: of :func:`stable_cost`); inf if not finite."""
    forward = _forward(layer, A, parameters, margins=False)
    Y = _labels(Y, forward)
    ZL, m = forward.Z[-1], forward.m
    with np.errstate(over="ignore", invalid="ignore"):
        softplus = np.logaddexp(0.0, ZL)
        # softplus(ZL) - Y ZL cancels where a label matches a saturated output: its rounding is
        # relative to the two terms, not to the small loss.
        terms = 4.0 * UNIT_ROUNDOFF * float(np.sum(softplus + np.abs(Y * ZL))) / m
        summation = gamma(Y.size + 2) * float(np.sum(np.abs(softplus - Y * ZL))) / m
        total = _layers_roundoff(forward, Y) + terms + summation
    return total if np.isfinite(total) else float("inf")


@lru_cache(maxsize=256)
def _entry_layout(dims: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each flat entry (W1, b1, ..., bL row-major): its layer (0-based), its row, and its column (fan-in: the bias)."""
    layers, rows, cols = [], [], []
    for k in range(len(dims) - 1):
        units, fan_in = dims[k + 1], dims[k]
        i, j = np.divmod(np.arange(units * fan_in), fan_in)
        for r, c in ((i, j), (np.arange(units), np.full(units, fan_in))):
            layers.append(np.full(r.size, k))
            rows.append(r)
            cols.append(c)
    layout = (np.concatenate(layers), np.concatenate(rows), np.concatenate(cols))
    for array in layout:
        array.flags.writeable = False
    return layout


def _steps(steps: Any, count: int) -> np.ndarray:
    flat = np.asarray(steps, dtype=np.float64).reshape(-1)
    if flat.size == 1:
        flat = np.full(count, flat[0])
    if flat.size != count:
        raise ValueError(f"steps has {flat.size} entries, expected 1 or {count}")
    if not np.all(np.isfinite(flat) & (flat > 0)):
        raise ValueError("every step must be a positive finite number")
    return flat


class _Passes(NamedTuple):
    """The change of ZL of each +step pass and each -step pass, (pass, unit, example), and each entry's kink flag."""

    plus: np.ndarray
    minus: np.ndarray
    kink: np.ndarray


def _crossings(Z: np.ndarray, dZ: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Per pass: does it move some Z across zero or to within its margin of zero, or move a Z already within it?

    ``dZ`` is (unit, pass, example); ``Z`` and ``margin`` are (unit, example).
    """
    near = np.abs(Z) <= margin
    # Z + dZ reaches the margin from Z's side exactly when side * dZ <= margin - |Z|.
    side = np.where(Z > 0, 1.0, -1.0)
    reach = np.where(near, -np.inf, margin - np.abs(Z))
    flagged = dZ * side[:, None, :] <= reach[:, None, :]
    if near.any():  # such a Z counts as on the kink as soon as a pass moves it
        flagged |= (dZ != 0.0) & near[:, None, :]
    return np.logical_or.reduce(flagged, axis=(0, 2))


@np.errstate(over="ignore", invalid="ignore")
def _passes(forward: _Forward, dA: np.ndarray | None, direct: tuple[np.ndarray, ...] | None, count: int) -> _Passes:
    """Carry a +step and a -step change per entry through the layers, all 2 ``count`` passes stacked.

    Passes are stacked on the middle axis, (unit, pass, example), so that each layer is one matrix
    product for all of them; entry e's passes are 2e (+step) and 2e + 1 (-step). ``dA``: the change
    of the starting activation (None: unchanged). ``direct``: for parameter passes, (layer, row,
    column, signed step) per pass, sorted by layer: a layer's product then runs only over the passes
    of its own and earlier layers, the later ones have not moved yet.
    """
    m = forward.m
    kink = np.zeros(2 * count, dtype=bool)
    dZ: np.ndarray = np.zeros((0, 0, 0))
    for k, (W, Z) in enumerate(zip(forward.weights, forward.Z, strict=True)):
        moved = 0 if dA is None else dA.shape[1]
        if direct is None:
            assert dA is not None
            dZ = (W @ dA.reshape(dA.shape[0], moved * m)).reshape(Z.shape[0], moved, m)
        else:
            layer, row, col, signed = direct
            active = int(np.searchsorted(layer, k, side="right"))
            own = np.arange(moved, active)
            dZ = np.zeros((Z.shape[0], active, m))
            if dA is not None:  # exactly zero where a pass has not moved A
                dZ[:, :moved] = (W @ dA.reshape(dA.shape[0], moved * m)).reshape(Z.shape[0], moved, m)
            inputs = np.vstack((forward.A[k], np.ones((1, m))))
            dZ[row[own], own, :] = signed[own, None] * inputs[col[own]]
        if k < len(forward.margins):
            kink[: dZ.shape[1]] |= _crossings(Z, dZ, forward.margins[k])
            dA = np.maximum(Z[:, None, :] + dZ, 0) - forward.A[k + 1][:, None, :]
    change = dZ.transpose(1, 0, 2)
    return _Passes(change[0::2], change[1::2], kink[0::2] | kink[1::2])


def _parameter_passes(X: Any, parameters: Mapping[str, Any], steps: Any) -> tuple[_Forward, _Passes, np.ndarray]:
    forward = _forward(0, X, parameters)
    dims = (forward.A[0].shape[0], *(W.shape[0] for W in forward.weights))
    layer, row, col = _entry_layout(dims)
    h = _steps(steps, layer.size)
    signed = np.stack((h, -h), axis=1).reshape(-1)
    direct = (np.repeat(layer, 2), np.repeat(row, 2), np.repeat(col, 2), signed)
    return forward, _passes(forward, None, direct, layer.size), h


def _activation_passes(
    layer: int,
    A: Any,
    parameters: Mapping[str, Any],
    steps: Any,
    indices: Any = None,
) -> tuple[_Forward, _Passes, np.ndarray]:
    """The passes that move entry ``indices[e]`` of A (row-major; None: every entry) by +-``steps[e]``."""
    forward = _forward(layer, A, parameters)
    units, m = forward.A[0].shape
    entries = np.arange(units * m) if indices is None else np.asarray(indices, dtype=np.intp).reshape(-1)
    if entries.size and not (0 <= entries.min() and entries.max() < units * m):
        raise ValueError(f"indices must lie in 0..{units * m - 1}, the entries of A{layer}")
    count = entries.size
    h = _steps(steps, count)
    rows, cols = np.divmod(entries, m)
    dA = np.zeros((units, 2 * count, m))
    dA[rows, 2 * np.arange(count), cols] = h
    dA[rows, 2 * np.arange(count) + 1, cols] = -h
    return forward, _passes(forward, dA, None, count), h


def _costs(forward: _Forward, passes: _Passes, Y: Any) -> tuple[np.ndarray, np.ndarray]:
    """The cost (:func:`stable_cost`'s form) of each +step pass and of each -step pass."""
    Y = _labels(Y, forward)
    ZL = forward.Z[-1]
    with np.errstate(over="ignore", invalid="ignore"):
        plus = _stable_loss(ZL + passes.plus, Y).sum(axis=(1, 2)) / forward.m
        minus = _stable_loss(ZL + passes.minus, Y).sum(axis=(1, 2)) / forward.m
    return plus, minus


def _centred(forward: _Forward, passes: _Passes, Y: Any, h: np.ndarray) -> np.ndarray:
    """(J(+h) - J(-h)) / 2h per entry, each difference of losses formed without cancellation."""
    Y = _labels(Y, forward)
    ZL = forward.Z[-1]
    with np.errstate(over="ignore", invalid="ignore"):
        # softplus(z + p) - softplus(z + q) = log1p(expm1(p - q) / (1 + exp(-(z + q))))
        q = passes.plus - passes.minus
        difference = np.log1p(np.expm1(q) / (1.0 + np.exp(-(ZL + passes.minus)))) - Y * q
        total = difference.sum(axis=(1, 2))
        bad = ~np.isfinite(total)
        if bad.any():
            direct = _stable_loss(ZL + passes.plus[bad], Y) - _stable_loss(ZL + passes.minus[bad], Y)
            total[bad] = direct.sum(axis=(1, 2))
    return total / (2.0 * forward.m * h)


def kink_flags(X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, Any], steps: Any) -> np.ndarray:
    """Per flat entry (W1, b1, ..., bL row-major): does perturbing it by +-step straddle a ReLU kink?

    True where the +step or the -step pass moves some hidden layer's Z (any unit, any example) across
    zero or to within its rounding margin of zero. ``steps``: one step, or one per entry. ``Y`` is not
    read (kinks do not depend on the labels); it is taken for symmetry with :func:`gradapprox`.
    """
    _, passes, _ = _parameter_passes(X, parameters, steps)
    return passes.kink


def gradapprox(X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, Any], steps: Any) -> np.ndarray:
    """The centred differences of :func:`stable_cost` per flat entry, from the same exact perturbed passes."""
    forward, passes, h = _parameter_passes(X, parameters, steps)
    return _centred(forward, passes, Y, h)


def perturbed_costs(
    X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, Any], steps: Any
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stable_cost` with each flat entry (W1, b1, ..., bL row-major) moved by +``steps[e]``, and by
    -``steps[e]``: all the passes at once, as (costs at +step, costs at -step)."""
    forward, passes, _ = _parameter_passes(X, parameters, steps)
    return _costs(forward, passes, Y)


def activation_kink_flags(layer: int, A: np.ndarray, parameters: Mapping[str, Any], steps: Any) -> np.ndarray:
    """Per entry of A (row-major): does perturbing it by +-step straddle a kink of a later ReLU layer?"""
    _, passes, _ = _activation_passes(layer, A, parameters, steps)
    return passes.kink


def activation_gradapprox(
    layer: int, A: np.ndarray, parameters: Mapping[str, Any], Y: np.ndarray, steps: Any
) -> np.ndarray:
    """The centred differences of :func:`activation_cost` per entry of A (row-major); m times them is the course's dA{l}."""
    forward, passes, h = _activation_passes(layer, A, parameters, steps)
    return _centred(forward, passes, Y, h)


def activation_costs(
    layer: int,
    A: np.ndarray,
    parameters: Mapping[str, Any],
    Y: np.ndarray,
    indices: Any,
    steps: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`activation_cost` with entry ``indices[e]`` of A (row-major) moved by +``steps[e]``, and by -``steps[e]``.

    All the passes at once: what a numerical check of dA{l} evaluates, as (costs at +step, costs at -step).
    """
    forward, passes, _ = _activation_passes(layer, A, parameters, steps, indices)
    return _costs(forward, passes, Y)
