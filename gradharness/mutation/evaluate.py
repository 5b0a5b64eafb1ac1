"""Worker side: run one backward pass through the properties on every prepared case.

Every case is evaluated (a few milliseconds each with the cached numerical gradient),
so the record says on how many of the cases a mutant is caught, which case caught it
first (the examples it survived before that), and the smallest case that caught it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from gradharness.check.checker import GradientCheckResult, gradient_check_n
from gradharness.check.verdict import Verdict
from gradharness.mutation.cases import PreparedCase, PreparedCases
from gradharness.properties.properties import (
    FailureKind,
    NetworkFunctions,
    PropertyFailure,
    check_network_case,
    normalise_gradients,
)
from gradharness.properties.student_checker import MalformedDifference
from gradharness.records.status import KillKind, MutantStatus
from gradharness.settings import CheckOptions

_KILL_KINDS = {
    FailureKind.WRONG: KillKind.WRONG,
    FailureKind.NONFINITE: KillKind.NONFINITE,
    FailureKind.SIDE_EFFECT: KillKind.SIDE_EFFECT,
    FailureKind.CRASHED: KillKind.CRASHED,
    FailureKind.MALFORMED: KillKind.MALFORMED,
}
_CRASH_KINDS = (KillKind.CRASHED, KillKind.MALFORMED)


class CachedChecker:
    """The built-in checker, reusing the case's precomputed numerical gradient; keeps its last result."""

    def __init__(self, prepared: PreparedCase) -> None:
        self.numerical = prepared.numerical
        self.last: GradientCheckResult | None = None

    def __call__(self, parameters, gradients, X, Y, epsilon=None, *, threshold: float, forward=None):
        self.last = gradient_check_n(parameters, gradients, X, Y, threshold=threshold, numerical=self.numerical)
        return self.last


CheckerFactory = Callable[[PreparedCase], Callable]


@dataclass(frozen=True)
class CaseResult:
    """One case: caught or not, how, and the largest threshold at which the checker still catches it."""

    kind: KillKind | None  # None: every property held
    message: str = ""
    critical: float = 0.0  # caught by the checker at any threshold below this (inf for crashes)
    difference: float = 0.0  # largest block difference, no noise diagnosis (the exercise's bare rule)
    identical: bool = False  # same gradients as the unmutated backward, bit for bit


@dataclass(frozen=True)
class Evaluation:
    """What one backward pass did on all the cases (plain data, sent back from the worker)."""

    status: MutantStatus
    kill_kind: KillKind | None = None
    message: str | None = None
    examples_to_kill: int | None = None  # 1-based position, in drawing order, of the first case that caught it
    counterexample: dict | None = None  # the smallest case that caught it (NetworkCase.to_json)
    cases_killed: int = 0
    cases_crashed: int = 0
    cases: int = 0
    identical: bool = False  # gradients bit-for-bit those of the unmutated backward on every case and probe
    exercise: MutantStatus | None = None  # the status on the exercise's fixed case alone
    critical: tuple[float, ...] = field(default=(), repr=False)
    differences: tuple[float, ...] = field(default=(), repr=False)
    seconds: float = 0.0
    shrunk: bool = False


def _critical(result: GradientCheckResult | None) -> tuple[float, float]:
    """(largest WRONG-block difference, largest block difference) of a checker result."""
    if result is None:
        return 0.0, 0.0
    if not result.blocks:  # a user's checker: one difference for everything
        value = result.difference if np.isfinite(result.difference) else 0.0
        return value, value
    wrong = [b.difference for b in result.blocks if b.verdict is Verdict.WRONG]
    return max(wrong, default=0.0), max((b.difference for b in result.blocks), default=0.0)


