"""Hypothesis strategies for the 3-layer network: sizes, batch sizes, X, Y and parameters.

The network is LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID with layer sizes
n0-n1-n2-n3 and m examples, as in :mod:`gradharness.model.network`. Default draws are
realistic, well-scaled networks whose reference cost is always finite;
``adversarial=True`` draws stress cases (exact zeros, tiny and large values).

Speed: an array of up to 256 entries is one Hypothesis choice (an integer whose
fields decode to multiples of RESOLUTION = 1e-4, plus exact +-1 and +-1e-8 in
adversarial draws) instead of one choice per entry; ``network_cases`` gives every
entry a fixed slot, so shrinking one size leaves the other entries' values in
place. Larger arrays use ``hypothesis.extra.numpy.arrays``.
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
from gradharness.model.parameters import LayerSizes, Parameters, parameter_shapes
from strategies._validation import (
    check_at_least,
    check_flag,
    check_instance,
    check_integer,
    check_optional_size,
    check_order,
)

__all__ = [
    "batch_sizes",
    "inputs",
    "labels",
    "layer_sizes",
    "network_cases",
    "parameters",
]

INPUT_BOUND = 2.0
"""Default inputs lie in [-INPUT_BOUND, INPUT_BOUND]."""
BIAS_BOUND = 1.0
"""Default biases lie in [-BIAS_BOUND, BIAS_BOUND]."""
WEIGHT_SCALE = 1.5
"""Default weights lie in +-WEIGHT_SCALE / sqrt(fan_in)."""
ROW_SUM_CAP = 2.0
"""Default weight rows are scaled down so that sum(|W[i, :]|) <= ROW_SUM_CAP."""
TINY = 1e-8
"""Tiny magnitude mixed into adversarial draws."""
LARGE_BOUND = 100.0
"""Adversarial values reach +-LARGE_BOUND."""


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


RESOLUTION = 1e-4
"""Densely drawn arrays hold multiples of RESOLUTION (and, adversarially, exact +-1 and +-TINY)."""
_DENSE_LIMIT = 256
"""Arrays with at most this many entries are drawn as one integer choice (fast to generate and to
shrink); larger ones fall back to Hypothesis's sparse ``arrays`` draw, one choice per drawn entry."""
_DENSE_BYTES = 2048
"""network_cases draws its arrays densely while they take at most this many bytes (Hypothesis
allows 8 KiB of choices per example)."""


def _grid_size(bound: float) -> int:
    """Largest k with k * RESOLUTION <= bound."""
    k = int(math.floor(bound / RESOLUTION))
    while k > 0 and k / 10_000 > bound:
        k -= 1
    return k


def _decode_bounded(fields: np.ndarray, bound: float | np.ndarray) -> np.ndarray:
    """16-bit fields -> multiples of RESOLUTION in [-bound, bound]: bit 0 is the sign, the rest the size.

    A zero field is 0.0 and smaller fields give smaller magnitudes, so shrinking the
    integer shrinks the array towards zeros. ``bound``: a float, or grid sizes per field.
    """
    grid = _grid_size(bound) if isinstance(bound, float) else bound
    fields = fields.astype(np.int64)
    magnitude = (fields >> 1) % (grid + 1)
    return (magnitude * (1 - 2 * (fields & 1))) / 10_000.0


def _decode_adversarial(fields: np.ndarray, bound: float | np.ndarray) -> np.ndarray:
    """32-bit fields -> the adversarial mixture: bits 0-2 pick 0.0, +-1, +-TINY, ordinary or large;
    bit 3 is the sign; the rest the size. A zero field is 0.0. ``bound`` as in :func:`_decode_bounded`."""
    grid = _grid_size(bound) if isinstance(bound, float) else bound
    fields = fields.astype(np.int64)
    kind = (fields & 7) % 5
    sign = 1 - 2 * ((fields >> 3) & 1)
    size = fields >> 4
    ordinary = (size % (grid + 1)) / 10_000.0
    large = (size % (_grid_size(LARGE_BOUND) + 1)) / 10_000.0
    value = np.select([kind == 1, kind == 2, kind == 3, kind == 4], [1.0, TINY, ordinary, large], 0.0)
    return value * sign + 0.0  # + 0.0 turns -0.0 into 0.0


def _unpack(packed: int, shape: tuple[int, int], bits: int, decode) -> np.ndarray:
    size = shape[0] * shape[1]
    raw = _low_bytes(packed, -(-size * bits // 8))
    if bits == 1:
        fields = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), count=size, bitorder="little")
    else:
        fields = np.frombuffer(raw, dtype=f"<u{bits // 8}")
    return np.ascontiguousarray(decode(fields), dtype=np.float64).reshape(shape)


