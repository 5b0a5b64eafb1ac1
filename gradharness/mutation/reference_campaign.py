"""The campaign on a target's built-in reference (``gradharness mutate --target deep``).

As the exercise's campaign (:mod:`gradharness.mutation.campaign`) runs, with the target's own pieces:

1. Mutants of each of the reference's backward functions are generated from its source by the reference's
   operator table (nothing is executed in this process).
2. The harness is proved: the unmutated reference must pass every part's property tests, and the planted
   bugs must be caught. Otherwise no kill means anything: the campaign stops.
3. Each mutant runs in a worker with a time limit (:mod:`gradharness.mutation.reference_tasks`), judged by
   the target's property tests of the parts its function reaches, and becomes a MutantRecord of the same
   MutateRecord as the exercise's (``--json``, ``--html`` and ``--mte`` read it alike).
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

from gradharness.errors import GradHarnessError
from gradharness.mutation.campaign import (
    HarnessError,
    Progress,
    assemble,
    counted,
    domain_throughput,
    evaluation_or_lost,
    mutant_record,
)
from gradharness.mutation.evaluate import Evaluation
from gradharness.mutation.mutants import Mutant, generate_mutants
from gradharness.mutation.operators import Operator
from gradharness.mutation.reference_tasks import ReferenceJob, ReferenceVariant, reference_variant_task
from gradharness.mutation.references import Reference, all_parts, parts_reaching, select_operators_of
from gradharness.mutation.runner import TaskRunner
from gradharness.records.mutation import HarnessRecord, MutantRecord, MutateRecord
from gradharness.records.status import MutantStatus
from gradharness.settings import CampaignSettings, RunSettings

DEFAULT_EXAMPLES = 25
"""Drawn cases per part of the target a mutant runs on, when none are asked for (``gradharness check`` draws 100)."""

PROBE_SEED_OFFSET = 1_000_003
"""The second draw a survivor must agree on to be believed equivalent uses the campaign's seed plus this."""


@dataclass(frozen=True)
class BuiltinChecker:
    """The checker of a target's property tests, as results files name it."""

    function: str = "gradharness.check_arrays"

    def describe(self) -> dict[str, Any]:
        """Plain-data description for results files (the shape of CheckerSpec's)."""
        return {"kind": "builtin", "path": None, "sha256": None, "function": self.function}


@dataclass(frozen=True)
class ReferenceMutant:
    """A mutant and the function of the reference it is a mutant of."""

    function: str
    mutant: Mutant


def reference_mutants(
    reference: Reference, operators: list[Operator], source: str | None = None
) -> list[ReferenceMutant]:
    """Every mutant of every mutated function, numbered per operator across the functions (``drop_transpose-2``)."""
    text = source if source is not None else reference.source()
    counts: dict[str, int] = {}
    found = []
    for function in reference.functions:
        for mutant in generate_mutants(text, function, reference.label, operators):
            counts[mutant.operator] = counts.get(mutant.operator, 0) + 1
            found.append(ReferenceMutant(function, replace(mutant, id=f"{mutant.operator}-{counts[mutant.operator]}")))
    return found


def prove_reference_harness(reference: Reference, unmutated: Evaluation, planted: Evaluation) -> HarnessRecord:
    """The unmutated reference must pass every part's tests and the planted bugs must be caught, else HarnessError."""
    parts = all_parts(reference)
    if unmutated.status is MutantStatus.SURVIVED and unmutated.cases == 0:
        raise HarnessError(
            f"the {reference.target} target has no property tests of the parts {reference.label} implements "
            f"({', '.join(parts)}) yet: nothing to judge its mutants by"
        )
    if unmutated.status is not MutantStatus.SURVIVED:
        raise HarnessError(
            f"the unmutated reference {reference.label} fails the {reference.target} target's tests "
            f"({unmutated.message}): kills would mean nothing"
        )
    if planted.status is not MutantStatus.KILLED:
        raise HarnessError(
            f"the {reference.target} target's tests do not catch the planted bugs ({reference.planted.words}) "
            f"on {unmutated.cases} cases ({planted.status.value}): too few cases to count kills on "
            "(try another --seed or more --max-examples)"
        )
    first = planted.examples_to_kill
    failed = (planted.message or "").partition(":")[0]
    message = (
        f"the unmutated {reference.label} passes all {unmutated.cases} cases of the {len(parts)} parts of the "
        f"{reference.target} target it implements; the planted bugs ({reference.planted.words}) fail {failed} "
        f"(after {first} {'case' if first == 1 else 'cases'})"
    )
    return HarnessRecord(True, unmutated.status.value, planted.status.value, message)


