"""The verdict rule of a block, and the order of verdicts."""

from __future__ import annotations

import math

import pytest

from gradharness.check.verdict import BY_RANK, NOISE_SAFETY, Verdict, block_verdict, worst


def never() -> float:
    raise AssertionError("the numerical error was asked for within the threshold")


def test_within_the_threshold_passes_without_estimating_the_error():
    verdict, error = block_verdict(1e-8, 3e-8, 1e-7, never)
    assert verdict is Verdict.PASS and math.isnan(error)
    assert block_verdict(1e-7, 1.0, 1e-7, never)[0] is Verdict.PASS  # the threshold itself passes


@pytest.mark.parametrize(
    ("mismatch", "error", "expected"),
    [
        (3.0, 1.0, Verdict.IMPRECISE),  # exactly NOISE_SAFETY times the error
        (3.0001, 1.0, Verdict.WRONG),
        (0.5, 1.0, Verdict.IMPRECISE),
        (1.0, 0.0, Verdict.WRONG),  # no numerical error explains any mismatch
    ],
)
def test_above_the_threshold_the_numerical_error_decides(mismatch, error, expected):
    assert NOISE_SAFETY == 3.0
    verdict, reported = block_verdict(0.1, mismatch, 1e-7, lambda: error)
    assert verdict is expected and reported == error


def test_noise_safety_can_be_chosen():
    assert block_verdict(0.1, 2.0, 1e-7, lambda: 1.0, noise_safety=1.0)[0] is Verdict.WRONG
    assert block_verdict(0.1, 2.0, 1e-7, lambda: 1.0, noise_safety=2.0)[0] is Verdict.IMPRECISE


def test_verdicts_are_ranked_from_best_to_worst():
    assert BY_RANK == (Verdict.PASS, Verdict.KINK, Verdict.SATURATED, Verdict.IMPRECISE, Verdict.WRONG)
    assert [v.rank for v in BY_RANK] == [0, 1, 2, 3, 4]
    assert worst([]) is Verdict.PASS
    assert worst([Verdict.KINK, Verdict.PASS, Verdict.IMPRECISE]) is Verdict.IMPRECISE
    assert worst(iter([Verdict.WRONG, Verdict.SATURATED])) is Verdict.WRONG
    assert [v for v in Verdict if v.is_failure] == [Verdict.WRONG]
