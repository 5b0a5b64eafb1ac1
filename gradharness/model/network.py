"""The seed's reference models: the 1-D model J(theta) = theta * x and the 3-layer network.

LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID with the binary cross-entropy cost
averaged over the m examples, for any layer sizes. Written as the seed writes it
(one equation per line) so it doubles as the reference users compare against.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gradharness.model.keys import matching_key
from gradharness.model.parameters import Gradients, Parameters

Cache = tuple[np.ndarray, ...]

SEED_BUGS: Mapping[str, float] = {"dW2": 2.0, "db1": 4.0}
"""What :func:`backward_propagation_n_buggy` plants, as factors on the correct gradients (dW2 * 2, 4./m in db1)."""


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), elementwise."""
    return np.maximum(0, x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), elementwise, as the seed computes it."""
    return 1 / (1 + np.exp(-x))


def forward_propagation(x: float, theta: float) -> float:
    """The seed's 1-D model: J(theta) = theta * x."""
    J = theta * x
    return J


def backward_propagation(x: float, theta: float) -> float:
    """dJ/dtheta of J(theta) = theta * x."""
    dtheta = x
    return dtheta


def forward_propagation_n(X: np.ndarray, Y: np.ndarray, parameters: Parameters) -> tuple[float, Cache]:
    """Cost and cache of the 3-layer network, with the seed's cross-entropy formula.

    Y holds 0/1 labels of shape (n3, m); the cost is averaged over the m examples
    and summed over the output units.
    """
    m = X.shape[1]
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    W3 = parameters["W3"]
    b3 = parameters["b3"]

    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)

    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1.0 / m * np.sum(logprobs)

    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return float(cost), cache


_STACK_ELEMENTS = 1 << 20  # elements of the largest temporary of stacked_costs


def stacked_costs(X: np.ndarray, Y: np.ndarray, parameters: Parameters, block: str, stack: np.ndarray) -> np.ndarray:
    """The cost of :func:`forward_propagation_n` for each value ``stack[k]`` of parameter ``block``, the rest fixed.

    The same formula, evaluated for all k at once (in chunks) with broadcast matrix products.
    """
    m = X.shape[1]
    widest = max(np.shape(parameters[name])[0] for name in ("W1", "W2", "W3"))
    chunk = max(1, _STACK_ELEMENTS // max(1, widest * m))
    out = np.empty(len(stack))
    for start in range(0, len(stack), chunk):
        values = {**parameters, block: stack[start : start + chunk]}
        A = X
        for layer in (1, 2, 3):
            Z = np.matmul(values[f"W{layer}"], A) + values[f"b{layer}"]
            A = relu(Z) if layer < 3 else sigmoid(Z)
        logprobs = np.multiply(-np.log(A), Y) + np.multiply(-np.log(1 - A), 1 - Y)
        out[start : start + chunk] = 1.0 / m * np.sum(logprobs, axis=(-2, -1))
    return out


def backward_propagation_n(X: np.ndarray, Y: np.ndarray, cache: Cache) -> Gradients:
    """Gradients dW1 ... db3 of the cost of :func:`forward_propagation_n`."""
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache

    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)

    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)

    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)

    gradients = {
        "dZ3": dZ3, "dW3": dW3, "db3": db3,
        "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
        "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1,
    }  # fmt: skip
    return gradients


def backward_propagation_n_buggy(X: np.ndarray, Y: np.ndarray, cache: Cache) -> Gradients:
    """The seed's planted bugs: dW2 multiplied by 2 and db1 computed with 4/m."""
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache

    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)

    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)

    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 4.0 / m * np.sum(dZ1, axis=1, keepdims=True)

    gradients = {
        "dZ3": dZ3, "dW3": dW3, "db3": db3,
        "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
        "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1,
    }  # fmt: skip
    return gradients


def scale_blocks(gradients: Mapping[Any, Any], factors: Mapping[str, float] = SEED_BUGS) -> dict[Any, Any]:
    """``gradients`` with each block named in ``factors`` (keys in either case) times its factor.

    By default the seed's planted bugs, on any backward's gradients: for the reference,
    ``scale_blocks(backward_propagation_n(X, Y, cache))`` is ``backward_propagation_n_buggy(X, Y, cache)``.
    """
    scaled = dict(gradients)
    for name, factor in factors.items():
        key = matching_key(gradients, name)
        if key is not None:
            scaled[key] = np.asarray(gradients[key]) * factor
    return scaled
