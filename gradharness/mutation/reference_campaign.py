"""The campaign on a target's built-in reference (``gradharness mutate --target deep``).

As the exercise's campaign (:mod:`gradharness.mutation.campaign`) runs, with the target's own pieces:

1. Mutants of each of the reference's backward functions are generated from its source by the reference's
   operator table (nothing is executed in this process).
2. The harness is proved: the unmutated reference must pass every part's property tests, and the planted
   bugs must be caught. Otherwise no kill means anything: the campaign stops.
3. Each mutant runs in a worker with a time limit (:mod:`gradharness.mutation.reference_tasks`), judged by
   the target's property tests of the parts its function reaches, and becomes a MutantRecord of the same
   MutateRecord as the exercise's (``--json``, ``--html`` and ``--mte`` read it alike).

Several references of one target (``gradharness mutate --target layers``: its three modules) run as one
campaign: one pool of workers, every harness proved before any mutant runs, one record whose mutants are
named by their module (``layers_norm:term_dropped-2``) and scored together.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
from gradharness.mutation.reference_tasks import ReferenceJob, ReferenceVariant, reference_pair_task
from gradharness.mutation.references import (
    Reference,
    ReferenceSet,
    all_parts,
    parts_reaching,
    select_operators_of,
)
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
    reference: Reference, operators: list[Operator], source: str | None = None, *, prefix: str = ""
) -> list[ReferenceMutant]:
    """Every mutant of every mutated function, numbered per operator across the functions (``drop_transpose-2``,
    after ``prefix``)."""
    text = source if source is not None else reference.source()
    counts: dict[str, int] = {}
    found = []
    for function in reference.functions:
        for mutant in generate_mutants(text, function, reference.label, operators):
            counts[mutant.operator] = counts.get(mutant.operator, 0) + 1
            numbered = f"{prefix}{mutant.operator}-{counts[mutant.operator]}"
            found.append(ReferenceMutant(function, replace(mutant, id=numbered)))
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


def proofs_on(runner: TaskRunner, jobs: Sequence[ReferenceJob]) -> list[tuple[HarnessRecord, Evaluation]]:
    """Run each job's unmutated reference and planted bugs on every part, all in one batch of the workers: each
    proof (HarnessError when one fails) and its unmutated reference's evaluation."""
    pairs = []
    for job in jobs:
        parts = all_parts(job.reference)
        pairs += [(job, ReferenceVariant("unmutated", parts)), (job, ReferenceVariant("planted", parts, planted=True))]
    found = runner.map(reference_pair_task, [], pairs)
    results = [evaluation_or_lost(r, job.timeout) for r, (job, _) in zip(found, pairs, strict=True)]
    unmutated, planted = results[0::2], results[1::2]
    return [
        (prove_reference_harness(job.reference, u, p), u) for job, u, p in zip(jobs, unmutated, planted, strict=True)
    ]


def prove_on(runner: TaskRunner, job: ReferenceJob) -> tuple[HarnessRecord, Evaluation]:
    """Run the unmutated reference and the planted bugs on every part, in the workers: the proof (HarnessError
    when it fails) and the unmutated reference's evaluation."""
    return proofs_on(runner, [job])[0]


def proved_together(proofs: Sequence[HarnessRecord]) -> HarnessRecord:
    """One harness record for the proofs of several references: passed, with each one's message in turn."""
    if len(proofs) == 1:
        return proofs[0]
    sentences = [proofs[0].message] + [p.message[:1].upper() + p.message[1:] for p in proofs[1:]]
    return HarnessRecord(True, proofs[0].unmutated, proofs[0].broken, ". ".join(sentences))


def equivalence_of(evaluation: Evaluation, probe_seed: int) -> str:
    """Why an equivalent candidate is believed equivalent, in the words of its comparison with the reference."""
    return (
        f"every call the tests made of it returned the reference's result {evaluation.message}, on all "
        f"{evaluation.cases} cases and on a second draw (seed {probe_seed})"
    )


def reference_record(
    found: ReferenceMutant, evaluation: Evaluation, probe_seed: int, module: str | None = None
) -> MutantRecord:
    """The MutantRecord of one mutant: as the exercise's, its function named (``module.function`` with a
    ``module``), its equivalence in these terms."""
    record = mutant_record(found.mutant, evaluation)
    function = found.function if module is None else f"{module}.{found.function}"
    record = replace(record, description=f"{function}, {found.mutant.description}")
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


@dataclass(frozen=True)
class _Planned:
    """One reference's part of a campaign: its job, its mutants and their variants, in the same order."""

    job: ReferenceJob
    found: list[ReferenceMutant]
    variants: list[ReferenceVariant]


def _planned(reference: Reference, settings: CampaignSettings, prefix: str) -> _Planned:
    source = reference.source()
    found = reference_mutants(reference, select_operators_of(reference, settings.operators), source, prefix=prefix)
    variants = [variant_of(reference, f.function, f.mutant, source) for f in found]
    return _Planned(reference_job(reference, settings), found, variants)


def run_references_campaign(
    references: Sequence[Reference],
    settings: CampaignSettings,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    reproduce: str | None = None,
) -> MutateRecord:
    """One campaign over ``references`` (of one target): one record, its mutants named by their module when there
    are several. A reference no operator applies to is left out. Raises GradHarnessError (HarnessError) when the
    campaign cannot be run or a harness proved."""
    started = time.perf_counter()
    several = len(references) > 1
    planned = [p for p in (_planned(r, settings, f"{r.name}:" if several else "") for r in references) if p.found]
    if not planned:
        where = "; ".join(f"{', '.join(r.functions)} in {r.label}" for r in references)
        raise GradHarnessError(f"no mutation operator applies to {where}")
    pairs = [(p.job, v) for p in planned for v in p.variants]
    if progress is not None:
        progress(0, len(pairs), "proving the harness")
    with TaskRunner(executor, jobs=settings.jobs, timeout=settings.timeout) as runner:
        proofs = proofs_on(runner, [p.job for p in planned])
        phase = time.perf_counter()
        results = runner.map(reference_pair_task, [], pairs, done=counted(progress, [v.id for _, v in pairs]))
        phase_seconds = time.perf_counter() - phase
    evaluations = iter(evaluation_or_lost(r, settings.timeout) for r in results)
    records = [
        reference_record(f, next(evaluations), p.job.probe.seed, p.job.reference.name if several else None)
        for p in planned
        for f in p.found
    ]
    seconds = time.perf_counter() - started
    target = references[0].target
    throughput = domain_throughput(
        len(records),
        seconds,
        phase_seconds,
        f"the {target} target's property tests, {settings.max_examples} drawn cases per part, "
        "on the parts each mutant's function reaches",
    )
    described = ReferenceSet(tuple(references)) if several else references[0]
    record = assemble(described, BuiltinChecker(), settings, "domain", proved_together([h for h, _ in proofs]),
                      records, cases=sum(u.cases for _, u in proofs), dropped=0, engines=[throughput],
                      seconds=seconds, reproduce=reproduce)  # fmt: skip
    return replace(record, exercise_case=None)  # the exercise's fixed case is not this target's


def run_reference_campaign(
    reference: Reference,
    settings: CampaignSettings,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    reproduce: str | None = None,
) -> MutateRecord:
    """The whole campaign on ``reference``. Raises GradHarnessError (HarnessError) when it cannot be run or proved."""
    return run_references_campaign([reference], settings, executor=executor, progress=progress, reproduce=reproduce)
