"""Terminal rendering of check records (rich). Rendering only: the records are built elsewhere."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gradharness.check.verdict import Verdict
from gradharness.records.check import CheckRecord, FailureRecord, PropertyStatus
from gradharness.records.verdict import RunVerdict
from gradharness.render.safe_text import shown_markup
from gradharness.render.tallies import (
    NOT_EXERCISED,
    STATUS_LABEL,
    case_counts,
    cause_text,
    checked_cases,
    failure_case_text,
    first_case_text,
    judged_precision,
    plural,
    property_description,
    target_sections,
    target_title,
    unexercised_blocks,
)

_STYLE = {RunVerdict.PASS: "bold green", RunVerdict.FAIL: "bold red", RunVerdict.ERROR: "bold yellow"}
_VERDICT_STYLE = {
    Verdict.PASS: "green",
    Verdict.WRONG: "bold red",
    Verdict.KINK: "cyan",
    Verdict.IMPRECISE: "yellow",
    Verdict.SATURATED: "yellow",
}
_PROPERTY_MARK = {
    PropertyStatus.PASSED: "[green]ok[/]  ",
    PropertyStatus.FAILED: "[red]FAIL[/]",
    PropertyStatus.NOT_RUN: "[dim]--[/]  ",
    PropertyStatus.STOPPED: "[yellow]stop[/]",
}


def _case_line(failure: FailureRecord) -> str:
    if failure.point is not None and failure.case is None:
        return f"smallest failing point: x={failure.point[0]!r}, theta={failure.point[1]!r}"
    case = failure_case_text(failure)
    return f"smallest failing {'network' if failure.target == 'exercise' else 'case'}: {case}" if case else ""


def render_failure(console: Console, failure: FailureRecord) -> None:
    """The smallest failing case of one property: what, where, which entries."""
    description = property_description(failure)
    console.print(
        f"[bold red]FAIL[/] {shown_markup(description)}  [dim]({failure.kind.value}, found after {plural(failure.examples_before, 'generated case')})[/]"
    )
    console.print(f"  {shown_markup(failure.message)}")
    line = _case_line(failure)
    if line:
        console.print(f"  {line}")
    first = first_case_text(failure)
    if first:
        console.print(f"  first failing case as drawn: {shown_markup(first)}")
    for cause in failure.likely_causes:
        console.print(f"  [bold]likely cause:[/] {shown_markup(cause_text(cause))}")
    check = failure.gradient_check
    if check is None:
        return
    console.print(
        f"  difference {check.difference:.3g} (threshold {check.threshold:g}, method {shown_markup(check.method)})"
    )
    table = Table(box=None, padding=(0, 2), show_edge=False)
    for column in ("block", "difference", "verdict", "entries", "kinks", "mode"):
        table.add_column(column, justify="left" if column in ("block", "verdict", "mode") else "right")
    unexercised = unexercised_blocks(failure)
    for block in check.blocks:
        verdict = (
            f"[dim]{NOT_EXERCISED}[/]"
            if block.name in unexercised
            else f"[{_VERDICT_STYLE[block.verdict]}]{block.verdict.value}[/]"
        )
        table.add_row(
            shown_markup(block.name),
            f"{block.difference:.3g}",
            verdict,
            str(block.entries),
            str(block.kinks),
            shown_markup(block.mode),
        )
    console.print(table)
    if check.worst_entries:
        console.print("  worst entries:")
        for entry in check.worst_entries:
            console.print(
                f"    {shown_markup(entry.name)}: backprop {entry.backprop:.6g}, numerical {entry.numerical:.6g}  [dim]{entry.status.value}[/]"
            )


def render_record(console: Console, record: CheckRecord, title: str | None = None) -> None:
    """A whole check record: verdict line, properties, failures, diagnoses, how to reproduce."""
    heading = title or record.target.get("path", "")
    if record.verdict is RunVerdict.ERROR:
        console.print(
            f"[{_STYLE[RunVerdict.ERROR]}]ERROR[/] {shown_markup(heading)}: {shown_markup(record.error or '')}"
        )
        return
    functions = shown_markup(", ".join(map(str, record.target.get("functions", []))))
    scope = (
        "" if record.settings.get("check", {}).get("reference", True) else "; self-consistency only (--no-reference)"
    )
    isolation = f", isolation {shown_markup(str(record.target['isolation']))}" if record.target.get("isolation") else ""
    console.print(
        f"[{_STYLE[record.verdict]}]{record.verdict.value.upper()}[/] {shown_markup(heading)}"
        f"  [dim]({functions}; {case_counts(record)}, seed {record.settings.get('seed')}, "
        f"{record.seconds:.1f} s{isolation}{scope})[/]"
    )
    sections = target_sections(record)
    for target, properties, _ in sections:
        if len(sections) > 1 or target != "exercise":
            console.print(f"  [bold]{shown_markup(target)}[/]: {shown_markup(target_title(target))}")
        for prop in properties:
            counted = plural(prop.examples, "example")
            if prop.status is PropertyStatus.STOPPED:
                counted = f"{STATUS_LABEL[prop.status]}: held on {counted}"
            if judged_precision(prop):
                counted = f"{counted}, {judged_precision(prop)}"
            console.print(f"  {_PROPERTY_MARK[prop.status]} {shown_markup(prop.description)} [dim]({counted})[/]")
    for failure in record.failures:
        console.print()
        render_failure(console, failure)
    if record.wrong_blocks:
        seen = ", ".join(f"{shown_markup(name)} ({count})" for name, count in record.wrong_blocks.items())
        console.print(f"  wrong blocks, in how many failing generated cases (shrink steps not counted): {seen}")
    diagnosed = {k: v for k, v in record.diagnoses.items() if k != Verdict.PASS.value}
    if diagnosed:
        parts = ", ".join(f"{count} {shown_markup(verdict)}" for verdict, count in diagnosed.items())
        console.print(
            f"  [dim]diagnosed, not failed: {parts} of the {plural(checked_cases(record), 'generated case')} "
            "whose gradient check held (kink: a perturbation crossed a ReLU's 0, a hinge's margin or a max-pool tie; "
            "imprecise: within the numerical error of centred differences; saturated: the cost is not finite in float64)[/]"
        )
    if record.failures and record.reproduce:
        console.print(f"  reproduce: {shown_markup(record.reproduce)}")
