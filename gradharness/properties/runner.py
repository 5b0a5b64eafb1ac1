"""Run the properties under Hypothesis and collect what they found as plain records.

One Hypothesis test per model (the network, the 1-D pair). Each property
raises its own exception type, so Hypothesis shrinks every distinct failure to
its own smallest case, within a budget (:mod:`gradharness.properties.shrinking`)
that stops once the failing case is small. Each failure keeps, beside its
smallest case, the first generated case that failed it, as drawn.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, event, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.reporting import with_reporter

try:  # the hook behind --hypothesis-show-statistics: which calls drew a case and which shrank one
    from hypothesis.statistics import collector
except ImportError:  # pragma: no cover - another Hypothesis; the counts then stop at the first failure
    collector = None  # type: ignore[assignment]

from gradharness.check.checker import GradientCheckResult
from gradharness.check.precision import PRECISIONS
from gradharness.errors import EvaluatorLost
from gradharness.properties.drawn import keep_cases, kept_cases, replay
from gradharness.properties.properties import (
    CaseOutcome,
    NetworkFunctions,
    Property,
    PropertyFailure,
    check_1d_point,
    check_network_case,
    prefetch_1d,
)
from gradharness.properties.shrinking import DEFAULT_SHRINK_BUDGET, ShrinkControl, shrink_budget
from gradharness.records.check import (
    BlockRecord,
    DrawnFailure,
    EntryRecord,
    FailureRecord,
    GradientRecord,
    PropertyRecord,
    PropertyStatus,
)
from gradharness.records.status import FailureKind
from gradharness.settings import RunSettings, StrategyOptions
from strategies import network_cases, points_1d

Progress = Callable[[int, int, str], None]


def case_strategy(options: StrategyOptions) -> st.SearchStrategy:
    """The :func:`strategies.network_cases` strategy for these options (validated when called)."""
    drawn = asdict(options)
    for deep_only in ("min_layers", "max_layers"):  # the deep target's depth: the exercise's network has 3 layers
        drawn.pop(deep_only)
    return network_cases(**drawn)


@dataclass
class RunFindings:
    """What the Hypothesis runs found, before it becomes a CheckRecord."""

    properties: list[PropertyRecord]
    failures: list[FailureRecord]
    diagnoses: dict[str, int]
    examples: int
    seconds: float
    wrong_blocks: dict[str, int] = field(default_factory=dict)
    cut_short: str | None = None  # why the runs stopped after a failure was found (the evaluator was lost)

    def merged(self, other: RunFindings) -> RunFindings:
        """These findings and ``other``'s (another target's), as one."""
        diagnoses = Counter(self.diagnoses) + Counter(other.diagnoses)
        wrong = Counter(self.wrong_blocks) + Counter(other.wrong_blocks)
        return RunFindings(
            properties=self.properties + other.properties,
            failures=self.failures + other.failures,
            diagnoses={k: int(v) for k, v in sorted(diagnoses.items())},
            examples=self.examples + other.examples,
            seconds=self.seconds + other.seconds,
            wrong_blocks={k: int(v) for k, v in wrong.most_common()},
            cut_short=self.cut_short or other.cut_short,
        )


CALL_EVENT = "gradharness call"
"""The Hypothesis event naming each call of a property test, so the run's statistics tell drawn calls from shrink steps."""

_DRAWING_PHASES = ("reuse-phase", "generate-phase", "target-phase")

PHASES = (Phase.explicit, Phase.generate, Phase.shrink)
"""Hypothesis's phases for both tests. No ``hypothesis.target`` score and no ``Phase.target``, on
purpose: scoring each case by log10(worst block difference / threshold) and climbing it was measured
on a correct file over 8 seeds (50 to 72 distinct networks in 100 instead of 81 to 92, 113 kink and 3
imprecise verdicts instead of 24 and 0): on correct code the score is the numerical error, and the
climb spends the cases near kinks. The scores alone, without the phase, already shift the drawn cases
(Hypothesis's generation keeps a mutated case only if it scores no lower), and the bugs a climb could
lead to were caught on the first generated case either way."""