def _packed_array(shape: tuple[int, int], bits: int, decode) -> SearchStrategy[np.ndarray]:
    """An array drawn as one integer of ``bits`` per entry, decoded by ``decode``; shrinks towards 0."""
    padded = -(-shape[0] * shape[1] * bits // 8) * 8  # whole bytes
    return _uniform_integers(padded).map(partial(_unpack, shape=shape, bits=bits, decode=decode))


@lru_cache(maxsize=1024)
def _float_array(shape: tuple[int, int], bound: float, adversarial: bool) -> SearchStrategy[np.ndarray]:
    """(rows, cols) floats in [-bound, bound] (no subnormals), or the adversarial mixture; shrinks to zeros."""
    if shape[0] * shape[1] <= _DENSE_LIMIT:
        if adversarial:
            return _packed_array(shape, 32, partial(_decode_adversarial, bound=bound))
        return _packed_array(shape, 16, partial(_decode_bounded, bound=bound))
    elements = _adversarial_floats(bound) if adversarial else _bounded_floats(bound)
    return arrays(np.float64, shape, elements=elements)


@lru_cache(maxsize=1024)
def _label_array(shape: tuple[int, int]) -> SearchStrategy[np.ndarray]:
    """(rows, cols) exact 0.0/1.0; shrinks to zeros."""
    if shape[0] * shape[1] <= _DENSE_LIMIT:
        return _packed_array(shape, 1, lambda bits: bits.astype(np.float64))
    return arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0]))


