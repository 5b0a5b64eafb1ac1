"""Terminal rendering of mutate and sensitivity records (rich). Rendering only: records are built elsewhere."""

from __future__ import annotations

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from gradharness.mutation.sensitivity import SAFE_MEANING, not_safe
from gradharness.records.mutation import HarnessRecord, MutantRecord, MutateRecord, ScoreRecord, SensitivityRecord
from gradharness.records.status import MutantStatus
from gradharness.records.verdict import RunVerdict
from gradharness.render.safe_text import DIFF_BYTES, shown, shown_markup

_VERDICT = {RunVerdict.PASS: "bold green", RunVerdict.FAIL: "bold red", RunVerdict.ERROR: "bold yellow"}


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _score_row(table: Table, score: ScoreRecord) -> None:
    table.add_row(
        shown_markup(score.name), str(score.total), str(score.killed), str(score.crashed), str(score.timed_out),
        str(score.survived), str(score.equivalent), _percent(score.score), _percent(score.checker_score),
    )  # fmt: skip


_MUTANT_LABEL = {
    MutantStatus.SURVIVED: ("SURVIVED", "bold red"),
    MutantStatus.EQUIVALENT: ("equivalent candidate", "yellow"),
    MutantStatus.KILLED: ("killed", "green"),
    MutantStatus.CRASHED: ("crashed", "green"),
    MutantStatus.TIMED_OUT: ("timed out", "green"),
}


def _mutant(console: Console, mutant: MutantRecord) -> None:
    label, style = _MUTANT_LABEL[mutant.status]
    console.print(f"[{style}]{label}[/] {shown_markup(mutant.id)}  {shown_markup(mutant.description)}")
    if mutant.equivalence:
        console.print(f"  believed equivalent: {shown_markup(mutant.equivalence)}")
    diff = shown(mutant.diff.rstrip("\n"), DIFF_BYTES, keep_newlines=True)
    console.print(Syntax(diff, "diff", theme="ansi_dark", background_color="default"))


def _harness(console: Console, harness: HarnessRecord | None) -> None:
    """Whether the unmutated code passed and the seed's bugs were caught, and on how many cases."""
    if harness is not None:
        style = "green" if harness.passed else "bold red"
        console.print(f"[{style}]harness[/]: {shown_markup(harness.message)}")


def _campaign(console: Console, record: MutateRecord) -> None:
    """What was mutated and checked, on how many cases, and whether the harness proved itself."""
    target, checker = record.target, record.checker
    console.print(
        f"target {shown_markup(str(target.get('path')))} ({shown_markup(str(target.get('function')))}), "
        f"checker {shown_markup(str(checker.get('function')))}, engine {record.engine}, "
        f"{record.cases} cases per mutant, seed {record.settings.get('seed')}"
    )
    if record.cases_dropped:
        console.print(
            f"  ({record.cases_dropped} drawn cases left out: the built-in checker is not conclusive on them)"
        )
    _harness(console, record.harness)


def _scores(console: Console, record: MutateRecord) -> None:
    """The score table per operator and overall, and how the overall score is made up."""
    if record.mutants:
        table = Table(box=None, padding=(0, 1), show_edge=False)
        for column in (
            "operator",
            "mutants",
            "killed",
            "crashed",
            "timed out",
            "survived",
            "equivalent",
            "score",
            "checker",
        ):
            table.add_column(column, justify="left" if column == "operator" else "right")
        for score in record.operators:
            _score_row(table, score)
        if record.score is not None:
            _score_row(table, record.score)
        console.print(table)
    if record.score is not None and record.mutants:
        s = record.score
        console.print(
            f"mutation score {_percent(s.score)} = detected / (all - equivalent) = "
            f"{s.killed + s.crashed + s.timed_out} / {s.total - s.equivalent}; "
            f"killed by the checker {s.killed}, crash kills {s.crashed}, timeouts {s.timed_out}"
        )


def _detection(console: Console, record: MutateRecord) -> None:
    """How many cases mutants survive before one catches them, and what the exercise's fixed case misses."""
    if record.examples_to_kill is not None and record.examples_to_kill.median is not None:
        e = record.examples_to_kill
        buckets = ", ".join(f"{k}: {v}" for k, v in e.buckets.items() if v)
        console.print(
            f"cases survived before the first catching case: median {e.median:g}, max {e.maximum} ({buckets})"
        )
    if record.exercise_case is not None and record.mutants:
        missed = ", ".join(record.exercise_case.missed) or "none"
        console.print(
            f"the exercise's single fixed case (4-5-3-1, m=3) detects {record.exercise_case.detected} of "
            f"{len(record.mutants)} mutants; it misses {shown_markup(missed)}"
        )


