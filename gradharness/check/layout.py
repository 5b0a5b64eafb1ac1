"""The blocks of the flat gradient vector for one network size, and backprop's gradients flattened into it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from gradharness.model.parameters import GRADIENT_NAMES, PARAMETER_NAMES, LayerSizes, block_slices, parameter_shapes


@dataclass(frozen=True)
class BlockLayout:
    """Where each block sits in dictionary_to_vector order (W1, b1, ..., b3)."""

    sizes: LayerSizes
    names: tuple[str, ...]  # W1 ... b3
    gradient_names: tuple[str, ...]  # dW1 ... db3
    slices: tuple[slice, ...]
    starts: np.ndarray  # each block's first entry, for np.ufunc.reduceat
    shapes: tuple[tuple[int, int], ...]

    @property
    def total(self) -> int:
        """P, the number of entries."""
        return self.slices[-1].stop

    def slice_of(self, name: str) -> slice:
        """The entries of block ``name`` (``W1`` ... ``b3``)."""
        return self.slices[self.names.index(name)]


@lru_cache(maxsize=64)
def block_layout(sizes: LayerSizes) -> BlockLayout:
    """The layout of a network of these sizes (one per size: it is read on every check)."""
    slices = block_slices(sizes)
    shapes = parameter_shapes(sizes)
    starts = np.array([slices[name].start for name in PARAMETER_NAMES])
    starts.flags.writeable = False
    return BlockLayout(
        sizes,
        PARAMETER_NAMES,
        GRADIENT_NAMES,
        tuple(slices[name] for name in PARAMETER_NAMES),
        starts,
        tuple(shapes[name] for name in PARAMETER_NAMES),
    )


def flat_gradient(gradients: Mapping[str, object], layout: BlockLayout) -> np.ndarray:
    """dW1 ... db3 as one flat float64 copy (the caller's arrays are never kept); a missing or misshapen one raises."""
    pieces = []
    for name, shape in zip(layout.gradient_names, layout.shapes, strict=True):
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
