"""Mutation scores, the examples-to-kill distribution and the fixed-case comparison, from mutant records."""

from __future__ import annotations

import statistics
from collections import Counter

from gradharness.mutation.status import MutantStatus
from gradharness.records.mutation import ExamplesRecord, ExerciseCaseRecord, MutantRecord, ScoreRecord

_DETECTED = {s.value for s in MutantStatus if s.detected}
_BUCKETS = ((1, 1, "1"), (2, 2, "2"), (3, 5, "3-5"), (6, 10, "6-10"), (11, 25, "11-25"), (26, 50, "26-50"),
            (51, 100, "51-100"), (101, None, ">100"))  # fmt: skip


def score(name: str, mutants: list[MutantRecord]) -> ScoreRecord:
    """Counts per status; score = detected / (all - equivalent), checker_score = killed / (all - equivalent)."""
    counts = Counter(m.status for m in mutants)
    counted = len(mutants) - counts[MutantStatus.EQUIVALENT.value]
    detected = sum(counts[s] for s in _DETECTED)
    killed = counts[MutantStatus.KILLED.value]
    return ScoreRecord(
        name=name,
        total=len(mutants),
        killed=killed,
        crashed=counts[MutantStatus.CRASHED.value],
        timed_out=counts[MutantStatus.TIMED_OUT.value],
        survived=counts[MutantStatus.SURVIVED.value],
        equivalent=counts[MutantStatus.EQUIVALENT.value],
        score=detected / counted if counted else None,
        checker_score=killed / counted if counted else None,
    )


def per_operator(mutants: list[MutantRecord]) -> list[ScoreRecord]:
    """One ScoreRecord per operator, in the order operators first appear."""
    names = list(dict.fromkeys(m.operator for m in mutants))
    return [score(name, [m for m in mutants if m.operator == name]) for name in names]


def examples_to_kill(mutants: list[MutantRecord]) -> ExamplesRecord:
    """Distribution of the first catching case's position over the detected mutants."""
    values = [m.examples_to_kill for m in mutants if m.examples_to_kill is not None and m.status in _DETECTED]
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
    detected = [m for m in mutants if m.exercise_case in _DETECTED]
    missed = [
        m.id
        for m in mutants
        if m.status in _DETECTED and m.exercise_case is not None and m.exercise_case not in _DETECTED
    ]
    return ExerciseCaseRecord(detected=len(detected), missed=missed)


def verdict(mutants: list[MutantRecord]) -> str:
    """pass when every mutant not believed equivalent was detected."""
    return (
        "pass" if all(m.status in _DETECTED or m.status == MutantStatus.EQUIVALENT.value for m in mutants) else "fail"
    )