# The order check_network_case runs the network properties in: on a failing case, those before
# the failing one held.
_CASE_ORDER = (
    Property.FORWARD_COST,
    Property.FORWARD_MATCHES,
    Property.GRADIENT_SHAPES,
    Property.NO_SIDE_EFFECTS,
    Property.GRADIENT_AGREES,
)


@dataclass(frozen=True)
class _Call:
    """What one call of a property test showed."""

    ran: tuple[Enum, ...]  # a Property, or a target's own property enum
    failed: Enum | None = None
    verdict: str | None = None  # the checker's verdict when the gradient check held
    wrong_blocks: tuple[str, ...] = ()
    cases: int = 1  # generated cases the call checked: a call of the 1-D test checks several points
    verdicts: tuple[str, ...] = ()  # the 1-D test's: the checker's verdict on each point that held
    precision: str | None = None  # what the code was judged at, for targets that say (float64 or float32)


@dataclass
class _Tally:
    """Every call of one Hypothesis test, and which of them drew a case (the rest are shrink steps)."""

    max_examples: int
    calls: list[_Call] = field(default_factory=list)
    drawn_calls: set[int] | None = None  # indices into ``calls``; None: the run left no statistics
    # (property, kind) -> the index of the first call that failed it, and that failing case
    first_failures: dict[tuple[Enum, FailureKind], tuple[int, DrawnFailure]] = field(default_factory=dict)
    first_raised: dict[tuple[Enum, FailureKind], PropertyFailure] = field(default_factory=dict)  # as raised

    def begin(self, *, tagged: bool = True) -> int:
        """Start a call (nothing shown yet, should it end in an error) and tag it for Hypothesis's statistics
        (``tagged`` False: a call made outside Hypothesis); its index."""
        self.calls.append(_Call(()))
        if tagged:
            event(CALL_EVENT, len(self.calls) - 1)
        return len(self.calls) - 1

    def copy(self) -> _Tally:
        """A copy of the counts so far (a replay's, kept while Hypothesis runs afresh)."""
        drawn = set(range(len(self.calls))) if self.drawn_calls is None else set(self.drawn_calls)
        return _Tally(self.max_examples, list(self.calls), drawn, dict(self.first_failures), dict(self.first_raised))

    def restore(self, other: _Tally) -> None:
        """Take ``other``'s counts as this tally's."""
        self.calls, self.drawn_calls = other.calls, other.drawn_calls
        self.first_failures, self.first_raised = other.first_failures, other.first_raised

    def reset(self) -> None:
        """Forget every call (a replay that stopped at a failure: Hypothesis's run counts afresh)."""
        self.calls.clear()
        self.first_failures.clear()
        self.first_raised.clear()
        self.drawn_calls = None

    def note_failure(self, index: int, failure: PropertyFailure) -> None:
        """Keep the case of call ``index`` if it is the first to fail this way (generation precedes shrinking)."""
        key = (failure.prop, failure.kind)
        if key not in self.first_failures:
            self.first_failures[key] = (index, _drawn_failure(failure))
            self.first_raised[key] = failure

    def first_case(self, failure: PropertyFailure) -> DrawnFailure | None:
        """The first generated case that failed like ``failure``; None if it first showed while shrinking."""
        first = self.first_failures.get((failure.prop, failure.kind))
        if first is None:
            return None
        index, drawn = first
        is_drawn = index in self.drawn_calls if self.drawn_calls is not None else index < len(self.drawn)
        return drawn if is_drawn else None

    def note_statistics(self, statistics: dict) -> None:
        """Hypothesis's statistics callback: keep the indices of the calls made while drawing cases."""
        prefix = f"{CALL_EVENT}: "
        try:
            drawn = {
                int(event[len(prefix) :])
                for phase in _DRAWING_PHASES
                for test_case in statistics.get(phase, {}).get("test-cases", [])
                for event in test_case.get("events", [])
                if isinstance(event, str) and event.startswith(prefix)
            }
        except (AttributeError, TypeError, ValueError):  # statistics of another shape: count without them
            drawn = set()
        # No drawn call at all means statistics this code cannot read: count calls up to the failure.
        self.drawn_calls = drawn or None

    @property
    def drawn(self) -> list[_Call]:
        """The calls on drawn cases (generated, not shrink steps), in order."""
        if self.drawn_calls is not None:
            return [call for i, call in enumerate(self.calls) if i in self.drawn_calls]
        failing = [i for i, call in enumerate(self.calls) if call.failed is not None]
        end = failing[0] + 1 if failing else len(self.calls)
        return self.calls[: min(end, self.max_examples)]

    def evaluated(self) -> Counter:
        """Property -> drawn cases it was evaluated on."""
        counts: Counter = Counter()
        for call in self.drawn:
            counts.update({p: call.cases for p in call.ran})
        return counts

    def found_after(self, prop: Enum) -> int:
        """Drawn cases up to and including the first that failed ``prop`` (all of them: found while shrinking)."""
        seen = 0
        for call in self.drawn:
            seen += call.cases
            if call.failed is prop:
                break
        return seen

    @property
    def cases(self) -> int:
        """Drawn cases, over every drawn call."""
        return sum(call.cases for call in self.drawn)

    def verdicts(self) -> list[str]:
        """The checker's verdict on each drawn case whose check held."""
        return [v for call in self.drawn for v in (call.verdicts or ((call.verdict,) if call.verdict else ()))]

    def precision(self) -> str | None:
        """The coarsest precision a drawn case was judged at (None: the target does not say)."""
        seen = {call.precision for call in self.drawn if call.precision is not None}
        return next((p for p in reversed(PRECISIONS) if p in seen), None)

    def stopped(self) -> bool:
        """A failure ended the drawing before max_examples cases."""
        return any(call.failed is not None for call in self.calls) and len(self.drawn) < self.max_examples


