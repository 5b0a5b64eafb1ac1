"""The block layout of the flat gradient, and backprop's gradients flattened into it."""

from __future__ import annotations

import numpy as np
import pytest

from gradharness.check.layout import block_layout, flat_gradient
from gradharness.model.parameters import (
    GRADIENT_NAMES,
    LayerSizes,
    block_slices,
    gradients_to_vector,
    parameter_count,
    parameter_shapes,
)


def gradients_for(sizes: LayerSizes, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"d" + name: rng.normal(size=shape) for name, shape in parameter_shapes(sizes).items()}


@pytest.mark.parametrize("sizes", [LayerSizes(4, 5, 3, 1), LayerSizes(1, 1, 1, 1), LayerSizes(3, 2, 7, 4)])
def test_layout_is_the_models(sizes):
    layout = block_layout(sizes)
    assert layout.sizes == sizes and layout.total == parameter_count(sizes)
    assert dict(zip(layout.names, layout.slices, strict=True)) == block_slices(sizes)
    assert layout.gradient_names == GRADIENT_NAMES
    assert layout.starts.tolist() == [s.start for s in layout.slices]
    assert layout.slice_of("W2") == block_slices(sizes)["W2"]
    assert block_layout(LayerSizes(*sizes.as_tuple())) is layout  # one per size


def test_flat_gradient_is_gradients_to_vector_and_a_copy():
    sizes = LayerSizes(3, 2, 7, 4)
    gradients = gradients_for(sizes)
    flat = flat_gradient(gradients, block_layout(sizes))
    np.testing.assert_array_equal(flat, gradients_to_vector(gradients).reshape(-1))
    flat[0] = 1e9
    assert gradients["dW1"][0, 0] != 1e9


def test_flat_gradient_converts_to_float64_and_ignores_extra_keys():
    sizes = LayerSizes(1, 1, 1, 1)
    gradients = {name: np.array([[i]]) for i, name in enumerate(GRADIENT_NAMES)} | {"dZ1": "ignored"}
    flat = flat_gradient(gradients, block_layout(sizes))
    assert flat.dtype == np.float64 and flat.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_missing_or_misshapen_gradients_are_named():
    sizes = LayerSizes(4, 5, 3, 1)
    layout = block_layout(sizes)
    gradients = gradients_for(sizes)
    with pytest.raises(ValueError, match=r"gradient db2 is missing \(got keys dW1, dW2, dW3, db1, db3\)"):
        flat_gradient({k: v for k, v in gradients.items() if k != "db2"}, layout)
    with pytest.raises(ValueError, match=r"gradient dW3 has shape \(3,\), expected \(1, 3\)"):
        flat_gradient(dict(gradients, dW3=np.zeros(3)), layout)


def test_layer_sizes_of_arrays_and_of_lists_agree():
    # LayerSizes.of remembers sizes per tuple of array shapes; values without .shape take the full path.
    sizes = LayerSizes(3, 2, 7, 4)
    arrays = {name[1:]: value for name, value in gradients_for(sizes).items()}
    lists = {name: value.tolist() for name, value in arrays.items()}
    assert LayerSizes.of(arrays) == LayerSizes.of(lists) == sizes
    for bad, message in [
        (dict(arrays, b2=np.zeros((7, 2))), r"parameter b2 has shape \(7, 2\), expected \(7, 1\)"),
        (dict(lists, b2=np.zeros((7, 2)).tolist()), r"parameter b2 has shape \(7, 2\), expected \(7, 1\)"),
        ({k: v for k, v in arrays.items() if k != "b3"}, "parameter b3 is missing"),
        ({k: v for k, v in arrays.items() if k != "W1"}, "not a 3-layer parameter dictionary"),
        (dict(arrays, W1=np.zeros((2, 3, 1))), "not a 3-layer parameter dictionary"),
    ]:
        with pytest.raises(ValueError, match=message):
            LayerSizes.of(bad)
