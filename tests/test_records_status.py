"""Statuses are an Enum; which ones count as detected."""

from gradharness.records.status import KillKind, MutantStatus


def test_detected_statuses() -> None:
    assert {s for s in MutantStatus if s.detected} == {
        MutantStatus.KILLED,
        MutantStatus.CRASHED,
        MutantStatus.TIMED_OUT,
    }


def test_values_are_the_record_strings() -> None:
    assert MutantStatus("equivalent") is MutantStatus.EQUIVALENT
    assert KillKind("worker_exit") is KillKind.WORKER_EXIT