def prove_on(runner: TaskRunner, job: ReferenceJob) -> tuple[HarnessRecord, Evaluation]:
    """Run the unmutated reference and the planted bugs on every part, in the workers: the proof (HarnessError
    when it fails) and the unmutated reference's evaluation."""
    parts = all_parts(job.reference)
    proof = [ReferenceVariant("unmutated", parts), ReferenceVariant("planted", parts, planted=True)]
    unmutated, planted = (evaluation_or_lost(r, job.timeout) for r in runner.map(reference_variant_task, [job], proof))
    return prove_reference_harness(job.reference, unmutated, planted), unmutated


def equivalence_of(evaluation: Evaluation, probe_seed: int) -> str:
    """Why an equivalent candidate is believed equivalent, in the words of its comparison with the reference."""
    return (
        f"every call the tests made of it returned the reference's result {evaluation.message}, on all "
        f"{evaluation.cases} cases and on a second draw (seed {probe_seed})"
    )


def reference_record(found: ReferenceMutant, evaluation: Evaluation, probe_seed: int) -> MutantRecord:
    """The MutantRecord of one mutant: as the exercise's, its function named, its equivalence in these terms."""
    record = mutant_record(found.mutant, evaluation)
    record = replace(record, description=f"{found.function}, {found.mutant.description}")
    if record.status is MutantStatus.EQUIVALENT and not found.mutant.equivalent:
        record = replace(record, equivalence=equivalence_of(evaluation, probe_seed))
    return record


def reference_job(reference: Reference, settings: CampaignSettings) -> ReferenceJob:
    """What every variant task of a campaign on ``reference`` shares."""
    run = RunSettings(seed=settings.seed, max_examples=settings.max_examples, check=settings.check,
                      strategy=settings.strategy, target=reference.target)  # fmt: skip
    probe = replace(run, seed=settings.seed + PROBE_SEED_OFFSET)
    return ReferenceJob(reference, run, probe, settings.timeout)


def variant_of(reference: Reference, function: str, mutant: Mutant, source: str) -> ReferenceVariant:
    """The task's variant for a mutant of ``function``: its source, run on the parts the function reaches."""
    parts = parts_reaching(reference, function, source)
    return ReferenceVariant(mutant.id, parts, function, mutant.function_source, mutant.function_line)


def run_reference_campaign(
    reference: Reference,
    settings: CampaignSettings,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    reproduce: str | None = None,
) -> MutateRecord:
    """The whole campaign on ``reference``. Raises GradHarnessError (HarnessError) when it cannot be run or proved."""
    started = time.perf_counter()
    source = reference.source()
    found = reference_mutants(reference, select_operators_of(reference, settings.operators), source)
    if not found:
        raise GradHarnessError(f"no mutation operator applies to {', '.join(reference.functions)} in {reference.label}")
    job = reference_job(reference, settings)
    variants = [variant_of(reference, f.function, f.mutant, source) for f in found]
    if progress is not None:
        progress(0, len(found), "proving the harness")
    with TaskRunner(executor, jobs=settings.jobs, timeout=settings.timeout) as runner:
        harness, unmutated = prove_on(runner, job)
        phase = time.perf_counter()
        results = runner.map(reference_variant_task, [job], variants, done=counted(progress, [v.id for v in variants]))
        phase_seconds = time.perf_counter() - phase
    evaluations = [evaluation_or_lost(r, settings.timeout) for r in results]
    records = [reference_record(f, e, job.probe.seed) for f, e in zip(found, evaluations, strict=True)]
    seconds = time.perf_counter() - started
    throughput = domain_throughput(
        len(records),
        seconds,
        phase_seconds,
        f"the {reference.target} target's property tests, {settings.max_examples} drawn cases per part, "
        "on the parts each mutant's function reaches",
    )
    record = assemble(reference, BuiltinChecker(), settings, "domain", harness, records, cases=unmutated.cases,
                      dropped=0, engines=[throughput], seconds=seconds, reproduce=reproduce)  # fmt: skip
    return replace(record, exercise_case=None)  # the exercise's fixed case is not this target's
