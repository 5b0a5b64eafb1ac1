"""Run the properties under Hypothesis and collect what they found as plain records.

One Hypothesis test per model (the network, the 1-D pair). Each property
raises its own exception type, so Hypothesis shrinks every distinct failure to
its own smallest case.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.reporting import with_reporter

from gradharness.check.checker import GradientCheckResult
from gradharness.properties.properties import (
    NetworkFunctions,
    Property,
    PropertyFailure,
    check_1d_point,
    check_network_case,
)
from gradharness.records.check import (
    BlockRecord,
    EntryRecord,
    FailureRecord,
    GradientRecord,
    PropertyRecord,
    PropertyStatus,
)
from gradharness.settings import RunSettings, StrategyOptions
from strategies import network_cases

Progress = Callable[[int, int, str], None]


def case_strategy(options: StrategyOptions) -> st.SearchStrategy:
    """The :func:`strategies.network_cases` strategy for these options (validated when called)."""
    return network_cases(**asdict(options))


@dataclass
class RunFindings:
    """What the Hypothesis runs found, before it becomes a CheckRecord."""

    properties: list[PropertyRecord]
    failures: list[FailureRecord]
    diagnoses: dict[str, int]
    examples: int
    seconds: float
    wrong_blocks: dict[str, int] = field(default_factory=dict)


@dataclass
class _Tally:
    calls: int = 0
    first_failure: int | None = None
    evaluated: Counter = field(default_factory=Counter)
    diagnoses: Counter = field(default_factory=Counter)
    wrong_blocks: Counter = field(default_factory=Counter)


def gradient_record(check: GradientCheckResult) -> GradientRecord:
    """Plain-data form of a checker result."""
    return GradientRecord(
        difference=check.difference,
        verdict=check.verdict,
        reason=check.reason,
        epsilon=check.epsilon,
        threshold=check.threshold,
        method=check.method,
        blocks=[
            BlockRecord(b.name, b.difference, b.verdict, b.entries, b.kinks, b.saturated, b.mode) for b in check.blocks
        ],
        worst_entries=[EntryRecord(e.name, e.backprop, e.numerical, e.status) for e in check.worst_entries],
        grad=[float(v) for v in check.grad],
        gradapprox=[float(v) if np.isfinite(v) else None for v in check.gradapprox],
        entry_status=list(check.entry_status),
    )


def _failure_record(failure: PropertyFailure, tally: _Tally) -> FailureRecord:
    return FailureRecord(
        property=failure.prop.name,
        kind=failure.kind,
        message=failure.message,
        examples_before=tally.first_failure or tally.calls,
        case=failure.case.to_json() if failure.case is not None else None,
        point=list(failure.point) if failure.point is not None else None,
        gradient_check=gradient_record(failure.check) if failure.check is not None else None,
    )


def _hypothesis_settings(run: RunSettings) -> settings:
    return settings(
        max_examples=run.max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        print_blob=False,
        report_multiple_bugs=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )


def _run(test: Callable[[], None], tally: _Tally) -> list[PropertyFailure]:
    """Run a Hypothesis test; return the distinct shrunk failures."""
    try:
        # Overflow in exp or log(0) is expected (saturation is diagnosed, not warned about).
        with with_reporter(lambda _message: None), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            test()
    except PropertyFailure as failure:
        return [failure]
    except BaseExceptionGroup as group:  # several distinct bugs, or a flaky one
        found = [e for e in _flatten(group) if isinstance(e, PropertyFailure)]
        if found:
            return found
        raise
    except HypothesisException:
        raise
    return []


def _flatten(group: BaseExceptionGroup) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_flatten(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


_NETWORK_PROPERTIES = [p for p in Property if p not in (Property.DERIVATIVE_1D, Property.STUDENT_CHECKER)]


def _network_failures(
    network: NetworkFunctions,
    run: RunSettings,
    hypothesis_settings: settings,
    progress: Progress | None,
    tally: _Tally,
) -> list[FailureRecord]:
    """Run the network properties under Hypothesis, counting into ``tally``; the shrunk failures."""

    @seed(run.seed)
    @hypothesis_settings
    @given(case=case_strategy(run.strategy))
    def network_property(case) -> None:
        tally.calls += 1
        if progress is not None:
            progress(min(tally.calls, run.max_examples), run.max_examples, case.describe())
        try:
            outcome = check_network_case(network, case, run.check)
        except PropertyFailure as failure:
            if failure.check is not None:
                tally.wrong_blocks.update(failure.check.wrong_blocks)
            if tally.first_failure is None:
                tally.first_failure = tally.calls
                tally.evaluated[failure.prop] += 1
            raise
        if tally.first_failure is None:
            tally.evaluated.update(outcome.properties)
            tally.diagnoses[outcome.verdict.value] += 1

    return [_failure_record(f, tally) for f in _run(network_property, tally)]


def _derivative_failures(
    one_d: tuple[Callable, Callable],
    run: RunSettings,
    hypothesis_settings: settings,
    progress: Progress | None,
    tally: _Tally,
) -> list[FailureRecord]:
    """Run the 1-D property under Hypothesis, counting into ``tally``; the shrunk failures."""
    forward, backward = one_d
    values = st.floats(-10.0, 10.0, allow_nan=False, allow_subnormal=False)

    @seed(run.seed)
    @hypothesis_settings
    @given(x=values, theta=values)
    def derivative_property(x: float, theta: float) -> None:
        tally.calls += 1
        if progress is not None:
            progress(min(tally.calls, run.max_examples), run.max_examples, f"1-D x={x:g}, theta={theta:g}")
        try:
            verdict = check_1d_point(forward, backward, x, theta, run.check)
        except PropertyFailure:
            if tally.first_failure is None:
                tally.first_failure = tally.calls
                tally.evaluated[Property.DERIVATIVE_1D] += 1
            raise
        if tally.first_failure is None:
            tally.evaluated[Property.DERIVATIVE_1D] += 1
            tally.diagnoses[verdict.value] += 1

    return [_failure_record(f, tally) for f in _run(derivative_property, tally)]


def _property_records(
    wanted: list[Property], failures: list[FailureRecord], evaluated: Counter
) -> list[PropertyRecord]:
    """One record per property asked for: failed, passed (evaluated at least once) or not run."""
    failed = {f.property for f in failures}
    return [
        PropertyRecord(
            name=p.name,
            description=p.value,
            status=PropertyStatus.FAILED
            if p.name in failed
            else (PropertyStatus.PASSED if evaluated[p] else PropertyStatus.NOT_RUN),
            examples=int(evaluated[p]),
        )
        for p in wanted
    ]


def run_properties(
    network: NetworkFunctions | None,
    one_d: tuple[Callable, Callable] | None,
    run: RunSettings,
    progress: Progress | None = None,
) -> RunFindings:
    """Check the network pair and/or the 1-D pair on generated cases."""
    started = time.perf_counter()
    failures: list[FailureRecord] = []
    tallies: dict[str, _Tally] = {}
    wanted: list[Property] = []
    hypothesis_settings = _hypothesis_settings(run)

    if network is not None:
        tallies["network"] = _Tally()
        failures += _network_failures(network, run, hypothesis_settings, progress, tallies["network"])
        compared = run.check.reference and not network.builtin  # the built-in forward is the reference
        wanted += [p for p in _NETWORK_PROPERTIES if compared or p is not Property.FORWARD_MATCHES]
    if one_d is not None:
        tallies["1d"] = _Tally()
        failures += _derivative_failures(one_d, run, hypothesis_settings, progress, tallies["1d"])
        wanted.append(Property.DERIVATIVE_1D)

    evaluated: Counter = Counter()
    diagnoses: Counter = Counter()
    for tally in tallies.values():
        evaluated.update(tally.evaluated)
        diagnoses.update(tally.diagnoses)
    return RunFindings(
        properties=_property_records(wanted, failures, evaluated),
        failures=failures,
        diagnoses={k: int(v) for k, v in sorted(diagnoses.items())},
        wrong_blocks={k: int(v) for k, v in tallies["network"].wrong_blocks.most_common()}
        if "network" in tallies
        else {},
        examples=max((t.first_failure or min(t.calls, run.max_examples) for t in tallies.values()), default=0),
        seconds=time.perf_counter() - started,
    )
