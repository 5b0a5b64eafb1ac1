"""What the checker needs of the regularisation exercise's network: the masks a seed draws, round-off bounds of its
two costs, and exact perturbed passes (their outputs and kink flags).

- :func:`dropout_masks` draws D1 and D2 as the course's ``forward_propagation_with_dropout`` does after
  ``np.random.seed(seed)`` (``np.random.rand`` of A1's shape, then of A2's), from a generator of its own: numpy's
  global state is left alone.
- :func:`l2_cost_roundoff` bounds the rounding error of ``compute_cost_with_regularization(forward_propagation(X,
  parameters)[0], Y, parameters, lambd)``: the cross-entropy's (:func:`gradharness.model.deep_passes.cost_roundoff`,
  the network being the L-layer model at L = 3) plus the L2 term's sum of squares.
- :func:`dropout_cost_roundoff` bounds that of ``compute_cost(forward_propagation_with_dropout(X, parameters,
  keep_prob)[0], Y)`` for given masks: each layer's Z = W A + b carries at most gamma_{n+1} (|W| |A| + |b|), the
  mask and the 1 / keep_prob scaling a few u of A, each weighted by |dJ/dZ| or |dJ/dA| through the masks; the
  output layer and the loss as in the L-layer bound.
- :func:`perturbed_passes` moves each entry of one parameter by +-step and recomputes the network for all of them
  at once, stacked along a leading axis (nothing linearised): its A3 (what the cost of the file's own
  ``compute_cost_with_regularization`` is taken at when the file has no forward) and, with :func:`kink_flags`,
  whether a pass moves the input of a kept ReLU across zero or to within its rounding margin of zero (twice the
  bound of Z above, carried through the layers: ours and a user's evaluation may each be off by it). A dropped
  unit's ReLU is no kink: its output is multiplied by 0 whatever its input.
- :func:`hidden_activations`, :func:`activation_costs` and :func:`activation_kink_flags` do the same for the rest
  of the network after a hidden layer, as a function of that layer's activation before dropout (relu(Z1) or
  relu(Z2)): the course's dA1 and dA2, after their mask and 1 / keep_prob, are m times the gradient of the cost
  with respect to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from gradharness.model.deep_passes import UNIT_ROUNDOFF, cost_roundoff, gamma, stable_cost
from gradharness.model.deep_sizes import DeepSizes, parameter_names

NAMES = parameter_names(3)
"""W1, b1, W2, b2, W3, b3: the blocks of the exercise's network, in the order their entries are flattened."""
WEIGHTS = ("W1", "W2", "W3")
"""The parameters the L2 term sums the squares of."""
SCALING_OPS = 3.0
"""Rounding units a masked, scaled activation may carry from the mask and the 1 / keep_prob (A * D / k, or
A * (1 / k) * D: one or two roundings, and one spare)."""

Masks = tuple[np.ndarray, np.ndarray]


def dropout_masks(seed: int, keep_prob: float, n1: int, n2: int, m: int) -> Masks:
    """D1 (n1, m) and D2 (n2, m) as the course draws them after ``np.random.seed(seed)``, as bool arrays."""
    generator = np.random.RandomState(seed)  # the legacy generator np.random.seed seeds: the same stream
    D1 = generator.rand(n1, m) < keep_prob
    D2 = generator.rand(n2, m) < keep_prob
    return D1, D2


def _arrays(parameters: Mapping[str, Any]) -> dict[str, np.ndarray]:
    sizes = DeepSizes.of({name: parameters[name] for name in NAMES})
    if sizes.L != 3:
        raise ValueError(f"sizes {sizes} have L={sizes.L} layers; the exercise's network has 3")
    return {name: np.asarray(parameters[name], dtype=np.float64) for name in NAMES}


def _kept(activation: np.ndarray, mask: np.ndarray | None, keep_prob: float) -> np.ndarray:
    """The activation after dropout, computed as the course computes it (A * D, then / keep_prob)."""
    if mask is None:
        return activation
    activation = activation * mask
    return activation / keep_prob


class Pass(NamedTuple):
    """The hidden layers' Z and the output A3 of a forward pass (or of passes stacked along a leading axis)."""

    Z1: np.ndarray
    Z2: np.ndarray
    A3: np.ndarray


def _forward(X: np.ndarray, a: Mapping[str, np.ndarray], masks: Masks | None, keep_prob: float) -> Pass:
    D1, D2 = masks if masks is not None else (None, None)
    Z1 = np.matmul(a["W1"], X) + a["b1"]
    A1 = _kept(np.maximum(0, Z1), D1, keep_prob)
    Z2 = np.matmul(a["W2"], A1) + a["b2"]
    A2 = _kept(np.maximum(0, Z2), D2, keep_prob)
    Z3 = np.matmul(a["W3"], A2) + a["b3"]
    return Pass(Z1, Z2, np.exp(-np.logaddexp(0.0, -Z3)))


