"""Hypothesis strategies for any hand-written layer described by a gufunc-style signature.

:func:`dimension_sizes` draws one size per named dim of a :class:`~gradharness.model.signature.LayerSignature`;
:func:`signature_cases` then draws the input arrays of those shapes and the upstream gradient ``dout``.

Default arrays are packed draws (:mod:`strategies._packing`, the :data:`~strategies._packing.BOUNDED`
codec): multiples of 1e-4 in [-2, 2], so a printed case is the case. While the largest case fits
``CASE_BYTES``, every array has a fixed room in one packed value, sized for ``max_size`` in every dim,
and takes the leading corner of it: shrinking a size then leaves the entries that stay where they were.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra.numpy import arrays as numpy_arrays
from hypothesis.strategies import SearchStrategy

from gradharness.model.signature import LayerSignature, Shape, SignatureCase, parse_signature, shapes_for
from strategies._deep_draws import nonzero
from strategies._draws import CASE_BYTES, INPUT_BOUND
from strategies._packing import BOUNDED
from strategies._validation import check_at_least, check_integer, check_order

__all__ = ["dimension_sizes", "fitting_max_size", "signature_cases"]

DOUT_BOUND = 1.0
"""A drawn ``dout`` lies in [-DOUT_BOUND, DOUT_BOUND] and is never 0.0."""
MAX_CASE_ENTRIES = 2048
"""The largest case (every named dim at ``max_size``) has at most this many entries, dout included; more
would overrun Hypothesis's buffer of 8 KiB a test case."""


def _signature(signature: object) -> LayerSignature:
    """The signature argument: a LayerSignature, or text parsed into one."""
    if isinstance(signature, LayerSignature):
        return signature
    if isinstance(signature, str):
        try:
            return parse_signature(signature)
        except ValueError as error:
            raise InvalidArgument(f"signature={signature!r}: {error}") from error
    raise InvalidArgument(f"signature must be a LayerSignature or its text, got {signature!r}")


def _checked_range(min_size: object, max_size: object) -> tuple[int, int]:
    low = check_at_least("min_size", min_size, 1)
    high = check_integer("max_size", max_size)
    check_order("min_size", low, "max_size", high)
    return low, high


def _sizes(signature: LayerSignature, low: int, high: int) -> SearchStrategy[dict[str, int]]:
    """The sizes drawn in the order of ``signature.dims`` and returned as a dict in that order."""
    names = signature.dims
    size = st.integers(min_value=low, max_value=high)
    return st.tuples(*(size for _ in names)).map(lambda drawn: dict(zip(names, drawn, strict=True)))


def dimension_sizes(
    signature: LayerSignature | str, *, min_size: int = 1, max_size: int = 5
) -> SearchStrategy[dict[str, int]]:
    """One size per named dim of ``signature``: a shared name has one size wherever it appears.

    - ``signature``: a :class:`~gradharness.model.signature.LayerSignature` or its text, e.g.
      ``"(N,D),(D,M),(M)->(N,M)"``. Fixed integer dims are kept as they are and get no entry.
    - ``min_size=1``: the smallest drawn size; at least 1.
    - ``max_size=5``: the largest drawn size; at least ``min_size``.

    Example::

        @given(dimension_sizes("(N,D),(D,M),(M)->(N,M)", max_size=3))
        def test_sizes(sizes): assert set(sizes) == {"N", "D", "M"}

    Examples shrink towards every size ``min_size``.
    """
    parsed = _signature(signature)
    low, high = _checked_range(min_size, max_size)
    return _sizes(parsed, low, high)


@dataclass(frozen=True)
class _Layout:
    """Where each array (the inputs, then dout unless the signature is a loss) sits in the packed value."""

    rooms: tuple[Shape, ...]
    starts: tuple[int, ...]
    total: int | None  # fields of the one packed value; None: each array is its own packed draw


def _entries(shape: Shape) -> int:
    return math.prod(shape)


@lru_cache(maxsize=256)
def _layout(signature: LayerSignature, high: int) -> _Layout:
    """The rooms: every array's shape with each named dim at ``high``; one packed value while they fit CASE_BYTES."""
    inputs, output = shapes_for(signature, dict.fromkeys(signature.dims, high))
    rooms = inputs if signature.is_loss else (*inputs, output)
    counts = [_entries(room) for room in rooms]
    if sum(counts) > MAX_CASE_ENTRIES:
        raise InvalidArgument(
            f"signature {str(signature)!r} with max_size={high} has cases of up to {sum(counts)} entries; "
            f"the most is {MAX_CASE_ENTRIES}: lower max_size"
        )
    starts = tuple(int(start) for start in np.cumsum([0, *counts[:-1]]))
    fits = sum(counts) * BOUNDED.width <= CASE_BYTES
    return _Layout(tuple(rooms), starts, sum(counts) if fits else None)


def fitting_max_size(signature: LayerSignature | str, max_size: int) -> int:
    """The largest size up to ``max_size`` whose largest case (every named dim at that size) can be drawn (at most
    MAX_CASE_ENTRIES entries); at least 1, which a signature of fixed dims too large fails at anyway."""
    parsed = _signature(signature)
    size = max(1, int(max_size))
    while size > 1:
        inputs, output = shapes_for(parsed, dict.fromkeys(parsed.dims, size))
        if sum(_entries(shape) for shape in (*inputs, output)) <= MAX_CASE_ENTRIES:
            break
        size -= 1
    return size


