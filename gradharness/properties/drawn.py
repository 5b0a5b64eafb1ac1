"""What a passing property test drew, kept for the next file: a batch checks every file on the same values.

Hypothesis draws the same values (network cases, lists of 1-D points), in the same order, for the
same seed, strategy options and number of examples as long as every call passes: what it generates
depends only on its own earlier choices and on each call's outcome, and a passing call's outcome is
always the same. So once a file has passed every drawn value of a test, the next file with the same
key is checked on those values directly, in that order, without Hypothesis's engine. At the first
call that fails, the replay stops and Hypothesis runs from the start, drawing the same values up to
the failure and shrinking it as it always does: the verdict, the counts and the reported cases are
the same either way (tested).

Only judge-side data is kept (values drawn by the judge's Hypothesis), never anything a user's
code returned. Kept values are read-only, and the properties hand copies to the code under test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import astuple
from typing import Any

import hypothesis
import numpy as np

from gradharness.settings import RunSettings

KEPT_RUNS = 16
"""Runs kept at most (then forgotten all at once): a batch uses one per test, a sweep of settings a few."""

_kept: dict[Hashable, tuple[Any, ...]] = {}


def run_key(run: RunSettings, test: str) -> Hashable:
    """What a test's drawn values depend on: the test, the seed, the number of examples, the strategy
    options and Hypothesis itself."""
    return test, run.seed, run.max_examples, astuple(run.strategy), hypothesis.__version__


def _frozen(value: Any) -> Any:
    """A copy that nobody can change: read-only arrays, tuples for lists; a case (a frozen dataclass) field by field."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value, **{f.name: _read_only(getattr(value, f.name)) for f in dataclasses.fields(value)}
        )
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, (int, float, str)):
        return value
    raise TypeError(f"{type(value).__name__} values are not kept")


def _read_only(value: Any) -> Any:
    """A read-only copy of an array, or of each array of a mapping; anything else (sizes, names) as it is."""
    if isinstance(value, np.ndarray):
        copy = np.array(value, copy=True)
        copy.flags.writeable = False
        return copy
    if isinstance(value, Mapping):
        return {key: _read_only(item) for key, item in value.items()}
    return value


def keep_cases(run: RunSettings, values: Sequence[Any], test: str) -> None:
    """Keep the values (cases, lists of 1-D points) of a run of ``test`` on which every call passed, in the order drawn."""
    if len(_kept) >= KEPT_RUNS:
        _kept.clear()
    _kept[run_key(run, test)] = tuple(_frozen(value) for value in values)


def kept_cases(run: RunSettings, test: str) -> tuple[Any, ...] | None:
    """The values a passing run of ``test`` with these settings drew (None: none kept)."""
    return _kept.get(run_key(run, test))


def replay(values: Sequence[Any], call: Callable[[Any], None]) -> Exception | None:
    """Make ``call`` on each kept value in order, up to the first that raises; what it raised (None: all passed).

    The caller then runs Hypothesis from the start, which shrinks the failure as it always does. Code
    whose answers depend on what it was called with before may pass that second run; the failure
    the replay met is then the finding, as Hypothesis reports a failure it cannot make again.
    """
    for value in values:
        try:
            call(value)
        except Exception as exc:
            return exc
    return None


def forget() -> None:
    """Forget every kept run (tests measure both ways with it)."""
    _kept.clear()
