"""Centred differences of a forward pass: step sizes, and the per-coordinate loop for user code."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradharness.parameters import LayerSizes, Parameters, block_slices, parameter_shapes

# Centred differences trade truncation error (~ eps^2 J''' / 6) against
# round-off (~ u |J| / eps); the two balance near eps = cbrt(machine epsilon).
DEFAULT_EPSILON = float(np.cbrt(np.finfo(np.float64).eps))

ForwardN = Callable[[np.ndarray, np.ndarray, Parameters], object]


def epsilon_vector(theta: np.ndarray, epsilon: float | None) -> np.ndarray:
    """Per-entry step: the given epsilon as is, or the default scaled by max(1, |theta_i|)."""
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    if epsilon is not None:
        if not (np.isfinite(epsilon) and epsilon > 0):
            raise ValueError(f"epsilon={epsilon!r} must be a positive finite number")
        return np.full(theta.size, float(epsilon))
    return DEFAULT_EPSILON * np.maximum(1.0, np.abs(theta))


def cost_of(value: object) -> float:
    """The scalar cost out of what a forward returned: ``cost`` or ``(cost, cache)``; float or 1x1 array."""
    if isinstance(value, (tuple, list)):
        if not value:
            raise ValueError("forward returned an empty tuple")
        value = value[0]
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(f"forward returned a cost of shape {array.shape}, expected a scalar")
    return float(array.reshape(()))


def gradapprox_loop(
    forward: ForwardN,
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
    epsilon: np.ndarray,
    indices: np.ndarray | None = None,
) -> np.ndarray:
    """The seed's loop: (J(theta + e_i) - J(theta - e_i)) / (2 e_i) for each entry i (or only ``indices``).

    Unperturbed blocks are shared read-only between calls, so a forward that
    writes into its parameters raises instead of corrupting later evaluations.
    Entries outside ``indices`` are NaN.
    """
    sizes = LayerSizes.of(parameters)
    shapes = parameter_shapes(sizes)
    base = {}
    for name in shapes:
        frozen = np.array(parameters[name], dtype=np.float64, copy=True)
        frozen.flags.writeable = False
        base[name] = frozen
    where = [(name, s) for name, s in block_slices(sizes).items()]
    total = sum(s.stop - s.start for _, s in where)
    result = np.full(total, np.nan)
    wanted = range(total) if indices is None else (int(i) for i in indices)
    for i in wanted:
        name, block = next((n, s) for n, s in where if s.start <= i < s.stop)
        row, col = divmod(i - block.start, shapes[name][1])
        costs = []
        for sign in (1.0, -1.0):
            perturbed = base[name].copy()
            perturbed[row, col] += sign * epsilon[i]
            arguments = dict(base)
            arguments[name] = perturbed
            costs.append(cost_of(forward(X, Y, arguments)))
        result[i] = (costs[0] - costs[1]) / (2.0 * epsilon[i])
    return result
