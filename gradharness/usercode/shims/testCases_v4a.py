"""A compatible ``testCases_v4a`` for files that call the course's test cases without shipping the module.

The test-case functions of deeplearning.ai's course 1, week 4 ("Building your Deep Neural Network:
Step by Step", the release that ships ``testCases_v4a.py``), with the course's names, return values,
shapes and seeds, so a notebook export that calls them at module level prints the course's expected
output. Like the course's, each function reseeds numpy's global random state (``np.random.seed``)
and draws with ``np.random.randn``, so code that draws after it sees the numbers it sees in the course.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "L_model_backward_test_case",
    "L_model_forward_test_case",
    "L_model_forward_test_case_2hidden",
    "compute_cost_test_case",
    "linear_activation_backward_test_case",
    "linear_activation_forward_test_case",
    "linear_backward_test_case",
    "linear_forward_test_case",
    "print_grads",
    "update_parameters_test_case",
]


def _draws(seed: int, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Standard normal arrays of ``shapes``, in order, after ``np.random.seed(seed)``."""
    np.random.seed(seed)
    return [np.random.randn(*shape) for shape in shapes]


def _named(prefix: str, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    """``{prefix + "W1": arrays[0], prefix + "b1": arrays[1], prefix + "W2": ...}``."""
    return {f"{prefix}{'Wb'[i % 2]}{i // 2 + 1}": value for i, value in enumerate(arrays)}


def linear_forward_test_case():
    """``A, W, b`` for ``linear_forward``: A (3, 2), W (1, 3), b (1, 1), seed 1."""
    A, W, b = _draws(1, (3, 2), (1, 3), (1, 1))
    return A, W, b


def linear_activation_forward_test_case():
    """``A_prev, W, b`` for ``linear_activation_forward``: A_prev (3, 2), W (1, 3), b (1, 1), seed 2."""
    A_prev, W, b = _draws(2, (3, 2), (1, 3), (1, 1))
    return A_prev, W, b


def L_model_forward_test_case():
    """``X, parameters`` for a 2-layer ``L_model_forward``: X (4, 2), layers 4 -> 3 -> 1, seed 1."""
    X, *weights = _draws(1, (4, 2), (3, 4), (3, 1), (1, 3), (1, 1))
    return X, _named("", weights)


def L_model_forward_test_case_2hidden():
    """``X, parameters`` for a 3-layer ``L_model_forward``: X (5, 4), layers 5 -> 4 -> 3 -> 1, seed 6."""
    X, *weights = _draws(6, (5, 4), (4, 5), (4, 1), (3, 4), (3, 1), (1, 3), (1, 1))
    return X, _named("", weights)


def compute_cost_test_case():
    """``Y, aL`` for ``compute_cost``: labels [[1, 1, 0]] and activations [[0.8, 0.9, 0.4]] (cost 0.2798)."""
    Y = np.asarray([[1, 1, 0]])
    aL = np.array([[0.8, 0.9, 0.4]])
    return Y, aL


def linear_backward_test_case():
    """``dZ, linear_cache`` for ``linear_backward``: dZ (3, 4), cache (A (5, 4), W (3, 5), b (3, 1)), seed 1."""
    dZ, A, W, b = _draws(1, (3, 4), (5, 4), (3, 5), (3, 1))
    linear_cache = (A, W, b)
    return dZ, linear_cache


def linear_activation_backward_test_case():
    """``dA, ((A, W, b), Z)`` for ``linear_activation_backward``: one unit, 3 inputs, 2 examples, seed 2."""
    dA, A, W, b, Z = _draws(2, (1, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    linear_activation_cache = ((A, W, b), Z)
    return dA, linear_activation_cache


def L_model_backward_test_case():
    """``AL, Y, caches`` for ``L_model_backward``: two layers 4 -> 3 -> 1, 2 examples, Y [[1, 0]], seed 3.

    As in the course, ``AL`` and every cached array are standard normal draws (not a forward pass's
    values), and ``caches`` is a tuple of the two layers' ``((A_prev, W, b), Z)``.
    """
    np.random.seed(3)
    AL = np.random.randn(1, 2)
    Y = np.array([[1, 0]])
    caches = []
    for n_prev, n in ((4, 3), (3, 1)):
        A_prev, W, b, Z = (np.random.randn(*shape) for shape in ((n_prev, 2), (n, n_prev), (n, 1), (n, 2)))
        caches.append(((A_prev, W, b), Z))
    return AL, Y, tuple(caches)


def update_parameters_test_case():
    """``parameters, grads`` for ``update_parameters``: layers 4 -> 3 -> 1; parameters seed 2, grads seed 3."""
    shapes = ((3, 4), (3, 1), (1, 3), (1, 1))
    parameters = _named("", _draws(2, *shapes))
    grads = _named("d", _draws(3, *shapes))
    return parameters, grads


def print_grads(grads):
    """Print ``dW1``, ``db1`` and ``dA1`` as the course's notebook shows them."""
    for name in ("dW1", "db1", "dA1"):
        print(f"{name} = {grads[name]}")
