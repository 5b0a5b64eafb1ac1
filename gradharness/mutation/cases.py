"""The campaign's fixed list of cases, and what is computed once per case and shared by every mutant.

Cases are drawn up front by a seeded Hypothesis run of the same strategies as
``gradharness check``. The numerical gradient depends only on the forward pass, which
no mutant of the backward pass changes, so it is computed once per case (in a worker:
the forward may be a user's) and reused across mutants.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings

from gradharness.check.checker import NumericalGradient, numerical_gradient, relative_difference
from gradharness.check.finite_diff import gradapprox_loop
from gradharness.model import network
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.parameters import (
    Gradients,
    LayerSizes,
    gradients_to_vector,
    parameter_count,
    parameter_shapes,
)
from gradharness.properties.properties import normalise_gradients
from gradharness.properties.runner import case_strategy
from gradharness.settings import StrategyOptions


@dataclass(frozen=True)
class PreparedCase:
    """One case, its numerical gradient, and the unmutated backward's gradients on it."""

    case: NetworkCase
    numerical: NumericalGradient
    gradients: Gradients | None  # None when the unmutated backward fails on this case

    @property
    def size(self) -> int:
        """P * m, the work in one check: what "smallest counterexample" minimises."""
        return parameter_count(self.case.sizes) * self.case.m


@dataclass(frozen=True)
class PreparedCases:
    """Every case of a campaign, in the order Hypothesis drew them, the exercise's fixed case, and probes."""

    cases: tuple[PreparedCase, ...]
    exercise: PreparedCase
    dropped: int = 0  # cases left out because the built-in checker is not conclusive on them
    probes: tuple[
        PreparedCase, ...
    ] = ()  # well-conditioned networks a survivor must also agree on to count as equivalent


PROBE_SHAPES: tuple[tuple[int, int, int, int, int], ...] = (
    (3, 4, 2, 2, 5),
    (2, 3, 3, 3, 4),
    (5, 2, 4, 1, 3),
    (3, 3, 3, 3, 3),
)
"""(n0, n1, n2, n3, m) of the probe networks: every size and m above 1, one square network."""


def probe_cases(seed_value: int = 20240601, fixed: tuple[int | None, ...] = (None,) * 5) -> list[NetworkCase]:
    """Well-conditioned random networks, independent of the strategies.

    A mutant that survives with gradients identical to the unmutated code on every drawn
    case is only believed equivalent if it also agrees on these: drawn cases can be
    degenerate (dead units, m = 1) where many mistakes happen to cancel. ``fixed`` holds
    the (n0, n1, n2, n3, m) the campaign fixes (None where drawn): a mistake that cancels
    for every network of those sizes is equivalent for that campaign.
    """
    state = np.random.RandomState(seed_value)
    cases = []
    for shape in PROBE_SHAPES:
        n0, n1, n2, n3, m = (f if f is not None else s for f, s in zip(fixed, shape, strict=True))
        sizes = LayerSizes(n0, n1, n2, n3)
        parameters = {
            name: state.randn(rows, cols) * (0.8 / np.sqrt(cols) if name.startswith("W") else 0.3)
            for name, (rows, cols) in parameter_shapes(sizes).items()
        }
        X = state.randn(n0, m)
        Y = (state.rand(n3, m) > 0.5).astype(np.float64)
        cases.append(NetworkCase(sizes, X, Y, parameters))
    return cases


def draw_cases(strategy: StrategyOptions, count: int, seed_value: int) -> list[NetworkCase]:
    """``count`` cases from the check's strategy, reproducible from ``seed_value``."""
    drawn: list[NetworkCase] = []

    @seed(seed_value)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=case_strategy(strategy))
    def collect(case: NetworkCase) -> None:
        drawn.append(case)

    collect()
    return drawn[:count]


def prepare_case(
    case: NetworkCase,
    forward,
    backward,
    builtin: bool,
    epsilon: float | None,
) -> PreparedCase:
    """The numerical gradient of ``forward`` on the case, and ``backward``'s gradients (None if it fails)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        numerical = numerical_gradient(
            case.copy_parameters(), case.X, case.Y, epsilon, forward=None if builtin else forward
        )
        try:
            _, cache = forward(case.X.copy(), case.Y.copy(), case.copy_parameters())
            gradients = normalise_gradients(backward(case.X.copy(), case.Y.copy(), cache), case, "backward")
        except Exception:  # the harness proof reports it properly; here it only means "no reference"
            gradients = None
    return PreparedCase(case, numerical, gradients)


def conclusive(prepared: PreparedCase, threshold: float) -> bool:
    """The exercise's own check passes the unmutated gradients by a wide margin on this case.

    A user's checker has no kink or noise diagnosis: only where the exercise's method (the
    seed's cost formula, one forward pass per perturbation, the whole-vector difference) is
    clean can a correct checker be expected to accept the correct backprop.
    """
    if prepared.gradients is None:
        return False
    case = prepared.case
    grad = gradients_to_vector(prepared.gradients).reshape(-1)
    with np.errstate(all="ignore"):
        seeds_way = gradapprox_loop(
            network.forward_propagation_n, case.X, case.Y, case.parameters, prepared.numerical.steps
        )
    return bool(np.all(np.isfinite(seeds_way))) and relative_difference(grad, seeds_way) < threshold / 10


def prepare_cases(
    cases: list[NetworkCase],
    forward,
    backward,
    *,
    builtin: bool,
    epsilon: float | None,
    threshold: float,
    conclusive_only: bool = False,
    fixed: tuple[int | None, ...] = (None,) * 5,
) -> PreparedCases:
    """Prepare every case (and the exercise's); with ``conclusive_only`` keep only cases a checker can be fairly judged on."""
    prepared = [prepare_case(c, forward, backward, builtin, epsilon) for c in cases]
    kept = [p for p in prepared if conclusive(p, threshold)] if conclusive_only else prepared
    exercise = prepare_case(seed_test_case(), forward, backward, builtin, epsilon)
    probes = tuple(prepare_case(c, forward, backward, builtin, epsilon) for c in probe_cases(fixed=fixed))
    return PreparedCases(tuple(kept), exercise, dropped=len(prepared) - len(kept), probes=probes)
