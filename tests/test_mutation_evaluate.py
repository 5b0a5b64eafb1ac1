"""Evaluating one backward pass on every prepared case: status, how it was caught, where first, smallest case."""

from __future__ import annotations

import numpy as np
import pytest

from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.model.parameters import parameter_count
from gradharness.mutation.cases import prepare_cases, probe_cases
from gradharness.mutation.evaluate import CachedChecker, evaluate_backward
from gradharness.properties.properties import NetworkFunctions
from gradharness.records.status import KillKind, MutantStatus
from gradharness.settings import CheckOptions

CASES = [*probe_cases(7), seed_test_case()]


@pytest.fixture(scope="module")
def prepared():
    return prepare_cases(CASES, network.forward_propagation_n, network.backward_propagation_n, builtin=True,
                         epsilon=None, threshold=1e-7)  # fmt: skip


def _evaluate(backward, prepared, threshold=1e-7):
    functions = NetworkFunctions(network.forward_propagation_n, backward, builtin=True)
    return evaluate_backward(functions, prepared, CheckOptions(threshold=threshold), CachedChecker)


def test_the_reference_survives_with_identical_gradients(prepared) -> None:
    evaluation = _evaluate(network.backward_propagation_n, prepared)
    assert evaluation.status is MutantStatus.SURVIVED
    assert evaluation.identical and evaluation.cases == len(CASES)
    assert evaluation.exercise is MutantStatus.SURVIVED


def test_the_seeds_bugs_are_killed_by_the_checker(prepared) -> None:
    evaluation = _evaluate(network.backward_propagation_n_buggy, prepared)
    assert evaluation.status is MutantStatus.KILLED and evaluation.kill_kind is KillKind.WRONG
    assert evaluation.examples_to_kill == 1
    assert evaluation.cases_killed == len(CASES)
    assert evaluation.exercise is MutantStatus.KILLED
    smallest = min(CASES, key=lambda c: parameter_count(c.sizes) * c.m)
    assert evaluation.counterexample == smallest.to_json()
    assert "dW2" in evaluation.message and "db1" in evaluation.message


def test_a_backward_that_raises_is_a_crash_not_a_checker_kill(prepared) -> None:
    def raises(X, Y, cache):
        raise KeyError("dW9")

    evaluation = _evaluate(raises, prepared)
    assert evaluation.status is MutantStatus.CRASHED and evaluation.kill_kind is KillKind.CRASHED
    assert evaluation.cases_crashed == len(CASES) and evaluation.cases_killed == 0


def test_wrong_shapes_are_malformed(prepared) -> None:
    def flat(X, Y, cache):
        return {k: np.ravel(v) for k, v in network.backward_propagation_n(X, Y, cache).items()}

    assert _evaluate(flat, prepared).kill_kind is KillKind.MALFORMED


def test_a_nan_gradient_is_a_kill(prepared) -> None:
    def nan(X, Y, cache):
        gradients = network.backward_propagation_n(X, Y, cache)
        return {**gradients, "db3": gradients["db3"] * np.nan}

    evaluation = _evaluate(nan, prepared)
    assert evaluation.status is MutantStatus.KILLED and evaluation.kill_kind is KillKind.NONFINITE


def test_a_crash_on_some_cases_and_a_wrong_value_on_others_is_the_checkers_kill(prepared) -> None:
    def square_only(X, Y, cache):
        if X.shape[0] != X.shape[1]:
            raise ValueError("shapes not aligned")
        return network.backward_propagation_n_buggy(X, Y, cache)

    evaluation = _evaluate(square_only, prepared)
    assert evaluation.status is MutantStatus.KILLED
    assert evaluation.cases_crashed == len(CASES) - evaluation.cases_killed
    assert evaluation.counterexample["X"] and len(evaluation.counterexample["X"]) == len(
        evaluation.counterexample["X"][0]
    )


@pytest.mark.parametrize("scale", [1 + 1e-3, 1 + 1e-5, 1 + 1e-6, 1 + 1e-8])
def test_critical_thresholds_agree_with_a_check_at_each_threshold(prepared, scale) -> None:
    def scaled(X, Y, cache):
        gradients = network.backward_propagation_n(X, Y, cache)
        return {**gradients, "dW3": gradients["dW3"] * scale}

    lowest = _evaluate(scaled, prepared, threshold=1e-12)
    for threshold in (1e-4, 1e-6, 1e-7, 1e-9):
        at = _evaluate(scaled, prepared, threshold=threshold)
        caught = [c > threshold for c in lowest.critical]
        assert sum(caught) == at.cases_killed, threshold
