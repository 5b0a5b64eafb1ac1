"""How the L-layer strategies draw their arrays and keep every case informative (arguments already validated).

A deep case is one packed Hypothesis value while it fits :data:`strategies._draws.CASE_BYTES`: X, the
weights and biases of each hidden layer and of the output layer, each in a fixed room sized for the
largest case, then the labels, then :data:`EDGE_BYTES` (:mod:`strategies._packing`). The output layer
has its own room, so a case that loses a hidden layer keeps its output weights. Larger cases draw
their arrays one by one.

The draw is then repaired layer by layer, before anything sees it (:func:`live_network`):

- an all-zero input column gets X[0, k] = 1.0, and every weight matrix is made live on its wrapped
  diagonal and row-capped (:mod:`strategies._liveness`, :func:`strategies._draws.default_weights`);
- a unit whose Z exceeds :data:`HIDDEN_BOUND` (:data:`OUTPUT_BOUND` in the output layer) on some
  example has its row of W and its bias scaled down to it, so no depth makes the cost overflow or
  the sigmoid saturate;
- a hidden unit that is off on every example, or that has some |Z| within
  :data:`ZERO_CLEARANCE` of the kink, gets the nearest bias that turns it on at one example at least
  (a dead unit: at :data:`strategies._liveness.MARGIN`) and keeps every |Z| above the clearance.

The all-zero draw, where shrinking ends, is then the smallest live network. In a share
:data:`PLANT_SHARE` of cases the edge bytes then plant an exact zero in one hidden unit's Z (a ReLU
kink at the drawn point), the unit on at its other examples where it has any.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from gradharness.model.deep_case import BlockCase, DeepCase
from gradharness.model.deep_sizes import DeepSizes
from strategies._draws import (
    BIAS_BOUND,
    CASE_BYTES,
    INPUT_BOUND,
    WEIGHT_SCALE,
    PackedLayout,
    default_weights,
    float_array,
    label_array,
)
from strategies._liveness import KINK_WINDOW, MARGIN, _live_inputs
from strategies._packing import BOUNDED, LABELS, Shape, blocks, room_count
from strategies.network import batch_sizes as network_batch_sizes

HIDDEN_BOUND = 4.0
"""A hidden unit's drawn |Z| is scaled down to at most this (a bias repair may move it by up to twice as much)."""
OUTPUT_BOUND = 8.0
"""The output layer's |ZL| is at most this: the cost is finite and the sigmoid stays clear of 0 and 1."""
ZERO_CLEARANCE = 1e-3
"""Every hidden |Z| is above this, except a planted exact zero: far from the kink at any checking step."""
UPSTREAM_BOUND = 1.0
"""A drawn upstream gradient (dZ or dA) lies in [-UPSTREAM_BOUND, UPSTREAM_BOUND], never 0.0."""
SIGMOID_INPUT_BOUND = 3.0
"""sigmoid_backward's Z lies in [-SIGMOID_INPUT_BOUND, SIGMOID_INPUT_BOUND]."""
EDGE_BYTES = 2
"""Bytes drawn after the arrays: whether to plant an exact zero, then where."""
_PLANT_FROM = 244  # kind bytes 244..255 plant an exact zero
PLANT_SHARE = (256 - _PLANT_FROM) / 256
"""The share of uniformly drawn kind bytes that plant an exact zero in Z (12 of 256, about 5%)."""

_CLEAR = 1.5 * ZERO_CLEARANCE  # what a repaired Z keeps, in exact arithmetic; the forward's rounding is far below
_TARGET = 2.0 * ZERO_CLEARANCE  # where a repair puts the example nearest the kink


def batch_sizes(fixed: int | None, high: int) -> SearchStrategy[int]:
    """m: ``fixed``, or drawn in 1..high; shrinks to 1.

    Hypothesis leans towards small draws, which in these cases puts m = 1 in about a fifth of them
    (tests/test_strategies_deep.py holds it between a tenth and a third).
    """
    return st.just(fixed) if fixed is not None else network_batch_sizes(min_size=1, max_size=high)


# -- repairs ------------------------------------------------------------------------------------------------


def _bounded(W: np.ndarray, b: np.ndarray, Z: np.ndarray, bound: float) -> tuple[np.ndarray, np.ndarray]:
    """W and b with each row whose |Z| exceeds ``bound`` on some example scaled down to it."""
    peak = np.abs(Z).max(axis=1, keepdims=True)
    if not (peak > bound).any():
        return W, b
    scale = np.where(peak > bound, bound / np.maximum(peak, bound), 1.0)
    return W * scale, b * scale


