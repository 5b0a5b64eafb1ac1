"""Check a file's own ``gradient_check_n``: the checker the student wrote.

A checker is right when it accepts a correct backprop and rejects wrong ones. On
each case of the exercise's 4-5-3-1 network (whose layout the exercise's
``vector_to_dictionary`` hard-codes) the student's checker is handed the gradients
of the built-in correct backward pass, then those of a few wrong ones (the seed's
planted bugs and simple variants: a flipped sign, a missing block, swapped
entries of the same norm, a 0.1% error). A case counts only where gradharness's
own checker is conclusive at the same epsilon: a clean pass for the correct
gradients (no kink, no saturation), a clear WRONG for each variant.

Each case costs the student's own loop once per backprop handed over, so the cases are
few and chosen to be sharp: the exercise's own case and the same network on its first
example alone (m = 1, where a checker that mixes up axes or squeezes too much breaks), each
with every wrong backprop, then :data:`DRAWN_CASES` drawn ones, each with the correct backprop
and one wrong one, picked by the case. A checker that accepts anything, or rejects a correct
backprop, shows it on the first of them.
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis.reporting import with_reporter

from gradharness.check.checker import gradient_check_n, numerical_gradient
from gradharness.check.error_model import CostFormula, cost_roundoff
from gradharness.check.finite_diff import gradapprox_loop
from gradharness.check.result import relative_difference
from gradharness.check.verdict import Verdict
from gradharness.errors import describe_exception, raised_by_user_code
from gradharness.model import network
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.keys import KeyCaseDict
from gradharness.model.parameters import Gradients, Parameters, gradients_to_vector
from gradharness.properties.drawn import keep_cases, kept_cases, replay
from gradharness.properties.properties import Property, PropertyFailure
from gradharness.properties.remembered import case_digest, digest, remembered
from gradharness.properties.runner import Progress, case_strategy
from gradharness.records.check import FailureRecord, PropertyRecord, PropertyStatus
from gradharness.records.status import FailureKind
from gradharness.settings import USER_CHECKER_EPSILON, RunSettings, StrategyOptions

# The student's checker is only judged where the reference difference is this far from the threshold.
MARGIN = 10.0
DRAWN_CASES = 4
"""Drawn cases after the two fixed ones (fewer when the run asks for fewer examples)."""


def _zero_db2(gradients: Gradients) -> Gradients:
    return {**gradients, "db2": np.zeros_like(gradients["db2"])}


def _reversed_rows_dW1(gradients: Gradients) -> Gradients:
    return {**gradients, "dW1": gradients["dW1"][::-1].copy()}


# Wrong backward passes the student's checker must reject: description -> the correct gradients made wrong.
WRONG_BACKPROPS: dict[str, Callable[[Gradients], Gradients]] = {
    "the seed's bugs (dW2 * 2, db1 with 4/m)": network.scale_blocks,
    "dW3 with the wrong sign": lambda gradients: network.scale_blocks(gradients, {"dW3": -1.0}),
    "db2 left at zero": _zero_db2,
    "dW1 rows in reverse order (same norm)": _reversed_rows_dW1,
    "db3 off by 0.1%": lambda gradients: network.scale_blocks(gradients, {"db3": 1.001}),
}


class StudentCheckerFailure(PropertyFailure):
    prop = Property.STUDENT_CHECKER


@dataclass(frozen=True)
class StudentCheckerFindings:
    """What checking the student's checker found."""

    property: PropertyRecord
    failures: list[FailureRecord]
    accepted: int  # correct backprops accepted
    rejected: int  # wrong backprops rejected
    seconds: float

    def note(self) -> str:
        """One line for the user."""
        return (
            f"gradient_check_n (the file's own checker) was checked too: it accepted the correct backprop on "
            f"{self.accepted} cases and rejected {self.rejected} wrong ones"
        )


class MalformedDifference(ValueError):
    """A student's checker returned something other than one number."""


