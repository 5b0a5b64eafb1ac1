from __future__ import annotations

import numpy as np
import pytest

from gradharness.check.verdict import Verdict
from gradharness.model import network
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.parameters import LayerSizes
from gradharness.properties.properties import (
    FailureKind,
    ForwardCostFailure,
    GradientAgreementFailure,
    GradientShapeFailure,
    NetworkFunctions,
    Property,
    PropertyFailure,
    SideEffectFailure,
    check_1d_point,
    check_network_case,
)
from gradharness.settings import CheckOptions

CASE = seed_test_case()
OPTIONS = CheckOptions()


def functions(forward=network.forward_propagation_n, backward=network.backward_propagation_n) -> NetworkFunctions:
    return NetworkFunctions(forward, backward)


def test_correct_functions_pass_every_property():
    outcome = check_network_case(functions(), CASE, OPTIONS)
    assert set(outcome.properties) == set(Property) - {Property.DERIVATIVE_1D, Property.STUDENT_CHECKER}
    assert outcome.verdict is Verdict.PASS


def lowercase_backward(X, Y, cache):
    return {k.lower(): v for k, v in network.backward_propagation_n(X, Y, cache).items()}


def list_cache_forward(X, Y, parameters):
    cost, cache = network.forward_propagation_n(X, Y, parameters)
    return np.array([[cost]]), list(cache)


def test_tolerated_styles():
    check_network_case(functions(backward=lowercase_backward), CASE, OPTIONS)
    check_network_case(functions(forward=list_cache_forward), CASE, OPTIONS)


def cost_only(X, Y, parameters):
    return network.forward_propagation_n(X, Y, parameters)[0]


def nan_cost(X, Y, parameters):
    return float("nan"), network.forward_propagation_n(X, Y, parameters)[1]


def raising_forward(X, Y, parameters):
    raise ValueError("shapes (5,4) and (3,3) not aligned")


def missing_db2(X, Y, cache):
    grads = network.backward_propagation_n(X, Y, cache)
    del grads["db2"]
    return grads


def flat_db1(X, Y, cache):
    grads = network.backward_propagation_n(X, Y, cache)
    return dict(grads, db1=grads["db1"].ravel())


def modifies_X(X, Y, cache):
    grads = network.backward_propagation_n(X, Y, cache)
    X *= 2
    return grads


def modifies_W1(X, Y, cache):
    grads = network.backward_propagation_n(X, Y, cache)
    W1 = cache[2]
    W1 -= 0.1 * grads["dW1"]
    return grads


def nan_dW3(X, Y, cache):
    grads = network.backward_propagation_n(X, Y, cache)
    return dict(grads, dW3=grads["dW3"] * np.nan)


def float32_db2(X, Y, cache):
    grads = network.backward_propagation_n(X, Y, cache)
    return dict(grads, db2=grads["db2"].astype(np.float32))


def returns_tuple(X, Y, cache):
    return tuple(network.backward_propagation_n(X, Y, cache).values())


@pytest.mark.parametrize(
    ("forward", "backward", "failure", "kind", "words"),
    [
        (cost_only, network.backward_propagation_n, ForwardCostFailure, FailureKind.MALFORMED, "expected (cost, cache)"),
        (nan_cost, network.backward_propagation_n, ForwardCostFailure, FailureKind.NONFINITE, "cost nan"),
        (raising_forward, network.backward_propagation_n, ForwardCostFailure, FailureKind.CRASHED, "raised ValueError"),
        (network.forward_propagation_n, missing_db2, GradientShapeFailure, FailureKind.MALFORMED, "no db2"),
        (network.forward_propagation_n, flat_db1, GradientShapeFailure, FailureKind.MALFORMED, "db1 has shape (5,)"),
        (network.forward_propagation_n, returns_tuple, GradientShapeFailure, FailureKind.MALFORMED, "expected a dict"),
        (network.forward_propagation_n, float32_db2, GradientShapeFailure, FailureKind.MALFORMED, "db2 is float32"),
        (network.forward_propagation_n, modifies_X, SideEffectFailure, FailureKind.SIDE_EFFECT, "X was modified"),
        (network.forward_propagation_n, modifies_W1, SideEffectFailure, FailureKind.SIDE_EFFECT, "W1 was modified"),
        (network.forward_propagation_n, nan_dW3, GradientAgreementFailure, FailureKind.NONFINITE, "dW3[0, 0] is nan"),
        (network.forward_propagation_n, network.backward_propagation_n_buggy, GradientAgreementFailure,
         FailureKind.WRONG, "db1, dW2 wrong"),
    ],
)  # fmt: skip
def test_each_failure_is_named(forward, backward, failure, kind, words):
    with pytest.raises(failure) as caught:
        check_network_case(functions(forward, backward), CASE, OPTIONS)
    assert caught.value.kind is kind
    assert words in caught.value.message
    assert caught.value.case is CASE


