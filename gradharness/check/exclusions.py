"""Which entries the coordinate-wise comparison sets aside: ReLU kinks, saturated costs, screened blocks."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from gradharness.check.layout import BlockLayout


class Exclusions(NamedTuple):
    """Per-entry masks, in dictionary_to_vector order.

    - ``kink``: the perturbation crosses a ReLU kink; ``saturated``: the perturbed cost is not finite.
    - ``considered``: entries with a coordinate-wise numerical value (None: all; the rest were screened).
    - ``excluded``: left out of the comparison, for any of those reasons.
    """

    kink: np.ndarray
    saturated: np.ndarray
    considered: np.ndarray | None
    excluded: np.ndarray
    clean: bool  # no kink and no saturation anywhere

    @property
    def flagged(self) -> np.ndarray:
        """Entries at a kink or saturated."""
        return self.kink | self.saturated


def exclusions(
    gradapprox: np.ndarray, reference_kink: np.ndarray, screened: Collection[str], layout: BlockLayout
) -> Exclusions:
    """The masks for a numerical gradient (NaN in ``screened`` blocks) and the reference network's kink flags."""
    finite = np.isfinite(gradapprox)
    if not screened and not np.count_nonzero(reference_kink) and np.count_nonzero(finite) == finite.size:
        return _nothing_excluded(finite.size)
    saturated = ~finite
    considered = None
    if screened:
        considered = np.ones(finite.size, dtype=bool)
        for name in screened:
            considered[layout.slice_of(name)] = False
        saturated &= considered
    kink = reference_kink & ~saturated
    flagged = kink | saturated
    excluded = flagged if considered is None else flagged | ~considered
    return Exclusions(kink, saturated, considered, excluded, clean=not np.count_nonzero(flagged))


@lru_cache(maxsize=64)
def _nothing_excluded(total: int) -> Exclusions:
    """The usual case, no entry set aside, for a network of ``total`` entries (read-only masks: shared)."""
    nothing = np.zeros(total, dtype=bool)
    nothing.flags.writeable = False
    return Exclusions(nothing, nothing, None, nothing, True)
