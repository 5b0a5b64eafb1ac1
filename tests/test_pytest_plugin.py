"""The pytest plugin: assert_backprop, the backprop_check fixture, profiles, and a user's suite run through it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings
from hypothesis.errors import InvalidArgument

from gradharness import backward_propagation_n, forward_propagation_n
from gradharness.model.network import backward_propagation_n_buggy
from gradharness.pytest_plugin import PROFILES, _session, assert_backprop

pytest_plugins = ["pytester"]


def test_the_plugin_is_registered_by_its_entry_point(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.has_plugin("gradharness")


def test_fixture_passes_the_builtin_network(backprop_check) -> None:
    assert backprop_check.profile in PROFILES
    findings = backprop_check(forward_propagation_n, backward_propagation_n, max_examples=10, seed=1)
    assert not findings.failures and findings.examples == 10


def test_a_wrong_backprop_fails_with_the_gradharness_message() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_backprop(forward_propagation_n, backward_propagation_n_buggy, max_examples=20, seed=3)
    message = str(caught.value)
    assert "backward_propagation_n_buggy does not hold up" in message
    assert "repeat with seed=3" in message
    assert "smallest failing network: sizes" in message
    assert "dW2" in message and "db1" in message


def test_keys_in_either_case_and_a_list_cache() -> None:
    def forward(X, Y, parameters):
        lower_case = {name: parameters[name.lower()] for name in ("W1", "b1", "W2", "b2", "W3", "b3")}
        cost, cache = forward_propagation_n(X, Y, lower_case)
        return np.array([[cost]]), list(cache)

    def backward(X, Y, cache):
        return {k.lower(): v for k, v in backward_propagation_n(X, Y, tuple(cache)).items()}

    assert_backprop(forward, backward, max_examples=8, seed=2)


def test_a_regularised_network_fails_the_reference_unless_it_is_turned_off() -> None:
    def forward(X, Y, parameters):
        cost, cache = forward_propagation_n(X, Y, parameters)
        return cost + 0.5 * float(np.sum(parameters["W2"] ** 2)), cache

    def backward(X, Y, cache):
        gradients = backward_propagation_n(X, Y, cache)
        return {**gradients, "dW2": gradients["dW2"] + cache[6]}

    with pytest.raises(AssertionError, match="where the network's cost is"):
        assert_backprop(forward, backward, max_examples=8, seed=2)
    assert not assert_backprop(forward, backward, max_examples=8, seed=2, reference=False).failures


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"n_units": 3}, TypeError, "unknown strategy options n_units; valid ones are adversarial"),
        ({"profile": "nightly"}, ValueError, "valid profiles are dev, ci, thorough"),
        ({"max_units": 0}, InvalidArgument, "max_units"),
    ],
)
def test_bad_options_name_themselves(options: dict, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        assert_backprop(forward_propagation_n, backward_propagation_n, **options)


def test_profiles_are_registered_with_hypothesis() -> None:
    for name, examples in PROFILES.items():
        assert settings.get_profile(f"gradharness-{name}").max_examples == examples


@pytest.mark.slow
def test_a_users_suite_selects_a_profile_and_sees_the_finding(
    pytester: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    pytester.makepyfile(
        test_user="""
        from gradharness import forward_propagation_n, backward_propagation_n
        from gradharness.model.network import backward_propagation_n_buggy

        def test_good(backprop_check):
            assert backprop_check.profile == "dev" and backprop_check.seed == 7
            backprop_check(forward_propagation_n, backward_propagation_n, max_examples=5)

        def test_bad(backprop_check):
            backprop_check(forward_propagation_n, backward_propagation_n_buggy, max_examples=20)
        """
    )
    result = pytester.runpytest("--gradharness-profile=dev", "--gradharness-seed=7", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["gradharness: profile dev (20 cases per property), seed 7"])
    result.stdout.fnmatch_lines(["*does not hold up (gradharness, seed 7*", "*smallest failing network*"])
    # the nested session's profile and seed do not leak into this one
    assert _session["seed"] == request.config.getoption("gradharness_seed")
