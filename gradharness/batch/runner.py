"""Check files in parallel on any ``concurrent.futures.Executor``; one bad file never stops the batch.

Each check already runs the user's code in its own worker process (gradharness.isolation.sandbox),
so the default executor is a thread pool that waits on those processes. Dask's
``Client.get_executor()`` spreads the checks over a cluster (the files must be
readable at the same paths on its workers).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from pathlib import Path

from gradharness.isolation.processes import default_jobs
from gradharness.judge.checks import DEFAULT_TIMEOUT, check_file
from gradharness.judge.reproduce import reproduce_command
from gradharness.records.check import CheckRecord
from gradharness.records.environment import environment
from gradharness.records.serialise import to_json
from gradharness.records.verdict import RunVerdict
from gradharness.settings import FunctionNames, RunSettings

Done = Callable[[int, int, CheckRecord], None]


def check_one(path: Path, run: RunSettings, names: FunctionNames, timeout: float) -> CheckRecord:
    """Check one file (a module-level function, so any executor can run it)."""
    return check_file(Path(path), run, names=names, timeout=timeout)


def error_record(path: Path, run: RunSettings, message: str) -> CheckRecord:
    """A record for a file that could not be checked at all."""
    return CheckRecord(
        target={"path": str(path), "sha256": None, "functions": []},
        settings=to_json(run),
        verdict=RunVerdict.ERROR,
        properties=[],
        error=message,
        reproduce=reproduce_command(Path(path), run),
        environment=environment(),
    )


def run_batch(
    files: list[Path] | tuple[Path, ...],
    run: RunSettings,
    *,
    names: FunctionNames | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    executor: Executor | None = None,
    jobs: int | None = None,
    on_done: Done | None = None,
) -> list[CheckRecord]:
    """Check every file with the same settings; records come back in the order of ``files``.

    - ``executor``: any ``concurrent.futures.Executor`` (default: a thread pool of ``jobs``).
    - ``on_done(done, total, record)``: called as each file finishes.
    """
    names = names or FunctionNames()
    files = [Path(f).resolve() for f in files]
    own = executor is None
    pool: Executor = executor if executor is not None else ThreadPoolExecutor(max_workers=jobs or default_jobs())
    records: list[CheckRecord | None] = [None] * len(files)
    try:
        futures: dict[Future, int] = {pool.submit(check_one, f, run, names, timeout): i for i, f in enumerate(files)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # the executor lost the task (a cluster worker died, ...)
                record = error_record(
                    files[index], run, f"{files[index].name}: not checked: {type(exc).__name__}: {exc}"
                )
            records[index] = record
            if on_done is not None:
                on_done(done, len(files), record)
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in records if r is not None]
