"""How a student's gradient_check_n is called and its answer read (the rule the check and mutate share)."""

from __future__ import annotations

import numpy as np
import pytest

from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.properties.student_checker import (
    DRAWN_CASES,
    WRONG_BACKPROPS,
    MalformedDifference,
    check_student_checker,
    method_difference,
    rejects,
    student_difference,
)
from gradharness.records.check import PropertyStatus
from gradharness.records.status import FailureKind
from gradharness.settings import SEED_EPSILON, CheckOptions, RunSettings

CASE = seed_test_case()


def _gradients():
    _, cache = network.forward_propagation_n(CASE.X, CASE.Y, CASE.parameters)
    return network.backward_propagation_n(CASE.X, CASE.Y, cache)


def _call(checker, gradients=None) -> float:
    return student_difference(checker, CASE.parameters, gradients or _gradients(), CASE.X, CASE.Y, 1e-6)


def test_epsilon_is_passed_only_to_a_checker_that_takes_a_fifth_argument() -> None:
    calls = []

    def five(parameters, gradients, X, Y, epsilon=1e-7):
        calls.append(epsilon)
        return 0.0

    def four(parameters, gradients, X, Y):
        calls.append("four")
        return 0.0

    def star(*args):
        calls.append(len(args))
        return 0.0

    for checker in (five, four, star):
        _call(checker)
    assert calls == [1e-6, "four", 5]


@pytest.mark.parametrize(
    ("returned", "expected"),
    [(0.25, 0.25), (np.float64(2.0), 2.0), (np.array([[3.0]]), 3.0), ((0.5, "text"), 0.5), ([7], 7.0)],
)
def test_the_difference_is_one_number_or_the_first_of_a_tuple(returned, expected: float) -> None:
    assert _call(lambda *_: returned) == expected


def test_nan_is_a_number() -> None:
    assert np.isnan(_call(lambda *_: float("nan")))


@pytest.mark.parametrize("returned", [None, "0.1", b"0", np.zeros(2), (), {"difference": 0.1}])
def test_anything_else_is_malformed(returned) -> None:
    def gradient_check_n(parameters, gradients, X, Y, epsilon):
        return returned

    with pytest.raises(MalformedDifference, match=r"^gradient_check_n returned \w+, expected the difference"):
        _call(gradient_check_n)


def test_what_the_checker_raises_propagates() -> None:
    def broken(parameters, gradients, X, Y, epsilon):
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        _call(broken)


def test_keys_match_in_either_case_and_the_checker_gets_copies() -> None:
    parameters_before = CASE.copy_parameters()

    def lower_case(parameters, gradients, X, Y, epsilon):
        value = float(np.sum(gradients["dw1"]) + np.sum(parameters["w1"]))
        parameters["W1"] += 1.0
        X[:] = 0.0
        return value

    gradients = {"dW1": np.ones((5, 4))}
    assert _call(lower_case, gradients) == pytest.approx(20.0 + float(np.sum(CASE.parameters["W1"])))
    assert np.array_equal(CASE.parameters["W1"], parameters_before["W1"]) and np.any(CASE.X != 0.0)


@pytest.mark.parametrize(
    ("difference", "wrong"), [(2e-7, True), (1e-7, False), (0.0, False), (float("nan"), False), (float("inf"), True)]
)
def test_the_difference_is_judged_as_the_exercise_judges_it(difference: float, wrong: bool) -> None:
    assert rejects(difference, 1e-7) is wrong


def _seed_checker(calls: list):
    from gradharness.bench.speed import seed_gradient_check_n

    def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
        calls.append(X.shape[1])
        return seed_gradient_check_n(parameters, gradients, X, Y, epsilon)

    return gradient_check_n


def test_a_right_checker_is_handed_few_sharp_cases_and_passes() -> None:
    calls: list[int] = []
    findings = check_student_checker(_seed_checker(calls), RunSettings(seed=0))
    assert findings.property.status is PropertyStatus.PASSED and not findings.failures
    assert 3 <= findings.property.examples <= 2 + DRAWN_CASES
    assert len(calls) <= (2 + DRAWN_CASES) * (1 + len(WRONG_BACKPROPS))
    assert calls[0] == 3 and 1 in calls  # the exercise's own case first, and a case of one example
    assert findings.rejected >= 2 * len(WRONG_BACKPROPS)


def test_a_checker_that_breaks_on_a_single_example_is_caught() -> None:
    calls: list[int] = []
    right = _seed_checker(calls)

    def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
        return 1.0 if X.shape[1] == 1 else right(parameters, gradients, X, Y, epsilon)

    [failure] = check_student_checker(gradient_check_n, RunSettings(seed=0)).failures
    assert failure.kind is FailureKind.WRONG and "for a correct backprop" in failure.message
    assert failure.case is not None and failure.case["m"] == 1


EXERCISE_SETTINGS = RunSettings(seed=0, check=CheckOptions(epsilon=SEED_EPSILON, threshold=1e-7))


def test_the_exercises_method_on_its_own_case_gives_its_round_off() -> None:
    method = method_difference(CASE, _gradients(), SEED_EPSILON, 1e-7)
    assert 1.18e-7 < method.difference < 1.20e-7  # what the exercise's notebook prints at epsilon 1e-7
    assert method.reach >= method.difference + method.roundoff > 1e-7


def test_the_exercises_own_checker_passes_at_the_exercises_settings() -> None:
    findings = check_student_checker(_seed_checker([]), EXERCISE_SETTINGS)
    assert findings.property.status is PropertyStatus.PASSED, findings.failures
    assert findings.accepted >= 3 and findings.rejected >= 2


@pytest.mark.parametrize("returned", [0.0, 1.5e-7])
def test_a_checker_that_misses_the_seeds_bugs_still_fails_at_the_exercises_settings(returned: float) -> None:
    [failure] = check_student_checker(lambda *args: returned, EXERCISE_SETTINGS).failures
    assert failure.kind is FailureKind.WRONG and "for a wrong backprop" in failure.message


def test_a_checker_that_rejects_beyond_the_methods_round_off_fails_at_the_exercises_settings() -> None:
    reach = method_difference(CASE, _gradients(), SEED_EPSILON, 1e-7).reach
    [failure] = check_student_checker(lambda *args: 2 * reach, EXERCISE_SETTINGS).failures
    assert "for a correct backprop" in failure.message and "the exercise's method gives" in failure.message
