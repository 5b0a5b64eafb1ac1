"""A compatible ``dnn_utils`` for files that import the course's helper module without shipping it.

The activations of deeplearning.ai's course 1, week 4 ("Building your Deep Neural Network: Step by
Step" and "Deep Neural Network - Application"), with the course's signatures, return values and
caches: ``sigmoid(Z)`` and ``relu(Z)`` return ``(A, cache)`` with ``cache = Z``;
``relu_backward(dA, cache)`` and ``sigmoid_backward(dA, cache)`` return ``dZ``. ``relu_backward``
zeroes ``dA`` where ``Z <= 0``, as the course's does (the kink at 0 gets slope 0). Where the course
asserts that ``dZ`` and ``Z`` have the same shape, these raise a one-line ``ValueError`` naming both.
"""

from __future__ import annotations

import numpy as np

__all__ = ["relu", "relu_backward", "sigmoid", "sigmoid_backward"]


def sigmoid(Z):
    """The logistic function, elementwise: ``(1 / (1 + exp(-Z)), Z)``, the second item the cache."""
    A = 1 / (1 + np.exp(-Z))
    cache = Z
    return A, cache


def relu(Z):
    """``max(0, Z)``, elementwise: ``(A, Z)``, the second item the cache."""
    A = np.maximum(0, Z)
    _same_shape("relu", "A", A, Z)
    cache = Z
    return A, cache


def relu_backward(dA, cache):
    """The gradient through ReLU: ``dA`` where ``Z > 0``, 0 where ``Z <= 0`` (``cache`` is ``Z``)."""
    Z = cache
    dZ = np.array(dA, copy=True)
    _same_shape("relu_backward", "dA", dZ, Z)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, cache):
    """The gradient through the sigmoid: ``dA * s * (1 - s)`` with ``s = sigmoid(Z)`` (``cache`` is ``Z``)."""
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    dZ = dA * s * (1 - s)
    _same_shape("sigmoid_backward", "dZ", dZ, Z)
    return dZ


def _same_shape(function: str, name: str, value, Z) -> None:
    """The course's shape assertion, as a message that says which shapes differ."""
    if np.shape(value) != np.shape(Z):
        raise ValueError(f"{function}: {name} has shape {np.shape(value)} but the cache Z has {np.shape(Z)}")
