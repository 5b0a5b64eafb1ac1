"""Worker entry points: prepare the cases, evaluate one variant of the backward pass.

These functions run in worker processes of any ``concurrent.futures.Executor``; their
arguments and results are plain picklable data. A variant's time limit is enforced in
the worker (an interval timer) so that a hang costs one mutant; the runner also
watches the clock from outside, for code stuck where a signal cannot reach.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial

from gradharness.errors import GradHarnessError, Interrupt
from gradharness.model.case import NetworkCase
from gradharness.model.network import SEED_BUGS
from gradharness.mutation.cases import PreparedCases, prepare_cases
from gradharness.mutation.evaluate import CachedChecker, Evaluation, evaluate_backward
from gradharness.mutation.loading import UserChecker, compile_function, forward_of, load_checker, scaled, target_module
from gradharness.mutation.target import CheckerSpec, Target
from gradharness.properties.properties import NetworkFunctions
from gradharness.properties.runner import run_properties
from gradharness.records.status import FailureKind, KillKind, MutantStatus
from gradharness.settings import USER_CHECKER_EPSILON, CheckOptions, RunSettings


class TaskTimeout(Interrupt):
    """Raised in a worker when a task exceeds its time limit (a BaseException: user code catching Exception cannot swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TaskTimeout after ``seconds`` (only in a main thread; elsewhere the runner's clock applies)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise TaskTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # Code under test may print; nothing of it belongs in the campaign's output.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


@dataclass(frozen=True)
class Variant:
    """A backward pass to evaluate: a mutant's function source, or the target's own (None), maybe with the seed's bugs."""

    id: str
    function_source: str | None = None
    function_line: int = 1
    function_name: str | None = None  # the name the source defines (default: the target's backward)
    seed_bugs: bool = False  # the exercise's planted bugs (network.SEED_BUGS) on top
    scale_block: str | None = None  # e.g. "dW2": that gradient is multiplied by ``scale``
    scale: float = 1.0


@dataclass(frozen=True)
class Job:
    """What every variant of one campaign shares; ``prepared`` is pickled once and cached per worker."""

    target: Target
    checker: CheckerSpec
    options: CheckOptions
    prepared: bytes
    digest: str
    timeout: float
    checker_epsilon: float | None = None
    shrink: RunSettings | None = None


def make_job(
    target: Target,
    checker: CheckerSpec,
    options: CheckOptions,
    prepared: PreparedCases,
    timeout: float,
    checker_epsilon: float | None = None,
    shrink: RunSettings | None = None,
) -> Job:
    """Bundle the shared inputs of a campaign's tasks."""
    blob = pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL)
    return Job(target, checker, options, blob, hashlib.sha256(blob).hexdigest(), timeout, checker_epsilon, shrink)


_PREPARED: dict[str, PreparedCases] = {}


def _prepared(job: Job) -> PreparedCases:
    if job.digest not in _PREPARED:
        _PREPARED.clear()  # one campaign at a time per worker
        _PREPARED[job.digest] = pickle.loads(job.prepared)
    return _PREPARED[job.digest]


@dataclass(frozen=True)
class Prepared:
    """The result of :func:`prepare_task`: the prepared cases, or why they could not be prepared."""

    cases: PreparedCases | None
    error: str | None = None


def prepare_task(
    target: Target,
    options: CheckOptions,
    cases: list[NetworkCase],
    timeout: float,
    conclusive_only: bool = False,
    fixed: tuple[int | None, ...] = (None,) * 5,
) -> Prepared:
    """Load the target and compute every case's numerical gradient (the forward may be a user's)."""
    try:
        with _quiet(), time_limit(timeout):
            forward = forward_of(target)
            backward = getattr(target_module(target), target.backward)
            prepared = prepare_cases(
                cases, forward, backward, builtin=target.builtin, epsilon=options.epsilon,
                threshold=options.threshold, conclusive_only=conclusive_only, fixed=fixed,
            )  # fmt: skip
    except GradHarnessError as exc:
        return Prepared(None, str(exc))
    except TaskTimeout:
        return Prepared(
            None,
            f"preparing the cases took longer than {timeout:g} s (a hang in {target.forward} or {target.backward}?)",
        )
    except SystemExit as exc:
        return Prepared(None, f"{target.label} called sys.exit({exc.code!r})")
    except Exception as exc:  # the user's forward on the cases
        return Prepared(None, f"{target.forward} raised {type(exc).__name__}: {exc}")
    return Prepared(prepared)


def _backward(job: Job, variant: Variant):
    if variant.function_source is None:
        backward = getattr(target_module(job.target), job.target.backward)
    else:
        name = variant.function_name or job.target.backward
        backward = compile_function(job.target, variant.function_source, variant.function_line, name)
    factors = dict(SEED_BUGS) if variant.seed_bugs else {}
    if variant.scale_block is not None:
        factors[variant.scale_block] = factors.get(variant.scale_block, 1.0) * variant.scale
    return scaled(backward, factors) if factors else backward


def _checker_factory(job: Job):
    if job.checker.builtin:
        return CachedChecker
    function = load_checker(job.checker)
    epsilon = job.checker_epsilon if job.checker_epsilon is not None else USER_CHECKER_EPSILON
    return lambda _prepared: UserChecker(function, epsilon)


def guarded(evaluate: Callable[[], Evaluation], timeout: float) -> Evaluation:
    """``evaluate()``, its output silenced, within ``timeout`` seconds; whatever the code under test does (a hang,
    ``sys.exit``, an exception) becomes the Evaluation of a timed-out or crashed variant, never an exception."""
    try:
        with _quiet(), time_limit(timeout):
            return evaluate()
    except TaskTimeout:
        return Evaluation(MutantStatus.TIMED_OUT, KillKind.TIMEOUT, f"did not finish within {timeout:g} s")
    except SystemExit as exc:
        return Evaluation(MutantStatus.CRASHED, KillKind.CRASHED, f"called sys.exit({exc.code!r})")
    except GradHarnessError as exc:
        return Evaluation(MutantStatus.CRASHED, KillKind.CRASHED, str(exc))
    except Exception as exc:  # compiling the variant, or a failure outside the properties
        return Evaluation(MutantStatus.CRASHED, KillKind.CRASHED, f"{type(exc).__name__}: {exc}")


def _evaluated(job: Job, variant: Variant) -> Evaluation:
    prepared = _prepared(job)
    backward = _backward(job, variant)
    functions = NetworkFunctions(
        forward_of(job.target), backward, job.target.forward, job.target.backward, job.target.builtin
    )
    evaluation = evaluate_backward(functions, prepared, job.options, _checker_factory(job))
    if job.shrink is not None and evaluation.status is MutantStatus.KILLED and job.checker.builtin:
        evaluation = _shrunk(evaluation, functions, job.shrink)
    return evaluation


def variant_task(job: Job, variant: Variant) -> Evaluation:
    """Evaluate one variant on every prepared case; never raises for anything the code under test does."""
    return guarded(partial(_evaluated, job, variant), job.timeout)


def variant_pair_task(pair: tuple[Job, Variant]) -> Evaluation:
    """:func:`variant_task` for a (job, variant) pair, when one batch mixes jobs."""
    return variant_task(*pair)


def _shrunk(evaluation: Evaluation, functions: NetworkFunctions, run: RunSettings) -> Evaluation:
    """Let Hypothesis shrink a killed mutant's counterexample (opt-in: it recomputes numerics per example)."""
    findings = run_properties(functions, None, run)
    crashes = (FailureKind.CRASHED, FailureKind.MALFORMED)
    cases = [f.case for f in findings.failures if f.case is not None and f.kind not in crashes]
    if not cases:
        return evaluation
    return replace(evaluation, counterexample=cases[0], shrunk=True)
