"""A compatible ``testCases`` for regularisation-notebook files that call its test cases without shipping the module.

The test-case functions of deeplearning.ai's course 2, week 1 ("Regularization"), with the course's names, return
values, shapes and seeds, so a notebook export that calls them at module level prints the course's expected
output: each draws a 3-2-3-1 network (X of shape (3, 5) first where it has one) with ``np.random.randn`` after
``np.random.seed(1)``, and the caches are what the course's forward functions make of it, dropout's with
keep_prob 0.5 and masks drawn after ``np.random.seed(1)`` (the course's ``forward_propagation_with_dropout`` seeds
so). The regularised cost's ``a3`` is the course's, to its 8 printed decimals. Like the course's, the functions
reseed numpy's global random state.

Other notebooks ship a ``testCases.py`` of their own (the gradient checking exercise's, among others): this one is
supplied only to files that define one of the regularisation exercise's functions.
"""

from __future__ import annotations

import numpy as np

from gradharness.model.regularised import forward_propagation, forward_propagation_with_dropout

__all__ = [
    "backward_propagation_with_dropout_test_case",
    "backward_propagation_with_regularization_test_case",
    "compute_cost_with_regularization_test_case",
    "forward_propagation_with_dropout_test_case",
]

LABELS = ((1, 1, 0, 1, 0),)
"""The course's Y of every test case."""
DROPOUT_KEEP_PROB = 0.5
"""The keep_prob the course's dropout test cache was made with."""
PRINTED_DECIMALS = 8


def _parameters() -> dict[str, np.ndarray]:
    """W1 (2, 3), b1 (2, 1), W2 (3, 2), b2 (3, 1), W3 (1, 3), b3 (1, 1), drawn in that order."""
    shapes = (("W1", (2, 3)), ("b1", (2, 1)), ("W2", (3, 2)), ("b2", (3, 1)), ("W3", (1, 3)), ("b3", (1, 1)))
    return {name: np.random.randn(*shape) for name, shape in shapes}


def _network() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """X (3, 5), then the parameters, after ``np.random.seed(1)``."""
    np.random.seed(1)
    X = np.random.randn(3, 5)
    return X, _parameters()


def compute_cost_with_regularization_test_case():
    """``a3, Y, parameters`` for ``compute_cost_with_regularization``: the parameters drawn after seed 1 (no X)."""
    X, network = _network()
    a3 = np.round(forward_propagation(X, network)[0], PRINTED_DECIMALS)
    np.random.seed(1)
    Y = np.array(LABELS)
    return a3, Y, _parameters()


def backward_propagation_with_regularization_test_case():
    """``X, Y, cache`` for ``backward_propagation_with_regularization``: the cache of ``forward_propagation``."""
    X, parameters = _network()
    _, cache = forward_propagation(X, parameters)
    return X, np.array(LABELS), cache


def forward_propagation_with_dropout_test_case():
    """``X, parameters`` for ``forward_propagation_with_dropout``."""
    return _network()


def backward_propagation_with_dropout_test_case():
    """``X, Y, cache`` for ``backward_propagation_with_dropout``: the cache of ``forward_propagation_with_dropout``
    with keep_prob 0.5, its masks drawn after ``np.random.seed(1)``."""
    X, parameters = _network()
    np.random.seed(1)
    _, cache = forward_propagation_with_dropout(X, parameters, DROPOUT_KEEP_PROB)
    return X, np.array(LABELS), cache
