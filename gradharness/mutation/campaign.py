"""The mutation campaign: generate mutants, prove the harness, run every mutant in workers, record.

1. Mutants are generated from the source (nothing is executed in this process).
2. Cases are drawn once (seeded Hypothesis) and prepared once in a worker: the numerical
   gradient of the forward pass, shared by every mutant.
3. The harness is proved: the unmutated backward must pass on every case and the seed's
   buggy backward must be caught. Otherwise no kill means anything: the campaign stops.
4. Each mutant runs in a worker with a time limit; its Evaluation becomes a MutantRecord.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from gradharness.errors import GradHarnessError
from gradharness.model import network
from gradharness.mutation import scores
from gradharness.mutation.cases import PreparedCases, draw_cases
from gradharness.mutation.evaluate import Evaluation
from gradharness.mutation.mutants import Mutant, generate_mutants
from gradharness.mutation.operators import select_operators
from gradharness.mutation.runner import Lost, TaskRunner
from gradharness.mutation.target import CheckerSpec, Target
from gradharness.mutation.tasks import (
    Job,
    Prepared,
    Variant,
    make_job,
    prepare_task,
    variant_pair_task,
    variant_task,
)
from gradharness.records.environment import environment
from gradharness.records.mutation import EngineRecord, HarnessRecord, MutantRecord, MutateRecord
from gradharness.records.status import KillKind, MutantStatus
from gradharness.records.verdict import RunVerdict
from gradharness.settings import USER_CHECKER_EPSILON, CampaignSettings, CheckOptions, RunSettings

Progress = Callable[[int, int | None, str], None]
"""``progress(done, total, what)``: ``done`` of ``total`` steps finished (total None: not known yet)."""


class HarnessError(GradHarnessError):
    """The harness could not be proved: kills would mean nothing."""


@dataclass(frozen=True)
class Setup:
    """A campaign's shared inputs once the cases are prepared."""

    job: Job
    prepared: PreparedCases
    seconds: float


def checker_epsilon(checker: CheckerSpec, settings: CampaignSettings) -> float | None:
    """The step the checker under test uses: the configured one, or 1e-6 for a user's checker."""
    if checker.builtin:
        return settings.check.epsilon
    return settings.check.epsilon if settings.check.epsilon is not None else USER_CHECKER_EPSILON


def _lost_message(lost: Lost, what: str, timeout: float) -> str:
    if lost.reason == "timeout":
        return f"{what} did not finish within {timeout:g} s"
    return f"{what} ended its worker process (os._exit or a crash of the interpreter)"


def setup(target: Target, checker: CheckerSpec, settings: CampaignSettings, runner: TaskRunner) -> Setup:
    """Draw the cases, prepare them in a worker, and bundle the job every variant task shares."""
    started = time.perf_counter()
    epsilon = checker_epsilon(checker, settings)
    options = CheckOptions(epsilon=epsilon, threshold=settings.check.threshold)
    try:
        cases = draw_cases(settings.strategy, settings.max_examples, settings.seed)
    except Exception as exc:  # the strategies are ours: report, do not hide, but in one line
        raise GradHarnessError(f"drawing the cases failed: {type(exc).__name__}: {exc}") from exc
    limit = 2 * settings.timeout  # the numerical gradients of every case, then the backward on each
    strategy = settings.strategy
    fixed = (strategy.n0, strategy.n1, strategy.n2, strategy.n3, strategy.batch_size)
    prepared = runner.call(prepare_task, target, options, cases, limit, not checker.builtin, fixed, timeout=limit)
    if isinstance(prepared, Lost):
        raise GradHarnessError(_lost_message(prepared, f"preparing the cases of {target.label}", limit))
    assert isinstance(prepared, Prepared)
    if prepared.cases is None:
        raise GradHarnessError(prepared.error or "the cases could not be prepared")
    if not prepared.cases.cases:
        raise GradHarnessError(
            f"none of the {len(cases)} drawn cases is conclusive for the built-in checker at epsilon {epsilon:g} "
            "(kinks or saturation everywhere); try another --seed or --layer-sizes"
        )
    shrink = RunSettings(settings.seed, settings.max_examples, options, settings.strategy) if settings.shrink else None
    job = make_job(target, checker, options, prepared.cases, settings.timeout, epsilon, shrink)
    return Setup(job, prepared.cases, time.perf_counter() - started)


def evaluation_or_lost(result: Evaluation | Lost, timeout: float) -> Evaluation:
    """A task's Evaluation, or what the runner's loss of it means (timed out, or a crash of its worker)."""
    if isinstance(result, Lost):
        if result.reason == "timeout":
            return Evaluation(MutantStatus.TIMED_OUT, KillKind.TIMEOUT, f"did not finish within {timeout:g} s")
        return Evaluation(MutantStatus.CRASHED, KillKind.WORKER_EXIT, "ended its worker process")
    return result


