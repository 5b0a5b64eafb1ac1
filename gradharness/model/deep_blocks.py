"""The building blocks on a :class:`~gradharness.model.deep_case.BlockCase`: the course's cache, the forward, the reference backward.

A block's forward f maps its inputs (A_prev, W, b; or Z) to its output (Z; or A), and its backward g
takes an upstream gradient dout and the cache. The check of a block is the centred difference of
``sum(dout * f(inputs))`` with respect to each input, against g's result: dA_prev and dZ equal it,
dW and db equal it divided by m (the course's dW and db are gradients of the mean cost).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from gradharness.model import deep
from gradharness.model.deep_case import BlockCase

GRADIENT_OF: Mapping[str, tuple[str, bool]] = MappingProxyType(
    {"A_prev": ("dA_prev", False), "W": ("dW", True), "b": ("db", True), "Z": ("dZ", False)}
)
"""For each block input: the name of its gradient in the backward's result, and whether the course divides it by m."""


def block_cache(case: BlockCase) -> object:
    """The cache the course's backward of this block takes, built with the reference forward."""
    arrays = case.arrays
    if case.function in ("relu_backward", "sigmoid_backward"):
        return arrays["Z"]
    linear_cache = (arrays["A_prev"], arrays["W"], arrays["b"])
    if case.function == "linear_backward":
        return linear_cache
    Z, _ = deep.linear_forward(arrays["A_prev"], arrays["W"], arrays["b"])
    return (linear_cache, Z)


def block_output(case: BlockCase, inputs: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """f(inputs): the block's forward output at ``inputs`` (default: the case's own arrays)."""
    arrays = dict(case.arrays) if inputs is None else {**case.arrays, **inputs}
    if case.function == "relu_backward":
        return deep.relu(arrays["Z"])[0]
    if case.function == "sigmoid_backward":
        return deep.sigmoid(arrays["Z"])[0]
    if case.function == "linear_backward":
        return deep.linear_forward(arrays["A_prev"], arrays["W"], arrays["b"])[0]
    assert case.activation is not None
    return deep.linear_activation_forward(arrays["A_prev"], arrays["W"], arrays["b"], case.activation)[0]


def block_objective(case: BlockCase, inputs: Mapping[str, np.ndarray] | None = None) -> float:
    """sum(dout * f(inputs)), the scalar whose gradient the block's backward returns."""
    return float(np.sum(case.arrays[case.upstream] * block_output(case, inputs)))


def block_gradients(case: BlockCase) -> dict[str, np.ndarray]:
    """The reference backward's result by name: dA_prev, dW, db (linear blocks) or dZ (activations)."""
    arrays, cache = case.arrays, block_cache(case)
    if case.function == "relu_backward":
        return {"dZ": deep.relu_backward(arrays["dA"], cache)}  # type: ignore[arg-type]
    if case.function == "sigmoid_backward":
        return {"dZ": deep.sigmoid_backward(arrays["dA"], cache)}  # type: ignore[arg-type]
    if case.function == "linear_backward":
        dA_prev, dW, db = deep.linear_backward(arrays["dZ"], cache)  # type: ignore[arg-type]
    else:
        assert case.activation is not None
        dA_prev, dW, db = deep.linear_activation_backward(arrays["dA"], cache, case.activation)  # type: ignore[arg-type]
    return {"dA_prev": dA_prev, "dW": dW, "db": db}
