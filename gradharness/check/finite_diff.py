"""Centred differences of a forward pass: step sizes, and the per-coordinate loop for user code."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradharness.model.parameters import LayerSizes, Parameters, block_slices, parameter_shapes

# Centred differences trade truncation error (~ eps^2 J''' / 6) against
# round-off (~ u |J| / eps); the two balance near eps = cbrt(machine epsilon).
DEFAULT_EPSILON = float(np.cbrt(np.finfo(np.float64).eps))

ForwardN = Callable[[np.ndarray, np.ndarray, Parameters], object]


def check_epsilon(epsilon: float | None) -> None:
    """Raise ValueError unless ``epsilon`` is None (the default step) or a positive finite number."""
    if epsilon is not None and not (np.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon={epsilon!r} must be a positive finite number")


def epsilon_vector(theta: np.ndarray, epsilon: float | None) -> np.ndarray:
    """Per-entry step: the given epsilon as is, or the default scaled by max(1, |theta_i|)."""
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    check_epsilon(epsilon)
    if epsilon is not None:
        return np.full(theta.size, float(epsilon))
    return DEFAULT_EPSILON * np.maximum(1.0, np.abs(theta))


def cost_of(value: object) -> float:
    """The scalar cost out of what a forward returned: ``cost`` or ``(cost, cache)``; float or 1x1 array."""
    if isinstance(value, (tuple, list)):
        if not value:
            raise ValueError("forward returned an empty tuple")
        value = value[0]
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        # A string "0.69" or a complex cost would convert silently; neither is a real cost.
        raise ValueError(f"forward returned a cost of type {_type_name(value, array)}, expected a real number")
    if array.size != 1:
        raise ValueError(f"forward returned a cost of shape {array.shape}, expected a scalar")
    return float(array.reshape(()))


def _type_name(value: object, array: np.ndarray) -> str:
    return array.dtype.name if isinstance(value, np.ndarray | np.generic) else type(value).__name__


def _frozen_copies(parameters: Parameters, shapes: dict[str, tuple[int, int]]) -> Parameters:
    """Read-only float64 copies: a forward that writes into its parameters raises instead of corrupting later calls."""
    base = {}
    for name in shapes:
        frozen = np.array(parameters[name], dtype=np.float64, copy=True)
        frozen.flags.writeable = False
        base[name] = frozen
    return base


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
    base = _frozen_copies(parameters, shapes)
    slices = block_slices(sizes)
    total = sum(s.stop - s.start for s in slices.values())
    result = np.full(total, np.nan)
    wanted = np.arange(total) if indices is None else np.unique(np.asarray(indices, dtype=np.intp))
    for name, block in slices.items():
        inside = wanted[(wanted >= block.start) & (wanted < block.stop)]
        cols = shapes[name][1]
        for i in inside.tolist():
            row, col = divmod(i - block.start, cols)
            step = float(epsilon[i])
            costs = []
            for sign in (step, -step):
                perturbed = base[name].copy()
                perturbed[row, col] += sign
                # a fresh dict per call: a forward that rebinds its keys cannot affect the next call
                costs.append(cost_of(forward(X, Y, {**base, name: perturbed})))
            result[i] = (costs[0] - costs[1]) / (2.0 * step)
    return result


def directional_loop(
    forward: ForwardN,
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
    name: str,
    steps: np.ndarray,
) -> np.ndarray:
    """J(theta + s_k) - J(theta - s_k) for each row s_k of ``steps`` (k, size of block ``name``), one call per sign.

    Only block ``name`` moves; the others are shared read-only, as in :func:`gradapprox_loop`.
    """
    shapes = parameter_shapes(LayerSizes.of(parameters))
    base = _frozen_copies(parameters, shapes)
    out = np.empty(len(steps))
    for k, step in enumerate(steps):
        step = np.asarray(step, dtype=np.float64).reshape(shapes[name])
        J_plus = cost_of(forward(X, Y, {**base, name: base[name] + step}))
        J_minus = cost_of(forward(X, Y, {**base, name: base[name] - step}))
        out[k] = J_plus - J_minus
    return out
