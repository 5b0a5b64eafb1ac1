"""View models: plain dataclasses holding what a report shows, built from result records.

Building a view is collecting (numbers, names, which lines to highlight); turning one into
HTML is the templates' job (see :mod:`gradharness.render.html.render`). Numbers stay numbers
here and are formatted in the templates.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from gradharness.batch.rubric import DEFAULT_RUBRIC, Rubric
from gradharness.check.verdict import Verdict
from gradharness.records.check import CheckRecord, FailureRecord, GradientRecord
from gradharness.records.verdict import RunVerdict
from gradharness.render.html.source import SourceView, locate_source
from gradharness.render.tallies import (
    NOT_EXERCISED,
    STATUS_LABEL,
    block_parts,
    case_counts,
    cause_text,
    checked_cases,
    failure_case_text,
    first_case_text,
    judged_precision,
    plural,
    property_description,
    score_line,
    target_sections,
    target_title,
    unexercised_blocks,
)


@dataclass(frozen=True)
class Row:
    """A labelled value in a header table."""

    key: str
    value: str


@dataclass(frozen=True)
class Header:
    """What every report starts with: target, verdict banner, date, environment, settings."""

    kind: str
    title: str
    verdict: str
    verdict_label: str
    summary: str
    target: str
    sha256: str | None
    created: str
    environment: list[Row]
    settings: list[Row]
    reproduce: str | None = None


@dataclass(frozen=True)
class PropertyRow:
    """One property of a check and how it went."""

    description: str
    status: str
    examples: int
    section: str = ""  # the target this row begins, "deep: the course's L-layer model ...", when there are targets
    precision: str = ""  # "judged at float32" for single precision code


@dataclass(frozen=True)
class BlockRow:
    """One gradient block of the failing case."""

    name: str
    difference: float
    verdict: str
    entries: int
    kinks: int
    saturated: int


@dataclass(frozen=True)
class EntryRow:
    """A named entry: backprop against numerical."""

    name: str
    backprop: float
    numerical: float
    status: str


@dataclass(frozen=True)
class HeatBlock:
    """Per-entry relative error of one wrong block, in the block's shape (None: no finite numerical value)."""

    name: str
    rows: int
    cols: int
    error: list[list[float | None]]
    status: list[list[str]]


@dataclass(frozen=True)
class FailureView:
    """The smallest failing case of one property."""

    property: str
    kind: str
    message: str
    examples_before: int
    case: str
    first_case: str = ""  # the first failing case as drawn, before shrinking ('' when none was kept)
    likely_causes: list[str] = field(default_factory=list)
    difference: float | None = None
    threshold: float | None = None
    epsilon: float | None = None
    method: str | None = None
    blocks: list[BlockRow] = field(default_factory=list)
    worst: list[EntryRow] = field(default_factory=list)
    heat: list[HeatBlock] = field(default_factory=list)


@dataclass(frozen=True)
class CheckView:
    """Everything a check report shows."""

    header: Header
    properties: list[PropertyRow]
    failures: list[FailureView]
    wrong_blocks: list[Row]
    diagnoses: list[Row]
    examples: int
    seconds: float
    error: str | None
    source: SourceView | None
    cases: str = ""  # the generated cases, split by Hypothesis test
    checked: int = 0  # generated cases whose gradient check held: what ``diagnoses`` counts
    notes: list[str] = field(default_factory=list)
    isolation: str | None = None
    output: str | None = None
    score: str = ""  # the file's score under the rubric of the run


@dataclass(frozen=True)
class IndexEntry:
    """One report in the audit trail of a reports folder."""

    href: str
    file: str
    created: str
    kind: str
    verdict: str
    target: str


@dataclass(frozen=True)
class IndexView:
    """The audit trail: every report in a folder, newest first."""

    folder: str
    entries: list[IndexEntry]
    created: str


_NONE_LABELS = {
    "epsilon": "default: cbrt(machine eps) \u00d7 max(1, |\u03b8|)",
    "batch_size": "drawn",
    "max_output_units": "max_units",
    "target": "every target the file implements",
}


