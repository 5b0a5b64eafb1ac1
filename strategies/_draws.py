"""How the public strategies draw arrays, parameters and whole cases (arguments already validated).

Small arrays, small parameter sets and small cases are drawn densely, as one packed value each
(:mod:`strategies._packing`); larger ones entry by entry with ``hypothesis.extra.numpy.arrays``.
Strategies are cached per shape: one object per shape saves Hypothesis re-validating a new
strategy for every case.

Budgets. Packed draws have a fixed size, so a strategy's smallest example is as large as any of
its examples, and Hypothesis's ``large_base_example`` health check rejects a test whose smallest
example is too large. :data:`CASE_BYTES` and :data:`ARRAY_ENTRIES` keep a whole case well inside
that limit (tests/test_packing.py runs the largest dense cases with the health check on, and shows
a packed draw twice the case budget tripping it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from hypothesis.strategies import SearchStrategy

from gradharness.model.case import NetworkCase
from gradharness.model.parameters import PARAMETER_NAMES, LayerSizes, Parameters, parameter_shapes
from strategies._liveness import EDGE_BYTES, edge_bytes, live_case, live_weights
from strategies._packing import (
    LABELS,
    LARGE_BOUND,
    TINY,
    Blocks,
    Codec,
    Shape,
    blocks,
    room_count,
    values_codec,
)

INPUT_BOUND = 2.0
"""Default inputs lie in [-INPUT_BOUND, INPUT_BOUND]."""
BIAS_BOUND = 1.0
"""Default biases lie in [-BIAS_BOUND, BIAS_BOUND]."""
WEIGHT_SCALE = 1.5
"""Default weights lie in +-WEIGHT_SCALE / sqrt(fan_in)."""
ROW_SUM_CAP = 2.0
"""Default weight rows are scaled down so that sum(|W[i, :]|) <= ROW_SUM_CAP."""

ARRAY_ENTRIES = 256
"""X, Y, or all six parameters together, of at most this many entries are one packed draw each (at
most 1 KiB); larger ones are drawn entry by entry. A case outside its slots packs at most 2.25 KiB."""
CASE_BYTES = 2048
"""network_cases packs X, Y and the parameters of its largest case into fixed slots while they take
at most this many bytes together; larger cases draw their arrays one by one."""

_SMALLEST_NORMAL = np.finfo(np.float64).tiny
_EDGES = edge_bytes()
Largest = tuple[int, int, int, int, int]  # the largest n0, n1, n2, n3 and m a network_cases draw can have


def _bounded_floats(bound: float) -> SearchStrategy[float]:
    """Finite floats in [-bound, bound], no subnormals; they shrink towards 0.0."""
    return st.floats(
        min_value=-bound,
        max_value=bound,
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
    )


def _adversarial_floats(ordinary_bound: float) -> SearchStrategy[float]:
    """Exact zeros, +-1, tiny and large values mixed with ordinary ones; all finite."""
    return st.one_of(
        st.just(0.0),
        st.sampled_from([1.0, -1.0]),
        st.sampled_from([TINY, -TINY]),
        _bounded_floats(ordinary_bound),
        _bounded_floats(LARGE_BOUND),
    )


def cap_row_sums(W: np.ndarray) -> np.ndarray:
    """Scale each row of W down so that its absolute sum is at most ROW_SUM_CAP.

    Subnormals the scaling may create are flushed to 0.0; a W within the cap is returned as it is.
    """
    row_sums = np.abs(W).sum(axis=1, keepdims=True)
    if not (row_sums > ROW_SUM_CAP).any():
        return W
    scale = np.where(row_sums > ROW_SUM_CAP, ROW_SUM_CAP / np.maximum(row_sums, ROW_SUM_CAP), 1.0)
    capped = W * scale
    capped[np.abs(capped) < _SMALLEST_NORMAL] = 0.0
    return capped


def _single_block(raw: bytes, layout: Blocks) -> np.ndarray:
    return layout.decode(raw)[0]


def _packed_array(codec: Codec, shape: Shape, bound: float) -> SearchStrategy[np.ndarray]:
    """One packed draw decoded to a (rows, cols) array."""
    layout = blocks(codec, (shape,), (shape,), (bound,))
    return codec.strategy(shape[0] * shape[1]).map(partial(_single_block, layout=layout))


def _sparse_floats(shape: Shape, bound: float, adversarial: bool) -> SearchStrategy[np.ndarray]:
    """(rows, cols) floats drawn entry by entry by ``hypothesis.extra.numpy.arrays``."""
    elements = _adversarial_floats(bound) if adversarial else _bounded_floats(bound)
    return arrays(np.float64, shape, elements=elements)


@lru_cache(maxsize=1024)
def float_array(shape: Shape, bound: float, adversarial: bool) -> SearchStrategy[np.ndarray]:
    """(rows, cols) floats in [-bound, bound] (no subnormals), or the adversarial mixture; shrinks to zeros."""
    if shape[0] * shape[1] <= ARRAY_ENTRIES:
        return _packed_array(values_codec(adversarial), shape, bound)
    return _sparse_floats(shape, bound, adversarial)


@lru_cache(maxsize=1024)
def label_array(shape: Shape) -> SearchStrategy[np.ndarray]:
    """(rows, cols) exact 0.0/1.0; shrinks to zeros."""
    if shape[0] * shape[1] <= ARRAY_ENTRIES:
        return _packed_array(LABELS, shape, 0.0)
    return arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0]))


def _shapes(sizes: LayerSizes) -> tuple[Shape, ...]:
    """The shapes of W1 ... b3, in that order."""
    shapes = parameter_shapes(sizes)
    return tuple(shapes[name] for name in PARAMETER_NAMES)


def _parameter_bound(name: str, shape: Shape) -> float:
    """Weights lie in +-WEIGHT_SCALE / sqrt(fan_in), biases in +-BIAS_BOUND."""
    return WEIGHT_SCALE / math.sqrt(shape[1]) if name[0] == "W" else BIAS_BOUND


def _parameter_bounds(shapes: tuple[Shape, ...]) -> tuple[float, ...]:
    """The bound of each of W1 ... b3 (``shapes`` in that order)."""
    return tuple(_parameter_bound(name, shape) for name, shape in zip(PARAMETER_NAMES, shapes, strict=True))


def default_weights(W: np.ndarray) -> np.ndarray:
    """A drawn default weight matrix made live (:func:`strategies._liveness.live_weights`), then row-capped."""
    return cap_row_sums(live_weights(W))


def _named_parameters(decoded: list[np.ndarray], adversarial: bool) -> Parameters:
    """W1 ... b3 from their six decoded blocks; default weights are made live and get their rows capped."""
    return {
        name: default_weights(block) if name[0] == "W" and not adversarial else block
        for name, block in zip(PARAMETER_NAMES, decoded, strict=True)
    }


def _packed_parameters(raw: bytes, layout: Blocks, adversarial: bool) -> Parameters:
    return _named_parameters(layout.decode(raw), adversarial)


def _sparse_parameter(name: str, shape: Shape, adversarial: bool) -> SearchStrategy[np.ndarray]:
    """One of W1 ... b3 drawn entry by entry; default weights are made live and get their rows capped."""
    drawn = _sparse_floats(shape, _parameter_bound(name, shape), adversarial)
    return drawn.map(default_weights) if name[0] == "W" and not adversarial else drawn


@lru_cache(maxsize=1024)
def parameter_set(sizes: LayerSizes, adversarial: bool) -> SearchStrategy[Parameters]:
    """W1 ... b3 for these sizes: one packed draw while all six fit in ARRAY_ENTRIES, else entry by entry."""
    shapes = _shapes(sizes)
    if room_count(shapes) > ARRAY_ENTRIES:
        return st.fixed_dictionaries(
            {
                name: _sparse_parameter(name, shape, adversarial)
                for name, shape in zip(PARAMETER_NAMES, shapes, strict=True)
            }
        )
    codec = values_codec(adversarial)
    layout = blocks(codec, shapes, shapes, _parameter_bounds(shapes))
    return codec.strategy(room_count(shapes)).map(partial(_packed_parameters, layout=layout, adversarial=adversarial))


def _case_rooms(largest: Largest) -> tuple[Shape, ...]:
    """Room for X, then W1, b1, W2, b2, W3, b3, at the largest sizes."""
    n0, n1, n2, n3, m = largest
    return ((n0, m), (n1, n0), (n1, 1), (n2, n1), (n2, 1), (n3, n2), (n3, 1))


@dataclass(frozen=True, eq=False)
class PackedLayout:
    """The slots of one packed draw: a room for X and for each parameter (``value_bytes`` in all), then the labels'
    ``label_bytes``, then any edge bytes; ``draws`` makes the whole value."""

    rooms: tuple[Shape, ...]
    value_bytes: int
    label_bytes: int
    draws: SearchStrategy[bytes]

    def split(self, raw: bytes) -> tuple[bytes, bytes, bytes]:
        """The values (X and the parameters), the labels and the edge bytes of one draw."""
        labels_end = self.value_bytes + self.label_bytes
        return raw[: self.value_bytes], raw[self.value_bytes : labels_end], raw[labels_end:]


@dataclass(frozen=True, eq=False)
class CaseLayout(PackedLayout):
    """A fixed slot for every entry a network_cases draw can need, all in one packed value: X and the
    parameters, then Y, then (default draws) the edge bytes.

    Shrinking a size then leaves the other entries' values where they were, which is what lets a
    failing case shrink all the way to the smallest network.
    """

    largest: Largest
    adversarial: bool


def case_bytes(largest: Largest, adversarial: bool) -> int:
    """How many bytes the packed X, Y and parameters of a case at the largest sizes take."""
    n3, m = largest[3], largest[4]
    return room_count(_case_rooms(largest)) * values_codec(adversarial).width + n3 * m * LABELS.width


@lru_cache(maxsize=256)
def case_layout(largest: Largest, adversarial: bool) -> CaseLayout | None:
    """The slot layout for these largest sizes, or None when the case is over :data:`CASE_BYTES`."""
    if case_bytes(largest, adversarial) > CASE_BYTES:
        return None
    rooms = _case_rooms(largest)
    value_bytes = room_count(rooms) * values_codec(adversarial).width
    label_bytes = largest[3] * largest[4] * LABELS.width
    # One choice for the whole case: two binary choices of one case would share Hypothesis's span
    # label, and its mutator would copy one onto the other, which gives the same case again and again.
    total = value_bytes + label_bytes + (0 if adversarial else EDGE_BYTES)
    draws = st.binary(min_size=total, max_size=total)
    return CaseLayout(rooms, value_bytes, label_bytes, draws, largest=largest, adversarial=adversarial)


@lru_cache(maxsize=4096)
def _case_blocks(layout: CaseLayout, sizes: LayerSizes, m: int) -> tuple[Blocks, Blocks]:
    """Where X and the parameters, and where Y, of a case of these sizes sit in the layout's slots."""
    parameters = _shapes(sizes)
    values = blocks(
        values_codec(layout.adversarial),
        layout.rooms,
        ((sizes.n0, m), *parameters),
        (INPUT_BOUND, *_parameter_bounds(parameters)),
    )
    labels = blocks(LABELS, ((layout.largest[3], layout.largest[4]),), ((sizes.n3, m),), (0.0,))
    return values, labels