@lru_cache(maxsize=4096)
def _corner(room: Shape, shape: Shape, start: int) -> np.ndarray:
    """The fields of an array of ``shape`` in the leading corner of its ``room`` (row-major), from ``start``."""
    fields = start + np.arange(_entries(room)).reshape(room)[tuple(slice(0, size) for size in shape)].ravel()
    fields.setflags(write=False)  # cached and shared by every draw
    return fields


@lru_cache(maxsize=1024)
def _packed_values(count: int) -> SearchStrategy[bytes]:
    """``count`` BOUNDED fields as one bytes value (one strategy object per count)."""
    return BOUNDED.strategy(count)


def _bounded(fields: np.ndarray, shape: Shape, bound: float) -> np.ndarray:
    return BOUNDED.decode(fields, BOUNDED.grid(bound)).reshape(shape)


def _not_all_zero(array: np.ndarray) -> np.ndarray:
    """An all-zero array reads 1.0 in its first entry: every input then moves the output somewhere."""
    if array.any():
        return array
    repaired = array.copy()
    repaired.reshape(-1)[0] = 1.0
    return repaired


def _packed(draw: st.DrawFn, layout: _Layout, shapes: tuple[Shape, ...], bounds: tuple[float, ...]) -> list:
    """The arrays of ``shapes`` from packed draws: one value with a room each, or one value per array."""
    if layout.total is not None:
        fields = BOUNDED.fields(draw(_packed_values(layout.total)))
        places = zip(layout.rooms, layout.starts, shapes, bounds, strict=True)
        return [_bounded(fields[_corner(room, shape, start)], shape, bound) for room, start, shape, bound in places]
    return [_single(draw, shape, bound) for shape, bound in zip(shapes, bounds, strict=True)]


def _single(draw: st.DrawFn, shape: Shape, bound: float) -> np.ndarray:
    """One array of ``shape`` from a packed value of its own."""
    return _bounded(BOUNDED.fields(draw(_packed_values(_entries(shape)))), shape, bound)


@lru_cache(maxsize=256)
def _custom(elements: SearchStrategy[float], shape: Shape) -> SearchStrategy[np.ndarray]:
    """An array of user-drawn elements, entry by entry; non-finite and all-zero arrays are filtered out."""
    drawn = numpy_arrays(np.float64, shape, elements=elements, fill=st.nothing())
    return drawn.filter(lambda array: bool(np.isfinite(array).all() and array.any()))


@st.composite
def _case_draws(
    draw: st.DrawFn, signature: LayerSignature, low: int, high: int, elements: SearchStrategy[float] | None
) -> SignatureCase:
    """Sizes first, then the input arrays and dout of those shapes."""
    sizes = draw(_sizes(signature, low, high))
    inputs, output = shapes_for(signature, sizes)
    if elements is None:
        shapes = inputs if signature.is_loss else (*inputs, output)
        bounds = (INPUT_BOUND,) * len(inputs) + (() if signature.is_loss else (DOUT_BOUND,))
        packed = _packed(draw, _layout(signature, high), shapes, bounds)
        arrays = [_not_all_zero(array) for array in packed[: len(inputs)]]
        dout = np.array(1.0) if signature.is_loss else nonzero(packed[-1])
    else:
        arrays = [draw(_custom(elements, shape)) for shape in inputs]
        dout = np.array(1.0) if signature.is_loss else nonzero(_single(draw, output, DOUT_BOUND))
    return SignatureCase(signature, sizes, tuple(arrays), dout)


def signature_cases(
    signature: LayerSignature | str,
    *,
    min_size: int = 1,
    max_size: int = 5,
    elements: SearchStrategy[float] | None = None,
) -> SearchStrategy[SignatureCase]:
    """One call of a layer with this signature: the dim sizes, then each input array, then ``dout``.

    - ``signature``, ``min_size=1``, ``max_size=5``: the dim sizes, as in :func:`dimension_sizes`. The
      largest case (every named dim at ``max_size``) has at most 2048 entries, dout included.
    - ``elements=None``: a strategy of floats for the inputs' entries, drawn entry by entry (arrays
      with a non-finite or only zero entries are filtered out). By default entries are multiples of
      1e-4 in [-2, 2] and an array drawn all zero reads 1.0 in its first entry.

    Every array is float64 of the shape :func:`~gradharness.model.signature.shapes_for` gives. ``dout``
    has the output's shape, with entries multiples of 1e-4 in [-1, 1], never 0.0 (a 0.0 reads as 1.0);
    for a loss signature (output ``()``) it is the scalar 1.0.

    Example::

        @given(signature_cases("(N,D),(D,M),(M)->(N,M)"))
        def test_affine_backward(case):
            x, w, b = case.copy_arrays()
            dx, dw, db = affine_backward(case.dout, affine_forward(x, w, b)[1])

    Examples shrink towards every size ``min_size`` and, with the default elements, towards inputs
    that are 1.0 in their first entry and 0.0 elsewhere and a ``dout`` of ones. While the largest case
    packs into 2048 bytes, shrinking a size keeps the values of the entries that remain.
    """
    parsed = _signature(signature)
    low, high = _checked_range(min_size, max_size)
    if elements is not None and not isinstance(elements, SearchStrategy):
        raise InvalidArgument(f"elements must be a strategy of floats or None, got {elements!r}")
    _layout(parsed, high)  # raises InvalidArgument now for a case too large to draw
    return _case_draws(parsed, low, high, elements)