def _drawn_failure(failure: PropertyFailure) -> DrawnFailure:
    check = failure.check
    return DrawnFailure(
        message=failure.message,
        case=failure.case.to_json() if failure.case is not None else None,
        point=list(failure.point) if failure.point is not None else None,
        difference=check.difference if check is not None else None,
        wrong_blocks=list(check.wrong_blocks) if check is not None else [],
        description=failure.case.describe() if failure.case is not None else None,
    )


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
            BlockRecord(
                b.name,
                b.difference,
                b.verdict,
                b.entries,
                b.kinks,
                b.saturated,
                b.mode,
                b.exercised,
                list(shape) if shape is not None else None,
            )
            for b, shape in zip(check.blocks, check.shapes or [None] * len(check.blocks), strict=True)
        ],  # fmt: skip
        worst_entries=[EntryRecord(e.name, e.backprop, e.numerical, e.status) for e in check.worst_entries],
        grad=[float(v) for v in check.grad],
        gradapprox=[float(v) if np.isfinite(v) else None for v in check.gradapprox],
        entry_status=list(check.entry_status),
    )


def _failure_record(failure: PropertyFailure, tally: _Tally, target: str = "exercise") -> FailureRecord:
    return FailureRecord(
        property=failure.prop.name,
        kind=failure.kind,
        message=failure.message,
        examples_before=tally.found_after(failure.prop),
        case=failure.case.to_json() if failure.case is not None else None,
        point=list(failure.point) if failure.point is not None else None,
        gradient_check=gradient_record(failure.check) if failure.check is not None else None,
        first_case=tally.first_case(failure),
        target=target,
        description=str(failure.prop.value),
        case_description=failure.case.describe() if failure.case is not None else None,
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
        phases=list(PHASES),
    )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Overflow in exp or log(0) is expected while checking (saturation is diagnosed, not warned about)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _run(test: Callable[[], None], tally: _Tally, shrinking: ShrinkControl) -> list[PropertyFailure]:
    """Run a Hypothesis test; return the distinct shrunk failures."""
    shrinking.restart()
    try:
        with (
            with_reporter(lambda _message: None),
            collector.with_value(tally.note_statistics) if collector is not None else contextlib.nullcontext(),  # type: ignore[arg-type]
            _quiet(),
        ):
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


