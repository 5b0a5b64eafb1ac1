"""The cases a passing network test drew, kept for the next file: a batch checks every file on the same cases.

Hypothesis draws the same cases, in the same order, for the same seed, strategy options and number
of examples as long as every call passes: what it generates depends only on its own earlier choices
and on each call's outcome, and a passing call's outcome is always the same. So once a file has
passed every drawn case, the next file with the same key is checked on those cases directly, in
that order, without Hypothesis's engine. At the first case that fails, the replay stops and
Hypothesis runs from the start, drawing the same cases up to the failure and shrinking it as it
always does: the verdict, the counts and the reported cases are the same either way (tested).

Only judge-side data is kept (cases drawn by the judge's Hypothesis), never anything a user's
code returned. Replayed cases are read-only, and the properties hand copies to the code under test.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import astuple

import hypothesis
import numpy as np

from gradharness.model.case import NetworkCase
from gradharness.settings import RunSettings

KEPT_RUNS = 8
"""Runs kept at most (then forgotten all at once): a batch uses one, a sweep of settings a few."""

_kept: dict[Hashable, tuple[NetworkCase, ...]] = {}


def run_key(run: RunSettings) -> Hashable:
    """What the drawn cases depend on: the seed, the number of examples, the strategy options and Hypothesis itself."""
    return run.seed, run.max_examples, astuple(run.strategy), hypothesis.__version__


def _frozen(case: NetworkCase) -> NetworkCase:
    arrays = [case.X, case.Y, *case.parameters.values()]
    copies = [np.array(a, copy=True) for a in arrays]
    for copy in copies:
        copy.flags.writeable = False
    X, Y, *values = copies
    return NetworkCase(case.sizes, X, Y, dict(zip(case.parameters, values, strict=True)))


def keep_cases(run: RunSettings, cases: Sequence[NetworkCase]) -> None:
    """Keep the cases of a run on which every call passed, in the order drawn."""
    if len(_kept) >= KEPT_RUNS:
        _kept.clear()
    _kept[run_key(run)] = tuple(_frozen(case) for case in cases)


def kept_cases(run: RunSettings) -> tuple[NetworkCase, ...] | None:
    """The cases a passing run with these settings drew (None: none kept)."""
    return _kept.get(run_key(run))


def forget() -> None:
    """Forget every kept run (tests measure both ways with it)."""
    _kept.clear()