def _clear_shift(z: np.ndarray) -> float:
    """The bias change nearest the one a unit needs, after which it is on somewhere and every |z| is clear of 0.

    Needed: 0 for a unit that is already so; a dead unit's best example at MARGIN. The candidates are
    that shift and the shifts putting some example at +-_TARGET; the largest of those clears every example.
    """
    wanted = MARGIN - z.max() if z.max() <= 0 else 0.0
    candidates = np.concatenate(([wanted], -z + _TARGET, -z - _TARGET))
    shifted = z[None, :] + candidates[:, None]
    valid = (np.abs(shifted) >= _CLEAR).all(axis=1) & (shifted.max(axis=1) > 0)
    return float(candidates[valid][np.argmin(np.abs(candidates[valid] - wanted))])


def clear_biases(P: np.ndarray, b: np.ndarray) -> np.ndarray:
    """b with each unit of Z = P + b live on some example and its every |Z| clear of the kink."""
    Z = P + b
    needs = ~((Z > 0).any(axis=1) & (np.abs(Z) >= _CLEAR).all(axis=1))
    if not needs.any():
        return b
    b = b.copy()
    for unit in np.flatnonzero(needs):
        b[unit, 0] += _clear_shift(Z[unit])
    return b


def planted_zero(P: np.ndarray, b: np.ndarray, unit: int) -> np.ndarray:
    """b with Z[unit] = P[unit] + b[unit] exactly 0.0 at one example, the others clear of 0 (or 0 too).

    The zero goes at the lowest example within KINK_WINDOW of the unit's best, so it stays on at the
    examples above it where it has any; b unchanged when no example allows it.
    """
    row = P[unit]
    chosen = None
    for t in np.argsort(row, kind="stable"):
        if row[t] < row.max() - KINK_WINDOW:
            continue
        others = row - row[t]
        if np.all((others == 0.0) | (np.abs(others) >= _CLEAR)):
            if (others > 0).any():
                chosen = t
                break
            chosen = t if chosen is None else chosen
    if chosen is None:
        return b
    b = b.copy()
    b[unit, 0] = -row[chosen]  # fl(p + (-p)) is exactly 0.0, and the forward's np.dot(W, A) + b computes the same p
    return b


def _plant_site(hidden: tuple[int, ...], plant: bool, where: int) -> tuple[int, int] | None:
    """(layer, unit) of the hidden units ``hidden`` (units per layer) where an exact zero is planted, or None."""
    if not plant or not hidden:
        return None
    index = where % sum(hidden)
    for layer, units in enumerate(hidden, start=1):
        if index < units:
            return layer, index
        index -= units
    return None  # unreachable: index < sum(hidden)


def live_network(
    sizes: DeepSizes, X: np.ndarray, Y: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]], raw_edge: bytes
) -> DeepCase:
    """The drawn network repaired layer by layer (see the module's docstring), with the edge case planted."""
    L = sizes.L
    site = _plant_site(sizes.dims[1:L], raw_edge[0] >= _PLANT_FROM, raw_edge[1])
    X = _live_inputs(X)
    A = X
    parameters = {}
    for layer, (drawn_W, drawn_b) in enumerate(layers, start=1):
        live_W = default_weights(drawn_W)
        P = np.dot(live_W, A)
        W, b = _bounded(live_W, drawn_b, P + drawn_b, HIDDEN_BOUND if layer < L else OUTPUT_BOUND)
        if W is not live_W:
            P = np.dot(W, A)
        if layer < L:
            b = clear_biases(P, b)
            if site is not None and site[0] == layer:
                b = planted_zero(P, b, site[1])
            A = np.maximum(0, np.dot(W, A) + b)
        parameters[f"W{layer}"], parameters[f"b{layer}"] = W, b
    return DeepCase(sizes, X, Y, parameters)


# -- deep cases ---------------------------------------------------------------------------------------------


def weight_bound(fan_in: int) -> float:
    """Drawn weights lie in +-WEIGHT_SCALE / sqrt(fan_in)."""
    return WEIGHT_SCALE / math.sqrt(fan_in)


Largest = tuple[int, int, int, int]  # the largest units per layer, weight layers, output units and m


def _rooms(largest: Largest) -> tuple[Shape, ...]:
    """Room for X, then W and b of each hidden layer, then W and b of the output layer."""
    units, layers, outputs, m = largest
    hidden = ((units, units), (units, 1)) * (layers - 1)
    return ((units, m), *hidden, (outputs, units), (outputs, 1))