PropertyCall = Callable[[Any, int], None]
"""One call of a property test on one drawn value, counted at the given index of the tally; raises on a failure."""


def _checked(
    test: str,
    run: RunSettings,
    strategy: st.SearchStrategy,
    hypothesis_settings: settings,
    tally: _Tally,
    shrinking: ShrinkControl,
    call: PropertyCall,
) -> list[PropertyFailure]:
    """Make ``call`` on each value Hypothesis draws from ``strategy``; the distinct shrunk failures.

    When a file before this one passed every value these settings draw, the calls are made on those
    values directly (:mod:`gradharness.properties.drawn`); Hypothesis runs only if one of them fails.
    """
    kept = kept_cases(run, test)
    met: Exception | None = None
    if kept is not None:
        with _quiet():
            met = replay(kept, lambda value: call(value, tally.begin(tagged=False)))
        replayed = tally.copy()  # every replayed call was a drawn one
        if met is None:
            tally.restore(replayed)
            return []
        tally.reset()
    drawn: list[Any] = []

    @seed(run.seed)
    @hypothesis_settings
    @given(value=strategy)
    def property_test(value: Any) -> None:
        index = tally.begin()
        drawn.append(value)
        call(value, index)

    try:
        failures = _run(property_test, tally, shrinking)
    except EvaluatorLost:
        if isinstance(met, PropertyFailure) and not tally.first_raised:
            tally.restore(replayed)  # lost before Hypothesis's run failed again: the replay's failure stands
        raise
    if met is not None and not failures:  # the replay failed, Hypothesis's run did not: the replay's finding
        if not isinstance(met, PropertyFailure):
            raise met
        tally.restore(replayed)
        return [met]
    if not failures and len(tally.drawn) == len(tally.calls):
        keep_cases(run, drawn, test)
    return failures


def _network_failures(
    network: NetworkFunctions,
    run: RunSettings,
    hypothesis_settings: settings,
    progress: Progress | None,
    tally: _Tally,
    shrinking: ShrinkControl,
) -> list[FailureRecord]:
    """Run the network properties on drawn cases, counting into ``tally``; the shrunk failures."""
    test = PropertyTest(
        "network", "exercise", _CASE_ORDER, case_strategy(run.strategy),
        lambda case: check_network_case(network, case, run.check),
        lambda case: shrinking.budget.is_small(case.sizes.as_tuple(), case.m),
    )  # fmt: skip
    return _test_failures(test, run, hypothesis_settings, progress, tally, shrinking)