def broken_variant(target: Target) -> Variant:
    """The deliberately broken backward: the seed's own for the reference, its bugs on top of a user's."""
    if target.builtin:
        lines, line = inspect.getsourcelines(network.backward_propagation_n_buggy)
        return Variant("seed_bugs", "".join(lines), line, "backward_propagation_n_buggy")
    return Variant("seed_bugs", seed_bugs=True)


@dataclass(frozen=True)
class Proof:
    """The harness proof and, when it failed, whether that is a finding about a checker under test."""

    record: HarnessRecord
    checker_at_fault: bool = False


def builtin_job(prepared: Setup) -> Job:
    """The same job judged by the built-in checker (for comparing a user's checker with it)."""
    return replace(prepared.job, checker=CheckerSpec())


def prove_harness(target: Target, checker: CheckerSpec, prepared: Setup, runner: TaskRunner) -> Proof:
    """The unmutated backward must pass on every case; the seed's bugs must be caught.

    With a checker under test, the seed's bugs must first be visible to the built-in checker
    on these cases: otherwise the cases, not the user's checker, are too weak.
    """
    jobs = [prepared.job] if checker.builtin else [prepared.job, builtin_job(prepared)]
    pairs = [(job, variant) for job in jobs for variant in (Variant("unmutated"), broken_variant(target))]
    results = [evaluation_or_lost(r, prepared.job.timeout) for r in runner.map(variant_pair_task, [], pairs)]
    unmutated, broken = results[0], results[1]
    n = len(prepared.prepared.cases)
    who = "the built-in checker" if checker.builtin else f"the checker under test ({checker.function})"
    if unmutated.status is not MutantStatus.SURVIVED:
        if checker.builtin:
            message = (
                f"the unmutated {target.backward} already fails on {unmutated.cases_killed + unmutated.cases_crashed} "
                f"of {n} cases ({unmutated.message}); mutation testing needs correct code: "
                f"run `gradharness check` on it first"
            )
        elif unmutated.kill_kind is KillKind.CRASHED and (unmutated.message or "").startswith("the checker under test"):
            message = f"{who} crashes on the correct backprop: {unmutated.message}"
        else:
            message = (
                f"{who} rejects the correct backprop on {unmutated.cases_killed} of {n} cases ({unmutated.message})"
            )
        return Proof(HarnessRecord(False, unmutated.status.value, "not run", message), not checker.builtin)
    reference = results[3] if not checker.builtin else broken
    if reference.status is not MutantStatus.KILLED:
        raise HarnessError(
            f"the built-in checker does not catch the exercise's planted bugs (dW2 * 2, db1 with 4/m) on any of the "
            f"{n} drawn cases: they are too degenerate to count kills on (try another --seed or more --max-examples)"
        )
    if broken.status is not MutantStatus.KILLED:
        message = (
            f"{who} does not catch the exercise's planted bugs (dW2 * 2, db1 with 4/m) on any of {n} cases, "
            f"though the built-in checker catches them on {reference.cases_killed}"
        )
        return Proof(HarnessRecord(False, unmutated.status.value, broken.status.value, message), True)
    message = (
        f"the unmutated {target.backward} passes on all {n} cases; the seed's bugs are caught "
        f"on {broken.cases_killed} of {n} (first after {broken.examples_to_kill} "
        f"{'case' if broken.examples_to_kill == 1 else 'cases'})"
    )
    return Proof(HarnessRecord(True, unmutated.status.value, broken.status.value, message))


def mutant_record(
    mutant: Mutant, evaluation: Evaluation, engine: str = "domain", builtin: Evaluation | None = None
) -> MutantRecord:
    """A MutantRecord; a survivor is an equivalent candidate when its operator says so or its gradients never differ.

    ``builtin`` is the built-in checker's evaluation of the same mutant, when a user's checker is under test:
    a survivor the built-in checker catches is the user's checker's miss, never an equivalent candidate.
    """
    status = evaluation.status
    equivalence = None
    message = evaluation.message
    caught_by_builtin = builtin is not None and builtin.status.detected
    if status is MutantStatus.SURVIVED and caught_by_builtin:
        assert builtin is not None
        message = (
            f"missed by the checker under test; the built-in checker catches it on {builtin.cases_killed} of "
            f"{builtin.cases} cases ({builtin.message})"
        )
    elif status is MutantStatus.SURVIVED and (mutant.equivalent or evaluation.identical):
        status = MutantStatus.EQUIVALENT
        equivalence = mutant.equivalent or (
            f"its gradients are bit-for-bit those of the unmutated code on all {evaluation.cases} cases "
            "and on well-conditioned probe networks (of the campaign's fixed sizes, if any)"
        )
    return MutantRecord(
        id=mutant.id,
        operator=mutant.operator,
        engine=engine,
        line=mutant.line,
        column=mutant.column,
        end_line=mutant.end_line,
        end_column=mutant.end_column,
        original=mutant.original,
        replacement=mutant.replacement,
        description=mutant.description,
        diff=mutant.diff,
        status=status,
        kill_kind=evaluation.kill_kind,
        message=message,
        examples_to_kill=evaluation.examples_to_kill,
        cases_killed=evaluation.cases_killed,
        cases_crashed=evaluation.cases_crashed,
        cases=evaluation.cases,
        counterexample=evaluation.counterexample,
        shrunk=evaluation.shrunk,
        exercise_case=evaluation.exercise,
        equivalence=equivalence,
        seconds=evaluation.seconds,
    )


