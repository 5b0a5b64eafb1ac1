"""`gradharness check DIR_OR_GLOB...`: the batch behind the CLI (the CLI only parses and exits)."""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from gradharness.batch.discover import BatchInputs, discover, shared_folders
from gradharness.batch.rubric import DEFAULT_RUBRIC, Rubric, score_label
from gradharness.batch.runner import BatchInterrupted, error_record, run_batch
from gradharness.cli.output import check_folder, write_junit, writing
from gradharness.errors import GradHarnessError
from gradharness.records.batch import BatchSummary
from gradharness.records.check import CheckRecord
from gradharness.records.verdict import RunVerdict
from gradharness.render.batch import write_batch
from gradharness.render.safe_text import MESSAGE_BYTES, shown, shown_markup
from gradharness.settings import FunctionNames, IsolationSettings, RunSettings

_STYLE = {RunVerdict.PASS: "green", RunVerdict.FAIL: "red", RunVerdict.ERROR: "yellow"}
PIPE_WIDTH = 120
"""The batch table's width at least when the output is not a terminal (a pipe, a file, a CI log)."""


def dask_executor(address: str) -> Executor:
    """``Client(address).get_executor()``: the checks run on a Dask cluster's workers."""
    try:
        from distributed import Client
    except ImportError:
        raise GradHarnessError("--dask needs Dask distributed: pip install 'gradharness[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise GradHarnessError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    return client.get_executor()


def batch_check(
    arguments: list[str],
    run: RunSettings,
    *,
    names: FunctionNames,
    timeout: float,
    out: Path,
    jobs: int | None,
    dask: str | None,
    isolation: IsolationSettings | None = None,
    quiet: bool,
    console: Console,
    err: Console,
    rubric: Rubric = DEFAULT_RUBRIC,
    junit: Path | None = None,
) -> int:
    """Check every file, write the reports and summaries (and ``junit``), print a table; return the exit code.

    Stopped (Ctrl-C, a signal), the batch still writes and prints the summary of the files that
    finished, marked interrupted, then raises the interrupt. The --out folder is tried first: a
    folder that cannot be written fails before anything is checked. ``rubric``: the points per
    property of each file's score.
    """
    inputs = _inputs(arguments, quiet, err)
    check_folder(out)
    executor = dask_executor(dask) if dask else None

    def done(count: int, total: int, record: CheckRecord) -> None:
        if not quiet:
            style = _STYLE[record.verdict]
            console.print(
                f"[{count}/{total}] [{style}]{record.verdict.value.upper()}[/] {shown_markup(record.target.get('path', ''))}"
                f" [dim]({record.seconds:.1f} s)[/]"
            )

    interrupt: KeyboardInterrupt | None = None
    try:
        records = run_batch(
            list(inputs.files), run, names=names, timeout=timeout, executor=executor, jobs=jobs, on_done=done,
            isolation=isolation,
        )  # fmt: skip
    except BatchInterrupted as stopped:
        records, interrupt = stopped.records, stopped.interrupt
    records += [
        error_record(Path(p), run, f"{p}: no such file, and no file matches it", isolation) for p in inputs.unmatched
    ]
    total = len(inputs.files) + len(inputs.unmatched)
    stopped_after = f"interrupted after {len(records)} of {total} files: " if interrupt is not None else ""
    try:
        with writing(out):
            summary, paths = write_batch(records, out, interrupted=interrupt is not None, rubric=rubric)
    except GradHarnessError:
        counts = {verdict.value: sum(1 for r in records if r.verdict is verdict) for verdict in RunVerdict}
        console.print(f"{stopped_after}{_counts(counts)}", highlight=False, markup=False)
        raise
    write_junit(records, rubric, junit, names=[row.file for row in summary.rows])
    if not quiet:
        print_table(console, summary)
    console.print(
        f"{stopped_after}{_counts(summary.counts)}; "
        f"summary: {paths['html']} (also .json, .csv); reports in {out / 'reports'}",
        highlight=False,
        markup=False,
    )
    if interrupt is not None:
        raise interrupt
    return summary.exit_code


def _counts(counts: dict[str, int]) -> str:
    return f"{counts['pass']} pass, {counts['fail']} fail, {counts['error']} not checked"


def _inputs(arguments: list[str], quiet: bool, err: Console) -> BatchInputs:
    """The files to check (an error when there are none), with notes on the helper modules found among them."""
    inputs = discover(arguments)
    if not inputs.files and not inputs.unmatched:
        raise GradHarnessError(f"no .py or .ipynb files in {' '.join(arguments)}")
    if not inputs.files:
        raise GradHarnessError(f"nothing matches {', '.join(inputs.unmatched)}")
    notes = []
    if inputs.helpers:
        notes.append(
            f"skipped {len(inputs.helpers)} helper modules ({shown(', '.join(sorted({p.name for p in inputs.helpers})))})"
        )
    if inputs.links:
        names = shown(", ".join(sorted(p.name for p in inputs.links)[:10]))
        notes.append(
            f"skipped {len(inputs.links)} symbolic links found in the folders ({names}); name a file to check it anyway"
        )
    shared_helpers = [p for p in inputs.helpers if p.resolve().parent in shared_folders(inputs.files)]
    if shared_helpers:
        notes.append(
            f"{len(shared_helpers)} helper modules lie among several submissions and are given to none of them; "
            "pass trusted helpers with --helpers DIR"
        )
    for note in notes if not quiet else []:
        err.print(f"gradharness: note: {note}", highlight=False, markup=False)
    return inputs


def print_table(console: Console, summary: BatchSummary) -> None:
    """The batch table (file, verdict, score, wrong blocks, smallest failing network), then why each file failed.

    On a terminal the file names fold to its width; elsewhere (a pipe, a file) the table is as
    wide as its longest row, and at least :data:`PIPE_WIDTH`, so that no name is folded.
    """
    table = Table(box=None, padding=(0, 2))
    table.add_column("file", overflow="fold")
    for column in ("verdict", "score", "wrong blocks", "smallest failing network"):
        table.add_column(column, no_wrap=True, justify="right" if column == "score" else "left")
    for row in summary.rows:
        table.add_row(
            shown_markup(row.file),
            f"[{_STYLE[row.verdict]}]{row.verdict.value.upper()}[/]",
            f"{score_label(row.score)}/{score_label(row.max_score)}" if row.max_score else "",
            ", ".join(row.wrong_blocks),
            row.smallest_network or "",
        )
    if console.is_terminal:
        console.print(table)
    else:
        natural = Measurement.get(console, console.options.update_width(10**6), table).maximum
        saved = console.width
        console.width = max(PIPE_WIDTH, natural)
        try:
            console.print(table)
        finally:
            console.width = saved
    for row in summary.rows:
        text = row.error or (row.reason if row.verdict is not RunVerdict.PASS else "")
        if text:
            console.print(f"  {shown(row.file)}: {shown(text, MESSAGE_BYTES)}", highlight=False, markup=False)
