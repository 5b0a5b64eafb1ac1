"""Centred differences of a forward pass: step sizes, and the per-coordinate loop for user code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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


def epsilon_vector(theta: np.ndarray, epsilon: float | None, sensitivity: np.ndarray | None = None) -> np.ndarray:
    """Per-entry step: the given epsilon as is, or the default scaled by max(1, |theta_i|).

    ``sensitivity``: how far a unit change of each entry moves the network's output (Z3). The default
    step is then also kept below DEFAULT_EPSILON / sensitivity, so no perturbation moves Z3 by more than
    the default step does a unit-scale quantity: a larger move leaves the region where the centred
    difference is accurate, and the logistic loss, symmetric about Z3 = 0, can make the differences at
    two steps agree with each other there but not with the derivative.
    """
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    check_epsilon(epsilon)
    if epsilon is not None:
        return np.full(theta.size, float(epsilon))
    scale = np.maximum(1.0, np.abs(theta))
    if sensitivity is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = np.where(np.asarray(sensitivity) > 1.0, 1.0 / np.asarray(sensitivity), np.inf)
        scale = np.minimum(scale, np.where(np.isfinite(reach) & (reach > 0), reach, scale))
    return DEFAULT_EPSILON * scale


def cost_of(value: object) -> float:
    """The scalar cost out of what a forward returned: ``cost`` or ``(cost, cache)``; float or 1x1 array."""
    if type(value) is tuple and len(value) == 2 and type(value[0]) in (float, np.float64):
        return float(value[0])  # the usual return, at once: this runs once per perturbed forward call
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


@dataclass(frozen=True)
class Perturbations:
    """Perturbed parameter sets of one block, each evaluated at theta + delta and theta - delta.

    Either entry by entry (``indices`` into the flattened block, one ``steps`` value each) or
    along directions (``deltas``: one row of the block's size per perturbation).
    """

    block: str
    indices: np.ndarray | None = None
    steps: np.ndarray | None = None
    deltas: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.deltas) if self.deltas is not None else len(self.indices if self.indices is not None else ())

    def delta(self, k: int, shape: tuple[int, ...]) -> tuple[tuple[int, ...] | None, np.ndarray | float]:
        """The k-th perturbation: (entry, step) entry by entry, (None, delta array) along a direction."""
        if self.deltas is not None:
            return None, np.asarray(self.deltas[k], dtype=np.float64).reshape(shape)
        assert self.indices is not None and self.steps is not None
        return tuple(int(i) for i in np.unravel_index(int(self.indices[k]), shape)), float(self.steps[k])

    def perturbed(self, block: np.ndarray, k: int, sign: float) -> np.ndarray:
        """A copy of the block's values moved by the k-th perturbation times ``sign`` (+1 or -1)."""
        entry, delta = self.delta(k, block.shape)
        out = np.array(block, dtype=np.float64, copy=True)
        if entry is None:
            out += sign * np.asarray(delta)
        else:
            out[entry] += sign * float(delta)
        return out

    def stacked(self, block: np.ndarray, sign: float) -> np.ndarray:
        """``perturbed(block, k, sign)`` for every k, stacked: the same values, made in one pass."""
        if self.deltas is None and self.indices is not None and self.steps is not None:
            count = len(self)
            stack = np.repeat(block[np.newaxis].astype(np.float64), count, axis=0)
            flat = stack.reshape(count, -1)
            rows = np.arange(count)
            flat[rows, self.indices] = flat[rows, self.indices] + sign * np.asarray(self.steps, dtype=np.float64)
            return stack
        return np.stack([self.perturbed(block, k, sign) for k in range(len(self))])


PerturbedCosts = list[tuple[np.ndarray, np.ndarray]]
"""J(theta + delta) and J(theta - delta) for each perturbation of each group."""


def loop_costs(
    forward: ForwardN,
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
    groups: Sequence[Perturbations],
    *,
    mapping: Callable[[Parameters], Parameters] = dict,
) -> PerturbedCosts:
    """Call ``forward`` once per perturbed parameter set, as the seed's loop does.

    J(theta + delta_k) then J(theta - delta_k), for each k of each group in turn. Unperturbed
    blocks are shared read-only between calls, so a forward that writes into its parameters raises
    instead of corrupting later evaluations; the perturbed block is a slot of its own, made with
    the others of its group beforehand; each call gets a fresh dict (made by ``mapping``), so a
    forward that rebinds its keys cannot affect the next call.
    """
    base = _frozen_copies(parameters, parameter_shapes(LayerSizes.of(parameters)))
    out = []
    for group in groups:
        block = group.block
        ups, downs = group.stacked(base[block], 1.0), group.stacked(base[block], -1.0)
        plus, minus = np.empty(len(group)), np.empty(len(group))
        for k in range(len(group)):
            plus[k] = cost_of(forward(X, Y, mapping({**base, block: ups[k]})))
            minus[k] = cost_of(forward(X, Y, mapping({**base, block: downs[k]})))
        out.append((plus, minus))
    return out


def perturbed_costs(
    forward: ForwardN, X: np.ndarray, Y: np.ndarray, parameters: Parameters, groups: Sequence[Perturbations]
) -> PerturbedCosts:
    """The costs at every perturbed parameter set of ``groups``.

    A forward pass that evaluates many parameter sets at once (one in another process, which
    answers them in a single round trip) says so with a ``perturbed_costs`` method; any other
    callable is called once per set (:func:`loop_costs`).
    """
    batched = getattr(forward, "perturbed_costs", None)
    if callable(batched):
        return batched(X, Y, parameters, groups)
    return loop_costs(forward, X, Y, parameters, groups)


def gradapprox_loop(
    forward: ForwardN,
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
    epsilon: np.ndarray,
    indices: np.ndarray | None = None,
) -> np.ndarray:
    """The seed's loop: (J(theta + e_i) - J(theta - e_i)) / (2 e_i) for each entry i (or only ``indices``).

    Entries outside ``indices`` are NaN; the costs come from :func:`perturbed_costs`.
    """
    slices = block_slices(LayerSizes.of(parameters))
    total = sum(s.stop - s.start for s in slices.values())
    result = np.full(total, np.nan)
    wanted = np.arange(total) if indices is None else np.unique(np.asarray(indices, dtype=np.intp))
    groups, where = [], []
    for name, block in slices.items():
        inside = wanted[(wanted >= block.start) & (wanted < block.stop)]
        if inside.size:
            groups.append(Perturbations(name, indices=inside - block.start, steps=np.asarray(epsilon)[inside]))
            where.append(inside)
    for inside, (plus, minus) in zip(where, perturbed_costs(forward, X, Y, parameters, groups), strict=True):
        result[inside] = (plus - minus) / (2.0 * np.asarray(epsilon)[inside])
    return result


def directional_loop(
    forward: ForwardN,
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
    name: str,
    steps: np.ndarray,
) -> np.ndarray:
    """J(theta + s_k) - J(theta - s_k) for each row s_k of ``steps`` (k, size of block ``name``).

    Only block ``name`` moves; the costs come from :func:`perturbed_costs`.
    """
    [(plus, minus)] = perturbed_costs(forward, X, Y, parameters, [Perturbations(name, deltas=np.asarray(steps))])
    return plus - minus