def flatten_settings(settings: dict[str, Any], prefix: str = "") -> list[Row]:
    """Every setting as a 'check.epsilon: value' row; unset values say what is used instead."""
    rows: list[Row] = []
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(flatten_settings(value, f"{name}."))
        elif value is None:
            rows.append(Row(name, _NONE_LABELS.get(key, "drawn" if re.fullmatch(r"n\d", key) else "default")))
        else:
            rows.append(Row(name, str(value)))
    return rows


def environment_rows(environment: dict[str, str], extra: dict[str, str] | None = None) -> list[Row]:
    """Versions and platform, in a fixed order, then anything else recorded."""
    order = ["gradharness", "python", "numpy", "hypothesis", "platform"]
    keys = [k for k in order if k in environment] + sorted(k for k in environment if k not in order)
    return [Row(k, str(environment[k])) for k in keys] + [Row(k, v) for k, v in (extra or {}).items()]


def target_label(target: dict[str, Any]) -> str:
    """The target's path as recorded (``builtin:NAME`` for the built-in network)."""
    return str(target.get("path", "")) or "(unknown target)"


def _relative_errors(grad: list[float], approx: list[float | None]) -> list[float | None]:
    out: list[float | None] = []
    for g, a in zip(grad, approx, strict=True):
        if a is None or not (math.isfinite(g) and math.isfinite(a)):
            out.append(None)
            continue
        denominator = abs(g) + abs(a)
        out.append(0.0 if denominator == 0 else abs(g - a) / denominator)
    return out


def heat_blocks(failure: FailureRecord) -> list[HeatBlock]:
    """Per-entry relative error of the wrong blocks, in each block's shape (row-major; the leading axes of an
    array of more than two flattened into the rows)."""
    check = failure.gradient_check
    parts = block_parts(failure)
    if check is None or not parts or len(check.entry_status) != len(check.grad):
        return []
    errors = _relative_errors(check.grad, check.gradapprox)
    blocks = []
    for block in check.blocks:
        if block.verdict is not Verdict.WRONG or block.name not in parts:
            continue
        part, shape = parts[block.name]
        cols = shape[-1] if shape else 1
        rows = (part.stop - part.start) // max(cols, 1)
        flat_error, flat_status = errors[part], check.entry_status[part]
        blocks.append(
            HeatBlock(
                name=block.name,
                rows=rows,
                cols=cols,
                error=[flat_error[r * cols : (r + 1) * cols] for r in range(rows)],
                status=[[s.value for s in flat_status[r * cols : (r + 1) * cols]] for r in range(rows)],
            )
        )
    return blocks


def property_rows(record: CheckRecord) -> list[PropertyRow]:
    """The properties, target by target; a section heading begins each target's when the record has another
    target than the exercise."""
    sections = target_sections(record)
    headed = len(sections) > 1 or any(target != "exercise" for target, _, _ in sections)
    rows = []
    for target, properties, _ in sections:
        for index, p in enumerate(properties):
            section = f"{target}: {target_title(target)}" if headed and index == 0 else ""
            rows.append(PropertyRow(p.description, STATUS_LABEL[p.status], p.examples, section, judged_precision(p)))
    return rows


def _block_rows(failure: FailureRecord, check: GradientRecord) -> list[BlockRow]:
    unexercised = unexercised_blocks(failure)
    return [
        BlockRow(
            b.name,
            b.difference,
            NOT_EXERCISED if b.name in unexercised else b.verdict.value,
            b.entries,
            b.kinks,
            b.saturated,
        )
        for b in check.blocks
    ]


def failure_view(failure: FailureRecord) -> FailureView:
    """The view of one failure, with its block table, worst entries and heat map data."""
    check: GradientRecord | None = failure.gradient_check
    view = FailureView(
        property=property_description(failure),
        kind=failure.kind.value,
        message=failure.message,
        examples_before=failure.examples_before,
        case=failure_case_text(failure),
        first_case=first_case_text(failure),
        likely_causes=[cause_text(cause) for cause in failure.likely_causes],
    )
    if check is None:
        return view
    return replace(
        view,
        difference=check.difference,
        threshold=check.threshold,
        epsilon=check.epsilon,
        method=check.method,
        blocks=_block_rows(failure, check),
        worst=[EntryRow(e.name, e.backprop, e.numerical, e.status.value) for e in check.worst_entries],
        heat=heat_blocks(failure),
    )


