"""Verdicts of a gradient check, ordered from best to worst, and the rule that gives a block its verdict."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from enum import Enum

NOISE_SAFETY = 3.0
"""A disagreement up to this many times the estimated numerical error is not evidence of a bug."""


class Verdict(Enum):
    """What a comparison of backprop against the numerical gradient shows."""

    PASS = "pass"  # agreement within the threshold
    KINK = "kink"  # disagreement only where a perturbation crosses a ReLU kink
    SATURATED = "saturated"  # the cost is not finite in float64 near this point (sigmoid saturation)
    IMPRECISE = "imprecise"  # disagreement, but within the numerical error of centred differences
    WRONG = "wrong"  # disagreement the numerics cannot explain: the gradient is wrong

    @property
    def is_failure(self) -> bool:
        """Only WRONG blames the user's code; the others are diagnoses."""
        return self is Verdict.WRONG

    @property
    def rank(self) -> int:
        """Severity, for taking the worst of several verdicts."""
        return BY_RANK.index(self)


BY_RANK: tuple[Verdict, ...] = tuple(Verdict)
"""The verdicts by rank, for arrays of ranks (``BY_RANK[rank]``)."""


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The most severe verdict (PASS for none)."""
    return BY_RANK[max(map(BY_RANK.index, verdicts), default=0)]


def block_verdict(
    difference: float,
    mismatch: float,
    threshold: float,
    allowance: Callable[[], float],
    noise_safety: float = NOISE_SAFETY,
) -> tuple[Verdict, float]:
    """The verdict on one block of finite gradients, and the numerical error it was held to.

    - ``difference``: the seed's relative difference over the block's checked entries;
      ``mismatch``: the norm of their disagreement, ||grad - gradapprox||.
    - ``allowance()``: the norm of the numerical error of those entries, only asked for
      above the threshold (it may cost more forward passes).

    PASS within the threshold (error NaN: not estimated); IMPRECISE when the mismatch is
    within ``noise_safety`` times the numerical error; WRONG otherwise.
    """
    if difference <= threshold:
        return Verdict.PASS, math.nan
    error = allowance()
    return (Verdict.IMPRECISE if mismatch <= noise_safety * error else Verdict.WRONG), error