def masked_forward(
    X: np.ndarray, parameters: Mapping[str, Any], masks: Masks | None = None, keep_prob: float = 1.0
) -> Pass:
    """Z1, Z2 and A3 of the network at ``parameters``, with the masks (D1, D2) and keep_prob (None: no dropout)."""
    a = _arrays(parameters)
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return _forward(X, a, _checked_masks(masks, a, X.shape[1]), keep_prob)


def _mask_pair(masks: Masks, a: Mapping[str, np.ndarray], m: int) -> Masks:
    """(D1, D2) checked to have the hidden layers' shapes."""
    D1, D2 = (np.asarray(mask) for mask in masks)
    expected = ((a["W1"].shape[0], m), (a["W2"].shape[0], m))
    if (D1.shape, D2.shape) != expected:
        raise ValueError(f"masks have shapes {D1.shape} and {D2.shape}, expected {expected[0]} and {expected[1]}")
    return D1, D2


def _checked_masks(masks: Masks | None, a: Mapping[str, np.ndarray], m: int) -> Masks | None:
    return None if masks is None else _mask_pair(masks, a, m)


def perturbed_passes(
    X: np.ndarray,
    parameters: Mapping[str, Any],
    name: str,
    indices: Sequence[int] | np.ndarray,
    steps: Sequence[float] | np.ndarray,
    *,
    masks: Masks | None = None,
    keep_prob: float = 1.0,
) -> tuple[Pass, Pass]:
    """The passes with entry ``indices[e]`` of parameter ``name`` (row-major) moved by +``steps[e]``, and by
    -``steps[e]``: each a :class:`Pass` stacked along a leading axis of len(indices) (moved as the checker
    moves it: a float64 copy, the step added to the entry). ``masks``: (D1, D2), or None for no dropout."""
    a = _arrays(parameters)
    if name not in a:
        raise ValueError(f"name={name!r}; the network's parameters are {', '.join(NAMES)}")
    X = np.asarray(X, dtype=np.float64)
    masks = _checked_masks(masks, a, X.shape[1])
    entries = np.asarray(indices, dtype=np.intp).reshape(-1)
    h = np.asarray(steps, dtype=np.float64).reshape(-1)
    if entries.size != h.size:
        raise ValueError(f"{entries.size} indices but {h.size} steps")
    if entries.size and not (0 <= entries.min() and entries.max() < a[name].size):
        raise ValueError(f"indices must lie in 0..{a[name].size - 1}, the entries of {name}")
    sides = []
    for sign in (1.0, -1.0):
        stack = np.broadcast_to(a[name], (entries.size, *a[name].shape)).copy()
        flat = stack.reshape(entries.size, -1)
        flat[np.arange(entries.size), entries] += sign * h
        with np.errstate(over="ignore", invalid="ignore"):
            sides.append(_forward(X, {**a, name: stack}, masks, keep_prob))
    return sides[0], sides[1]


def _margins(X: np.ndarray, a: Mapping[str, np.ndarray], masks: Masks | None, keep_prob: float):
    """The rounding margins of Z1 and Z2 (twice their error bounds), and the kept units of each (all: no dropout)."""
    n1, n2, m = a["W1"].shape[0], a["W2"].shape[0], X.shape[1]
    D1, D2 = masks if masks is not None else (np.ones((n1, m), dtype=bool), np.ones((n2, m), dtype=bool))
    scale = keep_prob if masks is not None else 1.0
    error1 = gamma(X.shape[0] + 1) * (np.abs(a["W1"]) @ np.abs(X) + np.abs(a["b1"]))
    A1 = _kept(np.maximum(0, a["W1"] @ X + a["b1"]), D1, scale)
    error_A1 = D1 * error1 / scale + SCALING_OPS * UNIT_ROUNDOFF * np.abs(A1)
    error2 = gamma(n1 + 1) * (np.abs(a["W2"]) @ np.abs(A1) + np.abs(a["b2"])) + np.abs(a["W2"]) @ error_A1
    return (2.0 * error1, D1.astype(bool)), (2.0 * error2, D2.astype(bool))


