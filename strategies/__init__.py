"""Hypothesis strategies that draw consistent 3-layer network test cases.

Sizes first, then the batch size m, then X, Y and parameters of those shapes;
see :func:`network_cases`. The course's L-layer model and its building blocks: :func:`deep_cases`,
:func:`deep_layer_sizes`, :func:`block_cases`; its regularisation exercise's network with L2 regularisation or
dropout: :func:`regularisation_cases`, :func:`dropout_cases`. Points (x, theta) of the 1-D model:
:func:`points_1d`. Every public strategy validates its arguments when called and raises
:class:`hypothesis.errors.InvalidArgument` naming the argument.
"""

from __future__ import annotations

from strategies.deep import block_cases, deep_cases, deep_layer_sizes
from strategies.network import (
    batch_sizes,
    inputs,
    labels,
    layer_sizes,
    network_cases,
    parameters,
)
from strategies.one_d import inputs_1d, points_1d, thetas
from strategies.regularised import dropout_cases, regularisation_cases

__all__ = [
    "batch_sizes",
    "block_cases",
    "deep_cases",
    "deep_layer_sizes",
    "dropout_cases",
    "inputs",
    "inputs_1d",
    "labels",
    "layer_sizes",
    "network_cases",
    "parameters",
    "points_1d",
    "regularisation_cases",
    "thetas",
]
