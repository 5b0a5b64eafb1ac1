"""The batch's outputs: one report per file, and a summary table as JSON, CSV and HTML.

Rows are plain data built from the check records; the HTML is rendered from a Jinja2
template (package data, autoescape on); the per-file HTML uses the report renderer.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gradharness.model.parameters import GRADIENT_NAMES
from gradharness.records.check import CheckRecord, json_ready, save, write_json_atomic, write_text_atomic

SCHEMA_VERSION = 1
CSV_COLUMNS = (
    "file", "verdict", "exit_code", "wrong_blocks", "failed_properties", "smallest_network", "error", "seconds",
    "report_json", "report_html",
)  # fmt: skip


@dataclass(frozen=True)
class SummaryRow:
    """One file's line in the summary table."""

    file: str
    verdict: str
    exit_code: int
    wrong_blocks: list[str]
    failed_properties: list[str]
    smallest_network: str | None
    error: str | None
    seconds: float
    report_json: str
    report_html: str | None
    report_text: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BatchSummary:
    """The whole batch: settings shared by every file, counts, rows."""

    created: str
    settings: dict[str, Any]
    counts: dict[str, int]
    rows: list[SummaryRow]
    kind: str = "batch"
    schema_version: int = SCHEMA_VERSION

    @property
    def exit_code(self) -> int:
        """0 when every file passed, 1 when any failed or could not be checked."""
        return 0 if all(row.verdict == "pass" for row in self.rows) else 1


def _smallest_network(record: CheckRecord) -> str | None:
    cases = [f for f in record.failures if f.case is not None]
    preferred = [f for f in cases if f.property == "GRADIENT_AGREES"] or cases
    if not preferred:
        return None
    case = preferred[0].case or {}
    return f"{'-'.join(str(n) for n in case['sizes'])}, m={case['m']}"


def _wrong_blocks(record: CheckRecord) -> list[str]:
    names = set(record.wrong_blocks)
    for failure in record.failures:
        if failure.property == "DERIVATIVE_1D" and failure.kind == "wrong":
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


def _common_base(records: list[CheckRecord]) -> Path:
    parents = [str(Path(r.target.get("path", ".")).resolve().parent) for r in records]
    return Path(os.path.commonpath(parents)) if parents else Path.cwd()


def _text_report(record: CheckRecord) -> str:
    from rich.console import Console

    from gradharness.render.terminal import render_record

    buffer = io.StringIO()
    render_record(Console(file=buffer, width=120, color_system=None, highlight=False, soft_wrap=True), record)
    notes = record.target.get("notes") or []
    return buffer.getvalue() + "".join(f"note: {note}\n" for note in notes)


def _html_report(record: CheckRecord, path: Path) -> str | None:
    try:
        from gradharness.render.html import write_report
    except ImportError:  # the HTML report renderer is not installed in this build
        return None
    try:
        write_report(record, path)
    except Exception as exc:  # a rendering problem must not stop the batch; the JSON is still there
        write_text_atomic(path.with_suffix(".txt"), f"HTML report failed: {type(exc).__name__}: {exc}\n")
        return None
    return path.name


def write_reports(records: list[CheckRecord], folder: Path) -> list[tuple[str, str | None, str]]:
    """Per file: ``NAME.json`` (the record), ``NAME.txt`` (as the terminal shows it), ``NAME.html``."""
    folder.mkdir(parents=True, exist_ok=True)
    base = _common_base(records)
    written = []
    used: set[str] = set()
    for record in records:
        stem = report_stem(Path(record.target.get("path", "file")), base)
        while stem in used:
            stem += "_"
        used.add(stem)
        save(record, folder / f"{stem}.json")
        write_text_atomic(folder / f"{stem}.txt", _text_report(record))
        html = _html_report(record, folder / f"{stem}.html")
        written.append((f"{stem}.json", html, f"{stem}.txt"))
    return written


def summarise(records: list[CheckRecord], reports: list[tuple[str, str | None, str]], base: Path) -> BatchSummary:
    """The summary table of a batch (``reports`` as returned by :func:`write_reports`)."""
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
    counts = {verdict: sum(1 for row in rows if row.verdict == verdict) for verdict in ("pass", "fail", "error")}
    settings = records[0].settings if records else {}
    return BatchSummary(datetime.now().astimezone().isoformat(timespec="seconds"), settings, counts, rows)


def summary_csv(summary: BatchSummary) -> str:
    """The table as CSV (lists joined with spaces)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in summary.rows:
        values = asdict(row)
        writer.writerow(
            [" ".join(v) if isinstance(v, list) else ("" if v is None else v) for v in (values[c] for c in CSV_COLUMNS)]
        )
    return buffer.getvalue()


def summary_html(summary: BatchSummary) -> str:
    """The table as a self-contained HTML page."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    environment = Environment(
        loader=PackageLoader("gradharness.batch", "templates"), autoescape=True, undefined=StrictUndefined
    )
    return environment.get_template("summary.html.j2").render(summary=summary)


def write_batch(
    records: list[CheckRecord], out: Path, base: Path | None = None
) -> tuple[BatchSummary, dict[str, Path]]:
    """Write ``out/reports/*`` and ``out/summary.json``, ``.csv``, ``.html``; return the summary and the paths."""
    out = Path(out)
    reports = write_reports(records, out / "reports")
    summary = summarise(records, reports, base or Path.cwd())
    paths = {"json": out / "summary.json", "csv": out / "summary.csv", "html": out / "summary.html"}
    write_json_atomic(paths["json"], json_ready(asdict(summary)))
    write_text_atomic(paths["csv"], summary_csv(summary))
    write_text_atomic(paths["html"], summary_html(summary))
    return summary, paths


def load_summary(path: Path) -> BatchSummary:
    """Read a summary.json written by :func:`write_batch` (other schema versions are rejected)."""
    import json

    from gradharness.errors import ResultsFormatError

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("kind") != "batch" or data.get("schema_version") != SCHEMA_VERSION:
        raise ResultsFormatError(f"{path}: not a batch summary of schema_version {SCHEMA_VERSION}")
    try:
        rows = [SummaryRow(**row) for row in data["rows"]]
        return BatchSummary(data["created"], data["settings"], data["counts"], rows)
    except (KeyError, TypeError) as exc:
        raise ResultsFormatError(f"{path}: {exc}") from None
