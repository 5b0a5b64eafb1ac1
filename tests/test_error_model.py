"""The round-off model must bound the real rounding error of the exercise's cost."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings

from gradharness.check.error_model import CostFormula, cost_roundoff, sigmoid_saturates
from gradharness.model import network
from gradharness.model.case import seed_test_case
from strategies import network_cases

pytestmark = pytest.mark.skipif(
    np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps, reason="needs extended precision as the reference"
)


def exact_cost(X, Y, parameters) -> float:
    """The same cost in extended precision, with a cancellation-free 1 - A3."""
    ld = np.longdouble
    W1, b1, W2, b2, W3, b3 = (np.asarray(parameters[k], dtype=ld) for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    Xl, Yl = np.asarray(X, dtype=ld), np.asarray(Y, dtype=ld)
    Z3 = W3 @ np.maximum(W2 @ np.maximum(W1 @ Xl + b1, 0) + b2, 0) + b3
    loss = np.logaddexp(ld(0), Z3) - Yl * Z3
    return float(np.sum(loss) / Xl.shape[1])


@settings(max_examples=300)
@given(network_cases(adversarial=True))
def test_bound_covers_the_seed_formula(case):
    with np.errstate(all="ignore"):
        cost, _ = network.forward_propagation_n(case.X, case.Y, case.parameters)
    assume(np.isfinite(cost))
    error = abs(cost - exact_cost(case.X, case.Y, case.parameters))
    bound = cost_roundoff(case.X, case.Y, case.parameters, CostFormula.SEED)
    assert error <= bound + 1e-300, (error, bound)


def test_saturation_makes_the_bound_grow():
    case = seed_test_case()
    calm = cost_roundoff(case.X, case.Y, case.parameters)
    hot = dict(case.parameters, b3=np.array([[25.0]]))  # A3 close to 1 where Y = 0
    assert cost_roundoff(case.X, case.Y, hot) > 1e6 * calm
    assert cost_roundoff(case.X, case.Y, hot, CostFormula.STABLE) < 1e-3 * cost_roundoff(case.X, case.Y, hot)


def test_sigmoid_saturation_detected():
    case = seed_test_case()
    assert not sigmoid_saturates(case.X, case.parameters)
    assert sigmoid_saturates(case.X, dict(case.parameters, b3=np.array([[40.0]])))
    assert sigmoid_saturates(case.X, dict(case.parameters, b3=np.array([[-800.0]])))