def test_wrong_gradient_carries_the_check():
    with pytest.raises(GradientAgreementFailure) as caught:
        check_network_case(functions(backward=network.backward_propagation_n_buggy), CASE, OPTIONS)
    assert set(caught.value.check.wrong_blocks) == {"dW2", "db1"}


def test_saturated_cost_is_a_diagnosis_not_a_failure():
    p = {k: np.array([[30.0 if k[0] == "W" else 0.0]]) for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
    case = NetworkCase(LayerSizes(1, 1, 1, 1), np.array([[1.0]]), np.array([[0.0]]), p)
    with np.errstate(all="ignore"):
        outcome = check_network_case(functions(), case, OPTIONS)
    assert outcome.verdict is Verdict.SATURATED


def test_one_d_property():
    assert check_1d_point(network.forward_propagation, network.backward_propagation, 2.0, 4.0, OPTIONS) is Verdict.PASS
    with pytest.raises(PropertyFailure, match="backprop disagrees"):
        check_1d_point(network.forward_propagation, lambda x, theta: theta, 2.0, 4.0, OPTIONS)
    with pytest.raises(PropertyFailure, match="expected theta \\* x"):
        check_1d_point(lambda x, theta: theta + x, network.backward_propagation, 2.0, 4.0, OPTIONS)


# --- values that look like numbers but are not real ones, and exceptions of the user's own -------


class _OwnBaseException(BaseException):
    """A user's exception class that does not derive from Exception."""


def _string_cost_forward(X, Y, parameters):
    cost, cache = network.forward_propagation_n(X, Y, parameters)
    return str(cost), cache


def _complex_backward(X, Y, cache):
    gradients = network.backward_propagation_n(X, Y, cache)
    return {**gradients, "dW2": gradients["dW2"] + 1000j}


def _raising(exc):
    def function(*_args):
        raise exc

    return function


@pytest.mark.parametrize(
    "forward, backward, failure, kind, says",
    [
        (_string_cost_forward, network.backward_propagation_n, ForwardCostFailure, FailureKind.MALFORMED,
         "a cost of type str, expected a real number"),
        (network.forward_propagation_n, _complex_backward, GradientShapeFailure, FailureKind.MALFORMED,
         "dW2 is ndarray of complex128, not an array of real numbers"),
        (_raising(_OwnBaseException("boom")), network.backward_propagation_n, ForwardCostFailure, FailureKind.CRASHED,
         "raised _OwnBaseException: boom"),
        (network.forward_propagation_n, _raising(_OwnBaseException()), GradientShapeFailure, FailureKind.CRASHED,
         "raised _OwnBaseException"),
    ],
)  # fmt: skip
def test_values_and_exceptions_that_are_findings(forward, backward, failure, kind, says):
    with pytest.raises(failure, match=says) as raised:
        check_network_case(functions(forward, backward), CASE, OPTIONS)
    assert raised.value.kind is kind


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)])
def test_what_stops_a_run_is_not_turned_into_a_finding(exc):
    with pytest.raises(type(exc)):
        check_network_case(functions(_raising(exc)), CASE, OPTIONS)


def test_gradharness_own_interrupt_passes_through_user_code():
    from gradharness.mutation.tasks import TaskTimeout

    with pytest.raises(TaskTimeout):
        check_network_case(functions(network.forward_propagation_n, _raising(TaskTimeout())), CASE, OPTIONS)
