"""Generated test cases of the L-layer model: a whole network (:class:`DeepCase`) or one building block (:class:`BlockCase`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from gradharness.model.deep_sizes import DeepSizes, check_shapes

Parameters = dict[str, np.ndarray]


def _floats(value: object) -> np.ndarray:
    return np.array(value, dtype=np.float64)


@dataclass(frozen=True)
class DeepCase:
    """A consistent (sizes, X, Y, parameters) example; X is (n_0, m), Y is (n_L, m) of 0/1."""

    sizes: DeepSizes
    X: np.ndarray
    Y: np.ndarray
    parameters: Parameters = field(repr=False)

    def __post_init__(self) -> None:
        n0, nL = self.sizes.dims[0], self.sizes.dims[-1]
        if np.ndim(self.X) != 2 or np.shape(self.X)[0] != n0:
            raise ValueError(f"X has shape {np.shape(self.X)}, expected ({n0}, m)")
        if np.shape(self.Y) != (nL, np.shape(self.X)[1]):
            raise ValueError(f"Y has shape {np.shape(self.Y)}, expected ({nL}, {np.shape(self.X)[1]})")
        check_shapes(self.parameters, self.sizes)

    @property
    def m(self) -> int:
        """Batch size (number of examples)."""
        return int(self.X.shape[1])

    def describe(self) -> str:
        """Short description such as ``sizes 4-5-3-1 (L=3), m=2``."""
        return f"sizes {self.sizes} (L={self.sizes.L}), m={self.m}"

    def copy_parameters(self) -> Parameters:
        """A fresh copy of the parameters, safe to hand to user code."""
        return {name: _floats(value) for name, value in self.parameters.items()}

    def to_json(self) -> dict:
        """Plain-data form (lists) for results files."""
        return {
            "sizes": list(self.sizes.dims),
            "m": self.m,
            "X": np.asarray(self.X).tolist(),
            "Y": np.asarray(self.Y).tolist(),
            "parameters": {name: np.asarray(value).tolist() for name, value in self.parameters.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> DeepCase:
        """Inverse of :meth:`to_json`."""
        return cls(
            sizes=DeepSizes(tuple(data["sizes"])),
            X=_floats(data["X"]),
            Y=_floats(data["Y"]),
            parameters={name: _floats(value) for name, value in data["parameters"].items()},
        )


BLOCK_ARRAYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "linear_backward": ("A_prev", "W", "b", "dZ"),
        "relu_backward": ("Z", "dA"),
        "sigmoid_backward": ("Z", "dA"),
        "linear_activation_backward": ("A_prev", "W", "b", "dA"),
    }
)
"""The arrays of each building block's case: the forward's inputs, then the drawn upstream gradient (last)."""
ACTIVATIONS = ("relu", "sigmoid")


@dataclass(frozen=True)
class BlockCase:
    """One call of a building block: its forward inputs and the upstream gradient, as named arrays.

    ``linear_backward``: A_prev (n_prev, m), W (n, n_prev), b (n, 1), dZ (n, m); ``relu_backward`` and
    ``sigmoid_backward``: Z (n, m), dA (n, m); ``linear_activation_backward``: A_prev, W, b and dA (n, m),
    with ``activation`` "relu" or "sigmoid" (None for the other blocks).
    """

    function: str
    arrays: Mapping[str, np.ndarray] = field(repr=False)
    activation: str | None = None

    def __post_init__(self) -> None:
        names = BLOCK_ARRAYS.get(self.function)
        if names is None:
            raise ValueError(f"unknown block {self.function!r}; blocks are {', '.join(BLOCK_ARRAYS)}")
        if set(self.arrays) != set(names):
            raise ValueError(f"{self.function} takes the arrays {', '.join(names)}, got {', '.join(self.arrays)}")
        wanted = ACTIVATIONS if self.function == "linear_activation_backward" else (None,)
        if self.activation not in wanted:
            raise ValueError(
                f"{self.function} takes activation {' or '.join(map(repr, wanted))}, got {self.activation!r}"
            )
        object.__setattr__(self, "arrays", MappingProxyType({name: self.arrays[name] for name in names}))
        self._check_shapes()

    def _check_shapes(self) -> None:
        shapes = {name: np.shape(value) for name, value in self.arrays.items()}
        if any(len(shape) != 2 for shape in shapes.values()):
            raise ValueError(f"{self.function}: every array must be a matrix, got shapes {shapes}")
        upstream = self.upstream
        n, m = shapes[upstream]
        expected = {upstream: (n, m)}
        if "W" in shapes:
            n_prev = shapes["A_prev"][0]
            expected.update(A_prev=(n_prev, m), W=(n, n_prev), b=(n, 1))
        else:
            expected["Z"] = (n, m)
        for name, shape in expected.items():
            if shapes[name] != shape:
                raise ValueError(f"{self.function}: {name} has shape {shapes[name]}, expected {shape}")

    @property
    def upstream(self) -> str:
        """The name of the upstream gradient (dZ or dA)."""
        return BLOCK_ARRAYS[self.function][-1]

    @property
    def inputs(self) -> tuple[str, ...]:
        """The names of the forward's inputs, the arrays the block's gradients are taken with respect to."""
        return BLOCK_ARRAYS[self.function][:-1]

    @property
    def m(self) -> int:
        """Batch size (columns of the upstream gradient)."""
        return int(np.shape(self.arrays[self.upstream])[1])

    def describe(self) -> str:
        """Short description such as ``linear_backward: A_prev 3x2, W 4x3, m=2``."""
        name = self.function if self.activation is None else f"{self.function} ({self.activation})"
        shown = ("A_prev", "W") if "W" in self.arrays else ("Z",)
        shapes = ", ".join(f"{key} {'x'.join(map(str, np.shape(self.arrays[key])))}" for key in shown)
        return f"{name}: {shapes}, m={self.m}"

    def copy_arrays(self) -> dict[str, np.ndarray]:
        """Fresh float64 copies of the arrays, safe to hand to user code."""
        return {name: _floats(value) for name, value in self.arrays.items()}

    def to_json(self) -> dict:
        """Plain-data form (lists) for results files."""
        return {
            "function": self.function,
            "activation": self.activation,
            "arrays": {name: np.asarray(value).tolist() for name, value in self.arrays.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> BlockCase:
        """Inverse of :meth:`to_json`."""
        arrays = {name: _floats(value) for name, value in data["arrays"].items()}
        return cls(data["function"], arrays, data.get("activation"))