def _crossings(Z: np.ndarray, base: np.ndarray, margin: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Per stacked pass (Z is (pass, unit, example)): does it move a kept unit's Z across zero, or near it (to
    within its margin, or from within it)?"""
    moved = Z != base
    crossing = (Z > 0) != (base > 0)
    near = (np.abs(Z) <= margin) | (np.abs(base) <= margin)
    return np.any(kept & moved & (crossing | near), axis=(1, 2))


def kink_flags(
    X: np.ndarray,
    parameters: Mapping[str, Any],
    steps: Any,
    *,
    masks: Masks | None = None,
    keep_prob: float = 1.0,
) -> np.ndarray:
    """Per flat entry (W1, b1, ..., b3 row-major): does perturbing it by +-step straddle the kink of a kept ReLU?

    ``steps``: one step per entry (or one for all). ``masks``: (D1, D2), or None for no dropout.
    """
    a = _arrays(parameters)
    X = np.asarray(X, dtype=np.float64)
    masks = _checked_masks(masks, a, X.shape[1])
    sizes = [a[name].size for name in NAMES]
    h = np.asarray(steps, dtype=np.float64).reshape(-1)
    h = np.full(sum(sizes), h[0]) if h.size == 1 else h
    if h.size != sum(sizes):
        raise ValueError(f"steps has {h.size} entries, expected 1 or {sum(sizes)}")
    base = _forward(X, a, masks, keep_prob)
    (margin1, kept1), (margin2, kept2) = _margins(X, a, masks, keep_prob)
    flags = []
    for name, block in zip(NAMES, np.split(h, np.cumsum(sizes)[:-1]), strict=True):
        count = block.size
        plus, minus = perturbed_passes(X, a, name, np.arange(count), block, masks=masks, keep_prob=keep_prob)
        flagged = np.zeros(count, dtype=bool)
        for side in (plus, minus):
            for Z, Z0, margin, kept in ((side.Z1, base.Z1, margin1, kept1), (side.Z2, base.Z2, margin2, kept2)):
                stacked = np.broadcast_to(Z, (count, *Z0.shape))
                flagged |= _crossings(stacked, Z0, margin, kept)
        flags.append(flagged)
    return np.concatenate(flags)


def hidden_activations(
    X: np.ndarray, parameters: Mapping[str, Any], masks: Masks | None = None, keep_prob: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """relu(Z1) and relu(Z2), the hidden activations before dropout: what the course's dA1 and dA2 (after their
    mask and scaling) are the gradients of the summed loss with respect to."""
    a = _arrays(parameters)
    X = np.asarray(X, dtype=np.float64)
    masks = _checked_masks(masks, a, X.shape[1])
    D1 = masks[0] if masks is not None else None
    A1 = np.maximum(0, a["W1"] @ X + a["b1"])
    return A1, np.maximum(0, a["W2"] @ _kept(A1, D1, keep_prob) + a["b2"])


def _after(layer: int, A: np.ndarray, a: Mapping[str, np.ndarray], masks: Masks | None, keep_prob: float):
    """Z2 (None from layer 2) and Z3 of the layers after hidden layer ``layer``, from its activation A."""
    D1, D2 = masks if masks is not None else (None, None)
    Z2 = None
    if layer == 1:
        Z2 = np.matmul(a["W2"], _kept(A, D1, keep_prob)) + a["b2"]
        A = np.maximum(0, Z2)
    return Z2, np.matmul(a["W3"], _kept(A, D2, keep_prob)) + a["b3"]


def _activation_sides(layer: int, A: Any, parameters: Mapping[str, Any], indices: Any, steps: Any, masks, keep_prob):
    """(Z2, Z3) of the passes moving entry ``indices[e]`` of layer ``layer``'s activation by +steps[e], then -."""
    if layer not in (1, 2):
        raise ValueError(f"layer={layer!r}: the network's hidden layers are 1 and 2")
    a = _arrays(parameters)
    A = np.asarray(A, dtype=np.float64)
    masks = _checked_masks(masks, a, A.shape[-1])
    units = a[f"W{layer}"].shape[0]
    if A.shape[0] != units:
        raise ValueError(f"A{layer} has shape {A.shape}, expected ({units}, m)")
    entries = np.asarray(indices, dtype=np.intp).reshape(-1)
    h = np.asarray(steps, dtype=np.float64).reshape(-1)
    if entries.size != h.size:
        raise ValueError(f"{entries.size} indices but {h.size} steps")
    sides = []
    for sign in (1.0, -1.0):
        stack = np.broadcast_to(A, (entries.size, *A.shape)).copy()
        stack.reshape(entries.size, -1)[np.arange(entries.size), entries] += sign * h
        with np.errstate(over="ignore", invalid="ignore"):
            sides.append(_after(layer, stack, a, masks, keep_prob))
    return a, masks, sides