def _takes_epsilon(checker: Callable) -> bool:
    try:
        parameters = inspect.signature(checker).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin, a C function): hand it everything
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 5 or any(p.kind is p.VAR_POSITIONAL for p in parameters)


def student_difference(
    checker: Callable, parameters: Parameters, gradients: Mapping, X: np.ndarray, Y: np.ndarray, epsilon: float
) -> float:
    """What a student's ``gradient_check_n(parameters, gradients, X, Y, epsilon)`` says: its ``difference``.

    Called as the exercise calls it, on copies in dictionaries whose keys match in either case
    (``parameters["w1"]`` finds ``W1``); ``epsilon`` is passed only when the function takes a
    fifth positional argument. A tuple or list counts by its first item (``return difference, ...``).
    Whatever the checker raises propagates; a return that is not one number raises
    :class:`MalformedDifference`. What the difference means is :func:`rejects`.
    """
    arguments: list[object] = [
        KeyCaseDict({k: np.array(v, copy=True) for k, v in parameters.items()}),
        KeyCaseDict(gradients),
        np.array(X, copy=True),
        np.array(Y, copy=True),
    ]
    if _takes_epsilon(checker):
        arguments.append(epsilon)
    returned = checker(*arguments)
    value = returned[0] if isinstance(returned, (tuple, list)) and returned else returned
    try:
        if value is None or isinstance(value, (str, bytes)):
            raise TypeError
        array = np.asarray(value, dtype=np.float64)
        if array.size != 1:
            raise ValueError
        return float(array.reshape(()))
    except (TypeError, ValueError):
        name = getattr(checker, "__name__", "gradient_check_n")
        raise MalformedDifference(
            f"{name} returned {type(returned).__name__}, expected the difference (a number)"
        ) from None


def rejects(difference: float, threshold: float) -> bool:
    """The student's checker calls the gradients wrong: the exercise's ``if difference > threshold``.

    So a NaN difference (its 0/0 on an all-zero gradient) accepts them, as it does for the student.
    """
    return difference > threshold


def _call_checker(checker: Callable, case: NetworkCase, gradients: Gradients, epsilon: float) -> float:
    try:
        return student_difference(checker, case.parameters, gradients, case.X, case.Y, epsilon)
    except MalformedDifference as exc:
        raise StudentCheckerFailure(str(exc), FailureKind.MALFORMED, case) from None
    except BaseException as exc:  # the student's code
        if not raised_by_user_code(exc):
            raise
        raise StudentCheckerFailure(
            describe_exception("gradient_check_n", exc) + f" on {case.describe()}",
            FailureKind.CRASHED,
            case,
        ) from None


@dataclass
class _Counts:
    calls: int = 0
    evaluated: int = 0
    accepted: int = 0
    rejected: int = 0
    first_failure: int | None = None


@dataclass(frozen=True)
class _Backprops:
    """What gradharness's own checker says on a case: the correct gradients, and the wrong ones that show there."""

    correct: Gradients
    difference: float  # gradharness's difference for the correct gradients
    wrong: tuple[tuple[str, Gradients, float], ...]  # description, gradients, gradharness's difference
    method: MethodDifference  # what the exercise's own loop gives for the correct gradients, and its round-off

    @property
    def limit(self) -> float:
        """The largest difference a right checker may return for the correct gradients here."""
        return max(self.method.threshold, self.method.reach)


@dataclass(frozen=True)
class MethodDifference:
    """The exercise's method on a case: its ``difference`` for the correct gradients at ``epsilon``
    (the seed's loop over the network's forward) and ``roundoff``, the error model's bound on how
    far round-off can move that difference."""

    threshold: float
    epsilon: float
    difference: float
    roundoff: float

    @property
    def reach(self) -> float:
        """The largest difference the method itself can give for correct gradients here."""
        return self.difference + self.roundoff


