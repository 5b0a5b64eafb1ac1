"""A compatible ``reg_utils`` for files that import the regularisation notebook's helper module without shipping it.

The helpers of deeplearning.ai's course 2, week 1 ("Regularization"), with the course's names, signatures and
return values, for any layer sizes: ``sigmoid(x)`` and ``relu(x)`` return the activation alone (no cache, unlike
``dnn_utils``); ``forward_propagation(X, parameters)`` returns ``(A3, cache)`` with the cache (Z1, A1, W1, b1, Z2,
A2, W2, b2, Z3, A3, W3, b3) that ``backward_propagation`` and the notebook's
``backward_propagation_with_regularization`` unpack; ``compute_cost(a3, Y)`` is the cross-entropy averaged over the
m examples (a ``nansum``, as the course's). The network, its cost and activations are gradharness's reference
(:mod:`gradharness.model.regularised`). There is no data set and no plotting here: ``load_2D_dataset`` and
``plot_decision_boundary`` raise, so the notebook's training and plotting cells are skipped as module-level code
that failed.
"""

from __future__ import annotations

import numpy as np

from gradharness.model.regularised import compute_cost, forward_propagation, relu, sigmoid

__all__ = [
    "backward_propagation",
    "compute_cost",
    "forward_propagation",
    "initialize_parameters",
    "load_2D_dataset",
    "plot_decision_boundary",
    "predict",
    "predict_dec",
    "relu",
    "sigmoid",
    "update_parameters",
]


def initialize_parameters(layer_dims):
    """W{l} drawn from N(0, 1) / sqrt(n_{l-1}) and b{l} zeros, for l = 1 .. len(layer_dims) - 1, after
    ``np.random.seed(3)`` (the course's)."""
    np.random.seed(3)
    parameters = {}
    L = len(layer_dims)
    for l in range(1, L):  # noqa: E741 (the course's name)
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def backward_propagation(X, Y, cache):
    """The gradients of ``compute_cost(forward_propagation(X, parameters)[0], Y)``: dZ3, dW3, db3, dA2, ..., db1."""
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

    return {
        "dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2,
        "dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1,
        "dZ1": dZ1, "dW1": dW1, "db1": db1,
    }  # fmt: skip


def update_parameters(parameters, grads, learning_rate):
    """One gradient descent step: W{l} -= learning_rate * dW{l}, b{l} -= learning_rate * db{l}."""
    n = len(parameters) // 2
    for k in range(n):
        parameters["W" + str(k + 1)] = parameters["W" + str(k + 1)] - learning_rate * grads["dW" + str(k + 1)]
        parameters["b" + str(k + 1)] = parameters["b" + str(k + 1)] - learning_rate * grads["db" + str(k + 1)]
    return parameters


def predict(X, y, parameters):
    """The 0/1 predictions (A3 > 0.5) as a (1, m) int array; prints the accuracy against ``y``, as the course's."""
    a3, _ = forward_propagation(X, parameters)
    p = (a3 > 0.5).astype(int)
    print("Accuracy: " + str(np.mean(p[0, :] == y[0, :])))
    return p


def predict_dec(parameters, X):
    """The boolean predictions A3 > 0.5 (what the course's decision-boundary plot colours)."""
    a3, _ = forward_propagation(X, parameters)
    return a3 > 0.5


def plot_decision_boundary(model, X, y):
    """Not available here: gradharness draws no plots."""
    raise RuntimeError("gradharness's reg_utils draws no plots (plot_decision_boundary)")


def load_2D_dataset():
    """Not available here: the course's data set (datasets/data.mat) does not ship with gradharness."""
    raise FileNotFoundError(
        "gradharness's reg_utils has no data set: load_2D_dataset reads the course's datasets/data.mat"
    )