def counted(progress: Progress | None, labels: list[str]) -> Callable[[int, object], None]:
    """A runner's ``done`` callback that reports ``(finished, total, label of the task)`` to ``progress``."""
    finished = 0

    def done(index: int, _result: object) -> None:
        nonlocal finished
        finished += 1
        if progress is not None:
            progress(finished, len(labels), labels[index])

    return done


def evaluate_mutants(
    mutants: list[Mutant], prepared: Setup, runner: TaskRunner, progress: Progress | None = None
) -> list[Evaluation]:
    """Every mutant's Evaluation, computed in the workers."""
    done = counted(progress, [m.id for m in mutants])

    variants = [Variant(m.id, m.function_source, m.function_line) for m in mutants]
    results = runner.map(variant_task, [prepared.job], variants, done=done)
    return [evaluation_or_lost(r, prepared.job.timeout) for r in results]


class Described(Protocol):
    """What a results file says of what was mutated, or of the checker: a target, a reference, a CheckerSpec."""

    def describe(self) -> dict[str, Any]: ...


def assemble(
    target: Described,
    checker: Described,
    settings: CampaignSettings,
    engine: str,
    harness: HarnessRecord | None,
    mutants: list[MutantRecord],
    *,
    cases: int,
    dropped: int,
    engines: list[EngineRecord],
    seconds: float,
    reproduce: str | None,
    verdict: RunVerdict | None = None,
) -> MutateRecord:
    """The MutateRecord of a finished campaign (scores and distributions from the mutant records)."""
    return MutateRecord(
        target=target.describe(),
        checker=checker.describe(),
        engine=engine,
        settings=settings.to_json(),
        verdict=verdict or scores.verdict(mutants),
        harness=harness,
        cases=cases,
        cases_dropped=dropped,
        mutants=mutants,
        score=scores.score("all", mutants),
        operators=scores.per_operator(mutants),
        examples_to_kill=scores.examples_to_kill(mutants),
        exercise_case=scores.exercise_case(mutants),
        engines=engines,
        seconds=seconds,
        reproduce=reproduce,
        environment=environment(),
    )


def domain_throughput(mutants: int, seconds: float, phase_seconds: float, note: str) -> EngineRecord:
    """The domain engine's throughput: ``mutants`` in ``seconds`` end to end, and in the phase that ran them."""
    return EngineRecord(
        engine="domain",
        mutants=mutants,
        seconds=seconds,
        mutants_per_second=mutants / seconds,
        phase_seconds=phase_seconds,
        phase_mutants_per_second=mutants / phase_seconds if phase_seconds > 0 else None,
        note=note,
    )


def run_campaign(
    target: Target,
    checker: CheckerSpec,
    settings: CampaignSettings,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    reproduce: str | None = None,
) -> MutateRecord:
    """The whole domain campaign. Raises GradHarnessError (HarnessError) when it cannot be run or proved."""
    started = time.perf_counter()
    mutants = generate_mutants(
        target.source,
        target.backward,
        target.label,
        select_operators(list(settings.operators) if settings.operators is not None else None),
    )
    if not mutants:
        raise GradHarnessError(f"no mutation operator applies to {target.backward} in {target.label}")
    if progress is not None:
        progress(0, len(mutants), "preparing the cases")
    with TaskRunner(executor, jobs=settings.jobs, timeout=settings.timeout) as runner:
        prepared = setup(target, checker, settings, runner)
        proof = prove_harness(target, checker, prepared, runner)
        n, dropped = len(prepared.prepared.cases), prepared.prepared.dropped
        if not proof.record.passed:
            if not proof.checker_at_fault:
                raise HarnessError(proof.record.message)
            return assemble(target, checker, settings, "domain", proof.record, [], cases=n, dropped=dropped,
                            engines=[], seconds=time.perf_counter() - started, reproduce=reproduce,
                            verdict=RunVerdict.FAIL)  # fmt: skip
        phase = time.perf_counter()
        evaluations = evaluate_mutants(mutants, prepared, runner, progress)
        phase_seconds = time.perf_counter() - phase
        builtin: list[Evaluation | None] = (
            [None] * len(mutants)
            if checker.builtin
            else list(evaluate_mutants(mutants, replace(prepared, job=builtin_job(prepared)), runner))
        )
    records = [mutant_record(m, e, builtin=b) for m, e, b in zip(mutants, evaluations, builtin, strict=True)]
    seconds = time.perf_counter() - started
    throughput = domain_throughput(
        len(records), seconds, phase_seconds, f"{n} cases per mutant, numerical gradients cached per case"
    )
    return assemble(target, checker, settings, "domain", proof.record, records, cases=n, dropped=dropped,
                    engines=[throughput], seconds=seconds, reproduce=reproduce)  # fmt: skip