def _throughput(console: Console, record: MutateRecord) -> None:
    """Mutants per second for each engine that ran."""
    for engine in record.engines:
        phase = (
            f"; mutation phase {engine.phase_mutants_per_second:.1f} mutants/s"
            if engine.phase_mutants_per_second is not None
            else ""
        )
        note = f" ({shown_markup(engine.note)})" if engine.note else ""
        console.print(
            f"{engine.engine}: {engine.mutants} mutants in {engine.seconds:.1f} s = "
            f"{engine.mutants_per_second:.1f} mutants/s end to end{phase}{note}"
        )


def _outcome(console: Console, record: MutateRecord, show_all: bool) -> None:
    """Survivors with their diffs (every mutant with ``show_all``), any error, the verdict and how to reproduce."""
    for mutant in record.mutants:
        if mutant.status in (MutantStatus.SURVIVED, MutantStatus.EQUIVALENT) or show_all:
            _mutant(console, mutant)
    if record.error:
        console.print(f"[bold yellow]error[/]: {shown_markup(record.error)}")
    console.print(f"[{_VERDICT[record.verdict]}]{record.verdict.value.upper()}[/] in {record.seconds:.1f} s")
    if record.reproduce:
        console.print(f"reproduce: {shown_markup(record.reproduce)}")


def render_mutate(console: Console, record: MutateRecord, *, show_all: bool = False) -> None:
    """The campaign: harness proof, scores per operator, survivors with diffs, throughput, verdict."""
    _campaign(console, record)
    _scores(console, record)
    _detection(console, record)
    _throughput(console, record)
    _outcome(console, record, show_all)


def _delta(value: float | None) -> str:
    return "not caught" if value is None else f"{value:g}"


def _safe(why_not: str) -> str:
    return f"no: {why_not}" if why_not else "safe"


def _threshold_sweep(console: Console, record: SensitivityRecord) -> None:
    """The sweep's table, each threshold judged safe or not for the checker and, apart, for the bare rule."""
    console.print(
        f"threshold sweep: false failures on the {record.cases} cases of correct code, "
        f"kill rate over the {record.mutants} non-equivalent mutants"
    )
    sweep = Table(box=None, padding=(0, 1))
    for column in ("threshold", "false failures", "kill rate", "checker", "bare: false", "bare: kills", "bare rule"):
        sweep.add_column(column, justify="left" if column in ("checker", "bare rule") else "right")
    points = record.threshold_sweep
    why, bare_why = not_safe(points), not_safe(points, bare=True)
    for point, checker, bare_rule in zip(points, why, bare_why, strict=True):
        sweep.add_row(f"{point.threshold:g}", _percent(point.false_failures), _percent(point.kill_rate),
                      _safe(checker), _percent(point.bare_false_failures), _percent(point.bare_kill_rate),
                      _safe(bare_rule))  # fmt: skip
    console.print(sweep)
    safe = ", ".join(f"{p.threshold:g}" for p, w in zip(points, why, strict=True) if not w) or "none"
    bare = ", ".join(f"{p.threshold:g}" for p, w in zip(points, bare_why, strict=True) if not w) or "none"
    console.print(f"safe: {SAFE_MEANING}; the checker and the bare rule judged apart")
    console.print(f"  safe for the checker: {safe}")
    console.print(f"  safe for the bare rule (difference > threshold): {bare}")


def render_sensitivity(console: Console, record: SensitivityRecord) -> None:
    """Smallest detectable delta per block, the detection table, and the threshold sweep."""
    console.print(
        f"target {shown_markup(str(record.target.get('path')))}, checker {shown_markup(str(record.checker.get('function')))}, "
        f"{record.cases} cases, epsilon {record.settings.get('epsilon') or 'default'}, "
        f"threshold {record.settings.get('threshold'):g}"
    )
    _harness(console, record.harness)
    # Headings as lines of their own: a table's title would wrap to the table's width.
    console.print(
        "one gradient block scaled by (1 + delta): smallest delta caught on the cases that exercise the block"
    )
    table = Table(box=None, padding=(0, 1))
    for column in ("block", "cases exercising it", "on every case", "on half", "on any"):
        table.add_column(column, justify="left" if column == "block" else "right")
    for block in record.blocks:
        table.add_row(block.block, f"{block.cases} of {record.cases}", _delta(block.smallest_always),
                      _delta(block.smallest_half), _delta(block.smallest_any))  # fmt: skip
    console.print(table)
    console.print("fraction of the cases exercising each block on which it is caught, per delta")
    detail = Table(box=None, padding=(0, 1))
    detail.add_column("delta", justify="right")
    for block in record.blocks:
        detail.add_column(block.block, justify="right")
    detail.add_row("of cases", *(str(b.cases) for b in record.blocks), end_section=True)
    for i, delta in enumerate(record.deltas):
        detail.add_row(f"{delta:g}", *(f"{b.caught[i]:.2f}" for b in record.blocks))
    console.print(detail)
    _threshold_sweep(console, record)
    if record.error:
        console.print(f"[bold yellow]error[/]: {shown_markup(record.error)}")
    if record.reproduce:
        console.print(f"reproduce: {shown_markup(record.reproduce)}")
