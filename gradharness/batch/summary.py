"""A batch's summary: one plain row per checked file, collected from the check records.

The class statistics over the rows are :mod:`gradharness.batch.overview`.

Writing the files (per-file reports, summary.json/.csv/.html) is :mod:`gradharness.render.batch`.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from gradharness.batch.overview import class_statistics
from gradharness.batch.rubric import DEFAULT_RUBRIC, Rubric, score, unscored
from gradharness.check.verdict import Verdict
from gradharness.model.parameters import GRADIENT_NAMES
from gradharness.properties.properties import Property
from gradharness.records.batch import BatchSummary, RowCause, SummaryRow
from gradharness.records.check import CheckRecord, FailureRecord
from gradharness.records.status import FailureKind
from gradharness.records.store import load
from gradharness.records.verdict import RunVerdict

REASON_CHARACTERS = 200
"""A reason's length at most (a failure message's first line is cut at a word boundary beyond it)."""


def _smallest_network(record: CheckRecord) -> str | None:
    cases = [f for f in record.failures if f.case is not None]
    preferred = [f for f in cases if f.gradient_check is not None] or cases  # a wrong gradient's case first
    if not preferred:
        return None
    case = preferred[0].case or {}
    if "sizes" not in case:  # a building block's case
        return preferred[0].case_description
    return f"{'-'.join(str(n) for n in case['sizes'])}, m={case['m']}"


def _wrong_blocks(record: CheckRecord) -> list[str]:
    names = set(record.wrong_blocks)
    for failure in record.failures:
        if failure.property == Property.DERIVATIVE_1D.name and failure.kind is FailureKind.WRONG:
            names.add("dtheta")
    return _in_order(names)


def _in_order(names: set[str]) -> list[str]:
    order = {name: i for i, name in enumerate(GRADIENT_NAMES)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def _first_line(text: str, limit: int = REASON_CHARACTERS) -> str:
    """The first non-empty line of ``text``, cut at a word boundary to at most ``limit`` characters (then " …")."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(line) <= limit:
        return line
    head = line[: limit - 2]
    return (head.rsplit(" ", 1)[0] if " " in head else head) + " …"


def _failure_reason(failure: FailureRecord) -> str:
    """The likely causes, when there are any (and the wrong blocks they leave unexplained); else the message's first line."""
    if not failure.likely_causes:
        return _first_line(failure.message)
    wrong = (
        {b.name for b in failure.gradient_check.blocks if b.verdict is Verdict.WRONG}
        if failure.gradient_check
        else set()
    )
    explained = {block for cause in failure.likely_causes for block in cause.blocks}
    parts = [cause.description for cause in failure.likely_causes]
    if wrong - explained:
        parts.append(f"also wrong: {', '.join(_in_order(wrong - explained))}")
    return "; ".join(parts)


def reason(record: CheckRecord) -> str:
    """What went wrong with a file, in words, for its summary row ('' when every property held).

    An error's first line; else per failure its likely causes (``dW2 is 2 x the true gradient``)
    or, without any, its message's first line (``backward_propagation_n returned list, expected a
    dict of gradients``), each at most :data:`REASON_CHARACTERS` long.
    """
    if record.verdict is RunVerdict.ERROR:
        return _first_line(record.error or "could not be checked")
    return "; ".join(dict.fromkeys(_failure_reason(failure) for failure in record.failures))


def _causes(record: CheckRecord) -> list[RowCause]:
    seen: dict[tuple[str, str], RowCause] = {}
    for failure in record.failures:
        for cause in failure.likely_causes:
            row_cause = RowCause(cause.description, cause.operator, cause.fit)
            seen.setdefault(row_cause.key, row_cause)
    return list(seen.values())


def report_stem(path: Path, base: Path) -> str:
    """A file name for a file's reports, unique within the batch: its path below ``base``, '/' as '__'."""
    try:
        relative = path.resolve().relative_to(base)
    except ValueError:
        relative = Path(path.name)
    return re.sub(r"[^\w.+-]", "_", "__".join(relative.parts) or path.name)


def common_base(records: list[CheckRecord]) -> Path:
    parents = [str(Path(r.target.get("path", ".")).resolve().parent) for r in records]
    return Path(os.path.commonpath(parents)) if parents else Path.cwd()


def summarise(
    records: list[CheckRecord],
    reports: list[tuple[str, str | None, str]],
    base: Path,
    *,
    interrupted: bool = False,
    rubric: Rubric = DEFAULT_RUBRIC,
) -> BatchSummary:
    """The summary table of a batch (``reports`` as returned by :func:`gradharness.render.batch.write_reports`).

    ``interrupted``: the batch was stopped and ``records`` are the files that finished; ``rubric``:
    the points the scores are computed with.
    """
    rows = []
    for record, (json_name, html_name, text_name) in zip(records, reports, strict=True):
        path = Path(record.target.get("path", ""))
        try:
            shown = str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            shown = str(path)
        points = score(record, rubric)
        rows.append(
            SummaryRow(
                file=shown,
                verdict=record.verdict,
                exit_code=record.exit_code,
                wrong_blocks=_wrong_blocks(record),
                failed_properties=sorted({f.property for f in record.failures}),
                smallest_network=_smallest_network(record),
                error=record.error,
                seconds=round(record.seconds, 3),
                report_json=f"reports/{json_name}",
                report_html=f"reports/{html_name}" if html_name else None,
                report_text=f"reports/{text_name}",
                notes=list(record.target.get("notes") or []),
                reason="; ".join(filter(None, [reason(record), unscored(record, points)])),
                score=points.points,
                max_score=points.max_points,
                likely_causes=_causes(record),
            )
        )
    counts = {verdict.value: sum(1 for row in rows if row.verdict is verdict) for verdict in RunVerdict}
    settings = records[0].settings if records else {}
    created = datetime.now().astimezone().isoformat(timespec="seconds")
    return BatchSummary(
        created, settings, counts, rows, interrupted=interrupted,
        rubric={name: worth for record in records for name, worth in rubric.points_for(record).items()} or dict(rubric.points),
        statistics=class_statistics(rows, max((row.max_score for row in rows), default=rubric.max_points)),
    )  # fmt: skip


def load_summary(path: Path) -> BatchSummary:
    """Read a summary.json written by :func:`gradharness.render.batch.write_batch` (what is not one is refused)."""
    return load(path, BatchSummary)
