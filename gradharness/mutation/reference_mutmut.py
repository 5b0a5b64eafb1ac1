"""mutmut as a second engine on a target's reference (``gradharness mutate --target deep --engine mutmut``).

As :func:`gradharness.mutation.engine_mutmut.mutmut_campaign` does for the exercise: mutmut 3 mutates the
reference's module in a scratch copy of the project, with
:mod:`gradharness.mutation.mutmut_suite_reference` (the target's property tests of the parts the reference
implements, under Hypothesis) as its test suite, and only the mutants of the reference's backward functions
are run. Its exit codes become MutantRecords with operator "mutmut"; each mutant is then judged by the
domain campaign's own tasks too, which tells the checker's kills from crashes and spots survivors whose
results never differ from the reference's (equivalent candidates).
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import replace

from gradharness.isolation.processes import default_jobs
from gradharness.mutation.campaign import Progress, assemble, counted, evaluation_or_lost
from gradharness.mutation.engine_mutmut import (
    engine_record,
    mutant_patterns,
    mutmut_config,
    mutmut_mutant,
    mutmut_record,
    on_our_cases,
    run_mutmut,
)
from gradharness.mutation.mutmut_suite_reference import MODULE_VARIABLE, TARGET_VARIABLE
from gradharness.mutation.reference_campaign import (
    BuiltinChecker,
    equivalence_of,
    prove_on,
    reference_job,
    run_reference_campaign,
    variant_of,
)
from gradharness.mutation.reference_tasks import reference_variant_task
from gradharness.mutation.references import Reference
from gradharness.mutation.runner import TaskRunner
from gradharness.records.mutation import MutateRecord
from gradharness.records.status import MutantStatus
from gradharness.settings import CampaignSettings


def reference_mutmut_campaign(
    reference: Reference,
    settings: CampaignSettings,
    *,
    with_domain: bool = False,
    executor: Executor | None = None,
    mutmut_timeout: float = 600.0,
    progress: Progress | None = None,
    reproduce: str | None = None,
    functions: tuple[str, ...] | None = None,
) -> MutateRecord:
    """``--engine mutmut`` on ``reference`` (or ``both``: the domain campaign first, then mutmut, in one record).

    ``functions``: mutmut's mutants of these of the reference's functions only (default: all of them).
    """
    started = time.perf_counter()
    mutated = functions if functions is not None else reference.functions
    domain = run_reference_campaign(reference, settings, executor=executor, progress=progress) if with_domain else None
    run = run_mutmut(
        max_examples=settings.max_examples,
        jobs=settings.jobs or default_jobs(),
        timeout=mutmut_timeout,
        pattern=mutant_patterns(reference.module, mutated),
        progress=progress,
        config=mutmut_config(reference.label, reference.mutmut_suite),
        functions=mutated,
        variables={TARGET_VARIABLE: reference.target, MODULE_VARIABLE: reference.module},
    )
    source = reference.source()
    mutants = [mutmut_mutant(r, source, reference.label, prefix=f"mutmut-{r.function}") for r in run.results]
    job = reference_job(reference, settings)
    variants = [variant_of(reference, r.function, m, source) for r, m in zip(run.results, mutants, strict=True)]
    with TaskRunner(executor, jobs=settings.jobs, timeout=settings.timeout) as runner:
        harness, unmutated = prove_on(runner, job)
        done = counted(on_our_cases(progress, "gradharness's tests"), [v.id for v in variants])
        ours = [evaluation_or_lost(r, settings.timeout) for r in runner.map(reference_variant_task, [job], variants,
                                                                             done=done)]  # fmt: skip
    records = []
    for result, mutant, evaluation in zip(run.results, mutants, ours, strict=True):
        record = mutmut_record(result, mutant, evaluation)
        record = replace(record, description=f"{result.function}, {mutant.description}")
        if record.status is MutantStatus.EQUIVALENT:
            record = replace(record, equivalence=equivalence_of(evaluation, job.probe.seed))
        records.append(record)
    engines = [engine_record(run, settings.max_examples)]
    if domain is not None:
        records = domain.mutants + records
        engines = domain.engines + engines
    campaign = assemble(reference, BuiltinChecker(), settings, "both" if with_domain else "mutmut", harness, records,
                        cases=unmutated.cases, dropped=0, engines=engines, seconds=time.perf_counter() - started,
                        reproduce=reproduce)  # fmt: skip
    return replace(campaign, exercise_case=None)
