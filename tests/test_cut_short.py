"""A check cut short by its time limit after a failure was found keeps the failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from user_files import FIXTURES

from gradharness.judge.checks import check_file
from gradharness.records.verdict import RunVerdict
from gradharness.settings import RunSettings

# dW2 twice the true gradient; once the failing case has been seen, every forward call is slow.
SLOW_AFTER_THE_FAILURE = (
    (FIXTURES / "buggy_seed.py").read_text()
    + """

import time as _time

_backward = backward_propagation_n
_forward = forward_propagation_n
_calls = []


def backward_propagation_n(X, Y, cache):
    _calls.append(1)
    return _backward(X, Y, cache)


def forward_propagation_n(X, Y, parameters):
    if len(_calls) >= 2:
        _time.sleep(0.5)
    return _forward(X, Y, parameters)
"""
)


@pytest.mark.slow
def test_a_failure_found_before_the_time_limit_is_kept(tmp_path: Path) -> None:
    from gradharness.properties import drawn

    drawn.forget()  # Hypothesis's own run, not a replay of cases another test left kept
    path = tmp_path / "slow.py"
    path.write_text(SLOW_AFTER_THE_FAILURE)
    record = check_file(path, RunSettings(seed=0), timeout=3.0)
    assert record.verdict is RunVerdict.FAIL and record.error is None
    [failure] = record.failures
    assert failure.property == "GRADIENT_AGREES" and "dW2" in failure.message
    notes = record.target.get("notes", [])
    assert any("cut short after a failure was found" in note and "timed out after 3 s" in note for note in notes)
    statuses = {p.name: p.status.value for p in record.properties}
    assert statuses["DERIVATIVE_1D"] == "not run"
    assert record.reproduce.endswith("--timeout 3")


@pytest.mark.slow
def test_a_time_limit_before_any_failure_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "slow_from_the_start.py"
    path.write_text(SLOW_AFTER_THE_FAILURE.replace("if len(_calls) >= 2:", "if True:"))
    record = check_file(path, RunSettings(seed=0), timeout=2.0)
    assert record.verdict is RunVerdict.ERROR and "timed out after 2 s" in (record.error or "")


@pytest.mark.slow
def test_a_failure_the_replay_found_is_kept_when_the_time_limit_ends_hypothesiss_run(tmp_path: Path) -> None:
    from gradharness.properties import drawn

    path = tmp_path / "slow.py"
    path.write_text(SLOW_AFTER_THE_FAILURE)
    drawn.forget()
    try:
        check_file(FIXTURES / "correct_seed_style.py", RunSettings(seed=0))  # keeps the cases it drew
        # The replay fails on the first kept case; every forward after it is slow, so Hypothesis's own run
        # from the start is cut short before it fails again.
        record = check_file(path, RunSettings(seed=0), timeout=3.0)
    finally:
        drawn.forget()
    assert record.verdict is RunVerdict.FAIL and record.error is None
    [failure] = record.failures
    assert failure.property == "GRADIENT_AGREES" and "dW2" in failure.message
    assert any("cut short after a failure was found" in note for note in record.target.get("notes", []))
