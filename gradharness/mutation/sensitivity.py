"""How sensitive is the check? A magnitude sweep per gradient block and a threshold sweep.

* Magnitude: one block (dW1 ... db3 in turn) of the unmutated gradients is scaled by
  (1 + delta), delta from 1e-1 down to 1e-10; on each case the check either catches it
  or not, at the configured epsilon and threshold.
* Threshold: every mutant and the unmutated code run once at the smallest threshold swept,
  recording per case the largest threshold at which the checker still calls it wrong (a
  block is wrong at threshold t exactly when its difference exceeds t and the numerical
  noise cannot explain it, and the noise does not depend on t). That gives, for every
  threshold, the false-failure rate on correct code and the kill rate over the mutants,
  for the checker and for the exercise's bare rule (largest block difference > threshold).
  A threshold is *safe* for a rule when that rule calls the correct code wrong on none of
  the cases there and kills as many mutants as at any such threshold (:data:`SAFE_MEANING`);
  the checker and the bare rule are judged separately.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np

from gradharness.check.checker import NOISE_SAFETY
from gradharness.model.parameters import GRADIENT_NAMES, block_slices
from gradharness.mutation.campaign import HarnessError, Progress, counted, evaluate_mutants, prove_harness, setup
from gradharness.mutation.cases import PreparedCase
from gradharness.mutation.evaluate import Evaluation
from gradharness.mutation.mutants import generate_mutants
from gradharness.mutation.operators import select_operators
from gradharness.mutation.runner import Lost, TaskRunner
from gradharness.mutation.target import CheckerSpec, Target
from gradharness.mutation.tasks import Job, Variant, variant_task
from gradharness.records.environment import environment
from gradharness.records.mutation import BlockSweepRecord, SensitivityRecord, ThresholdPointRecord
from gradharness.records.verdict import RunVerdict
from gradharness.settings import CampaignSettings

DELTAS: tuple[float, ...] = tuple(float(10.0**-k) for k in range(1, 11))
THRESHOLDS: tuple[float, ...] = tuple(float(10.0**-k) for k in range(2, 13))


def _smallest(deltas: tuple[float, ...], caught: list[float], enough: float) -> float | None:
    """The smallest delta from which on (every larger delta included) the caught fraction reaches ``enough``."""
    smallest = None
    for delta, fraction in sorted(zip(deltas, caught, strict=True), reverse=True):
        if fraction + 1e-12 < enough:
            break
        smallest = delta
    return smallest


def _checkable(prepared: PreparedCase, block: str) -> bool:
    """A 10% error in the block would stand out of the numerical noise on the entries the checker compares.

    Entries at a kink or with a non-finite cost are set aside by design, and a block whose
    gradient is zero or lost in the centred difference's noise (a network with dead units,
    weights of 1e-250) cannot show a scaled gradient to any numerical check.
    """
    if prepared.gradients is None:
        return False
    numerical = prepared.numerical
    where = block_slices(prepared.case.sizes)[block[1:]]
    with np.errstate(all="ignore"):
        compared = (
            ~numerical.kink[where] & np.isfinite(numerical.gradapprox[where]) & np.isfinite(numerical.doubled[where])
        )
        noise = numerical.roundoff / numerical.steps[where] + np.abs(
            numerical.doubled[where] - numerical.gradapprox[where]
        )
        size = float(np.linalg.norm(prepared.gradients[block].reshape(-1)[compared]))
        return size > 0 and 0.1 * size > NOISE_SAFETY * float(np.linalg.norm(noise[compared]))


def _caught(result: Evaluation | Lost, threshold: float, count: int) -> list[bool]:
    if isinstance(result, Lost) or not result.critical:
        return [True] * count  # a hang or a crash is noticed at every case
    return [c > threshold for c in result.critical]


def magnitude_sweep(
    prepared_cases: list[PreparedCase],
    runner: TaskRunner,
    job: Job,
    threshold: float,
    deltas: tuple[float, ...] = DELTAS,
    progress: Progress | None = None,
) -> list[BlockSweepRecord]:
    """Per block: the fraction of cases (where the block is checkable) on which scaling by (1 + delta) is caught.

    ``progress(done, total, variant)`` is called as each scaled variant finishes.
    """
    variants = [Variant(f"{b}*(1+{d:g})", scale_block=b, scale=1.0 + d) for b in GRADIENT_NAMES for d in deltas]
    results = runner.map(variant_task, [job], variants, done=counted(progress, [v.id for v in variants]))
    blocks = []
    for i, block in enumerate(GRADIENT_NAMES):
        live = [_checkable(p, block) for p in prepared_cases]
        n = sum(live)
        caught = []
        for j in range(len(deltas)):
            flags = _caught(results[i * len(deltas) + j], threshold, len(prepared_cases))
            caught.append(sum(f for f, alive in zip(flags, live, strict=True) if alive) / n if n else 0.0)
        blocks.append(
            BlockSweepRecord(
                block=block,
                cases=n,
                caught=caught,
                smallest_always=_smallest(deltas, caught, 1.0),
                smallest_half=_smallest(deltas, caught, 0.5),
                smallest_any=min((d for d, c in zip(deltas, caught, strict=True) if c > 0), default=None),
            )
        )
    return blocks


def _worst(result: Evaluation | Lost, values: str) -> float:
    if isinstance(result, Lost):
        return float("inf")
    series = getattr(result, values)
    return max(series, default=float("inf") if result.status.detected else 0.0)


def threshold_sweep(
    unmutated: Evaluation, mutants: list[Evaluation | Lost], thresholds: tuple[float, ...] = THRESHOLDS
) -> tuple[list[ThresholdPointRecord], int]:
    """False failures of the unmutated code and kill rate of the mutants, per threshold.

    Mutants whose gradients are bit-for-bit the unmutated ones on every case are left out:
    nothing can kill them.
    """
    counted = [m for m in mutants if isinstance(m, Lost) or not m.identical]
    critical = np.array([_worst(m, "critical") for m in counted])
    bare = np.array([_worst(m, "differences") for m in counted])
    own = np.array(unmutated.critical)
    own_bare = np.array(unmutated.differences)
    points = []
    for t in thresholds:
        points.append(
            ThresholdPointRecord(
                threshold=t,
                false_failures=float(np.mean(own > t)) if own.size else 0.0,
                kill_rate=float(np.mean(critical > t)) if critical.size else 0.0,
                bare_false_failures=float(np.mean(own_bare > t)) if own_bare.size else 0.0,
                bare_kill_rate=float(np.mean(bare > t)) if bare.size else 0.0,
            )
        )
    return points, len(counted)


SAFE_MEANING = "no false failure on the correct code, and the best kill rate among such thresholds"
"""What a *safe* threshold is, in the words the reports use."""


def not_safe(points: list[ThresholdPointRecord], *, bare: bool = False) -> list[str]:
    """Per point, why its threshold is not safe for the checker (``bare``: the bare rule); "" where it is safe.

    The reasons read ``2.0% false failures`` or ``fewer kills`` (than at a threshold with no false failure).
    """
    rates = [(p.bare_false_failures, p.bare_kill_rate) if bare else (p.false_failures, p.kill_rate) for p in points]
    best = max((kills for false, kills in rates if false == 0), default=None)
    return [
        f"{100 * false:.1f}% false failures" if false > 0 else "" if kills == best else "fewer kills"
        for false, kills in rates
    ]


def safe_thresholds(points: list[ThresholdPointRecord], *, bare: bool = False) -> list[float]:
    """The thresholds safe for the checker (``bare``: for the bare rule): see :data:`SAFE_MEANING`."""
    return [p.threshold for p, why in zip(points, not_safe(points, bare=bare), strict=True) if not why]


def _from_step(progress: Progress | None, offset: int, total: int) -> Progress | None:
    """``progress`` for one phase of a longer run: its steps counted from ``offset`` of ``total``."""
    if progress is None:
        return None
    return lambda done, _phase_total, what: progress(offset + done, total, what)


def run_sensitivity(
    target: Target,
    checker: CheckerSpec,
    settings: CampaignSettings,
    *,
    executor: Executor | None = None,
    reproduce: str | None = None,
    progress: Progress | None = None,
) -> SensitivityRecord:
    """Both sweeps on the target with the checker under test.

    ``progress(done, total, what)`` counts the steps of both sweeps together: every scaled
    block, the unmutated code at the lowest threshold, every mutant.
    """
    started = time.perf_counter()
    operators = select_operators(list(settings.operators) if settings.operators is not None else None)
    mutants = generate_mutants(target.source, target.backward, target.label, operators)
    scaled = len(GRADIENT_NAMES) * len(DELTAS)
    steps = scaled + 1 + len(mutants)
    if progress is not None:
        progress(0, steps, "preparing the cases")
    with TaskRunner(executor, jobs=settings.jobs, timeout=settings.timeout) as runner:
        prepared = setup(target, checker, settings, runner)
        proof = prove_harness(target, checker, prepared, runner)
        if not proof.record.passed and not proof.checker_at_fault:
            raise HarnessError(proof.record.message)
        cases = list(prepared.prepared.cases)
        blocks = magnitude_sweep(
            cases, runner, prepared.job, settings.check.threshold, progress=_from_step(progress, 0, steps)
        )
        lowest = replace(
            prepared, job=replace(prepared.job, options=replace(prepared.job.options, threshold=min(THRESHOLDS)))
        )
        baseline = runner.map(variant_task, [lowest.job], [Variant("unmutated")])[0]
        if isinstance(baseline, Lost):
            raise HarnessError(f"the unmutated {target.backward} did not finish ({baseline.reason})")
        if progress is not None:
            progress(scaled + 1, steps, "unmutated")
        evaluations = evaluate_mutants(mutants, lowest, runner, _from_step(progress, scaled + 1, steps))
    points, counted = threshold_sweep(baseline, list(evaluations))
    return SensitivityRecord(
        target=target.describe(),
        checker=checker.describe(),
        settings=settings.to_json(),
        verdict=RunVerdict.PASS,
        harness=proof.record,
        cases=len(cases),
        deltas=list(DELTAS),
        blocks=blocks,
        thresholds=list(THRESHOLDS),
        threshold_sweep=points,
        mutants=counted,
        safe_thresholds=safe_thresholds(points),
        seconds=time.perf_counter() - started,
        reproduce=reproduce,
        environment=environment(),
    )
