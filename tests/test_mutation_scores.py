"""Mutation score = detected / (all - equivalent); the distributions computed from mutant records."""

from __future__ import annotations

from test_mutation_records import _mutant

from gradharness.mutation import scores
from gradharness.records.status import MutantStatus
from gradharness.records.verdict import RunVerdict


def test_score_counts_crashes_and_timeouts_as_detected_and_leaves_equivalents_out() -> None:
    mutants = [
        _mutant(id="a", status="killed"),
        _mutant(id="b", status="crashed"),
        _mutant(id="c", status="timed_out"),
        _mutant(id="d", status="survived"),
        _mutant(id="e", status="equivalent"),
    ]
    score = scores.score("all", mutants)
    assert (score.total, score.killed, score.crashed, score.timed_out, score.survived, score.equivalent) == (
        5,
        1,
        1,
        1,
        1,
        1,
    )
    assert score.score == 3 / 4 and score.checker_score == 1 / 4
    assert scores.verdict(mutants) is RunVerdict.FAIL
    assert scores.verdict([m for m in mutants if m.status is not MutantStatus.SURVIVED]) is RunVerdict.PASS


def test_nothing_to_score() -> None:
    assert scores.score("all", [_mutant(status="equivalent")]).score is None


def test_per_operator_keeps_first_appearance_order() -> None:
    mutants = [_mutant(id="1", operator="b"), _mutant(id="2", operator="a"), _mutant(id="3", operator="b")]
    assert [(s.name, s.total) for s in scores.per_operator(mutants)] == [("b", 2), ("a", 1)]


def test_examples_to_kill_buckets() -> None:
    mutants = [_mutant(examples_to_kill=k) for k in (1, 2, 4, 30, 150)] + [
        _mutant(status="survived", examples_to_kill=None)
    ]
    record = scores.examples_to_kill(mutants)
    assert record.buckets["1"] == 1 and record.buckets["3-5"] == 1 and record.buckets["26-50"] == 1
    assert record.buckets[">100"] == 1 and record.median == 4 and record.maximum == 150


def test_the_fixed_case_misses_what_only_generated_cases_catch() -> None:
    mutants = [_mutant(id="x", exercise_case="survived"), _mutant(id="y", exercise_case="crashed"),
               _mutant(id="z", status="survived", exercise_case="survived")]  # fmt: skip
    record = scores.exercise_case(mutants)
    assert record.detected == 1 and record.missed == ["x"]
