"""Worker-side loading: a mutated function defined in the target's globals, wrappers, a user's checker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.mutation.campaign import broken_variant
from gradharness.mutation.loading import UserChecker, compile_function, load_checker, scaled
from gradharness.mutation.target import CheckerSpec, file_target, reference_target
from gradharness.properties.student_checker import MalformedDifference

FIXTURES = Path(__file__).parent / "fixtures"


def _gradients(backward):
    case = seed_test_case()
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    return backward(case.X, case.Y, cache), network.backward_propagation_n(case.X, case.Y, cache)


def test_the_seeds_buggy_function_compiles_with_tracebacks_on_its_lines() -> None:
    variant = broken_variant(reference_target())
    source, line = variant.function_source, variant.function_line
    assert source is not None and variant.function_name == "backward_propagation_n_buggy"
    buggy = compile_function(reference_target(), source, line, "backward_propagation_n_buggy")
    got, right = _gradients(buggy)
    assert np.allclose(got["dW2"], 2 * right["dW2"]) and np.allclose(got["db1"], 4 * right["db1"])
    assert buggy.__code__.co_firstlineno == line


def test_wrappers_plant_the_seeds_bugs_and_scale_one_block() -> None:
    got, right = _gradients(scaled(network.backward_propagation_n, network.SEED_BUGS))
    assert np.allclose(got["dW2"], 2 * right["dW2"]) and np.allclose(got["db1"], 4 * right["db1"])
    got, right = _gradients(scaled(network.backward_propagation_n, {"dw3": 1.5}))
    assert np.allclose(got["dW3"], 1.5 * right["dW3"]) and np.array_equal(got["dW1"], right["dW1"])


def test_a_user_module_is_loaded_once_and_its_helpers_stay_visible() -> None:
    target = file_target(FIXTURES / "user_code" / "correct_seed_style.py")
    source = target.source[target.source.index("def backward_propagation_n") :].split("\n\n\n")[0]
    line = target.source[: target.source.index("def backward_propagation_n")].count("\n") + 1
    backward = compile_function(target, source.replace("* np.dot(dZ2, A1.T)", "* np.dot(dZ2, A1.T) * 3"), line,
                                "backward_propagation_n")  # fmt: skip
    got, right = _gradients(backward)
    assert np.allclose(got["dW2"], 3 * right["dW2"])


def test_a_users_checker_decides_by_its_difference() -> None:
    function = load_checker(CheckerSpec(str(FIXTURES / "mutation" / "checker_exercise.py")))
    checker = UserChecker(function, 1e-6)
    case = seed_test_case()
    right, _ = _gradients(network.backward_propagation_n)
    wrong, _ = _gradients(network.backward_propagation_n_buggy)
    assert checker(case.copy_parameters(), right, case.X, case.Y, threshold=1e-7).passed
    result = checker(case.copy_parameters(), wrong, case.X, case.Y, threshold=1e-7)
    assert not result.passed and result.difference > 0.1 and checker.last is result


def test_a_checker_without_an_epsilon_argument_is_called_with_four() -> None:
    calls = []

    def four(parameters, gradients, X, Y):
        calls.append(4)
        return float("nan")

    case = seed_test_case()
    result = UserChecker(four, 1e-6)(case.parameters, {}, case.X, case.Y, threshold=1e-7)
    assert calls == [4] and result.passed  # a NaN difference passes, as `nan > threshold` does for them


def test_a_crashing_checker_is_recorded() -> None:
    def broken(parameters, gradients, X, Y, epsilon):
        raise KeyError("W4")

    checker = UserChecker(broken, 1e-6)
    case = seed_test_case()
    with pytest.raises(KeyError):
        checker(case.parameters, {}, case.X, case.Y, threshold=1e-7)
    assert isinstance(checker.crash, KeyError)


@pytest.mark.parametrize("returned", [None, "0.1", [], np.zeros(3), {"difference": 0.1}])
def test_a_checker_that_returns_no_number_is_recorded_as_malformed(returned) -> None:
    def malformed(parameters, gradients, X, Y, epsilon):
        return returned

    checker = UserChecker(malformed, 1e-6)
    case = seed_test_case()
    with pytest.raises(MalformedDifference, match="expected the difference"):
        checker(case.parameters, {}, case.X, case.Y, threshold=1e-7)
    assert isinstance(checker.crash, MalformedDifference)


def test_a_checker_gets_copies_in_dictionaries_of_either_key_case() -> None:
    case = seed_test_case()
    parameters = case.copy_parameters()

    def lower_case_and_in_place(parameters, gradients, X, Y, epsilon):
        parameters["w1"] += 1.0
        X[:] = 0.0
        return abs(float(np.sum(gradients["dw1"]))), "printed text"

    result = UserChecker(lower_case_and_in_place, 1e-6)(parameters, {"dW1": np.ones((5, 4))}, case.X, case.Y,
                                                         threshold=1e-7)  # fmt: skip
    assert result.difference == 20.0 and not result.passed
    assert np.array_equal(parameters["W1"], case.parameters["W1"]) and np.any(case.X != 0.0)
