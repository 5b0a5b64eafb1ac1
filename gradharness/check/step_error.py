"""The numerical error of centred differences, entry by entry.

Round-off of J over the step, plus how far the estimate moves when the step doubles
(truncation, and any round-off the bound misses). The passes at twice the step cost
extra evaluations of J, so the estimates here work them out only on first need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np


class EntryErrors(Protocol):
    """What the verdict per block asks of the numerical side's error estimate."""

    def of(self, block: slice) -> np.ndarray:
        """The error estimate of each entry of ``block`` (a slice of the flat vector)."""
        ...


def step_error(
    roundoff: float, steps: np.ndarray, gradapprox: np.ndarray, doubled: np.ndarray, doubled_kink: np.ndarray
) -> np.ndarray:
    """roundoff / step + |gradapprox at twice the step - gradapprox| for each entry (inf where that is unknown).

    ``doubled_kink``: the doubled step crosses a kink, so its estimate says nothing about this one's error.
    """
    moved = np.abs(doubled - gradapprox)
    moved = np.where(np.isfinite(moved), moved, np.inf)
    moved = np.where(doubled_kink, np.inf, moved)
    return roundoff / steps + moved


class DoubledStepError:
    """:class:`EntryErrors` whose centred differences at twice the step come for every block at once.

    ``doubled()`` returns the gradapprox and kink flags at twice the step over the whole vector;
    it is called on the first block that needs an estimate (one evaluation, however many blocks
    then need one) and never if every block agrees within the threshold.
    """

    def __init__(
        self,
        roundoff: float,
        steps: np.ndarray,
        gradapprox: np.ndarray,
        doubled: Callable[[], tuple[np.ndarray, np.ndarray]],
        floor: np.ndarray | None = None,
    ) -> None:
        """``roundoff``: the bound on the rounding error of J; ``steps`` and ``gradapprox``: flat, per entry;
        ``floor``: the rounding the analytic gradient may carry, added to each entry's estimate (single
        precision code)."""
        self._roundoff, self._steps, self._gradapprox, self._floor = roundoff, steps, gradapprox, floor
        self._compute = doubled
        self._doubled: tuple[np.ndarray, np.ndarray] | None = None

    def of(self, block: slice) -> np.ndarray:
        """The error estimate of each entry of ``block``."""
        if self._doubled is None:
            self._doubled = self._compute()
        values, kink = self._doubled
        error = step_error(self._roundoff, self._steps[block], self._gradapprox[block], values[block], kink[block])
        return error if self._floor is None else error + self._floor[block]
