"""Layer sizes, parameter shapes and the seed's vector <-> dictionary helpers.

The exercise's helpers hard-code the 4-5-3-1 network; these take the layer
sizes as data so any LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID network works.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from gradharness.model.shapes import check_parameter_shapes

PARAMETER_NAMES: tuple[str, ...] = ("W1", "b1", "W2", "b2", "W3", "b3")
GRADIENT_NAMES: tuple[str, ...] = tuple("d" + name for name in PARAMETER_NAMES)

Parameters = dict[str, np.ndarray]
Gradients = dict[str, np.ndarray]


@dataclass(frozen=True)
class LayerSizes:
    """Units per layer: n0 inputs, n1 and n2 hidden ReLU units, n3 sigmoid outputs."""

    n0: int
    n1: int
    n2: int
    n3: int

    def __post_init__(self) -> None:
        for name in ("n0", "n1", "n2", "n3"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}={value!r} must be a whole number >= 1")

    def as_tuple(self) -> tuple[int, int, int, int]:
        """The sizes as ``(n0, n1, n2, n3)``."""
        return (self.n0, self.n1, self.n2, self.n3)

    def __str__(self) -> str:
        return "-".join(str(n) for n in self.as_tuple())

    @classmethod
    def of(cls, parameters: Parameters) -> LayerSizes:
        """Read the layer sizes off a parameter dictionary (shapes are validated)."""
        try:
            # checks read the sizes on every call: remembered per tuple of array shapes
            sizes = _sizes_with_shapes(tuple([parameters[name].shape for name in PARAMETER_NAMES]))
        except (KeyError, AttributeError, TypeError):
            sizes = None
        return sizes if sizes is not None else cls._read(parameters)

    @classmethod
    def _read(cls, parameters: Parameters) -> LayerSizes:
        """:meth:`of` for any parameter values (np.shape of each), raising on the first that does not fit."""
        try:
            n1, n0 = np.shape(parameters["W1"])
            n2 = np.shape(parameters["W2"])[0]
            n3 = np.shape(parameters["W3"])[0]
        except (KeyError, ValueError) as exc:
            raise ValueError(f"not a 3-layer parameter dictionary: {exc}") from None
        sizes = cls(int(n0), int(n1), int(n2), int(n3))
        check_shapes(parameters, sizes)
        return sizes


@lru_cache(maxsize=256)
def _sizes_with_shapes(shapes: tuple[tuple[int, ...], ...]) -> LayerSizes | None:
    """The sizes whose parameter shapes (W1, b1, ..., b3) are exactly ``shapes``, or None."""
    try:
        (n1, n0), (n2, _), (n3, _) = shapes[0], shapes[2], shapes[4]
        sizes = LayerSizes(n0, n1, n2, n3)
    except (ValueError, TypeError):
        return None
    return sizes if tuple(parameter_shapes(sizes).values()) == shapes else None


def parameter_shapes(sizes: LayerSizes) -> dict[str, tuple[int, int]]:
    """Shape of each parameter, in the seed's order W1, b1, W2, b2, W3, b3."""
    n0, n1, n2, n3 = sizes.as_tuple()
    return {
        "W1": (n1, n0),
        "b1": (n1, 1),
        "W2": (n2, n1),
        "b2": (n2, 1),
        "W3": (n3, n2),
        "b3": (n3, 1),
    }


def parameter_count(sizes: LayerSizes) -> int:
    """P, the number of scalar parameters."""
    return sum(rows * cols for rows, cols in parameter_shapes(sizes).values())


def check_shapes(parameters: Parameters, sizes: LayerSizes) -> None:
    """Raise ValueError naming the first parameter whose shape does not fit ``sizes``."""
    check_parameter_shapes(parameters, parameter_shapes(sizes))


def block_slices(sizes: LayerSizes) -> dict[str, slice]:
    """Where each parameter block sits in the flat vector."""
    slices: dict[str, slice] = {}
    start = 0
    for name, (rows, cols) in parameter_shapes(sizes).items():
        slices[name] = slice(start, start + rows * cols)
        start += rows * cols
    return slices


@lru_cache(maxsize=4096)  # a check names its worst entries on every call
def entry_name(sizes: LayerSizes, index: int, prefix: str = "") -> str:
    """Name of flat entry ``index``, e.g. ``W2[1, 3]`` (or ``dW2[1, 3]`` with prefix 'd')."""
    shapes = parameter_shapes(sizes)
    for name, block in block_slices(sizes).items():
        if block.start <= index < block.stop:
            row, col = divmod(index - block.start, shapes[name][1])
            return f"{prefix}{name}[{row}, {col}]"
    raise IndexError(f"entry {index} is outside the {parameter_count(sizes)} parameters")


def dictionary_to_vector(parameters: Parameters) -> tuple[np.ndarray, list[str]]:
    """Flatten W1, b1, ..., b3 into one column vector; also return each entry's block name.

    Same layout as the seed's helper (row-major blocks stacked in order), for any sizes.
    """
    pieces = []
    keys: list[str] = []
    for name in PARAMETER_NAMES:
        values = np.asarray(parameters[name], dtype=np.float64)
        pieces.append(values.reshape(-1, 1))
        keys.extend([name] * values.size)
    return np.concatenate(pieces, axis=0), keys


def vector_to_dictionary(theta: np.ndarray, sizes: LayerSizes) -> Parameters:
    """Inverse of :func:`dictionary_to_vector` for a network of the given sizes."""
    flat = np.asarray(theta, dtype=np.float64).reshape(-1)
    expected = parameter_count(sizes)
    if flat.size != expected:
        raise ValueError(f"vector has {flat.size} entries, a {sizes} network has {expected}")
    shapes = parameter_shapes(sizes)
    return {name: flat[block].reshape(shapes[name]).copy() for name, block in block_slices(sizes).items()}


def gradients_to_vector(gradients: Gradients) -> np.ndarray:
    """Flatten dW1, db1, ..., db3 into one column vector (extra keys such as dZ1 ignored)."""
    return np.concatenate(
        [np.asarray(gradients[name], dtype=np.float64).reshape(-1, 1) for name in GRADIENT_NAMES], axis=0
    )


def unchanged(before: np.ndarray, after: object) -> bool:
    """Whether ``after`` still holds ``before``'s values (same shape; NaN equals NaN): the side-effect rule."""
    if isinstance(after, np.ndarray) and after.dtype == before.dtype and after.shape == before.shape:
        if after.tobytes() == before.tobytes():  # the usual answer, without array_equal's overhead
            return True
    try:
        after = np.asarray(after)
        return before.shape == after.shape and bool(np.array_equal(before, after, equal_nan=True))
    except (TypeError, ValueError):
        return False