def method_difference(case: NetworkCase, correct: Gradients, epsilon: float, threshold: float) -> MethodDifference:
    """What the exercise's own method gives on ``case`` for the correct gradients, and its round-off.

    A checker written as the exercise asks reproduces it, whatever threshold it is judged by: at the
    exercise's epsilon 1e-7 the exercise's own case gives 1.19e-7, which is that method's round-off,
    not a mistake of the checker.
    """
    grad = gradients_to_vector(correct).reshape(-1)
    steps = np.full(grad.size, epsilon)
    with np.errstate(all="ignore"):
        approx = gradapprox_loop(network.forward_propagation_n, case.X, case.Y, case.parameters, steps)
        roundoff_J = cost_roundoff(case.X, case.Y, case.parameters, CostFormula.SEED)
    norms = float(np.linalg.norm(grad) + np.linalg.norm(approx))
    # Each entry's centred difference can be off by the cost's round-off over the step; all at once, in the norm.
    roundoff = math.sqrt(grad.size) * roundoff_J / epsilon / norms if norms > 0 else math.inf
    return MethodDifference(threshold, epsilon, relative_difference(grad, approx), roundoff)


def _backprops(case: NetworkCase, epsilon: float, threshold: float) -> _Backprops | None:
    """The backprops to hand over on ``case``; None where gradharness's own check of the correct one is not clean."""
    with np.errstate(all="ignore"):
        _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
        correct = network.backward_propagation_n(case.X, case.Y, cache)
        # The numerical side depends only on the case: one serves every backprop handed over.
        numerical = numerical_gradient(case.parameters, case.X, case.Y, epsilon)
        reference = gradient_check_n(case.parameters, correct, case.X, case.Y, threshold=threshold, numerical=numerical)
        if reference.verdict is not Verdict.PASS or reference.difference > threshold / MARGIN:
            return None  # a kink or round-off would make any checker's answer a coin toss here
        method = method_difference(case, correct, epsilon, threshold)
        if not math.isfinite(method.reach):
            return None
        limit = max(threshold, method.reach)
        wrong = []
        for description, make in WRONG_BACKPROPS.items():
            gradients = make(correct)
            truth = gradient_check_n(
                case.parameters, gradients, case.X, case.Y, threshold=threshold, numerical=numerical
            )
            if truth.verdict is Verdict.WRONG and truth.difference >= limit * MARGIN:
                wrong.append((description, gradients, truth.difference))  # the others do not show here (a dead layer)
    return _Backprops(correct, reference.difference, tuple(wrong), method)


def _copied(gradients: Gradients) -> Gradients:
    """Copies to hand over: the remembered gradients stay as they are whatever a checker does to its arguments."""
    return {name: np.array(value, copy=True) for name, value in gradients.items()}


def check_case(
    checker: Callable, case: NetworkCase, epsilon: float, threshold: float, counts: _Counts, *, every_wrong: bool = True
) -> None:
    """Hand the student's checker a correct backprop and the wrong ones (``every_wrong`` False: one of them,
    picked by the case); raise on a wrong verdict."""
    # The same cases come up for every file of a batch: what gradharness says on one is worked out once.
    key = digest(case_digest(case), "student checker", epsilon, threshold)
    backprops = remembered(key, lambda: _backprops(case, epsilon, threshold))
    if backprops is None:
        return
    wrong = backprops.wrong
    if not every_wrong and wrong:
        pick = int.from_bytes(key[:4], "big") % len(wrong)
        wrong = wrong[pick : pick + 1]
    counts.evaluated += 1
    difference = _call_checker(checker, case, _copied(backprops.correct), epsilon)
    method = backprops.method
    if rejects(difference, backprops.limit):
        raise StudentCheckerFailure(
            f"gradient_check_n returned {difference:.3g} for a correct backprop on {case.describe()} "
            f"(threshold {threshold:g}; the exercise's method gives {method.difference:.3g} here at epsilon "
            f"{epsilon:g}, within its round-off of {method.roundoff:.2g}; gradharness's difference: "
            f"{backprops.difference:.3g})",
            FailureKind.WRONG,
            case,
        )
    counts.accepted += 1
    for description, gradients, truth in wrong:
        difference = _call_checker(checker, case, _copied(gradients), epsilon)
        if not rejects(difference, backprops.limit):
            raise StudentCheckerFailure(
                f"gradient_check_n returned {difference:.3g} (at most {_limit_words(backprops)}) for a wrong "
                f"backprop, {description}, on {case.describe()} (gradharness's difference: {truth:.3g})",
                FailureKind.WRONG,
                case,
            )
        counts.rejected += 1


