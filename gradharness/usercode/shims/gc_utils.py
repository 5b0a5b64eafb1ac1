"""A compatible ``gc_utils`` for files that import the exercise's helper module without shipping it.

Same functions and return values as the exercise's module (``dictionary_to_vector``
returns ``(theta, keys)``; vectors are columns, blocks row-major in the order W1, b1,
W2, b2, ...), but for any layer sizes and any number of layers: the exercise's
``vector_to_dictionary`` hard-codes a 4-5-3-1 network, this one reuses the layout of the
last dictionary of the same length that went through ``dictionary_to_vector``.
Keys are matched in either case (``W1``/``w1``, ``dW1``/``dw1``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from gradharness.model.keys import KeyCaseDict, matching_key

__all__ = ["dictionary_to_vector", "gradients_to_vector", "relu", "sigmoid", "vector_to_dictionary"]

# The exercise's own network: 4 inputs, 5 and 3 hidden units, 1 output (47 parameters).
EXERCISE_LAYOUT: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("W1", (5, 4)), ("b1", (5, 1)), ("W2", (3, 5)), ("b2", (3, 1)), ("W3", (1, 3)), ("b3", (1, 1)),
)  # fmt: skip

# Layouts seen by dictionary_to_vector, by vector length (the latest wins).
_layouts: dict[int, tuple[tuple[str, tuple[int, ...]], ...]] = {}


def sigmoid(x):
    """1 / (1 + exp(-x)), elementwise."""
    s = 1 / (1 + np.exp(-x))
    return s


def relu(x):
    """max(0, x), elementwise."""
    s = np.maximum(0, x)
    return s


def _lookup(mapping: Mapping, name: str):
    key = matching_key(mapping, name)
    if key is None:
        raise KeyError(name)
    return mapping[key]


def _names(mapping: Mapping, prefix: str) -> list[str]:
    """W1, b1, W2, b2, ... (with ``prefix`` 'd': dW1, db1, ...) for as many layers as the mapping has."""
    names: list[str] = []
    layer = 1
    while True:
        pair = [f"{prefix}W{layer}", f"{prefix}b{layer}"]
        try:
            for name in pair:
                _lookup(mapping, name)
        except KeyError:
            break
        names += pair
        layer += 1
    if not names:
        keys = ", ".join(sorted(map(str, mapping))) or "none"
        raise KeyError(f"no {prefix}W1/{prefix}b1 in the dictionary (keys: {keys})")
    return names


def dictionary_to_vector(parameters):
    """Stack W1, b1, W2, ... into one column vector; also return each entry's key."""
    names = _names(parameters, "")
    pieces = []
    keys: list[str] = []
    layout = []
    for name in names:
        value = np.asarray(_lookup(parameters, name))
        pieces.append(np.reshape(value, (-1, 1)))
        keys = keys + [name] * value.size
        layout.append((name, value.shape))
    theta = np.concatenate(pieces, axis=0)
    _layouts[theta.shape[0]] = tuple(layout)
    return theta, keys


def vector_to_dictionary(theta):
    """Unroll a column vector back into W1, b1, ... with the shapes it was stacked from."""
    flat = np.asarray(theta).reshape(-1)
    layout = _layouts.get(flat.size)
    if layout is None:
        if flat.size != sum(math.prod(shape) for _, shape in EXERCISE_LAYOUT):
            raise ValueError(
                f"vector_to_dictionary: {flat.size} entries, and no dictionary of that length went through "
                "dictionary_to_vector (the layout is taken from it)"
            )
        layout = EXERCISE_LAYOUT
    parameters = KeyCaseDict()
    start = 0
    for name, shape in layout:
        size = math.prod(shape)
        parameters[name] = flat[start : start + size].reshape(shape)
        start += size
    return parameters


def gradients_to_vector(gradients):
    """Stack dW1, db1, dW2, ... into one column vector (other keys such as dZ1 are ignored)."""
    names = _names(gradients, "d")
    pieces = [np.reshape(np.asarray(_lookup(gradients, name)), (-1, 1)) for name in names]
    theta = np.concatenate(pieces, axis=0)
    return theta
