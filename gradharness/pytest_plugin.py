"""pytest plugin: gradharness's properties inside your own test suite.

Installed with gradharness (entry point ``pytest11``), so in any project::

    from gradharness.pytest_plugin import assert_backprop

    def test_backprop():
        assert_backprop(forward_propagation_n, backward_propagation_n, n3=1, max_batch=4)

    def test_backprop_with_fixture(backprop_check):  # the same, with the session's profile and seed
        backprop_check(forward_propagation_n, backward_propagation_n)

A failure is an ``AssertionError`` carrying gradharness's finding: the smallest failing
network, the wrong blocks and entries, and the seed that repeats it.

Profiles set how hard each call tries: ``dev`` (20 cases per property), ``ci`` (100),
``thorough`` (1000). Choose with ``pytest --gradharness-profile=thorough`` or the
``GRADHARNESS_PROFILE`` variable; the default is ``ci`` when ``CI`` is set, else ``dev``.
The same settings are registered as Hypothesis profiles ``gradharness-dev``,
``gradharness-ci`` and ``gradharness-thorough`` for your own ``@given`` tests.
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from gradharness.properties.properties import NetworkFunctions
from gradharness.properties.runner import RunFindings, case_strategy, run_properties
from gradharness.settings import DEFAULT_THRESHOLD, CheckOptions, RunSettings, StrategyOptions

__all__ = ["PROFILES", "BackpropCheck", "assert_backprop"]

# Generated cases per property in each profile.
PROFILES: dict[str, int] = {"dev": 20, "ci": 100, "thorough": 1000}

for _name, _examples in PROFILES.items():
    settings.register_profile(
        f"gradharness-{_name}",
        max_examples=_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )

_session: dict[str, Any] = {"profile": None, "seed": None}
_PREVIOUS = pytest.StashKey[dict[str, Any]]()


def _default_profile() -> str:
    return os.environ.get("GRADHARNESS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")


def _profile_examples(profile: str | None) -> tuple[str, int]:
    name = profile or _session["profile"] or _default_profile()
    if name not in PROFILES:
        raise ValueError(f"profile={name!r} is not a gradharness profile; valid profiles are {', '.join(PROFILES)}")
    return name, PROFILES[name]


def _strategy(options: dict[str, Any]) -> StrategyOptions:
    valid = {f.name for f in fields(StrategyOptions)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise TypeError(
            f"assert_backprop got unknown strategy options {', '.join(unknown)}; valid ones are {', '.join(sorted(valid))}"
        )
    strategy = StrategyOptions(**options)
    case_strategy(strategy)  # raises hypothesis.errors.InvalidArgument naming the bad option
    return strategy


def _render(findings: RunFindings) -> str:
    from rich.console import Console

    from gradharness.render.terminal import render_failure

    buffer = io.StringIO()
    console = Console(file=buffer, width=110, color_system=None, highlight=False, soft_wrap=True)
    for failure in findings.failures:
        render_failure(console, failure)
    return buffer.getvalue().rstrip()


def assert_backprop(
    forward: Callable,
    backward: Callable,
    *,
    profile: str | None = None,
    max_examples: int | None = None,
    seed: int | None = None,
    epsilon: float | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    reference: bool = True,
    **strategy_options: Any,
) -> RunFindings:
    """Fail (AssertionError) unless ``backward`` is the gradient of ``forward`` on generated networks.

    - ``forward(X, Y, parameters) -> (cost, cache)`` and ``backward(X, Y, cache) -> gradients``,
      the exercise's signatures; keys in either case, any cache.
    - ``profile``: ``dev``, ``ci`` or ``thorough`` (default: the session's, see the module docstring).
    - ``max_examples``: cases per property, overriding the profile.
    - ``seed``: Hypothesis seed (default: ``--gradharness-seed``, else random; shown on failure).
    - ``epsilon``, ``threshold``: the checker's settings (default: scaled cbrt(machine eps), 1e-7).
    - ``reference``: compare every cost with the network's (the seed's cross-entropy averaged over m);
      False for a forward that changes the network on purpose (then only self-consistency is checked).
    - ``strategy_options``: which networks to draw, e.g. ``n3=1``, ``max_units=4``, ``batch_size=1``,
      ``adversarial=True`` (the fields of :class:`gradharness.properties.runner.StrategyOptions`).

    Example: ``assert_backprop(forward_propagation_n, backward_propagation_n, n0=4, max_batch=3)``.
    Failures shrink towards the fewest units and examples. Returns the findings when it passes.
    """
    __tracebackhide__ = True
    from gradharness.usercode.discover import with_key_case

    _, examples = _profile_examples(profile)
    chosen_seed = seed if seed is not None else _session["seed"]
    if chosen_seed is None:
        chosen_seed = random.SystemRandom().randrange(2**32)
    run = RunSettings(
        seed=chosen_seed,
        max_examples=max_examples or examples,
        check=CheckOptions(epsilon=epsilon, threshold=threshold, reference=reference),
        strategy=_strategy(strategy_options),
    )
    functions = NetworkFunctions(
        with_key_case(forward),
        backward,
        getattr(forward, "__name__", "forward"),
        getattr(backward, "__name__", "backward"),
    )
    findings = run_properties(functions, None, run)
    if findings.failures:
        raise AssertionError(
            f"{functions.backward_name} does not hold up (gradharness, seed {run.seed}, "
            f"{run.max_examples} examples per property; repeat with seed={run.seed}):\n{_render(findings)}"
        )
    return findings


@dataclass(frozen=True)
class BackpropCheck:
    """What the ``backprop_check`` fixture gives: :func:`assert_backprop` with the session's settings."""

    profile: str
    seed: int | None

    def __call__(self, forward: Callable, backward: Callable, **options: Any) -> RunFindings:
        __tracebackhide__ = True
        options.setdefault("profile", self.profile)
        if self.seed is not None:
            options.setdefault("seed", self.seed)
        return assert_backprop(forward, backward, **options)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradharness", "gradharness backprop checks")
    group.addoption(
        "--gradharness-profile",
        choices=sorted(PROFILES),
        default=None,
        help="Cases per property for assert_backprop: dev (20), ci (100), thorough (1000).",
    )
    group.addoption("--gradharness-seed", type=int, default=None, help="Seed for assert_backprop (default: random).")


def pytest_configure(config: pytest.Config) -> None:
    profile = config.getoption("gradharness_profile", default=None) or _default_profile()
    if profile not in PROFILES:
        raise pytest.UsageError(f"GRADHARNESS_PROFILE={profile!r}: valid profiles are {', '.join(PROFILES)}")
    config.stash[_PREVIOUS] = dict(_session)  # a nested session (pytester) must not leak into ours
    _session["profile"] = profile
    _session["seed"] = config.getoption("gradharness_seed", default=None)


def pytest_unconfigure(config: pytest.Config) -> None:
    previous: dict[str, Any] = config.stash.get(_PREVIOUS, {})
    _session.update(previous)


def pytest_report_header(config: pytest.Config) -> str:
    profile = _session["profile"] or _default_profile()
    seed = _session["seed"]
    return f"gradharness: profile {profile} ({PROFILES[profile]} cases per property), seed {seed if seed is not None else 'random'}"


@pytest.fixture
def backprop_check() -> BackpropCheck:
    """:func:`assert_backprop` bound to this session's ``--gradharness-profile`` and ``--gradharness-seed``."""
    return BackpropCheck(_session["profile"] or _default_profile(), _session["seed"])
