"""The numerical side of a check: computed once, screened where cheaper, its error estimated only on need."""

from __future__ import annotations

import numpy as np
import pytest

from gradharness.check import numerical as numerical_module
from gradharness.check.layout import block_layout, flat_gradient
from gradharness.check.numerical import (
    ErrorEstimate,
    numerical_gradient,
    numerical_side,
    resolve_method,
)
from gradharness.check.perturbed import base_pass
from gradharness.check.screening import SCREEN_MIN_ENTRIES
from gradharness.model import network
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.parameters import LayerSizes, parameter_shapes


def options(**overrides):
    return (
        dict(epsilon=None, forward=None, method="auto", numerical=None, screen=None, probes=4, threshold=1e-7)
        | overrides
    )


def flat(case: NetworkCase) -> np.ndarray:
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    return flat_gradient(network.backward_propagation_n(case.X, case.Y, cache), block_layout(case.sizes))


def user_forward(X, Y, parameters):
    return network.forward_propagation_n(X, Y, parameters)


def test_methods_resolve_and_bad_ones_are_named():
    assert resolve_method(None, "auto") == ("batched", network.forward_propagation_n)
    assert resolve_method(user_forward, "auto") == ("loop", user_forward)
    with pytest.raises(ValueError, match="valid methods are 'auto', 'batched', 'loop'"):
        resolve_method(None, "fast")
    with pytest.raises(ValueError, match="a custom forward needs method='loop'"):
        resolve_method(user_forward, "batched")


def test_a_precomputed_numerical_gradient_is_the_fresh_one():
    case = seed_test_case()
    layout = block_layout(case.sizes)
    fresh = numerical_side(case.parameters, flat(case), case.X, case.Y, layout, **options(epsilon=1e-5))
    given = numerical_gradient(case.parameters, case.X, case.Y, 1e-5)
    reused = numerical_side(case.parameters, flat(case), case.X, case.Y, layout, **options(numerical=given))
    np.testing.assert_array_equal(reused.gradapprox, fresh.gradapprox)
    assert reused.epsilon == fresh.epsilon == 1e-5 and reused.method == "batched"
    all_entries = slice(0, layout.total)
    np.testing.assert_allclose(reused.error.of(all_entries), fresh.error.of(all_entries), rtol=1e-12)
    with pytest.raises(ValueError, match="numerical gradient has 47 entries, parameters 6"):
        tiny = block_layout(LayerSizes(1, 1, 1, 1))
        numerical_side({}, np.zeros(6), case.X, case.Y, tiny, **options(numerical=given))


def test_the_error_estimate_runs_its_extra_passes_once_and_only_when_asked(monkeypatch):
    case = seed_test_case()
    calls = []
    real = numerical_module.perturbed_passes
    monkeypatch.setattr(numerical_module, "perturbed_passes", lambda *a, **k: calls.append(1) or real(*a, **k))
    steps = np.full(47, 1e-5)
    gradapprox = real(case.X, case.Y, case.parameters, steps).gradapprox
    error = ErrorEstimate(
        case.X, case.Y, case.parameters, steps, gradapprox, "batched", base=base_pass(case.X, case.Y, case.parameters)
    )
    assert calls == []
    first = error.of(slice(0, 20))
    second = error.of(slice(20, 47))
    assert len(calls) == 1 and first.shape == (20,) and second.shape == (27,)
    assert np.all(first > 0) and error.roundoff() > 0


def test_large_blocks_are_screened_when_the_forward_is_looped():
    sizes = LayerSizes(20, 6, 3, 1)  # W1 has 120 entries, above SCREEN_MIN_ENTRIES; W2 18, not
    rng = np.random.default_rng(0)
    parameters = {name: rng.normal(size=shape) / np.sqrt(shape[1]) for name, shape in parameter_shapes(sizes).items()}
    case = NetworkCase(sizes, rng.normal(size=(20, 5)), (rng.random((1, 5)) < 0.5) * 1.0, parameters)
    layout = block_layout(sizes)
    assert layout.slice_of("W1").stop > SCREEN_MIN_ENTRIES
    side = numerical_side(case.parameters, flat(case), case.X, case.Y, layout, **options(forward=user_forward))
    assert side.method == "loop" and set(side.screened) == {"W1"}
    assert np.isnan(side.gradapprox[layout.slice_of("W1")]).all()
    assert np.isfinite(side.gradapprox[layout.slice_of("W1").stop :]).all()
    unscreened = numerical_side(
        case.parameters, flat(case), case.X, case.Y, layout, **options(forward=user_forward, screen=False)
    )
    assert not unscreened.screened and np.isfinite(unscreened.gradapprox).all()