def _unpack_case(layout: CaseLayout, sizes: LayerSizes, m: int, values: bytes, labels: bytes) -> NetworkCase:
    """The case of these sizes held in the layout's slots."""
    value_blocks, label_blocks = _case_blocks(layout, sizes, m)
    X, *parameters = value_blocks.decode(values)
    (Y,) = label_blocks.decode(labels)
    return NetworkCase(sizes, X, Y, _named_parameters(parameters, layout.adversarial))


@st.composite
def cases(
    draw: st.DrawFn,
    sizes_strategy: SearchStrategy[LayerSizes],
    batch_strategy: SearchStrategy[int],
    adversarial: bool,
    layout: CaseLayout | None,
) -> NetworkCase:
    """Draw sizes, then m, then arrays of those shapes: from the layout's slots, or array by array.

    A default case is then made live and may get an edge case planted (:mod:`strategies._liveness`).
    """
    sizes = draw(sizes_strategy)
    m = draw(batch_strategy)
    if layout is not None:
        values, labels, edge = layout.split(draw(layout.draws))
        case = _unpack_case(layout, sizes, m, values, labels)
    else:
        X = draw(float_array((sizes.n0, m), INPUT_BOUND, adversarial))
        Y = draw(label_array((sizes.n3, m)))
        case = NetworkCase(sizes, X, Y, draw(parameter_set(sizes, adversarial)))
        edge = b"" if adversarial else draw(_EDGES)
    return case if adversarial else live_case(case, edge)