def activation_costs(
    layer: int,
    A: np.ndarray,
    parameters: Mapping[str, Any],
    Y: np.ndarray,
    indices: Any,
    steps: Any,
    *,
    masks: Masks | None = None,
    keep_prob: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The cross-entropy (computed stably, as softplus(Z3) - Y Z3) with entry ``indices[e]`` of hidden layer
    ``layer``'s activation before dropout (row-major) moved by +``steps[e]``, and by -``steps[e]``."""
    _, _, sides = _activation_sides(layer, A, parameters, indices, steps, masks, keep_prob)
    Y = np.asarray(Y, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        costs = [(np.logaddexp(0.0, Z3) - Y * Z3).sum(axis=(1, 2)) / Y.shape[1] for _, Z3 in sides]
    return costs[0], costs[1]


def activation_kink_flags(
    layer: int,
    A: np.ndarray,
    X: np.ndarray,
    parameters: Mapping[str, Any],
    steps: Any,
    *,
    masks: Masks | None = None,
    keep_prob: float = 1.0,
) -> np.ndarray:
    """Per entry of hidden layer ``layer``'s activation (row-major): does moving it by +-step straddle the kink of
    a kept ReLU after it (layer 2's; none after layer 2)? ``X``: the inputs, for the rounding margins."""
    count = int(np.size(A))
    h = np.asarray(steps, dtype=np.float64).reshape(-1)
    h = np.full(count, h[0]) if h.size == 1 else h
    a, masks, sides = _activation_sides(layer, A, parameters, np.arange(count), h, masks, keep_prob)
    if layer == 2:
        return np.zeros(count, dtype=bool)
    X = np.asarray(X, dtype=np.float64)
    _, (margin2, kept2) = _margins(X, a, masks, keep_prob)
    base, _ = _after(layer, np.asarray(A, dtype=np.float64), a, masks, keep_prob)
    flagged = np.zeros(count, dtype=bool)
    for Z2, _ in sides:
        flagged |= _crossings(Z2, base, margin2, kept2)
    return flagged


def l2_term(Y: np.ndarray, parameters: Mapping[str, Any], lambd: float) -> float:
    """lambd / (2m) * (sum(W1^2) + sum(W2^2) + sum(W3^2))."""
    m = np.shape(Y)[1]
    squares = sum(float(np.sum(np.square(np.asarray(parameters[name], dtype=np.float64)))) for name in WEIGHTS)
    return lambd / (2 * m) * squares


def l2_cost_roundoff(X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, Any], lambd: float) -> float:
    """Bound on the rounding error of the course's regularised cost of the network at ``parameters`` (inf where
    the cross-entropy is not finite)."""
    term = l2_term(Y, parameters, lambd)
    count = sum(np.size(parameters[name]) for name in WEIGHTS)
    cross_entropy = cost_roundoff(X, Y, parameters)
    with np.errstate(over="ignore", invalid="ignore"):
        # each square and the sums over count entries, the three sums' sum and lambd / (2m): gamma_{count + 8};
        # the cross-entropy plus the term: one more rounding of the total
        total = cross_entropy + gamma(count + 8) * term + UNIT_ROUNDOFF * (abs(stable_cost(X, Y, parameters)) + term)
    return float(total) if np.isfinite(total) else float("inf")


def dropout_cost_roundoff(
    X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, Any], masks: Masks, keep_prob: float
) -> float:
    """Bound on the rounding error of the course's cross-entropy of the network with dropout at ``parameters``
    for the masks (D1, D2) (inf where it is not finite)."""
    a = _arrays(parameters)
    X = np.asarray(X, dtype=np.float64)
    D1, D2 = _mask_pair(masks, a, X.shape[1])
    m = X.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        Z1 = a["W1"] @ X + a["b1"]
        A1 = _kept(np.maximum(0, Z1), D1, keep_prob)
        Z2 = a["W2"] @ A1 + a["b2"]
        A2 = _kept(np.maximum(0, Z2), D2, keep_prob)
        # the output layer and the loss: the L-layer bound of the one-layer network from A2 (taken as exact)
        output = cost_roundoff(A2, Y, {"W1": a["W3"], "b1": a["b3"]})
        Z3 = a["W3"] @ A2 + a["b3"]
        dZ3 = (np.exp(-np.logaddexp(0.0, -Z3)) - np.asarray(Y, dtype=np.float64)) / m
        dA2 = a["W3"].T @ dZ3
        dZ2 = dA2 * D2 / keep_prob * (Z2 > 0)
        dA1 = a["W2"].T @ dZ2
        dZ1 = dA1 * D1 / keep_prob * (Z1 > 0)
        local1 = gamma(X.shape[0] + 1) * (np.abs(a["W1"]) @ np.abs(X) + np.abs(a["b1"]))
        local2 = gamma(A1.shape[0] + 1) * (np.abs(a["W2"]) @ np.abs(A1) + np.abs(a["b2"]))
        scaling = SCALING_OPS * UNIT_ROUNDOFF * (np.vdot(np.abs(dA1), np.abs(A1)) + np.vdot(np.abs(dA2), np.abs(A2)))
        total = output + np.vdot(np.abs(dZ1), local1) + np.vdot(np.abs(dZ2), local2) + scaling
    return float(total) if np.isfinite(total) else float("inf")
