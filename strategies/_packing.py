"""The codec behind the dense draws: arrays packed into one Hypothesis ``binary`` value.

n entries of ``width`` bytes are drawn as ``st.binary(min_size=n * width, max_size=n * width)``:
one choice, whatever n is, instead of one per entry. The bytes are read as one big-endian unsigned
integer whose field i (bits ``8 * width * i`` and up) is entry i, so entry 0 sits in the last bytes.
Three codecs turn fields into values:

- :data:`BOUNDED` (2 bytes): a multiple of :data:`RESOLUTION` in [-bound, bound];
- :data:`ADVERSARIAL` (4 bytes): exact 0.0, +-1.0, +-:data:`TINY`, a multiple of RESOLUTION in
  [-bound, bound] or one in [-LARGE_BOUND, LARGE_BOUND];
- :data:`LABELS` (1 byte): exact 0.0 or 1.0.

Shrinking. Hypothesis documents that ``binary`` examples shrink towards lower byte values, and it
lowers earlier bytes first (tests/test_packing.py checks what that gives). Here that makes the
packed integer smaller: later entries go to zero before earlier ones, so the values a failure needs
end up in the first entries of each block, the ones a smaller size keeps. Every decoder sends the
zero field to 0.0 and is monotone: a smaller field never decodes to a later kind (adversarial
fields: 0.0, +-1, +-TINY, bounded, large, in that order) nor, within a kind, to a larger magnitude;
the sign is the lowest bit, so -x shrinks to +x. All-zero bytes decode to all-zero arrays.

Distribution. A field's level is scaled onto the grid (``level * (grid + 1) >> bits``), so uniformly
drawn bytes give every grid value almost the same chance, and every grid value is reachable.

Blocks. Several arrays can share one packed value, each in a fixed room (:func:`slot_indices`), so a
block that gets smaller moves no other block's entries. A block smaller than its room also folds the
rest of the room onto its entries (:class:`Blocks`): an entry whose own field is zero reads the next
nonzero field that folds onto it. Random fields are almost never zero, so this leaves draws as they
are; while shrinking, it carries a value the failure needs from a removed row into a kept one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

RESOLUTION = 1e-4
"""Bounded and large values are multiples of RESOLUTION (computed as level / 10_000)."""
_PER_UNIT = 10_000  # 1 / RESOLUTION as an exact integer: level / 10_000 is the double nearest level * 1e-4
TINY = 1e-8
"""Tiny magnitude mixed into adversarial draws."""
LARGE_BOUND = 100.0
"""Adversarial large values reach +-LARGE_BOUND."""

Shape = tuple[int, int]


def grid_size(bound: float) -> int:
    """Largest k with k * RESOLUTION <= bound: the number of nonzero magnitudes of one sign."""
    k = int(bound * _PER_UNIT)
    while k > 0 and k / _PER_UNIT > bound:
        k -= 1
    while (k + 1) / _PER_UNIT <= bound:
        k += 1
    return k


def _scale(levels: np.ndarray, bits: int, grid: int | np.ndarray) -> np.ndarray:
    """Levels in [0, 2**bits) onto [0, grid], monotone; 0 -> 0 and 2**bits - 1 -> grid."""
    return (levels * (np.asarray(grid, dtype=np.int64) + 1)) >> bits


def decode_bounded(fields: np.ndarray, grid: int | np.ndarray) -> np.ndarray:
    """16-bit fields -> multiples of RESOLUTION in [-grid, grid] * RESOLUTION.

    Bit 0 is the sign, bits 1-15 the level. ``grid``: one grid size, or one per field.
    """
    sign = 1 - 2 * (fields & 1)
    return (_scale(fields >> 1, 15, grid) * sign) / _PER_UNIT


_KINDS = 5  # 0.0, +-1, +-TINY, bounded, large: the first byte picks one, each with chance about 1/5
_LARGE_GRID = grid_size(LARGE_BOUND)


def decode_adversarial(fields: np.ndarray, grid: int | np.ndarray) -> np.ndarray:
    """32-bit fields -> the adversarial mixture; every kind has about the same chance.

    The top byte picks the kind (0.0, +-1, +-TINY, bounded by ``grid``, large), bits 1-23 are the
    level of a bounded or large value and bit 0 the sign. ``grid`` as in :func:`decode_bounded`.
    """
    kind = ((fields >> 24) * _KINDS) >> 8
    sign = 1 - 2 * (fields & 1)
    level = (fields >> 1) & ((1 << 23) - 1)
    bounded = _scale(level, 23, grid) / _PER_UNIT
    large = _scale(level, 23, _LARGE_GRID) / _PER_UNIT
    value = np.select([kind == 1, kind == 2, kind == 3, kind == 4], [1.0, TINY, bounded, large], 0.0)
    return value * sign + 0.0  # + 0.0 turns -0.0 into 0.0


def decode_labels(fields: np.ndarray, grid: int | np.ndarray = 0) -> np.ndarray:
    """8-bit fields -> 1.0 for 128 and above, else 0.0 (``grid`` is unused)."""
    return (fields >> 7).astype(np.float64)


def encode_bounded(values: np.ndarray, grid: int | np.ndarray) -> np.ndarray:
    """The smallest 16-bit fields that :func:`decode_bounded` turns into ``values`` (on the grid)."""
    magnitude = np.rint(np.abs(values) * _PER_UNIT).astype(np.int64)
    level = -((-magnitude << 15) // (np.asarray(grid, dtype=np.int64) + 1))  # ceil: the first level that scales to it
    return (level << 1) | (values < 0)


def encode_adversarial(values: np.ndarray, grid: int | np.ndarray) -> np.ndarray:
    """The smallest 32-bit fields that :func:`decode_adversarial` turns into ``values``.

    Each value takes the earliest kind that holds it: +-1.0 is kind 1 even where the bound holds it.
    """
    values = np.asarray(values, dtype=np.float64)
    grid = np.broadcast_to(np.asarray(grid, dtype=np.int64), values.shape)
    magnitude = np.rint(np.abs(values) * _PER_UNIT).astype(np.int64)
    earliest_kind = [values == 0.0, np.abs(values) == 1.0, np.abs(values) == TINY, magnitude <= grid]
    kind = np.select(earliest_kind, [0, 1, 2, 3], 4).astype(np.int64)
    room = np.where(kind == 3, grid, _LARGE_GRID) + 1
    level = np.where(kind >= 3, -((-magnitude << 23) // room), 0)
    top_byte = -((-kind << 8) // _KINDS)  # ceil: the first byte value that picks this kind
    sign = (values < 0) & (kind > 0)
    return (top_byte << 24) | (level << 1) | sign.astype(np.int64)


def encode_labels(values: np.ndarray, grid: int | np.ndarray = 0) -> np.ndarray:
    """The smallest 8-bit fields that :func:`decode_labels` turns into ``values`` (0.0 or 1.0)."""
    return np.where(np.asarray(values) == 1.0, 128, 0).astype(np.int64)


@dataclass(frozen=True)
class Codec:
    """One field layout: ``width`` bytes per entry, ``level_bits`` of them the magnitude level (0: none)."""

    name: str
    width: int
    level_bits: int
    decode: Callable[[np.ndarray, int | np.ndarray], np.ndarray]
    encode: Callable[[np.ndarray, int | np.ndarray], np.ndarray]

    def strategy(self, count: int) -> SearchStrategy[bytes]:
        """``count`` fields as one bytes value; it shrinks towards all-zero bytes, i.e. all-zero values."""
        size = count * self.width
        return st.binary(min_size=size, max_size=size)

    def fields(self, raw: bytes) -> np.ndarray:
        """The fields of ``raw`` as int64, entry 0 (the last ``width`` bytes) first."""
        return np.frombuffer(raw, dtype=f">u{self.width}")[::-1].astype(np.int64)

    def pack(self, fields: np.ndarray) -> bytes:
        """The bytes of ``fields`` (the inverse of :meth:`fields`)."""
        return np.asarray(fields)[::-1].astype(f">u{self.width}").tobytes()

    def grid(self, bound: float) -> int:
        """The grid size for values in [-bound, bound]; ValueError if the level cannot reach every grid value."""
        grid = grid_size(bound)
        if grid >= 1 << self.level_bits:
            raise ValueError(f"bound {bound} needs {grid + 1} levels; {self.name} fields hold {1 << self.level_bits}")
        return grid


BOUNDED = Codec("bounded", 2, 15, decode_bounded, encode_bounded)
ADVERSARIAL = Codec("adversarial", 4, 23, decode_adversarial, encode_adversarial)
LABELS = Codec("labels", 1, 0, decode_labels, encode_labels)


def values_codec(adversarial: bool) -> Codec:
    """The codec for X and the parameters: :data:`ADVERSARIAL` or :data:`BOUNDED`."""
    return ADVERSARIAL if adversarial else BOUNDED


def room_count(rooms: Sequence[Shape]) -> int:
    """How many fields the rooms take together."""
    return sum(rows * cols for rows, cols in rooms)


def slot_indices(rooms: Sequence[Shape], shapes: Sequence[Shape]) -> np.ndarray:
    """Which fields hold blocks of ``shapes`` when block i has room for ``rooms[i]``.

    Rooms follow one another, each row-major; a block of shape (r, c) takes the top-left r x c
    corner of its room. The indices run block by block, each block row-major.
    """
    return np.array([members[0] for members in _fold_classes(rooms, shapes)], dtype=np.int64)


def _fold_classes(rooms: Sequence[Shape], shapes: Sequence[Shape]) -> list[np.ndarray]:
    """For each entry (block by block, row-major): the room fields that fold onto it, in field order.

    Entry (i, j) of an r x c block gets the room entries (i + a*r, j + b*c); its own slot comes first.
    """
    classes = []
    start = 0
    for (rows, cols), (room_rows, room_cols) in zip(shapes, rooms, strict=True):
        if rows > room_rows or cols > room_cols:
            raise ValueError(f"a block of shape {(rows, cols)} does not fit its room {(room_rows, room_cols)}")
        room = np.arange(start, start + room_rows * room_cols).reshape(room_rows, room_cols)
        classes += [room[i::rows, j::cols].ravel() for i in range(rows) for j in range(cols)]
        start += room_rows * room_cols
    return classes


@dataclass(frozen=True, eq=False)
class Blocks:
    """Arrays of ``shapes`` packed in rooms: the fields each entry reads, and each entry's grid size.

    ``slots`` holds each entry's own field (block by block, row-major). ``members`` lists, entry
    after entry, the fields that fold onto that entry, its own slot first, and ``starts`` is where
    each entry's run begins. An entry reads the first nonzero field of its run: random fields are
    almost never zero, so a draw reads the entries' own slots, but when shrinking makes a block
    smaller, a value the failure still needs folds into an entry that is kept instead of being lost
    with the removed row or column.
    """

    codec: Codec
    shapes: tuple[Shape, ...]
    slots: np.ndarray
    members: np.ndarray
    starts: np.ndarray
    grids: np.ndarray

    def entry_fields(self, raw: bytes) -> np.ndarray:
        """The field each entry reads: the first nonzero one of its run, or 0."""
        fields = self.codec.fields(raw)
        own = fields[self.slots]
        if own.all() or self.members.size == self.slots.size:  # nothing to read through to
            return own
        folded = fields[self.members]
        position = np.where(folded != 0, np.arange(folded.size), folded.size)
        return np.append(folded, 0)[np.minimum.reduceat(position, self.starts)]

    def decode(self, raw: bytes) -> list[np.ndarray]:
        """The float64 arrays held in ``raw``, one per shape."""
        values = self.codec.decode(self.entry_fields(raw), self.grids)
        blocks = []
        start = 0
        for rows, cols in self.shapes:
            blocks.append(values[start : start + rows * cols].reshape(rows, cols))
            start += rows * cols
        return blocks


@lru_cache(maxsize=8192)
def blocks(codec: Codec, rooms: tuple[Shape, ...], shapes: tuple[Shape, ...], bounds: tuple[float, ...]) -> Blocks:
    """How to decode blocks of ``shapes`` from a packed value with ``rooms``, block i within +-bounds[i]."""
    counts = [rows * cols for rows, cols in shapes]
    grids = np.repeat([codec.grid(bound) if codec.level_bits else 0 for bound in bounds], counts).astype(np.int64)
    classes = _fold_classes(rooms, shapes)
    starts = np.cumsum([0] + [len(members) for members in classes[:-1]])
    own = np.array([members[0] for members in classes], dtype=np.int64)
    return Blocks(codec, shapes, own, np.concatenate(classes), starts, grids)