_GRADIENT_NAME = re.compile(r"\bd(?:W[1-3]|b[1-3]|theta)\b", re.IGNORECASE)
_ERROR_LINE = re.compile(r"\b(?:cell (\d+), )?line (\d+)\b")  # a notebook's errors name the cell


def _cause_lines(record: CheckRecord) -> dict[int, str]:
    """Line of the file -> the likely cause found there (the causes that name their line)."""
    lines: dict[int, str] = {}
    for failure in record.failures:
        for cause in failure.likely_causes:
            if cause.line is not None:
                lines.setdefault(cause.line, f"likely cause: {cause.description}")
    return lines


def _source_notes(record: CheckRecord) -> dict[str, str]:
    """Gradient name -> why its lines are highlighted, from every failure of the record."""
    notes: dict[str, str] = {}
    for failure in record.failures:  # the line a likely cause changes first: the mistake is there
        for cause in failure.likely_causes:
            if cause.variable and cause.line is None:  # a cause with its line: that line alone (_cause_lines)
                notes.setdefault(cause.variable, f"likely cause: {cause.description}")
    for failure in record.failures:
        check = failure.gradient_check
        if check is not None:
            for block in check.blocks:
                if block.verdict is Verdict.WRONG:
                    notes.setdefault(block.name, f"{block.name} is wrong (block difference {block.difference:.3g})")
        for name in _GRADIENT_NAME.findall(failure.message):
            notes.setdefault(name, f"{name} is named by: {property_description(failure)} ({failure.kind})")
    for name, count in record.wrong_blocks.items():
        notes.setdefault(name, f"{name} was wrong in {plural(count, 'failing generated case')}")
    return notes


def _summary(record: CheckRecord) -> str:
    if record.verdict is RunVerdict.PASS:
        return f"every property holds on {case_counts(record)}"
    if record.verdict is RunVerdict.ERROR:
        return f"the code could not be checked: {record.error or 'unknown error'}"
    blocks = ", ".join(record.wrong_blocks)
    failed = len(record.failures)
    head = f"{failed} propert{'y' if failed == 1 else 'ies'} failed"
    return f"{head}; wrong blocks: {blocks}" if blocks else head


def build_check_view(
    record: CheckRecord, *, created: datetime, search: list[Path] | None = None, rubric: Rubric = DEFAULT_RUBRIC
) -> CheckView:
    """The view of a check record. ``search``: folders to look for a relative target path in; ``rubric``: its score's."""
    notes = _source_notes(record)
    error_line = error_cell = None
    if record.verdict is RunVerdict.ERROR and record.error:
        match = _ERROR_LINE.search(record.error)
        if match:
            error_cell = int(match.group(1)) if match.group(1) else None
            error_line = int(match.group(2))
    source = None
    lines = _cause_lines(record)
    if notes or lines or error_line is not None:
        source = locate_source(
            record.target, notes, error_line=error_line, error_cell=error_cell, search=search, cause_lines=lines
        )
    target = target_label(record.target)
    header = Header(
        kind="check",
        title=f"gradharness check: {target}",
        verdict=record.verdict.value,
        verdict_label=record.verdict.value.upper(),
        summary=_summary(record),
        target=target,
        sha256=record.target.get("sha256"),
        created=created.isoformat(timespec="seconds"),
        environment=environment_rows(record.environment),
        settings=flatten_settings(record.settings),
        reproduce=record.reproduce,
    )
    return CheckView(
        header=header,
        properties=property_rows(record),
        failures=[failure_view(f) for f in record.failures],
        wrong_blocks=[Row(name, str(count)) for name, count in record.wrong_blocks.items()],
        diagnoses=[Row(name, str(count)) for name, count in record.diagnoses.items()],
        examples=record.examples,
        seconds=record.seconds,
        error=record.error,
        source=source,
        cases=case_counts(record),
        checked=checked_cases(record),
        notes=[str(note) for note in record.target.get("notes", [])],
        isolation=record.target.get("isolation") or None,
        output=record.target.get("output") or None,
        score=score_line(record, rubric),
    )
