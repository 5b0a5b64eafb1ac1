"""Verdicts of a gradient check: an Enum, ordered from best to worst."""

from __future__ import annotations

from enum import Enum


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
        return list(Verdict).index(self)


def worst(verdicts: list[Verdict]) -> Verdict:
    """The most severe verdict (PASS for an empty list)."""
    return max(verdicts, key=lambda v: v.rank, default=Verdict.PASS)
