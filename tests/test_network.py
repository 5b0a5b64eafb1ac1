from __future__ import annotations

import numpy as np
from hypothesis import given

from gradharness.model import network
from gradharness.model.case import seed_test_case
from strategies import network_cases


def test_exercise_cost():
    case = seed_test_case()
    cost, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    assert np.isclose(cost, 2.407833389834357, rtol=1e-12)
    assert len(cache) == 12


def test_one_d_model():
    assert network.forward_propagation(2, 4) == 8
    assert network.backward_propagation(2, 4) == 2


@given(network_cases())
def test_gradient_shapes_for_any_sizes(case):
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    gradients = network.backward_propagation_n(case.X, case.Y, cache)
    for name, value in case.parameters.items():
        assert gradients["d" + name].shape == value.shape


@given(network_cases())
def test_buggy_backward_differs_exactly_in_dW2_and_db1(case):
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    good = network.backward_propagation_n(case.X, case.Y, cache)
    bad = network.backward_propagation_n_buggy(case.X, case.Y, cache)
    np.testing.assert_array_equal(bad["dW2"], 2 * good["dW2"])
    np.testing.assert_allclose(bad["db1"], 4 * good["db1"], rtol=1e-12, atol=0)
    for name in ("dW1", "dW3", "db2", "db3"):
        np.testing.assert_array_equal(bad[name], good[name])


def test_cost_sums_over_output_units():
    # Two output units: the cost is the sum of the two single-output costs.
    case = seed_test_case()
    p = dict(case.parameters)
    p2 = dict(p, W3=np.vstack([p["W3"], p["W3"]]), b3=np.vstack([p["b3"], p["b3"]]))
    one, _ = network.forward_propagation_n(case.X, case.Y, p)
    two, _ = network.forward_propagation_n(case.X, np.vstack([case.Y, case.Y]), p2)
    assert np.isclose(two, 2 * one)
