from __future__ import annotations

import numpy as np
import pytest

from gradharness.model.parameters import (
    LayerSizes,
    block_slices,
    check_shapes,
    dictionary_to_vector,
    entry_name,
    gradients_to_vector,
    parameter_count,
    parameter_shapes,
    vector_to_dictionary,
)


def random_parameters(sizes: LayerSizes, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=shape) for name, shape in parameter_shapes(sizes).items()}


def test_exercise_network_has_47_parameters():
    assert parameter_count(LayerSizes(4, 5, 3, 1)) == 47


@pytest.mark.parametrize("sizes", [LayerSizes(4, 5, 3, 1), LayerSizes(1, 1, 1, 1), LayerSizes(3, 2, 7, 4)])
def test_vector_round_trip(sizes):
    parameters = random_parameters(sizes)
    theta, keys = dictionary_to_vector(parameters)
    assert theta.shape == (parameter_count(sizes), 1)
    assert keys[0] == "W1" and keys[-1] == "b3"
    back = vector_to_dictionary(theta, sizes)
    for name, value in parameters.items():
        np.testing.assert_array_equal(back[name], value)


def test_layout_matches_the_exercise_helpers():
    # The exercise stacks W1 row-major, then b1, W2, ...
    sizes = LayerSizes(4, 5, 3, 1)
    parameters = random_parameters(sizes)
    theta, _ = dictionary_to_vector(parameters)
    np.testing.assert_array_equal(theta[:20, 0], parameters["W1"].reshape(-1))
    np.testing.assert_array_equal(theta[20:25, 0], parameters["b1"].reshape(-1))
    assert block_slices(sizes)["b3"] == slice(46, 47)


def test_gradients_to_vector_ignores_extra_keys():
    sizes = LayerSizes(2, 3, 2, 1)
    grads = {"d" + k: v for k, v in random_parameters(sizes).items()}
    grads["dZ1"] = np.ones((3, 5))
    assert gradients_to_vector(grads).shape == (parameter_count(sizes), 1)


def test_entry_names():
    sizes = LayerSizes(4, 5, 3, 1)
    assert entry_name(sizes, 0) == "W1[0, 0]"
    assert entry_name(sizes, 7, prefix="d") == "dW1[1, 3]"
    assert entry_name(sizes, 46) == "b3[0, 0]"
    with pytest.raises(IndexError):
        entry_name(sizes, 47)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_layer_sizes_reject_bad_values(bad):
    with pytest.raises(ValueError, match="n2"):
        LayerSizes(1, 1, bad, 1)


def test_shape_errors_name_the_parameter():
    sizes = LayerSizes(2, 3, 2, 1)
    parameters = random_parameters(sizes)
    parameters["W2"] = parameters["W2"].T
    with pytest.raises(ValueError, match="W2 has shape"):
        check_shapes(parameters, sizes)
    with pytest.raises(ValueError, match="vector has 3 entries"):
        vector_to_dictionary(np.zeros(3), sizes)