def run_case(
    functions: NetworkFunctions, prepared: PreparedCase, options: CheckOptions, checker_factory: CheckerFactory
) -> CaseResult:
    """The properties on one case, with the checker from ``checker_factory``."""
    checker = checker_factory(prepared)
    returned: list[object] = []
    backward = functions.backward

    def recording_backward(X, Y, cache):
        value = backward(X, Y, cache)
        returned.append(value)
        return value

    recorded = NetworkFunctions(
        functions.forward, recording_backward, functions.forward_name, functions.backward_name, functions.builtin
    )
    try:
        check_network_case(recorded, prepared.case, options, checker=checker)
    except PropertyFailure as failure:
        kind = _KILL_KINDS[failure.kind]
        crash = getattr(checker, "crash", None)
        if crash is not None:  # the checker under test raised (or returned no number), not the backward
            message = (
                f"the checker under test: {crash}"
                if isinstance(crash, MalformedDifference)
                else f"the checker under test raised {type(crash).__name__}: {crash}"
            )
            return CaseResult(KillKind.CRASHED, message, float("inf"), float("inf"))
        critical, difference = _critical(getattr(checker, "last", None) or failure.check)
        if kind is not KillKind.WRONG:
            critical = difference = float("inf")
        elif failure.check is not None and not failure.check.blocks:
            critical = difference = failure.check.difference
        return CaseResult(kind, failure.message, critical, difference)
    critical, difference = _critical(getattr(checker, "last", None))
    identical = False
    if prepared.gradients is not None and returned:
        try:
            mine = normalise_gradients(returned[-1], prepared.case, functions.backward_name)
            identical = all(np.array_equal(mine[k], prepared.gradients[k]) for k in prepared.gradients)
        except PropertyFailure:
            identical = False
    return CaseResult(None, "", critical, difference, identical)


def _same_gradients(functions: NetworkFunctions, prepared: PreparedCase) -> bool:
    """The backward returns the unmutated gradients, bit for bit, on this case."""
    if prepared.gradients is None:
        return False
    case = prepared.case
    try:
        _, cache = functions.forward(case.X.copy(), case.Y.copy(), case.copy_parameters())
        mine = normalise_gradients(
            functions.backward(case.X.copy(), case.Y.copy(), cache), case, functions.backward_name
        )
    except Exception:  # a crash is a difference
        return False
    return all(np.array_equal(mine[k], prepared.gradients[k]) for k in prepared.gradients)


def _status_of(results: list[CaseResult]) -> MutantStatus:
    if any(r.kind is not None and r.kind not in _CRASH_KINDS for r in results):
        return MutantStatus.KILLED
    if any(r.kind is not None for r in results):
        return MutantStatus.CRASHED
    return MutantStatus.SURVIVED


def evaluate_backward(
    functions: NetworkFunctions,
    prepared: PreparedCases,
    options: CheckOptions,
    checker_factory: CheckerFactory,
) -> Evaluation:
    """Run the properties on every case and the exercise's case; summarise as an Evaluation."""
    started = time.perf_counter()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        results = [run_case(functions, p, options, checker_factory) for p in prepared.cases]
        exercise = _status_of([run_case(functions, prepared.exercise, options, checker_factory)])
    status = _status_of(results)
    identical = bool(results) and all(r.identical for r in results)
    if identical and status is MutantStatus.SURVIVED:
        identical = all(_same_gradients(functions, p) for p in prepared.probes)
    detecting = [
        i for i, r in enumerate(results)
        if r.kind is not None and ((r.kind not in _CRASH_KINDS) == (status is MutantStatus.KILLED))
    ]  # fmt: skip
    evaluation = Evaluation(
        status=status,
        cases_killed=sum(r.kind is not None and r.kind not in _CRASH_KINDS for r in results),
        cases_crashed=sum(r.kind in _CRASH_KINDS for r in results),
        cases=len(results),
        identical=identical,
        exercise=exercise,
        critical=tuple(r.critical for r in results),
        differences=tuple(r.difference for r in results),
        seconds=time.perf_counter() - started,
    )
    if not detecting:
        return evaluation
    smallest = min(detecting, key=lambda i: (prepared.cases[i].size, i))
    return replace(
        evaluation,
        kill_kind=results[smallest].kind,
        message=results[smallest].message,
        examples_to_kill=detecting[0] + 1,
        counterexample=prepared.cases[smallest].case.to_json(),
    )
