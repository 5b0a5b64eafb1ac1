"""Layer sizes of the course's L-layer model, its parameter shapes and its gradient keys.

The model is L-1 x [LINEAR->RELU] then LINEAR->SIGMOID, with parameters W1, b1, ..., WL, bL:
Wl of shape (n_l, n_{l-1}) and bl of shape (n_l, 1); X is (n_0, m) and Y (n_L, m).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from gradharness.model.shapes import check_parameter_shapes

_PARAMETER_KEY = re.compile(r"^([Wb])([1-9][0-9]*)$")


@dataclass(frozen=True)
class DeepSizes:
    """Units per layer, ``dims = (n_0, n_1, ..., n_L)``: n_0 inputs, L weight layers, n_L sigmoid outputs."""

    dims: tuple[int, ...]

    def __post_init__(self) -> None:
        dims = tuple(self.dims) if isinstance(self.dims, (tuple, list)) else self.dims
        if not isinstance(dims, tuple) or len(dims) < 2:
            raise ValueError(f"dims={self.dims!r} must list at least 2 layer sizes (inputs and outputs)")
        for index, value in enumerate(dims):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"dims[{index}]={value!r} must be a whole number >= 1")
        object.__setattr__(self, "dims", tuple(int(n) for n in dims))

    @property
    def L(self) -> int:
        """The number of weight layers (the course's L)."""
        return len(self.dims) - 1

    def __str__(self) -> str:
        return "-".join(str(n) for n in self.dims)

    @classmethod
    def of(cls, parameters: Mapping[str, Any]) -> DeepSizes:
        """The sizes of W1, b1, ..., WL, bL (L: the highest layer named), raising on the first that does not fit."""
        # checks read the sizes on every call: remembered per tuple of (name, shape)
        return _sizes_of(tuple((str(name), np.shape(value)) for name, value in parameters.items()))


@lru_cache(maxsize=256)
def _sizes_of(shapes: tuple[tuple[str, tuple[int, ...]], ...]) -> DeepSizes:
    """:meth:`DeepSizes.of` for a dictionary whose parameters have these shapes."""
    shape_of = dict(shapes)
    layers = [int(match.group(2)) for name in shape_of if (match := _PARAMETER_KEY.match(name))]
    if not layers:
        raise ValueError("not an L-layer parameter dictionary: no W1")
    L = max(layers)
    for name in parameter_names(L):
        if name not in shape_of:
            raise ValueError(f"parameter {name} is missing (the dictionary names layer {L})")
    for layer in range(1, L + 1):
        if len(shape_of[f"W{layer}"]) != 2:
            raise ValueError(f"parameter W{layer} has shape {shape_of[f'W{layer}']}, expected a matrix")
    sizes = DeepSizes((shape_of["W1"][1], *(shape_of[f"W{layer}"][0] for layer in range(1, L + 1))))
    for name, shape in parameter_shapes(sizes).items():
        if shape_of[name] != shape:
            raise ValueError(f"parameter {name} has shape {shape_of[name]}, expected {shape}")
    return sizes


def parameter_names(L: int) -> tuple[str, ...]:
    """W1, b1, ..., WL, bL, in that order."""
    return tuple(name for layer in range(1, L + 1) for name in (f"W{layer}", f"b{layer}"))


def gradient_keys(L: int) -> tuple[str, ...]:
    """The keys of the course's L_model_backward: dA{l-1}, dW{l}, db{l} for l = 1..L (dA{l} is the gradient of A{l})."""
    return tuple(key for layer in range(1, L + 1) for key in (f"dA{layer - 1}", f"dW{layer}", f"db{layer}"))


@lru_cache(maxsize=256)
def _shapes(dims: tuple[int, ...]) -> tuple[tuple[str, tuple[int, int]], ...]:
    return tuple(
        (name, shape)
        for layer in range(1, len(dims))
        for name, shape in ((f"W{layer}", (dims[layer], dims[layer - 1])), (f"b{layer}", (dims[layer], 1)))
    )


def parameter_shapes(sizes: DeepSizes) -> dict[str, tuple[int, int]]:
    """Shape of each parameter, in the order W1, b1, ..., WL, bL."""
    return dict(_shapes(sizes.dims))


def parameter_count(sizes: DeepSizes) -> int:
    """P, the number of scalar parameters."""
    return sum(rows * cols for rows, cols in parameter_shapes(sizes).values())


def check_shapes(parameters: Mapping[str, Any], sizes: DeepSizes) -> None:
    """Raise ValueError naming the first parameter whose shape does not fit ``sizes``."""
    check_parameter_shapes(parameters, parameter_shapes(sizes))


def dictionary_to_vector(parameters: Mapping[str, Any], sizes: DeepSizes) -> np.ndarray:
    """W1, b1, ..., bL flattened row-major and stacked into one flat float64 vector."""
    return np.concatenate(
        [np.asarray(parameters[name], dtype=np.float64).reshape(-1) for name in parameter_names(sizes.L)]
    )


def vector_to_dictionary(theta: np.ndarray, sizes: DeepSizes) -> dict[str, np.ndarray]:
    """Inverse of :func:`dictionary_to_vector`."""
    flat = np.asarray(theta, dtype=np.float64).reshape(-1)
    expected = parameter_count(sizes)
    if flat.size != expected:
        raise ValueError(f"vector has {flat.size} entries, a {sizes} network has {expected}")
    parameters = {}
    start = 0
    for name, (rows, cols) in parameter_shapes(sizes).items():
        parameters[name] = flat[start : start + rows * cols].reshape(rows, cols).copy()
        start += rows * cols
    return parameters
