"""One generated test case: a network's sizes, inputs, labels and parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradharness.model.parameters import LayerSizes, Parameters, check_shapes


@dataclass(frozen=True)
class NetworkCase:
    """A consistent (sizes, X, Y, parameters) example; X is (n0, m), Y is (n3, m) of 0/1."""

    sizes: LayerSizes
    X: np.ndarray
    Y: np.ndarray
    parameters: Parameters = field(repr=False)

    def __post_init__(self) -> None:
        n0, _, _, n3 = self.sizes.as_tuple()
        if self.X.ndim != 2 or self.X.shape[0] != n0:
            raise ValueError(f"X has shape {self.X.shape}, expected ({n0}, m)")
        if self.Y.shape != (n3, self.X.shape[1]):
            raise ValueError(f"Y has shape {self.Y.shape}, expected ({n3}, {self.X.shape[1]})")
        check_shapes(self.parameters, self.sizes)

    @property
    def m(self) -> int:
        """Batch size (number of examples)."""
        return int(self.X.shape[1])

    def describe(self) -> str:
        """Short description such as ``sizes 4-5-3-1, m=3``."""
        return f"sizes {self.sizes}, m={self.m}"

    def copy_parameters(self) -> Parameters:
        """A fresh copy of the parameters, safe to hand to user code."""
        return {name: np.array(value, dtype=np.float64, copy=True) for name, value in self.parameters.items()}

    def to_json(self) -> dict:
        """Plain-data form (lists) for results files."""
        return {
            "sizes": list(self.sizes.as_tuple()),
            "m": self.m,
            "X": self.X.tolist(),
            "Y": self.Y.tolist(),
            "parameters": {name: np.asarray(v).tolist() for name, v in self.parameters.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> NetworkCase:
        """Inverse of :meth:`to_json`."""
        return cls(
            sizes=LayerSizes(*data["sizes"]),
            X=np.array(data["X"], dtype=np.float64),
            Y=np.array(data["Y"], dtype=np.float64),
            parameters={name: np.array(v, dtype=np.float64) for name, v in data["parameters"].items()},
        )


def seed_test_case() -> NetworkCase:
    """The exercise's own test case (np.random.seed(1), 4-5-3-1 network, m=3)."""
    state = np.random.RandomState(1)
    X = state.randn(4, 3)
    Y = np.array([[1, 1, 0]], dtype=np.float64)
    W1 = state.randn(5, 4)
    b1 = state.randn(5, 1)
    W2 = state.randn(3, 5)
    b2 = state.randn(3, 1)
    W3 = state.randn(1, 3)
    b3 = state.randn(1, 1)
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}
    return NetworkCase(LayerSizes(4, 5, 3, 1), X, Y, parameters)
