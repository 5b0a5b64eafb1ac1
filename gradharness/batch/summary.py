"""A batch's summary: one plain row per checked file, collected from the check records.

Writing the files (per-file reports, summary.json/.csv/.html) is :mod:`gradharness.render.batch`.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from gradharness.model.parameters import GRADIENT_NAMES
from gradharness.properties.properties import Property
from gradharness.records.batch import BatchSummary, SummaryRow
from gradharness.records.check import CheckRecord
from gradharness.records.status import FailureKind
from gradharness.records.store import load
from gradharness.records.verdict import RunVerdict


def _smallest_network(record: CheckRecord) -> str | None:
    cases = [f for f in record.failures if f.case is not None]
    preferred = [f for f in cases if f.property == Property.GRADIENT_AGREES.name] or cases
    if not preferred:
        return None
    case = preferred[0].case or {}
    return f"{'-'.join(str(n) for n in case['sizes'])}, m={case['m']}"


def _wrong_blocks(record: CheckRecord) -> list[str]:
    names = set(record.wrong_blocks)
    for failure in record.failures:
        if failure.property == Property.DERIVATIVE_1D.name and failure.kind is FailureKind.WRONG:
            names.add("dtheta")
    order = {name: i for i, name in enumerate(GRADIENT_NAMES)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


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
    records: list[CheckRecord], reports: list[tuple[str, str | None, str]], base: Path, *, interrupted: bool = False
) -> BatchSummary:
    """The summary table of a batch (``reports`` as returned by :func:`gradharness.render.batch.write_reports`).

    ``interrupted``: the batch was stopped and ``records`` are the files that finished.
    """
    rows = []
    for record, (json_name, html_name, text_name) in zip(records, reports, strict=True):
        path = Path(record.target.get("path", ""))
        try:
            shown = str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            shown = str(path)
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
            )
        )
    counts = {verdict.value: sum(1 for row in rows if row.verdict is verdict) for verdict in RunVerdict}
    settings = records[0].settings if records else {}
    created = datetime.now().astimezone().isoformat(timespec="seconds")
    return BatchSummary(created, settings, counts, rows, interrupted=interrupted)


def load_summary(path: Path) -> BatchSummary:
    """Read a summary.json written by :func:`gradharness.render.batch.write_batch` (what is not one is refused)."""
    return load(path, BatchSummary)
