"""The user's gradients on a few more cases, for naming the likely cause of a wrong gradient.

A cause read off the shrunk case alone can be a coincidence: on a 1-1-1-1 network with m = 1
many mistakes give the same numbers (every 1 x 1 block is its own transpose, m and 1/m are 1).
So for each wrong gradient the judge also asks the file's backward for its gradients on the first
failing case as drawn and on the exercise's own 4-5-3-1 case with m = 3; what it returns is
validated like any answer (shapes, finite real numbers) and kept in the failure's ``observed``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gradharness.errors import EvaluatorLost
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.parameters import gradients_to_vector
from gradharness.properties.properties import NetworkFunctions, normalise_gradients
from gradharness.properties.runner import RunFindings
from gradharness.records.check import FailureRecord, ObservedCase
from gradharness.records.status import FailureKind


def _observe(network: NetworkFunctions, case: NetworkCase) -> ObservedCase | None:
    """The backward's gradients on ``case`` (None when the pair raises or answers with anything but gradients)."""
    try:
        with np.errstate(all="ignore"):
            returned = network.forward(case.X.copy(), case.Y.copy(), case.copy_parameters())
            if not (isinstance(returned, (tuple, list)) and len(returned) == 2):
                return None
            gradients = normalise_gradients(
                network.backward(case.X.copy(), case.Y.copy(), returned[1]), case, network.backward_name
            )
    except EvaluatorLost:
        raise
    except Exception:  # the user's code, on a case it was not drawn for: nothing to learn
        return None
    vector = gradients_to_vector(gradients).reshape(-1)
    if not np.all(np.isfinite(vector)):
        return None
    return ObservedCase(case.to_json(), [float(v) for v in vector])


def _more_cases(failure: FailureRecord) -> list[NetworkCase]:
    cases = []
    if failure.first_case is not None and failure.first_case.case not in (None, failure.case):
        cases.append(NetworkCase.from_json(failure.first_case.case))
    exercise = seed_test_case()
    if failure.case is None or exercise.to_json() != failure.case:
        cases.append(exercise)
    return cases


def observe_wrong_gradients(network: NetworkFunctions, findings: RunFindings) -> None:
    """Add to each wrong-gradient failure of ``findings`` the backward's gradients on more cases."""
    for index, failure in enumerate(findings.failures):
        if failure.kind is not FailureKind.WRONG or failure.gradient_check is None or failure.case is None:
            continue
        observed = []
        try:
            for case in _more_cases(failure):
                seen = _observe(network, case)
                if seen is not None:
                    observed.append(seen)
        except EvaluatorLost:
            return  # the evaluator is gone (its time limit): what was found stands without these
        findings.failures[index] = dataclasses.replace(failure, observed=observed)