def _limit_words(backprops: _Backprops) -> str:
    method = backprops.method
    if backprops.limit == method.threshold:
        return f"the threshold {method.threshold:g}"
    return f"{backprops.limit:.3g}, what the exercise's method can give for a correct backprop at epsilon {method.epsilon:g}"


_TEST = "student checker"
"""The key of this property's drawn cases in :mod:`gradharness.properties.drawn`."""


def first_example(case: NetworkCase) -> NetworkCase:
    """``case`` on its first example alone (m = 1)."""
    return NetworkCase(case.sizes, case.X[:, :1].copy(), case.Y[:, :1].copy(), case.copy_parameters())


def check_student_checker(
    checker: Callable, run: RunSettings, progress: Progress | None = None
) -> StudentCheckerFindings:
    """Run the student's checker on the exercise's own case, on it with m = 1, then on drawn 4-5-3-1 cases."""
    started = time.perf_counter()
    epsilon = run.check.epsilon if run.check.epsilon is not None else USER_CHECKER_EPSILON
    threshold = run.check.threshold
    drawn = min(run.max_examples, DRAWN_CASES)
    total = drawn + 2
    counts = _Counts()
    strategy = case_strategy(StrategyOptions(n0=4, n1=5, n2=3, n3=1, max_batch=run.strategy.max_batch))
    fixed = (seed_test_case(), first_example(seed_test_case()))
    fixed_digests = {case_digest(case) for case in fixed}

    @seed(run.seed)
    @settings(
        max_examples=drawn,
        deadline=None,
        database=None,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @example(case=fixed[0])
    @example(case=fixed[1])
    @given(case=strategy)
    def student_checker_property(case: NetworkCase) -> None:
        called.append(case)
        checker_call(case)

    def checker_call(case: NetworkCase) -> None:
        counts.calls += 1
        if progress is not None:
            progress(min(counts.calls, total), total, f"gradient_check_n on {case.describe()}")
        try:
            check_case(checker, case, epsilon, threshold, counts, every_wrong=case_digest(case) in fixed_digests)
        except StudentCheckerFailure:
            if counts.first_failure is None:
                counts.first_failure = counts.calls
            raise

    failures: list[FailureRecord] = []
    called: list[NetworkCase] = []
    try:
        with with_reporter(lambda _message: None), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # A file before this one passed on the cases these settings draw: the same calls, without Hypothesis.
            kept = kept_cases(run, _TEST)
            met = replay(kept, checker_call) if kept is not None else None
            if kept is None or met is not None:
                replayed, counts = counts, _Counts()
                student_checker_property()
                if met is not None:  # the replay failed, Hypothesis's run did not: the replay's finding
                    counts = replayed
                    raise met
                keep_cases(run, called, _TEST)
    except StudentCheckerFailure as failure:
        failures.append(
            FailureRecord(
                property=failure.prop.name,
                kind=failure.kind,
                message=failure.message,
                examples_before=counts.first_failure or counts.calls,
                case=failure.case.to_json() if failure.case is not None else None,
            )
        )
    status = (
        PropertyStatus.FAILED if failures else (PropertyStatus.PASSED if counts.evaluated else PropertyStatus.NOT_RUN)
    )
    record = PropertyRecord(Property.STUDENT_CHECKER.name, Property.STUDENT_CHECKER.value, status, counts.evaluated)
    return StudentCheckerFindings(record, failures, counts.accepted, counts.rejected, time.perf_counter() - started)