def _derivative_failures(
    one_d: tuple[Callable, Callable],
    run: RunSettings,
    hypothesis_settings: settings,
    progress: Progress | None,
    tally: _Tally,
    shrinking: ShrinkControl,
) -> list[FailureRecord]:
    """Run the 1-D property on drawn points, counting into ``tally``; the shrunk failures.

    Each call checks :func:`points_per_call` points, asked of the evaluator in one round trip: a 1-D
    check costs almost nothing but Hypothesis's own work per call, which this shares out.
    """
    forward, backward = one_d
    per_call = points_per_call(run.max_examples)

    def derivative_call(points: list[tuple[float, float]], index: int) -> None:
        if progress is not None:
            done = min((index + 1) * per_call, run.max_examples)
            progress(done, run.max_examples, f"1-D x={points[0][0]:g}, theta={points[0][1]:g}")
        prefetch_1d(forward, points, run.check)
        verdicts: list[str] = []
        for x, theta in points:
            try:
                verdicts.append(check_1d_point(forward, backward, x, theta, run.check).value)
            except PropertyFailure as failure:
                tally.calls[index] = _Call(
                    (Property.DERIVATIVE_1D,), Property.DERIVATIVE_1D, cases=len(verdicts) + 1, verdicts=tuple(verdicts)
                )
                tally.note_failure(index, failure)
                shrinking.failing(small=True)  # two numbers: nothing to shrink that makes it easier to read
                raise
        tally.calls[index] = _Call((Property.DERIVATIVE_1D,), cases=len(points), verdicts=tuple(verdicts))

    strategy = st.lists(points_1d(), min_size=per_call, max_size=per_call)
    calls_settings = settings(hypothesis_settings, max_examples=run.max_examples // per_call)
    failures = _checked("1-D", run, strategy, calls_settings, tally, shrinking, derivative_call)
    return [_failure_record(f, tally) for f in failures]


POINTS_PER_CALL = 10
"""At most this many 1-D points per call of the 1-D test."""


def points_per_call(max_examples: int) -> int:
    """The 1-D points each call checks: the largest divisor of ``max_examples`` up to POINTS_PER_CALL,
    so that the calls check exactly ``max_examples`` points."""
    return max(k for k in range(1, min(POINTS_PER_CALL, max_examples) + 1) if max_examples % k == 0)


def _status(prop: Enum, failed: set[str], tally: _Tally, evaluated: Counter) -> PropertyStatus:
    if prop.name in failed:
        return PropertyStatus.FAILED
    if not evaluated[prop]:
        return PropertyStatus.NOT_RUN
    return PropertyStatus.STOPPED if tally.stopped() else PropertyStatus.PASSED


def _property_records(
    wanted: list[Property], failures: list[FailureRecord], tallies: dict[str, _Tally]
) -> list[PropertyRecord]:
    """One record per property asked for, counted on the drawn cases of its own Hypothesis test."""
    failed = {f.property for f in failures}
    records = []
    for prop in wanted:
        tally = tallies["1d" if prop is Property.DERIVATIVE_1D else "network"]
        evaluated = tally.evaluated()
        records.append(
            PropertyRecord(prop.name, prop.value, _status(prop, failed, tally, evaluated), int(evaluated[prop]))
        )
    return records


def run_properties(
    network: NetworkFunctions | None,
    one_d: tuple[Callable, Callable] | None,
    run: RunSettings,
    progress: Progress | None = None,
) -> RunFindings:
    """Check the network pair and/or the 1-D pair on generated cases.

    Every count is of drawn cases (Hypothesis's generation phase), never of shrink steps:
    ``examples`` sums the cases of both tests, ``diagnoses`` the checker's verdicts on the drawn
    cases whose gradient check held, ``wrong_blocks`` the drawn network cases each block was wrong on.
    """
    started = time.perf_counter()
    failures: list[FailureRecord] = []
    tallies: dict[str, _Tally] = {}
    wanted: list[Property] = []
    hypothesis_settings = _hypothesis_settings(run)

    cut_short: str | None = None
    with shrink_budget(DEFAULT_SHRINK_BUDGET) as shrinking:
        if network is not None:
            compared = run.check.reference and not network.builtin  # the built-in forward is the reference
            wanted += [p for p in _NETWORK_PROPERTIES if compared or p is not Property.FORWARD_MATCHES]
            tallies["network"] = tally = _Tally(run.max_examples)
            try:
                failures += _network_failures(network, run, hypothesis_settings, progress, tally, shrinking)
            except EvaluatorLost as lost:
                failures += _found_before(lost, tally)
                cut_short = str(lost)
        if one_d is not None:
            wanted.append(Property.DERIVATIVE_1D)
            tallies["1d"] = tally = _Tally(run.max_examples // points_per_call(run.max_examples))
            try:
                if cut_short is None:  # else not run: the evaluator is gone
                    failures += _derivative_failures(one_d, run, hypothesis_settings, progress, tally, shrinking)
            except EvaluatorLost as lost:
                failures += _found_before(lost, tally)
                cut_short = str(lost)

    return _findings(_property_records(wanted, failures, tallies), failures, list(tallies.values()), started, cut_short)


def _found_before(lost: EvaluatorLost, tally: _Tally, target: str = "exercise") -> list[FailureRecord]:
    """The failures a test had found when its evaluator was lost (a time limit while shrinking), as first drawn;
    the loss itself when it had found none."""
    if not tally.first_raised:
        raise lost
    return [_failure_record(failure, tally, target) for failure in tally.first_raised.values()]


@dataclass(frozen=True)
class PropertyTest:
    """One Hypothesis test of a target: the cases it draws and what it asserts on each (``name``: unique among
    every target's tests, as the values a passing run drew are kept under it).

    ``properties``: what ``check`` asserts, in the order it checks them on a case (on a failing case, those
    before the failing one held); ``check`` raises a :class:`PropertyFailure` or returns the case's outcome;
    ``small``: whether a failing case is small enough to stop shrinking early (see ``shrinking.py``).
    """

    name: str
    target: str
    properties: tuple[Enum, ...]
    strategy: st.SearchStrategy
    check: Callable[[Any], CaseOutcome]
    small: Callable[[Any], bool]
    block_prefix: str = ""  # how the record's wrong-block counts name this test's blocks ("relu_backward's dZ")


def _test_failures(
    test: PropertyTest,
    run: RunSettings,
    hypothesis_settings: settings,
    progress: Progress | None,
    tally: _Tally,
    shrinking: ShrinkControl,
) -> list[FailureRecord]:
    """Run one target's test on drawn cases, counting into ``tally``; the shrunk failures."""
    order = test.properties

    def test_call(case: Any, index: int) -> None:
        if progress is not None:
            progress(min(index + 1, run.max_examples), run.max_examples, f"{test.name}: {case.describe()}")
        try:
            outcome = test.check(case)
        except PropertyFailure as failure:
            held = order[: order.index(failure.prop)] if failure.prop in order else ()
            wrong = (
                tuple(test.block_prefix + b for b in failure.check.wrong_blocks) if failure.check is not None else ()
            )
            tally.calls[index] = _Call((*held, failure.prop), failure.prop, None, wrong)
            tally.note_failure(index, failure)
            shrinking.failing(test.small(case))
            raise
        tally.calls[index] = _Call(outcome.properties, verdict=outcome.verdict.value, precision=outcome.precision)

    failures = _checked(test.name, run, test.strategy, hypothesis_settings, tally, shrinking, test_call)
    return [_failure_record(f, tally, test.target) for f in failures]


def run_tests(tests: Sequence[PropertyTest], run: RunSettings, progress: Progress | None = None) -> RunFindings:
    """Run a target's tests one after another; their findings, counted as :func:`run_properties` counts."""
    started = time.perf_counter()
    failures: list[FailureRecord] = []
    records: list[PropertyRecord] = []
    tallies: list[_Tally] = []
    cut_short: str | None = None
    hypothesis_settings = _hypothesis_settings(run)
    with shrink_budget(DEFAULT_SHRINK_BUDGET) as shrinking:
        for test in tests:
            tally = _Tally(run.max_examples)
            found: list[FailureRecord] = []
            try:
                if cut_short is None:  # else not run: the evaluator is gone
                    found = _test_failures(test, run, hypothesis_settings, progress, tally, shrinking)
            except EvaluatorLost as lost:
                found = _found_before(lost, tally, test.target)
                cut_short = str(lost)
            failures += found
            failed = {f.property for f in found}
            evaluated = tally.evaluated()
            records += [
                PropertyRecord(
                    str(prop.name), str(prop.value), _status(prop, failed, tally, evaluated), int(evaluated[prop]),
                    target=test.target, precision=tally.precision(),
                )
                for prop in test.properties
            ]  # fmt: skip
            tallies.append(tally)
    return _findings(records, failures, tallies, started, cut_short)


def _findings(
    records: list[PropertyRecord],
    failures: list[FailureRecord],
    tallies: Sequence[_Tally],
    started: float,
    cut_short: str | None,
) -> RunFindings:
    """The findings of the tests counted in ``tallies``: drawn cases only, never shrink steps."""
    drawn = [call for tally in tallies for call in tally.drawn]
    diagnoses = Counter(verdict for tally in tallies for verdict in tally.verdicts())
    wrong_blocks = Counter(block for call in drawn for block in call.wrong_blocks)
    return RunFindings(
        properties=records,
        failures=failures,
        diagnoses={k: int(v) for k, v in sorted(diagnoses.items())},
        wrong_blocks={k: int(v) for k, v in wrong_blocks.most_common()},
        examples=sum(tally.cases for tally in tallies),
        seconds=time.perf_counter() - started,
        cut_short=cut_short,
    )
