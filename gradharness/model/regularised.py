"""The course's regularisation and dropout exercises (deeplearning.ai course 2, week 1, "Regularization").

The notebook's 3-layer network LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID of ``reg_utils``, with its names,
signatures and caches: ``forward_propagation`` caches (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) and
``forward_propagation_with_dropout`` (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3), where A1 and A2
are the activations after the mask and the 1 / keep_prob scaling. The dropout masks come from numpy's global
random generator (``np.random.rand``), D1 drawn before D2: whoever calls the forward seeds it (the course's
notebook seeds it inside the function with ``np.random.seed(1)``).

Written as the course's solution is written (one equation per line), so that it is also the source the mutation
harness plants mistakes in. The course's scaling: dW and db are gradients of the cost J (averaged over the m
examples, the L2 term included), dZ and dA of m * J's cross-entropy part.

What the checker needs of these passes (round-off bounds, exact kink flags, the masks a seed draws) is in
:mod:`gradharness.model.regularised_passes`; the cases in :mod:`gradharness.model.regularised_case`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "backward_propagation_with_dropout",
    "backward_propagation_with_regularization",
    "compute_cost",
    "compute_cost_with_regularization",
    "forward_propagation",
    "forward_propagation_with_dropout",
    "relu",
    "sigmoid",
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), elementwise (reg_utils' sigmoid: no cache)."""
    s = 1 / (1 + np.exp(-x))
    return s


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), elementwise (reg_utils' relu: no cache)."""
    s = np.maximum(0, x)
    return s


def forward_propagation(X: np.ndarray, parameters: dict[str, np.ndarray]) -> tuple[np.ndarray, tuple]:
    """A3 and the cache (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) of the 3-layer network."""
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

    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return A3, cache


def compute_cost(a3: np.ndarray, Y: np.ndarray) -> float:
    """Cross-entropy 1/m * sum(-Y log a3 - (1 - Y) log(1 - a3)) over every entry (reg_utils' nansum)."""
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    cost = 1.0 / m * np.nansum(logprobs)
    return float(cost)


def compute_cost_with_regularization(
    A3: np.ndarray, Y: np.ndarray, parameters: dict[str, np.ndarray], lambd: float
) -> float:
    """The cross-entropy plus the L2 term lambd / (2m) * (sum(W1^2) + sum(W2^2) + sum(W3^2))."""
    m = Y.shape[1]
    W1 = parameters["W1"]
    W2 = parameters["W2"]
    W3 = parameters["W3"]

    cross_entropy_cost = compute_cost(A3, Y)
    L2_regularization_cost = lambd / (2 * m) * (np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))

    cost = cross_entropy_cost + L2_regularization_cost
    return float(cost)


def backward_propagation_with_regularization(
    X: np.ndarray, Y: np.ndarray, cache: tuple, lambd: float
) -> dict[str, np.ndarray]:
    """The gradients of :func:`compute_cost_with_regularization`: dW carry the L2 term's lambd / m * W."""
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache

    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T) + lambd / m * W3
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)

    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T) + lambd / m * W2
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)

    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T) + lambd / m * W1
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)

    gradients = {
        "dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2,
        "dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1,
        "dZ1": dZ1, "dW1": dW1, "db1": db1,
    }  # fmt: skip
    return gradients


def forward_propagation_with_dropout(
    X: np.ndarray, parameters: dict[str, np.ndarray], keep_prob: float = 0.5
) -> tuple[np.ndarray, tuple]:
    """A3 and the cache (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3), each hidden unit kept with
    probability keep_prob (masks from numpy's global generator) and scaled by 1 / keep_prob."""
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    W3 = parameters["W3"]
    b3 = parameters["b3"]

    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    D1: np.ndarray = np.random.rand(A1.shape[0], A1.shape[1])
    D1 = D1 < keep_prob
    A1 = A1 * D1
    A1 = A1 / keep_prob

    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    D2: np.ndarray = np.random.rand(A2.shape[0], A2.shape[1])
    D2 = D2 < keep_prob
    A2 = A2 * D2
    A2 = A2 / keep_prob

    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)

    cache = (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)
    return A3, cache


def backward_propagation_with_dropout(
    X: np.ndarray, Y: np.ndarray, cache: tuple, keep_prob: float
) -> dict[str, np.ndarray]:
    """The gradients of the cross-entropy of :func:`forward_propagation_with_dropout`, through the same masks."""
    m = X.shape[1]
    (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3) = cache

    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)

    dA2 = np.dot(W3.T, dZ3)
    dA2 = dA2 * D2
    dA2 = dA2 / keep_prob
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)

    dA1 = np.dot(W2.T, dZ2)
    dA1 = dA1 * D1
    dA1 = dA1 / keep_prob
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)

    gradients = {
        "dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2,
        "dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1,
        "dZ1": dZ1, "dW1": dW1, "db1": db1,
    }  # fmt: skip
    return gradients
