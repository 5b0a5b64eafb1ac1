"""The precision a layer's code is judged at: float64, or float32 for code that computes in single precision.

A layer that returns float32 gradients (it casts its inputs, or it is given float32 ones) cannot meet a threshold
made for float64: its own rounding, about 6e-8 of each entry, is above the seed's 1e-7 once a few terms add up.
So the ``layers`` and ``signature`` targets judge it at float32 (the exercise keeps rejecting float32 gradients):

- the threshold is scaled by the square root of the ratio of the machine epsilons: 1e-7 becomes 2.3e-3, close to
  the 2e-3 jax's ``check_grads`` uses for float32;
- the analytic gradient may carry its own rounding, ``width * u32`` of its block's largest entry, where ``width``
  counts the terms a gradient entry may sum (:func:`gradient_allowance`);
- where the numerical side itself is float32 (the forward returns float32 even at the float64 copies it is
  perturbed at), the step is cbrt(eps32) and the round-off bound of J uses u32.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

DOUBLE = "float64"
SINGLE = "float32"
PRECISIONS = (DOUBLE, SINGLE)
"""The precisions judged, the finer first."""


def unit_roundoff(precision: str) -> float:
    """Half the machine epsilon of ``precision``."""
    return float(np.finfo(np.dtype(precision)).eps) / 2


def precision_of(arrays: Iterable[object]) -> str:
    """The coarsest precision among these values' floating dtypes (integers and Python floats count as
    float64); float16 and other dtypes are left to the caller's shape-and-kind checks, as float64."""
    precision = DOUBLE
    for value in arrays:
        dtype = getattr(value, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype == np.float32:
            precision = SINGLE
    return precision


def coarsest(*precisions: str) -> str:
    """The coarsest of these precisions."""
    return SINGLE if SINGLE in precisions else DOUBLE


def threshold_at(threshold: float, precision: str) -> float:
    """The relative-difference threshold for code at ``precision`` (``threshold`` itself at float64)."""
    ratio = unit_roundoff(precision) / unit_roundoff(DOUBLE)
    return float(threshold * math.sqrt(ratio))


def step_at(epsilon: float | None, precision: str) -> float | None:
    """The centred-difference step where the numerical side computes at ``precision``: the caller's fixed
    ``epsilon``, else None (the default, scaled by each entry) at float64 and cbrt(eps32) at float32."""
    if epsilon is not None or precision == DOUBLE:
        return epsilon
    return float(np.cbrt(2 * unit_roundoff(precision)))


def gradient_allowance(
    gradients: Mapping[str, np.ndarray], precision: str, width: int, terms: np.ndarray | None = None
) -> np.ndarray | None:
    """The rounding the analytic gradients may carry at ``precision``, flat in block order (None at float64, where
    the threshold's analysis already holds): ``width`` roundings of the terms each entry sums, whose size is
    ``terms`` (:func:`term_sizes`) where known, and at least its block's largest entry, and as many terms lost
    below the precision's smallest normal number."""
    if precision == DOUBLE:
        return None
    u = unit_roundoff(precision)
    pieces = []
    for value in gradients.values():
        pieces.append(np.full(np.size(value), float(np.max(np.abs(value), initial=0.0))))
    scale = np.concatenate(pieces) if pieces else np.zeros(0)
    if terms is not None:
        scale = scale + np.abs(np.asarray(terms, dtype=np.float64).reshape(-1))
    # Below float32's smallest normal number a term is lost whole (an input of 1e-80 is 0.0 in float32).
    return 4.0 * width * (u * scale + float(np.finfo(np.dtype(precision)).tiny))


def term_sizes(weights: np.ndarray, plus: np.ndarray, minus: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """How large the terms of each gradient entry are, sum_j |dout_j| |d out_j / d theta_i|: from the outputs at
    theta_i moved by +- ``steps[i]`` (stacked along the first axis). Backprop sums these terms; where they cancel
    (a normalisation's dgamma for a dout that is the same everywhere) its rounding is theirs, not the result's."""
    slopes = np.abs(plus - minus) / (2.0 * steps.reshape((-1,) + (1,) * (plus.ndim - 1)))
    return np.sum(np.abs(weights) * slopes, axis=tuple(range(1, plus.ndim)))


def judged_at(precision: str, threshold: float) -> str:
    """What a failure's message adds for single precision code: ``; judged at float32 (threshold 0.0023)``."""
    if precision == DOUBLE:
        return ""
    return f"; judged at {precision} precision (threshold {threshold_at(threshold, precision):.2g})"
