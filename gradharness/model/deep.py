"""The course's L-layer model ("Building your Deep Neural Network: Step by Step") and its building blocks.

L-1 x [LINEAR->RELU] then LINEAR->SIGMOID, with the course's names, signatures and caches: a linear
cache is (A_prev, W, b), an activation cache is Z, and linear_activation_forward's cache is
(linear_cache, activation_cache). Written as the course's solution is written (one equation per
line), so that it is also the source the mutation harness plants mistakes in.

Note the course's scaling: dW and db are gradients of the cost J (averaged over the m examples),
while dA and dZ are gradients of m * J (the summed loss): dAL = -(Y / AL - (1 - Y) / (1 - AL)).

The rest of the target lives beside it and is imported from here: the sizes and shapes
(:mod:`gradharness.model.deep_sizes`), the cases (:mod:`gradharness.model.deep_case`), the
checker's reference passes (:mod:`gradharness.model.deep_passes`). The building blocks called on a
:class:`BlockCase` are in :mod:`gradharness.model.deep_blocks`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradharness.model.deep_case import BLOCK_ARRAYS, BlockCase, DeepCase
from gradharness.model.deep_passes import (
    activation_cost,
    activation_cost_roundoff,
    activation_costs,
    activation_gradapprox,
    activation_kink_flags,
    cost_roundoff,
    gradapprox,
    kink_flags,
    perturbed_costs,
    stable_cost,
)
from gradharness.model.deep_sizes import (
    DeepSizes,
    dictionary_to_vector,
    gradient_keys,
    parameter_count,
    parameter_names,
    parameter_shapes,
    vector_to_dictionary,
)

__all__ = [
    "BLOCK_ARRAYS",
    "BlockCase",
    "DeepCase",
    "DeepSizes",
    "L_model_backward",
    "L_model_forward",
    "activation_cost",
    "activation_cost_roundoff",
    "activation_costs",
    "activation_gradapprox",
    "activation_kink_flags",
    "compute_cost",
    "cost_roundoff",
    "dictionary_to_vector",
    "gradapprox",
    "gradient_keys",
    "kink_flags",
    "linear_activation_backward",
    "linear_activation_forward",
    "linear_backward",
    "linear_forward",
    "parameter_count",
    "parameter_names",
    "parameter_shapes",
    "perturbed_costs",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "stable_cost",
    "vector_to_dictionary",
]

LinearCache = tuple[np.ndarray, np.ndarray, np.ndarray]
Cache = tuple[LinearCache, np.ndarray]


def sigmoid(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A = 1 / (1 + exp(-Z)), and Z as the activation cache."""
    A = 1 / (1 + np.exp(-Z))
    cache = Z
    return A, cache


def relu(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A = max(0, Z), and Z as the activation cache."""
    A = np.maximum(0, Z)
    cache = Z
    return A, cache


def relu_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dZ = dA where Z > 0, else 0."""
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dZ = dA * s * (1 - s), s = sigmoid(Z)."""
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    dZ = dA * s * (1 - s)
    return dZ


def linear_forward(A: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, LinearCache]:
    """Z = W A + b, and the linear cache (A, W, b)."""
    Z = np.dot(W, A) + b
    cache = (A, W, b)
    return Z, cache


def linear_activation_forward(
    A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str
) -> tuple[np.ndarray, Cache]:
    """A = g(W A_prev + b) for g = "relu" or "sigmoid", and the cache (linear_cache, activation_cache)."""
    if activation == "sigmoid":
        Z, linear_cache = linear_forward(A_prev, W, b)
        A, activation_cache = sigmoid(Z)
    elif activation == "relu":
        Z, linear_cache = linear_forward(A_prev, W, b)
        A, activation_cache = relu(Z)
    else:
        raise ValueError(f"activation={activation!r}; activations are 'relu' and 'sigmoid'")
    cache = (linear_cache, activation_cache)
    return A, cache


def L_model_forward(X: np.ndarray, parameters: dict[str, np.ndarray]) -> tuple[np.ndarray, list[Cache]]:
    """AL and the caches of L-1 x [LINEAR->RELU] then LINEAR->SIGMOID (L = len(parameters) // 2)."""
    caches = []
    A = X
    L = len(parameters) // 2

    for l in range(1, L):  # noqa: E741 (the course's name)
        A_prev = A
        A, cache = linear_activation_forward(A_prev, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        caches.append(cache)

    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost(AL: np.ndarray, Y: np.ndarray) -> float:
    """Cross-entropy -1/m * sum(Y log AL + (1 - Y) log(1 - AL)), summed over every output unit and example."""
    m = Y.shape[1]
    cost = -1.0 / m * np.sum(np.multiply(Y, np.log(AL)) + np.multiply(1 - Y, np.log(1 - AL)))
    cost = np.squeeze(cost)
    return float(cost)


def linear_backward(dZ: np.ndarray, cache: LinearCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dA_prev, dW, db of one linear layer, from dZ and the linear cache (A_prev, W, b)."""
    A_prev, W, b = cache
    m = A_prev.shape[1]

    dW = 1.0 / m * np.dot(dZ, A_prev.T)
    db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_backward(
    dA: np.ndarray, cache: Cache, activation: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dA_prev, dW, db of one LINEAR->ACTIVATION layer, from dA and its cache."""
    linear_cache, activation_cache = cache

    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
        dA_prev, dW, db = linear_backward(dZ, linear_cache)
    elif activation == "sigmoid":
        dZ = sigmoid_backward(dA, activation_cache)
        dA_prev, dW, db = linear_backward(dZ, linear_cache)
    else:
        raise ValueError(f"activation={activation!r}; activations are 'relu' and 'sigmoid'")
    return dA_prev, dW, db


def L_model_backward(AL: np.ndarray, Y: np.ndarray, caches: list[Any]) -> dict[str, np.ndarray]:
    """The gradients dA{l-1}, dW{l}, db{l} for l = 1..L, from AL, Y and the caches of :func:`L_model_forward`."""
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)

    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))

    current_cache = caches[L - 1]
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = linear_activation_backward(
        dAL, current_cache, "sigmoid"
    )

    for l in reversed(range(L - 1)):  # noqa: E741
        current_cache = caches[l]
        dA_prev_temp, dW_temp, db_temp = linear_activation_backward(grads["dA" + str(l + 1)], current_cache, "relu")
        grads["dA" + str(l)] = dA_prev_temp
        grads["dW" + str(l + 1)] = dW_temp
        grads["db" + str(l + 1)] = db_temp

    return grads
