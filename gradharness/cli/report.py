"""`gradharness report RESULTS.json` and the `--html [FILE]` option shared by the commands that write reports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import click

from gradharness.cli.output import special_file, write_text, writing
from gradharness.records.check import CheckRecord
from gradharness.records.mutation import MutateRecord, SensitivityRecord
from gradharness.records.store import load

AnyRecord = CheckRecord | MutateRecord | SensitivityRecord

DEFAULT = "\0default"  # --html given without a FILE
_SOURCE_SUFFIXES = (".py", ".ipynb", ".json")


def _html_value(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None or value == DEFAULT:
        return value
    if value.lower().endswith(_SOURCE_SUFFIXES):
        raise click.BadParameter(
            f"{value!r} looks like an input, not a report; put --html after the other arguments or write --html=FILE.html",
            param=param,
        )
    return value


def html_option(function: Callable) -> Callable:
    """``--html [FILE]``: write an HTML report to FILE, or to reports/ under a timestamped name."""
    return click.option(
        "--html",
        "html_path",
        is_flag=False,
        flag_value=DEFAULT,
        default=None,
        metavar="[FILE]",
        callback=_html_value,
        help="Write an HTML report to FILE (default: reports/ with a timestamped name, listed in reports/index.html).",
    )(function)


def _write_report(record: Any, path: Path | None, search: list[Path] | None = None, rubric: Any = None) -> Path:
    """The HTML report at ``path`` (None: reports/ under a timestamped name); failures as ``cannot write``."""
    from gradharness.render.html import DEFAULT_FOLDER, render_report, write_report

    if path is not None and special_file(path):
        write_text(path, render_report(record, search=search, rubric=rubric))
        return path
    with writing(path or DEFAULT_FOLDER):
        return write_report(record, path, search=search, rubric=rubric)


def write_html(record: Any, html_path: str | None, search: list[Path] | None = None, rubric: Any = None) -> Path | None:
    """Write the report asked for by ``--html`` (nothing when it was not given); say where on stderr.

    ``rubric``: what a check's score is counted by (None: the default rubric)."""
    if html_path is None:
        return None
    path = _write_report(record, None if html_path == DEFAULT else Path(html_path), search=search, rubric=rubric)
    click.echo(f"gradharness: report written to {path}", err=True)
    return path


def load_any(path: Path) -> AnyRecord:
    """A check, mutate or sensitivity record from a results file (chosen by its ``kind``)."""
    return cast(AnyRecord, load(path, CheckRecord, MutateRecord, SensitivityRecord))


@click.command("report")
@click.argument("results", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report here (default: reports/ with a timestamped name, listed in reports/index.html).",
)
def report(results: Path, html_path: Path | None) -> None:
    """Render saved RESULTS (JSON of check, mutate or sensitivity) as an HTML report."""
    record = load_any(results)
    click.echo(str(_write_report(record, html_path, search=[results.resolve().parent])))
