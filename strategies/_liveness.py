"""Default cases that exercise every gradient block, with the masks' edge cases planted on purpose.

A drawn network can leave a gradient block exactly zero: an all-zero input column, a weight
matrix with an all-zero row or column, or a hidden unit whose ReLU is off on every example. On
such a case every backprop "agrees" on that block. Default draws are therefore repaired by
construction, after decoding and before anything sees them:

- **inputs**: an example (column of X) whose every input is 0.0 gets X[0, k] = 1.0;
- **weights**: the entries on W's wrapped diagonal, (i, i mod cols) and (j mod rows, j), hold
  every row and every column of W; a 0.0 there reads as :data:`REPAIR_WEIGHT` / sqrt(fan_in)
  (inside the weight bound), so no unit is cut off from the layer before or after it;
- **hidden units**: a unit whose drawn bias leaves it off (Z <= 0) on every example gets the bias
  that puts its best example at Z = :data:`MARGIN`; the unit is then on for at least one example.

The all-zero draw, where shrinking ends, is then the smallest *live* network, not a dead one.

Edge cases. The last drawn bytes (:data:`EDGE_BYTES`) plant, in about :data:`EDGE_SHARE` of
cases, one of the cases the masks need: a dead unit (off on every example; in a hidden layer of
two or more units, so the blocks below still get gradient through its neighbours) or an exact
zero in Z (a ReLU kink at the drawn point, the unit on at its other examples). The first byte
picks the kind, high values planting one, so shrinking moves away from an edge case unless the
failure needs it; the second byte picks the unit. m = 1 comes from the batch-size draw.
"""

from __future__ import annotations

import math
from dataclasses import replace
from enum import Enum

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from gradharness.model.case import NetworkCase
from gradharness.model.parameters import Parameters

MARGIN = 0.25
"""A repaired unit's largest Z; a planted dead unit's Z is at most -MARGIN. Far from the kink at any step."""
KINK_WINDOW = 1.0
"""A planted exact zero in Z leaves its unit on, with Z <= KINK_WINDOW, at the examples just above it."""
REPAIR_WEIGHT = 0.75
"""A zero on a weight matrix's wrapped diagonal reads as REPAIR_WEIGHT / sqrt(fan_in)."""
EDGE_BYTES = 2
"""Bytes drawn after the arrays: the edge kind, then the unit it is planted in."""
_NO_EDGE_BELOW = 216  # kind bytes 0..215: no edge case; 216..235 a dead unit; 236..255 an exact zero in Z
_DEAD_BELOW = 236
EDGE_SHARE = (256 - _NO_EDGE_BELOW) / 256
"""The share of uniformly drawn kind bytes that plant an edge case (40 of 256, about 16%)."""


class Edge(Enum):
    """The edge case planted in a default draw."""

    NONE = "none"
    DEAD_UNIT = "dead unit"
    EXACT_ZERO = "exact zero in Z"


def edge_bytes() -> SearchStrategy[bytes]:
    """The edge draw; it shrinks towards all-zero bytes, i.e. no edge case."""
    return st.binary(min_size=EDGE_BYTES, max_size=EDGE_BYTES)


def edge_kind(raw: bytes) -> Edge:
    """The kind of edge case the first edge byte asks for."""
    if raw[0] < _NO_EDGE_BELOW:
        return Edge.NONE
    return Edge.DEAD_UNIT if raw[0] < _DEAD_BELOW else Edge.EXACT_ZERO


def _live_inputs(X: np.ndarray) -> np.ndarray:
    """X with every all-zero example given the input 1.0 in its first row."""
    silent = ~X.any(axis=0)
    if not silent.any():
        return X
    X = X.copy()
    X[0, silent] = 1.0
    return X


def wrapped_diagonal(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) indices (i, i mod cols) and (j mod rows, j): every row and every column once at least."""
    down = np.arange(rows)
    across = np.arange(cols)
    return np.concatenate([down, across % rows]), np.concatenate([down % cols, across])


def live_weights(W: np.ndarray) -> np.ndarray:
    """W with the zeros on its wrapped diagonal replaced by REPAIR_WEIGHT / sqrt(fan_in)."""
    rows, cols = wrapped_diagonal(*W.shape)
    if W[rows, cols].all():
        return W
    W = W.copy()
    zero = W[rows, cols] == 0.0
    W[rows[zero], cols[zero]] = round(REPAIR_WEIGHT / math.sqrt(W.shape[1]), 4)
    return W


def _live_biases(b: np.ndarray, P: np.ndarray) -> np.ndarray:
    """b with each unit that would be off on every example (P + b <= 0) moved on at its best example."""
    best = P.max(axis=1, keepdims=True)
    dead = (best + b <= 0.0).ravel()
    if not dead.any():
        return b
    b = b.copy()
    b[dead] = MARGIN - best[dead]
    return b


def _planted(b: np.ndarray, P: np.ndarray, unit: int, edge: Edge) -> np.ndarray:
    """b with ``unit`` made dead (Z <= -MARGIN everywhere) or given Z == 0 exactly at one example.

    The exact zero goes at the lowest example within :data:`KINK_WINDOW` of the unit's best one: the
    unit is on at the examples above it, by at most KINK_WINDOW, so no activation grows past the
    drawn bounds.
    """
    b = b.copy()
    row = P[unit]
    if edge is Edge.DEAD_UNIT:
        b[unit] = -MARGIN - row.max()
    else:
        # fl(p + (-p)) is exactly 0.0, and the forward's np.dot(W, A) + b computes the same p.
        b[unit] = -row[row >= row.max() - KINK_WINDOW].min()
    return b


def _edge_unit(sizes: tuple[int, int], edge: Edge, index: int) -> tuple[int, int] | None:
    """(hidden layer, unit) the edge is planted in, or None when no unit qualifies.

    A dead unit goes only in a layer of two or more units, so the layers below keep a live path.
    """
    units = [
        (layer, unit) for layer, n in enumerate(sizes, 1) if edge is Edge.EXACT_ZERO or n >= 2 for unit in range(n)
    ]
    return units[index % len(units)] if units else None


def live_case(case: NetworkCase, raw_edge: bytes) -> NetworkCase:
    """The default case with live inputs and units, and the edge case ``raw_edge`` asks for planted.

    Its weights are already live (:func:`live_weights` runs where they are drawn, before the row cap).
    """
    edge = edge_kind(raw_edge)
    target = _edge_unit((case.sizes.n1, case.sizes.n2), edge, raw_edge[1]) if edge is not Edge.NONE else None
    if edge is Edge.DEAD_UNIT and target is None:
        edge, target = Edge.EXACT_ZERO, (1, raw_edge[1] % case.sizes.n1)
    parameters: Parameters = dict(case.parameters)
    X = _live_inputs(case.X)
    A = X
    for layer in (1, 2):
        P = np.dot(parameters[f"W{layer}"], A)
        b = _live_biases(parameters[f"b{layer}"], P)
        if target is not None and target[0] == layer:
            b = _planted(b, P, target[1], edge)
        parameters[f"b{layer}"] = b
        A = np.maximum(0, P + b)
    return replace(case, X=X, parameters=parameters)
