"""The blocks of a flat gradient vector, and backprop's gradients flattened into it.

A layout is the exercise network's (:func:`block_layout`, one per size) or any ordered named
arrays' (:func:`array_layout`); the stages of a check read only the layout, so they serve both.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from gradharness.model.parameters import GRADIENT_NAMES, PARAMETER_NAMES, LayerSizes, parameter_shapes


@dataclass(frozen=True)
class BlockLayout:
    """Where each block sits in the flat vector: row-major blocks stacked in order (dictionary_to_vector's)."""

    sizes: LayerSizes | None  # the exercise network's sizes; None for named arrays
    names: tuple[str, ...]  # W1 ... b3
    gradient_names: tuple[str, ...]  # dW1 ... db3
    slices: tuple[slice, ...]
    starts: np.ndarray  # each block's first entry, for np.ufunc.reduceat
    shapes: tuple[tuple[int, ...], ...]
    # a check names its worst entries on every call, and a layout is shared by every check of its shapes
    _named: dict[int, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def total(self) -> int:
        """P, the number of entries."""
        return self.slices[-1].stop

    def slice_of(self, name: str) -> slice:
        """The entries of block ``name`` (``W1`` ... ``b3``)."""
        return self.slices[self.names.index(name)]

    def entry_name(self, index: int) -> str:
        """Flat entry ``index`` by its gradient's name and position: ``dW2[1, 3]``, ``dx[0, 1, 2, 3]``, ``ds`` (0-d)."""
        named = self._named.get(index)
        if named is None:
            if not 0 <= index < self.total:
                raise IndexError(f"entry {index} is outside the {self.total} entries")
            block = int(np.searchsorted(self.starts, index, side="right")) - 1
            position = np.unravel_index(index - int(self.starts[block]), self.shapes[block])
            name = self.gradient_names[block]
            named = self._named[index] = f"{name}[{', '.join(map(str, position))}]" if position else name
        return named


@lru_cache(maxsize=64)
def block_layout(sizes: LayerSizes) -> BlockLayout:
    """The layout of a network of these sizes (one per size: it is read on every check)."""
    shapes = parameter_shapes(sizes)
    return _layout(sizes, PARAMETER_NAMES, GRADIENT_NAMES, tuple(shapes[name] for name in PARAMETER_NAMES))


def array_layout(shapes: Mapping[str, Sequence[int]], gradient_names: Sequence[str] | None = None) -> BlockLayout:
    """The layout of named arrays of these shapes, in the mapping's order (one per shapes and names: cached).

    - ``shapes``: block name -> shape, any number of dimensions (0-d too); every block has an entry.
    - ``gradient_names``: how each block's gradient is shown, in the same order (default ``"d" + name``:
      block ``x`` is ``dx``).
    """
    names = tuple(shapes)
    if not names:
        raise ValueError("there are no arrays to check")
    shown = tuple(gradient_names) if gradient_names is not None else tuple("d" + name for name in names)
    if len(shown) != len(names):
        raise ValueError(f"{len(shown)} gradient names for {len(names)} arrays ({', '.join(names)})")
    if len(set(shown)) != len(shown):
        raise ValueError(f"gradient names repeat: {', '.join(shown)}")
    dims = tuple(_shape(name, shapes[name]) for name in names)
    return _array_layout(names, shown, dims)


def _shape(name: str, shape: Sequence[int]) -> tuple[int, ...]:
    try:
        dims = tuple(operator.index(n) for n in shape)
    except TypeError:
        raise ValueError(f"array {name} has shape {shape!r}, not a tuple of whole numbers") from None
    if any(n < 0 for n in dims) or not np.prod(dims, dtype=np.int64):
        raise ValueError(f"array {name} has shape {dims}: no entries to check")
    return dims


@lru_cache(maxsize=64)
def _array_layout(
    names: tuple[str, ...], gradient_names: tuple[str, ...], shapes: tuple[tuple[int, ...], ...]
) -> BlockLayout:
    return _layout(None, names, gradient_names, shapes)


def _layout(
    sizes: LayerSizes | None,
    names: tuple[str, ...],
    gradient_names: tuple[str, ...],
    shapes: tuple[tuple[int, ...], ...],
) -> BlockLayout:
    """The layout of blocks of ``shapes`` stacked in order (read-only starts: a layout is shared)."""
    ends = np.cumsum([int(np.prod(shape, dtype=np.int64)) for shape in shapes])
    starts = np.concatenate([[0], ends[:-1]]).astype(np.intp)
    starts.flags.writeable = False
    slices = tuple(slice(int(a), int(b)) for a, b in zip(starts, ends, strict=True))
    return BlockLayout(sizes, names, gradient_names, slices, starts, shapes)


def flat_gradient(
    gradients: Mapping[str, object], layout: BlockLayout, keys: Sequence[str] | None = None
) -> np.ndarray:
    """The gradients as one flat float64 copy (the caller's arrays are never kept); a missing or misshapen one raises.

    ``keys``: the key of each block's gradient in ``gradients`` (default its gradient name: dW1 ... db3).
    """
    pieces = []
    for name, shape in zip(layout.gradient_names if keys is None else keys, layout.shapes, strict=True):
        try:
            value = np.asarray(gradients[name])
        except KeyError:
            raise ValueError(
                f"gradient {name} is missing (got keys {', '.join(sorted(map(str, gradients)))})"
            ) from None
        if value.shape != shape:
            raise ValueError(f"gradient {name} has shape {value.shape}, expected {shape}")
        pieces.append(value.ravel())
    return np.concatenate(pieces, dtype=np.float64, casting="unsafe")  # "unsafe": as astype
