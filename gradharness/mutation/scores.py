"""Mutation scores, the examples-to-kill distribution and the fixed-case comparison, from mutant records."""

from __future__ import annotations

import statistics
from collections import Counter

from gradharness.records.mutation import ExamplesRecord, ExerciseCaseRecord, MutantRecord, ScoreRecord
from gradharness.records.status import MutantStatus
from gradharness.records.verdict import RunVerdict

_BUCKETS = ((1, 1, "1"), (2, 2, "2"), (3, 5, "3-5"), (6, 10, "6-10"), (11, 25, "11-25"), (26, 50, "26-50"),
            (51, 100, "51-100"), (101, None, ">100"))  # fmt: skip


def score(name: str, mutants: list[MutantRecord]) -> ScoreRecord:
    """Counts per status; score = detected / (all - equivalent), checker_score = killed / (all - equivalent)."""
    counts = Counter(m.status for m in mutants)
    counted = len(mutants) - counts[MutantStatus.EQUIVALENT]
    detected = sum(count for status, count in counts.items() if status.detected)
    killed = counts[MutantStatus.KILLED]
    return ScoreRecord(
        name=name,
        total=len(mutants),
        killed=killed,
        crashed=counts[MutantStatus.CRASHED],
        timed_out=counts[MutantStatus.TIMED_OUT],
        survived=counts[MutantStatus.SURVIVED],
        equivalent=counts[MutantStatus.EQUIVALENT],
        score=detected / counted if counted else None,
        checker_score=killed / counted if counted else None,
    )


def per_operator(mutants: list[MutantRecord]) -> list[ScoreRecord]:
    """One ScoreRecord per operator, in the order operators first appear."""
    names = list(dict.fromkeys(m.operator for m in mutants))
    return [score(name, [m for m in mutants if m.operator == name]) for name in names]


def examples_to_kill(mutants: list[MutantRecord]) -> ExamplesRecord:
    """Distribution of the first catching case's position over the detected mutants."""
    values = [m.examples_to_kill for m in mutants if m.examples_to_kill is not None and m.status.detected]
    buckets = {label: 0 for _, _, label in _BUCKETS}
    for value in values:
        for low, high, label in _BUCKETS:
            if value >= low and (high is None or value <= high):
                buckets[label] += 1
                break
    return ExamplesRecord(
        buckets=buckets,
        median=float(statistics.median(values)) if values else None,
        maximum=max(values) if values else None,
    )


def exercise_case(mutants: list[MutantRecord]) -> ExerciseCaseRecord:
    """Which mutants the exercise's single fixed case misses, though the generated cases catch them."""
    detected = [m for m in mutants if m.exercise_case is not None and m.exercise_case.detected]
    missed = [
        m.id for m in mutants if m.status.detected and m.exercise_case is not None and not m.exercise_case.detected
    ]
    return ExerciseCaseRecord(detected=len(detected), missed=missed)


def verdict(mutants: list[MutantRecord]) -> RunVerdict:
    """PASS when every mutant not believed equivalent was detected."""
    undetected = [m for m in mutants if not m.status.detected and m.status is not MutantStatus.EQUIVALENT]
    return RunVerdict.FAIL if undetected else RunVerdict.PASS