@dataclass(frozen=True, eq=False)
class DeepLayout(PackedLayout):
    """A fixed slot for every entry a deep case can need, in one packed value: X and the parameters, Y, the edge."""

    largest: Largest


@lru_cache(maxsize=256)
def deep_layout(largest: Largest) -> DeepLayout | None:
    """The slot layout for these largest sizes, or None when a case would take over CASE_BYTES."""
    rooms = _rooms(largest)
    value_bytes = room_count(rooms) * BOUNDED.width
    label_bytes = largest[2] * largest[3] * LABELS.width
    if value_bytes + label_bytes > CASE_BYTES:
        return None
    total = value_bytes + label_bytes + EDGE_BYTES
    return DeepLayout(rooms, value_bytes, label_bytes, st.binary(min_size=total, max_size=total), largest=largest)


def _layer_shapes(sizes: DeepSizes) -> list[tuple[Shape, Shape]]:
    dims = sizes.dims
    return [((dims[k], dims[k - 1]), (dims[k], 1)) for k in range(1, sizes.L + 1)]


@lru_cache(maxsize=4096)
def _case_blocks(layout: DeepLayout, sizes: DeepSizes, m: int):
    """Where X and the parameters, and where Y, of a case of these sizes sit in the layout's slots."""
    layers = _layer_shapes(sizes)
    hidden_rooms = layout.largest[1] - 1
    unused = [((0, 0), (0, 0))] * (hidden_rooms - (sizes.L - 1))
    pairs = [*layers[:-1], *unused, layers[-1]]
    shapes = ((sizes.dims[0], m), *(shape for pair in pairs for shape in pair))
    bounds = (INPUT_BOUND, *(bound for W, _ in pairs for bound in (weight_bound(max(1, W[1])), BIAS_BOUND)))
    values = blocks(BOUNDED, layout.rooms, shapes, bounds)
    labels = blocks(LABELS, ((layout.largest[2], layout.largest[3]),), ((sizes.dims[-1], m),), (0.0,))
    return values, labels, sizes.L - 1, hidden_rooms


def _unpack(layout: DeepLayout, sizes: DeepSizes, m: int, raw: bytes) -> DeepCase:
    values, labels, used, hidden_rooms = _case_blocks(layout, sizes, m)
    value_bytes, label_bytes, edge = layout.split(raw)
    X, *arrays = values.decode(value_bytes)
    (Y,) = labels.decode(label_bytes)
    pairs = list(zip(arrays[0::2], arrays[1::2], strict=True))
    layers = [*pairs[:used], pairs[hidden_rooms]]
    return live_network(sizes, X, Y, layers, edge)


@st.composite
def deep_case_draws(
    draw: st.DrawFn, sizes_strategy: SearchStrategy[DeepSizes], batches: SearchStrategy[int], largest: Largest
) -> DeepCase:
    """Draw sizes, then m, then the arrays (from the layout's slots, or array by array), then repair them."""
    sizes = draw(sizes_strategy)
    m = draw(batches)
    layout = deep_layout(largest)
    if layout is not None:
        return _unpack(layout, sizes, m, draw(layout.draws))
    X = draw(float_array((sizes.dims[0], m), INPUT_BOUND, False))
    layers = [
        (draw(float_array(W, weight_bound(W[1]), False)), draw(float_array(b, BIAS_BOUND, False)))
        for W, b in _layer_shapes(sizes)
    ]
    Y = draw(label_array((sizes.dims[-1], m)))
    return live_network(sizes, X, Y, layers, draw(st.binary(min_size=EDGE_BYTES, max_size=EDGE_BYTES)))


# -- building blocks ----------------------------------------------------------------------------------------


def nonzero(values: np.ndarray) -> np.ndarray:
    """``values`` with every 0.0 read as 1.0: an upstream gradient whose every entry counts."""
    return np.where(values == 0.0, 1.0, values)


def _clear_entries(Z: np.ndarray) -> np.ndarray:
    """Z with every entry within the clearance of 0 moved to MARGIN (sign kept, 0.0 read as +)."""
    near = np.abs(Z) < _CLEAR
    if not near.any():
        return Z
    return np.where(near, np.where(Z < 0, -MARGIN, MARGIN), Z)


def _block_linear(
    activation: str | None, A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, plant: tuple[bool, int]
) -> dict[str, np.ndarray]:
    """A_prev, W, b of a linear block made live; with a ReLU after it, every |Z| clear of 0 but a planted zero."""
    A_prev = _live_inputs(A_prev)
    live_W = default_weights(W)
    P = np.dot(live_W, A_prev)
    W, b = _bounded(live_W, b, P + b, OUTPUT_BOUND if activation == "sigmoid" else HIDDEN_BOUND)
    if W is not live_W:
        P = np.dot(W, A_prev)
    if activation == "relu":
        b = clear_biases(P, b)
        site = _plant_site((W.shape[0],), *plant)
        if site is not None:
            b = planted_zero(P, b, site[1])
    return {"A_prev": A_prev, "W": W, "b": b}


