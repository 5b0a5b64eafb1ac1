"""`gradharness check DIR_OR_GLOB...`: the batch behind the CLI (the CLI only parses and exits)."""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gradharness.batch.discover import discover
from gradharness.batch.runner import error_record, run_batch
from gradharness.errors import GradHarnessError
from gradharness.records.check import CheckRecord
from gradharness.records.verdict import RunVerdict
from gradharness.render.batch import write_batch
from gradharness.settings import FunctionNames, RunSettings

_STYLE = {RunVerdict.PASS: "green", RunVerdict.FAIL: "red", RunVerdict.ERROR: "yellow"}


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
    quiet: bool,
    console: Console,
    err: Console,
) -> int:
    """Check every file, write the reports and summaries, print a table; return the exit code."""
    inputs = discover(arguments)
    if not inputs.files and not inputs.unmatched:
        raise GradHarnessError(f"no .py or .ipynb files in {' '.join(arguments)}")
    if not inputs.files:
        raise GradHarnessError(f"nothing matches {', '.join(inputs.unmatched)}")
    if inputs.helpers and not quiet:
        err.print(
            f"gradharness: note: skipped {len(inputs.helpers)} helper modules "
            f"({', '.join(sorted({p.name for p in inputs.helpers}))})",
            highlight=False,
            markup=False,
        )
    executor = dask_executor(dask) if dask else None

    def done(count: int, total: int, record: CheckRecord) -> None:
        if not quiet:
            style = _STYLE[record.verdict]
            console.print(
                f"[{count}/{total}] [{style}]{record.verdict.value.upper()}[/] {escape(record.target.get('path', ''))}"
                f" [dim]({record.seconds:.1f} s)[/]"
            )

    records = run_batch(
        list(inputs.files), run, names=names, timeout=timeout, executor=executor, jobs=jobs, on_done=done
    )
    records += [error_record(Path(p), run, f"{p}: no such file, and no file matches it") for p in inputs.unmatched]
    summary, paths = write_batch(records, out)
    if not quiet:
        table = Table(box=None, padding=(0, 2))
        table.add_column("file", overflow="fold")
        for column in ("verdict", "wrong blocks", "smallest failing network"):
            table.add_column(column, no_wrap=True)
        for row in summary.rows:
            table.add_row(
                escape(row.file),
                f"[{_STYLE[row.verdict]}]{row.verdict.value.upper()}[/]",
                ", ".join(row.wrong_blocks),
                row.smallest_network or "",
            )
        console.print(table)
        for row in summary.rows:
            if row.error:
                console.print(f"  {row.file}: {row.error}", highlight=False, markup=False)
    counts = summary.counts
    console.print(
        f"{counts['pass']} pass, {counts['fail']} fail, {counts['error']} not checked; "
        f"summary: {paths['html']} (also .json, .csv); reports in {out / 'reports'}",
        highlight=False,
        markup=False,
    )
    return summary.exit_code