def _unpack_parameters(
    packed: int, shapes: tuple[tuple[str, tuple[int, int]], ...], bits: int, adversarial: bool
) -> Parameters:
    """Six parameter arrays out of one integer: consecutive fields, W1 first."""
    total = sum(rows * cols for _, (rows, cols) in shapes)
    fields = np.frombuffer(_low_bytes(packed, total * bits // 8), dtype=f"<u{bits // 8}")
    out = {}
    start = 0
    for name, (rows, cols) in shapes:
        bound = WEIGHT_SCALE / math.sqrt(cols) if name.startswith("W") else BIAS_BOUND
        chunk = fields[start : start + rows * cols]
        start += rows * cols
        if adversarial:
            out[name] = _decode_adversarial(chunk, bound).reshape(rows, cols)
        else:
            values = _decode_bounded(chunk, bound).reshape(rows, cols)
            out[name] = _cap_row_sums(values) if name.startswith("W") else values
    return out


_UNIFORM_BITS = 1088
"""Hypothesis draws bounded integers below ~2**1024 from a distribution that favours small values
(most high fields would be 0); wider ranges are drawn uniformly, so packed arrays are at least this wide."""


def _uniform_integers(bits: int) -> SearchStrategy[int]:
    """Integers of at least ``bits`` uniform random bits (only the low ``bits`` are decoded); shrink towards 0."""
    return st.integers(min_value=0, max_value=(1 << max(bits, _UNIFORM_BITS)) - 1)


def _low_bytes(packed: int, count: int) -> bytes:
    """The low ``count`` bytes of ``packed``, little-endian."""
    return (packed & ((1 << (8 * count)) - 1)).to_bytes(count, "little")


def _cap_row_sums(W: np.ndarray) -> np.ndarray:
    """Scale each row of W down so that its absolute sum is at most ROW_SUM_CAP.

    Subnormals the scaling may create are flushed to 0.0.
    """
    row_sums = np.sum(np.abs(W), axis=1, keepdims=True)
    scale = np.where(row_sums > ROW_SUM_CAP, ROW_SUM_CAP / np.maximum(row_sums, ROW_SUM_CAP), 1.0)
    capped = W * scale
    capped[np.abs(capped) < np.finfo(np.float64).tiny] = 0.0
    return capped


@lru_cache(maxsize=1024)
def _weights(rows: int, fan_in: int, adversarial: bool) -> SearchStrategy[np.ndarray]:
    """A (rows, fan_in) weight matrix; see :func:`parameters` for the bounds."""
    bound = WEIGHT_SCALE / math.sqrt(fan_in)
    if adversarial:
        return _float_array((rows, fan_in), bound, True)
    return _float_array((rows, fan_in), bound, False).map(_cap_row_sums)


def _biases(rows: int, adversarial: bool) -> SearchStrategy[np.ndarray]:
    """A (rows, 1) bias column; see :func:`parameters` for the bounds."""
    return _float_array((rows, 1), BIAS_BOUND, adversarial)


def _size(fixed: int | None, low: int, high: int) -> SearchStrategy[int]:
    """A fixed size, or a drawn one in [low, high]."""
    return st.just(fixed) if fixed is not None else st.integers(min_value=low, max_value=high)


def layer_sizes(
    *,
    min_units: int = 1,
    max_units: int = 6,
    n0: int | None = None,
    n1: int | None = None,
    n2: int | None = None,
    n3: int | None = None,
    max_output_units: int | None = None,
) -> SearchStrategy[LayerSizes]:
    """Layer sizes n0-n1-n2-n3, each drawn independently (the output layer included).

    - ``min_units=1``: smallest drawn size of every layer; at least 1.
    - ``max_units=6``: largest drawn size of n0, n1, n2 (and of n3 unless
      ``max_output_units`` is given); at least ``min_units``.
    - ``n0=None``, ``n1=None``, ``n2=None``, ``n3=None``: an integer fixes that
      size. A fixed size overrides the ``min_units``..``max_units`` range but
      must be at least 1.
    - ``max_output_units=None``: largest drawn n3; ``None`` means ``max_units``.
      At least ``min_units`` when n3 is drawn.

    Example::

        @given(layer_sizes(n0=4, max_units=3))
        def test_sizes(sizes): assert sizes.n0 == 4 and sizes.n1 <= 3

    Examples shrink towards ``min_units`` in every drawn layer: 1-1-1-1 by default.
    """
    low = check_at_least("min_units", min_units, 1)
    high = check_integer("max_units", max_units)
    check_order("min_units", low, "max_units", high)
    fixed = {name: check_optional_size(name, value) for name, value in (("n0", n0), ("n1", n1), ("n2", n2), ("n3", n3))}
    output_high = high
    if max_output_units is not None:
        output_high = check_at_least("max_output_units", max_output_units, 1)
        if fixed["n3"] is None:
            check_order("min_units", low, "max_output_units", output_high)
    return st.builds(
        LayerSizes,
        n0=_size(fixed["n0"], low, high),
        n1=_size(fixed["n1"], low, high),
        n2=_size(fixed["n2"], low, high),
        n3=_size(fixed["n3"], low, output_high),
    )


def batch_sizes(*, min_size: int = 1, max_size: int = 8) -> SearchStrategy[int]:
    """The batch size m (number of examples, the columns of X and Y).

    - ``min_size=1``: smallest m; at least 1, so m = 1 is reachable by default.
    - ``max_size=8``: largest m; at least ``min_size``.

    Example::

        @given(batch_sizes(max_size=3))
        def test_m(m): assert 1 <= m <= 3

    Examples shrink towards ``min_size``.
    """
    low = check_at_least("min_size", min_size, 1)
    high = check_integer("max_size", max_size)
    check_order("min_size", low, "max_size", high)
    return st.integers(min_value=low, max_value=high)


def inputs(n0: int, m: int, *, adversarial: bool = False) -> SearchStrategy[np.ndarray]:
    """Inputs X, a float64 array of shape (n0, m).

    - ``n0``: number of input units (rows); at least 1.
    - ``m``: number of examples (columns); at least 1.
    - ``adversarial=False``: by default finite floats in [-2, 2], no subnormals.
      With ``True`` the entries mix exact 0.0, +-1.0, +-1e-8, floats in [-2, 2]
      and floats in [-100, 100] (still finite, no subnormals).

    Example::

        @given(inputs(4, 3))
        def test_x(X): assert X.shape == (4, 3)

    Examples shrink towards all zeros.
    """
    rows = check_at_least("n0", n0, 1)
    cols = check_at_least("m", m, 1)
    adversarial = check_flag("adversarial", adversarial)
    return _float_array((rows, cols), INPUT_BOUND, adversarial)


def labels(n3: int, m: int) -> SearchStrategy[np.ndarray]:
    """Labels Y, a float64 array of shape (n3, m) holding exactly 0.0 or 1.0.

    - ``n3``: number of output units (rows); at least 1.
    - ``m``: number of examples (columns); at least 1.

    Example::

        @given(labels(2, 5))
        def test_y(Y): assert set(Y.ravel()) <= {0.0, 1.0}

    Examples shrink towards all zeros.
    """
    rows = check_at_least("n3", n3, 1)
    cols = check_at_least("m", m, 1)
    return _label_array((rows, cols))


def parameters(sizes: LayerSizes, *, adversarial: bool = False) -> SearchStrategy[Parameters]:
    """Parameters W1 (n1, n0), b1 (n1, 1), W2 (n2, n1), b2 (n2, 1), W3 (n3, n2), b3 (n3, 1).

    - ``sizes``: the :class:`~gradharness.model.parameters.LayerSizes` to draw for.
    - ``adversarial=False``: by default a realistic, well-scaled network: each
      weight lies in +-1.5/sqrt(fan_in) and any row whose absolute sum exceeds 2
      is scaled down to 2; biases lie in [-1, 1]. With inputs in [-2, 2] this
      bounds |Z1| <= 5, |Z2| <= 11 and |Z3| <= 23, so the reference cost
      (:func:`gradharness.model.network.forward_propagation_n`) is always finite and
      the sigmoid seldom saturates. With ``True`` every entry mixes exact 0.0,
      +-1.0, +-1e-8, ordinary values and values up to +-100: ReLU kinks (Z = 0)
      and sigmoid outputs that round to exactly 0.0 or 1.0.

    Example::

        @given(parameters(LayerSizes(4, 5, 3, 1)))
        def test_w(p): assert p["W2"].shape == (3, 5)

    Examples shrink towards all-zero parameters.
    """
    check_instance("sizes", sizes, LayerSizes)
    adversarial = check_flag("adversarial", adversarial)
    return _parameters(sizes, adversarial)


@lru_cache(maxsize=1024)
def _parameters(sizes: LayerSizes, adversarial: bool) -> SearchStrategy[Parameters]:
    """:func:`parameters` without the argument checks (cached: one strategy object per shape).

    Small networks draw all six arrays as one integer choice, decoded block by block.
    """
    shapes = parameter_shapes(sizes)
    if sum(rows * cols for rows, cols in shapes.values()) <= _DENSE_LIMIT:
        bits = 32 if adversarial else 16
        total = sum(rows * cols for rows, cols in shapes.values())
        return _uniform_integers(total * bits).map(
            partial(_unpack_parameters, shapes=tuple(shapes.items()), bits=bits, adversarial=adversarial)
        )
    return st.fixed_dictionaries(
        {
            name: _weights(rows, cols, adversarial) if name.startswith("W") else _biases(rows, adversarial)
            for name, (rows, cols) in parameter_shapes(sizes).items()
        }
    )


def network_cases(
    *,
    min_units: int = 1,
    max_units: int = 6,
    n0: int | None = None,
    n1: int | None = None,
    n2: int | None = None,
    n3: int | None = None,
    max_output_units: int | None = None,
    min_batch: int = 1,
    max_batch: int = 8,
    batch_size: int | None = None,
    adversarial: bool = False,
) -> SearchStrategy[NetworkCase]:
    """Whole test cases: sizes, then m, then X, Y and parameters of those sizes.

    - ``min_units=1``, ``max_units=6``, ``n0=None``, ``n1=None``, ``n2=None``,
      ``n3=None``, ``max_output_units=None``: the layer sizes, as in
      :func:`layer_sizes`.
    - ``min_batch=1``: smallest batch size m; at least 1.
    - ``max_batch=8``: largest batch size m; at least ``min_batch``.
    - ``batch_size=None``: an integer >= 1 fixes m (overriding the range).
    - ``adversarial=False``: stress draws for X and the parameters, as in
      :func:`inputs` and :func:`parameters`. Y is always exact 0/1.

    Example::

        @given(network_cases(n3=1, max_batch=4))
        def test_gradients(case):
            cost, cache = forward_propagation_n(case.X, case.Y, case.parameters)

    Examples shrink towards the 1-1-1-1 network (``min_units`` everywhere) with
    m = ``min_batch``, all-zero X, Y and parameters.
    """
    sizes = layer_sizes(
        min_units=min_units,
        max_units=max_units,
        n0=n0,
        n1=n1,
        n2=n2,
        n3=n3,
        max_output_units=max_output_units,
    )
    low = check_at_least("min_batch", min_batch, 1)
    high = check_integer("max_batch", max_batch)
    check_order("min_batch", low, "max_batch", high)
    fixed_m = check_optional_size("batch_size", batch_size)
    batches = st.just(fixed_m) if fixed_m is not None else batch_sizes(min_size=low, max_size=high)
    adversarial = check_flag("adversarial", adversarial)
    largest = (
        n0 if n0 is not None else max_units,
        n1 if n1 is not None else max_units,
        n2 if n2 is not None else max_units,
        n3 if n3 is not None else (max_output_units if max_output_units is not None else max_units),
        fixed_m if fixed_m is not None else high,
    )
    return _network_cases(sizes, batches, adversarial, _slots(largest, adversarial))


@dataclass(frozen=True)
class _Slots:
    """Every entry a network_cases draw can need has a fixed place in one integer per array kind.

    Shrinking a size then leaves the other entries' values where they were, which is what lets a
    failing case shrink all the way to the smallest network; and each kind is one choice to draw.
    """

    largest: tuple[int, int, int, int, int]  # n0, n1, n2, n3, m
    bits: int
    inputs: SearchStrategy[int]
    labels: SearchStrategy[int]
    parameters: SearchStrategy[int]

    def fields(self, packed: int, shape: tuple[int, int], bits: int) -> np.ndarray:
        count = shape[0] * shape[1]
        raw = _low_bytes(packed, -(-count * bits // 8))
        if bits == 1:
            flat = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), count=count, bitorder="little")
        else:
            flat = np.frombuffer(raw, dtype=f"<u{bits // 8}")
        return flat.reshape(shape)

    def decode(self, fields: np.ndarray, bound: float | np.ndarray, adversarial: bool) -> np.ndarray:
        values = _decode_adversarial(fields, bound) if adversarial else _decode_bounded(fields, bound)
        return np.ascontiguousarray(values, dtype=np.float64).reshape(fields.shape)


def _integer_of(fields: int, bits: int) -> SearchStrategy[int]:
    return _uniform_integers(-(-fields * bits // 8) * 8)


@lru_cache(maxsize=256)
def _slots(largest: tuple[int, int, int, int, int], adversarial: bool) -> _Slots | None:
    """The slot layout for these largest sizes, or None when the arrays are too big to draw densely."""
    n0, n1, n2, n3, m = largest
    bits = 32 if adversarial else 16
    weights = n1 * n0 + n1 + n2 * n1 + n2 + n3 * n2 + n3
    if (n0 * m + weights) * bits // 8 + n3 * m // 8 > _DENSE_BYTES:
        return None
    return _Slots(largest, bits, _integer_of(n0 * m, bits), _integer_of(n3 * m, 1), _integer_of(weights, bits))


@st.composite
def _network_cases(
    draw: st.DrawFn,
    sizes_strategy: SearchStrategy[LayerSizes],
    batch_strategy: SearchStrategy[int],
    adversarial: bool,
    slots: _Slots | None,
) -> NetworkCase:
    """Draw sizes, then m, then arrays of those shapes (arguments already validated)."""
    sizes = draw(sizes_strategy)
    m = draw(batch_strategy)
    if slots is None:
        # The cached builders skip re-validating a new strategy object for every case.
        X = draw(_float_array((sizes.n0, m), INPUT_BOUND, adversarial))
        Y = draw(_label_array((sizes.n3, m)))
        return NetworkCase(sizes, X, Y, draw(_parameters(sizes, adversarial)))
    N0, N1, N2, N3, M = slots.largest
    bits = slots.bits
    X = slots.decode(slots.fields(draw(slots.inputs), (N0, M), bits)[: sizes.n0, :m], INPUT_BOUND, adversarial)
    Y = slots.fields(draw(slots.labels), (N3, M), 1)[: sizes.n3, :m].astype(np.float64)
    packed = slots.fields(draw(slots.parameters), (N1 * N0 + N1 + N2 * N1 + N2 + N3 * N2 + N3, 1), bits)[:, 0]
    where, grids, shapes = _parameter_slots(slots.largest, sizes)
    flat = slots.decode(packed[where], grids, adversarial)
    drawn: Parameters = {}
    start = 0
    for name, (rows, cols) in shapes:
        values = flat[start : start + rows * cols].reshape(rows, cols)
        start += rows * cols
        drawn[name] = _cap_row_sums(values) if name[0] == "W" and not adversarial else values
    return NetworkCase(sizes, X, Y, drawn)


@lru_cache(maxsize=4096)
def _parameter_slots(
    largest: tuple[int, int, int, int, int], sizes: LayerSizes
) -> tuple[np.ndarray, np.ndarray, tuple[tuple[str, tuple[int, int]], ...]]:
    """For one network size: which slots hold W1 ... b3 (in order), each entry's grid size, and the shapes."""
    N0, N1, N2, N3, _ = largest
    where, grids = [], []
    start = 0
    shapes = tuple(parameter_shapes(sizes).items())
    for (name, (rows, cols)), (most_rows, most_cols) in zip(
        shapes, ((N1, N0), (N1, 1), (N2, N1), (N2, 1), (N3, N2), (N3, 1)), strict=True
    ):
        slots = np.arange(start, start + most_rows * most_cols).reshape(most_rows, most_cols)[:rows, :cols]
        start += most_rows * most_cols
        where.append(slots.reshape(-1))
        bound = WEIGHT_SCALE / math.sqrt(cols) if name[0] == "W" else BIAS_BOUND
        grids.append(np.full(rows * cols, _grid_size(bound)))
    return np.concatenate(where), np.concatenate(grids), shapes
