"""Write a batch's files: per file a JSON record, a text and an HTML report; the summary as JSON, CSV and HTML.

The CSV and JSON rows carry each file's score and reason; summary.json also has the class ``statistics``.

The summary's rows are collected by :mod:`gradharness.batch.summary`; this module only renders and writes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rich.console import Console

from gradharness.batch.rubric import DEFAULT_RUBRIC, Rubric, score_label
from gradharness.batch.summary import common_base, report_stem, summarise
from gradharness.records.batch import BatchSummary
from gradharness.records.check import CheckRecord
from gradharness.records.serialise import to_json
from gradharness.records.store import save, write_text_atomic
from gradharness.render.html import write_report
from gradharness.render.html.render import render_summary
from gradharness.render.safe_text import MESSAGE_BYTES, csv_cell, shown
from gradharness.render.tallies import score_line
from gradharness.render.terminal import render_record

CSV_COLUMNS = (
    "file", "verdict", "exit_code", "score", "max_score", "reason", "wrong_blocks", "failed_properties",
    "smallest_network", "error", "seconds", "report_json", "report_html",
)  # fmt: skip
# Text from the user (a reason quotes the user's messages): shown escaped and never as a formula; the rest is ours.
_USER_COLUMNS = ("file", "error", "reason")
_SCORE_COLUMNS = ("score", "max_score")


def _text_report(record: CheckRecord, rubric: Rubric) -> str:
    buffer = io.StringIO()
    render_record(Console(file=buffer, width=120, color_system=None, highlight=False, soft_wrap=True), record)
    notes = record.target.get("notes") or []
    return (
        buffer.getvalue()
        + "".join(f"note: {shown(str(note), MESSAGE_BYTES)}\n" for note in notes)
        + shown(score_line(record, rubric), MESSAGE_BYTES)
        + "\n"
    )


def _html_report(record: CheckRecord, path: Path, rubric: Rubric) -> str | None:
    try:
        write_report(record, path, rubric=rubric)
    except Exception as exc:  # a rendering problem must not stop the batch; the JSON is still there
        message = shown(f"{type(exc).__name__}: {exc}", MESSAGE_BYTES)
        # Beside the text report, not over it: NAME.txt is the file's result as the terminal shows it.
        write_text_atomic(path.with_name(path.name + ".error.txt"), f"HTML report failed: {message}\n")
        return None
    return path.name


def write_reports(
    records: list[CheckRecord], folder: Path, rubric: Rubric = DEFAULT_RUBRIC
) -> list[tuple[str, str | None, str]]:
    """Per file: ``NAME.json`` (the record), ``NAME.txt`` (as the terminal shows it, with the score), ``NAME.html``."""
    folder.mkdir(parents=True, exist_ok=True)
    base = common_base(records)
    written = []
    used: set[str] = set()
    for record in records:
        stem = report_stem(Path(record.target.get("path", "file")), base)
        while stem in used:
            stem += "_"
        used.add(stem)
        save(record, folder / f"{stem}.json")
        write_text_atomic(folder / f"{stem}.txt", _text_report(record, rubric))
        html = _html_report(record, folder / f"{stem}.html", rubric)
        written.append((f"{stem}.json", html, f"{stem}.txt"))
    return written


def _csv_value(column: str, value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(map(str, value))
    if column in _USER_COLUMNS:
        return csv_cell(shown(str(value), MESSAGE_BYTES))
    if column in _SCORE_COLUMNS and isinstance(value, (int, float)):
        return score_label(value)
    return value


def summary_csv(summary: BatchSummary) -> str:
    """The table as CSV (lists joined with spaces; the user's file names and errors escaped, capped, never formulas)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in summary.rows:
        values = to_json(row)
        writer.writerow([_csv_value(column, values[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


def write_batch(
    records: list[CheckRecord],
    out: Path,
    base: Path | None = None,
    *,
    interrupted: bool = False,
    rubric: Rubric = DEFAULT_RUBRIC,
) -> tuple[BatchSummary, dict[str, Path]]:
    """Write ``out/reports/*`` and ``out/summary.json``, ``.csv``, ``.html``; return the summary and the paths.

    ``interrupted``: the batch was stopped; the summary, marked so, lists the files that finished.
    ``rubric``: the points per property of every score (:mod:`gradharness.batch.rubric`).
    """
    out = Path(out)
    reports = write_reports(records, out / "reports", rubric)
    summary = summarise(records, reports, base or Path.cwd(), interrupted=interrupted, rubric=rubric)
    paths = {"json": out / "summary.json", "csv": out / "summary.csv", "html": out / "summary.html"}
    save(summary, paths["json"])
    write_text_atomic(paths["csv"], summary_csv(summary))
    write_text_atomic(paths["html"], render_summary(summary))
    return summary, paths
