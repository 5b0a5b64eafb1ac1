"""Known kinks: the entries whose centred difference moves a switch value across zero.

A piecewise function picks its branch by the sign of some values computed from its inputs (ReLU's input, a
hinge's margins, each pooling window's lead of an entry over the rest). When the function's code is known, so
are they: an entry straddles a kink when moving it by +step and by -step leaves some switch on different sides
of zero, or puts one within round-off of zero (where the two sides cannot be told apart).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from gradharness.check.arrays import KinksOf

__all__ = ["switch_kinks"]

_UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2


def switch_kinks(
    switches: Callable[[Mapping[str, np.ndarray]], np.ndarray], point: Mapping[str, np.ndarray]
) -> KinksOf:
    """:data:`~gradharness.check.arrays.KinksOf` for a function whose branch the signs of ``switches(arrays)``
    pick, at ``point`` (the arrays by name, in block order)."""
    base = {name: np.asarray(value, dtype=np.float64) for name, value in point.items()}
    margin = 64 * _UNIT_ROUNDOFF * (np.abs(np.asarray(switches(base), dtype=np.float64)) + 1.0)

    def kinks(steps: np.ndarray) -> np.ndarray:
        flags = np.zeros(steps.size, dtype=bool)
        start = 0
        for name, value in base.items():
            for index in range(value.size):
                plus, minus = (_moved(switches, base, name, index, sign * steps[start + index]) for sign in (1.0, -1.0))
                moved = plus != minus
                near = moved & ((np.abs(plus) <= margin) | (np.abs(minus) <= margin))
                flags[start + index] = bool(np.any((plus > 0) != (minus > 0)) or np.any(near))
            start += value.size
        return flags

    return kinks


def _moved(
    switches: Callable[[Mapping[str, np.ndarray]], np.ndarray],
    point: Mapping[str, np.ndarray],
    name: str,
    index: int,
    delta: float,
) -> np.ndarray:
    """The switch values when one entry of one array moves by ``delta``."""
    moved = dict(point)
    moved[name] = np.array(point[name], copy=True)
    moved[name].reshape(-1)[index] += delta
    return np.asarray(switches(moved), dtype=np.float64)