def _block_shapes(function: str, n: int, n_prev: int, m: int) -> dict[str, Shape]:
    """The shape of each of a block's arrays (the forward's inputs, then the upstream gradient)."""
    if function in ("relu_backward", "sigmoid_backward"):
        return {"Z": (n, m), "dA": (n, m)}
    upstream = "dZ" if function == "linear_backward" else "dA"
    return {"A_prev": (n_prev, m), "W": (n, n_prev), "b": (n, 1), upstream: (n, m)}


def _block_bounds(function: str, shapes: dict[str, Shape]) -> tuple[float, ...]:
    """The bound of each of a block's arrays, in the order of :func:`_block_shapes`."""
    bound = {"A_prev": INPUT_BOUND, "b": BIAS_BOUND, "dZ": UPSTREAM_BOUND, "dA": UPSTREAM_BOUND}
    bound["Z"] = SIGMOID_INPUT_BOUND if function == "sigmoid_backward" else INPUT_BOUND
    return tuple(weight_bound(shape[1]) if name == "W" else bound[name] for name, shape in shapes.items())


@lru_cache(maxsize=64)
def _block_draws(function: str, units: int, m: int) -> SearchStrategy[bytes] | None:
    """One packed value with a room for each array at the largest sizes, then the edge bytes (None: too large)."""
    rooms = tuple(_block_shapes(function, units, units, m).values())
    size = room_count(rooms) * BOUNDED.width
    return st.binary(min_size=size + EDGE_BYTES, max_size=size + EDGE_BYTES) if size <= CASE_BYTES else None


@lru_cache(maxsize=4096)
def _block_blocks(function: str, largest: tuple[int, int], n: int, n_prev: int, m: int):
    """The arrays' names, and where each sits in the packed value's rooms."""
    units, most = largest
    rooms = tuple(_block_shapes(function, units, units, most).values())
    shapes = _block_shapes(function, n, n_prev, m)
    return tuple(shapes), blocks(BOUNDED, rooms, tuple(shapes.values()), _block_bounds(function, shapes))


def _drawn_block_arrays(draw: st.DrawFn, function: str, largest: tuple[int, int], n: int, n_prev: int, m: int):
    """A block's arrays (one packed value while they fit, else array by array) and the edge bytes."""
    packed = _block_draws(function, *largest)
    if packed is None:
        shapes = _block_shapes(function, n, n_prev, m)
        bounds = _block_bounds(function, shapes)
        pairs = zip(shapes.items(), bounds, strict=True)
        arrays = {name: draw(float_array(shape, bound, False)) for (name, shape), bound in pairs}
        return arrays, draw(st.binary(min_size=EDGE_BYTES, max_size=EDGE_BYTES))
    raw = draw(packed)
    names, layout = _block_blocks(function, largest, n, n_prev, m)
    return dict(zip(names, layout.decode(raw[:-EDGE_BYTES]), strict=True)), raw[-EDGE_BYTES:]


@st.composite
def block_case_draws(draw: st.DrawFn, function: str, max_units: int, max_batch: int) -> BlockCase:
    """One building block's inputs and upstream gradient, drawn with odd sizes and made informative."""
    units = st.integers(min_value=1, max_value=max_units)
    n = draw(units)
    m = draw(batch_sizes(None, max_batch))
    linear = function not in ("relu_backward", "sigmoid_backward")
    n_prev = draw(units) if linear else 1
    activation = draw(st.sampled_from(("relu", "sigmoid"))) if function == "linear_activation_backward" else None
    arrays, edge = _drawn_block_arrays(draw, function, (max_units, max_batch), n, n_prev, m)
    upstream = "dZ" if function == "linear_backward" else "dA"
    arrays[upstream] = nonzero(arrays[upstream])
    plant = (edge[0] >= _PLANT_FROM, edge[1])
    if function == "relu_backward":
        Z = arrays["Z"] = np.array(_clear_entries(arrays["Z"]), copy=True)
        if plant[0]:
            Z.reshape(-1)[plant[1] % Z.size] = 0.0
    elif linear:
        arrays.update(_block_linear(activation, arrays["A_prev"], arrays["W"], arrays["b"], plant))
    return BlockCase(function, arrays, activation)
