from __future__ import annotations

import numpy as np
from hypothesis import given

from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.model.parameters import GRADIENT_NAMES
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
def test_buggy_backward_is_the_correct_one_with_the_seed_bugs_on_top(case):
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    good = network.backward_propagation_n(case.X, case.Y, cache)
    bad = network.backward_propagation_n_buggy(case.X, case.Y, cache)
    planted = network.scale_blocks(good)
    assert set(network.SEED_BUGS) == {"dW2", "db1"}
    np.testing.assert_array_equal(bad["dW2"], 2 * good["dW2"])
    for name in GRADIENT_NAMES:
        np.testing.assert_allclose(bad[name], planted[name], rtol=1e-12, atol=0)  # 4./m and 4 * (1./m) round apart
        if name not in network.SEED_BUGS:
            np.testing.assert_array_equal(bad[name], good[name])


def test_scale_blocks_finds_keys_in_either_case_and_leaves_the_rest():
    gradients = {"dw2": np.ones((2, 2)), "DB1": np.ones((2, 1)), "dZ1": np.ones(3)}
    scaled = network.scale_blocks(gradients)
    assert set(scaled) == set(gradients) and scaled["dZ1"] is gradients["dZ1"]
    np.testing.assert_array_equal(scaled["dw2"], 2 * gradients["dw2"])
    np.testing.assert_array_equal(scaled["DB1"], 4 * gradients["DB1"])
    np.testing.assert_array_equal(network.scale_blocks(gradients, {"dZ1": -1})["dZ1"], -gradients["dZ1"])
    np.testing.assert_array_equal(gradients["dw2"], np.ones((2, 2)))  # a new dict: the input is unchanged


def test_cost_sums_over_output_units():
    # Two output units: the cost is the sum of the two single-output costs.
    case = seed_test_case()
    p = dict(case.parameters)
    p2 = dict(p, W3=np.vstack([p["W3"], p["W3"]]), b3=np.vstack([p["b3"], p["b3"]]))
    one, _ = network.forward_propagation_n(case.X, case.Y, p)
    two, _ = network.forward_propagation_n(case.X, np.vstack([case.Y, case.Y]), p2)
    assert np.isclose(two, 2 * one)
