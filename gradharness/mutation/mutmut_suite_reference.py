"""mutmut's test suite for a target's reference: the target's property tests of every part the reference implements.

mutmut runs this file (``--engine mutmut --target deep``: see
:mod:`gradharness.mutation.reference_mutmut`) against each of its mutants of the reference's backward
functions. Which reference is read from the environment (the target and the module's name), and every
function is looked up in the module at call time (mutmut's trampolines stand there). The Hypothesis
profile is the exercise suite's: no deadline, no shrinking, the example database kept.
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings

from gradharness.mutation.mutmut_suite import mutation_profile
from gradharness.settings import RunSettings
from gradharness.targets.registry import TARGETS
from gradharness.targets.target import TargetFunctions

TARGET_VARIABLE = "GRADHARNESS_MUTMUT_TARGET"
"""Environment variable: the target whose tests the suite runs (default deep)."""
MODULE_VARIABLE = "GRADHARNESS_MUTMUT_MODULE"
"""Environment variable: the reference's module (default gradharness.model.deep)."""

TARGET = TARGETS[os.environ.get(TARGET_VARIABLE, "deep")]
MODULE = importlib.import_module(os.environ.get(MODULE_VARIABLE, "gradharness.model.deep"))

PROFILE = mutation_profile("gradharness-mutation-reference", 25, "mutmut-reference")


def _looked_up(name: str) -> Callable:
    def call(*arguments: object) -> object:
        return getattr(MODULE, name)(*arguments)

    return call


_DEFINED = {name for name in TARGET.spec.names if callable(getattr(MODULE, name, None))}
PARTS = tuple(part.name for part in TARGET.spec.parts_in(_DEFINED))
_FUNCTIONS = TargetFunctions.in_process({name: _looked_up(name) for name in _DEFINED}, PARTS)
_TESTS = {test.name: test for test in (TARGET.tests(_FUNCTIONS, RunSettings(seed=0)) if TARGET.tests else [])}


@pytest.mark.parametrize("part", sorted(_TESTS))
def test_reference_part_properties(part: str) -> None:
    """Every property of one part of the target holds for the reference's functions."""
    test = _TESTS[part]

    @settings(PROFILE)
    @given(case=test.strategy)
    def holds(case: object) -> None:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            test.check(case)

    holds()
