"""Check files in parallel on any ``concurrent.futures.Executor``; one bad file never stops the batch.

The judge (Hypothesis and the checker) runs inside ``check_file`` and each file's code in an
evaluator process of its own, so the default executor is a process pool of judge workers.
Dask's ``Client.get_executor()`` spreads the checks over a cluster (the files must be readable
at the same paths on its workers).

A batch that is stopped (Ctrl-C, or the CLI's SIGTERM and SIGHUP, all ``KeyboardInterrupt``)
kills its own workers at once, with every process below them, and raises
:class:`BatchInterrupted` holding the records of the files that finished.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from pathlib import Path

from gradharness.batch.discover import shared_folders
from gradharness.isolation.jail import sweep_free_uids
from gradharness.isolation.processes import (
    STOP_SIGNALS,
    default_jobs,
    ignore_signal,
    kill_pool,
    kill_tree,
    signals_held,
)
from gradharness.judge.checks import DEFAULT_TIMEOUT, check_file
from gradharness.judge.reproduce import reproduce_command
from gradharness.mutation.causes import explain
from gradharness.records.check import CheckRecord
from gradharness.records.environment import environment
from gradharness.records.serialise import to_json
from gradharness.records.verdict import RunVerdict
from gradharness.settings import FunctionNames, IsolationSettings, RunSettings

Done = Callable[[int, int, CheckRecord], None]


class BatchInterrupted(KeyboardInterrupt):
    """The batch was stopped: ``records`` are the files that finished (in the order given), ``interrupt`` what stopped it."""

    def __init__(self, records: list[CheckRecord], interrupt: KeyboardInterrupt) -> None:
        super().__init__()
        self.records = records
        self.interrupt = interrupt


def check_one(
    path: Path,
    run: RunSettings,
    names: FunctionNames,
    timeout: float,
    isolation: IsolationSettings | None = None,
    siblings: bool = True,
) -> CheckRecord:
    """Check one file (a module-level function, so any executor can run it), with the likely causes of what it got wrong."""
    return explain(check_file(Path(path), run, names=names, timeout=timeout, isolation=isolation, siblings=siblings))


def error_record(
    path: Path,
    run: RunSettings,
    message: str,
    isolation: IsolationSettings | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> CheckRecord:
    """A record for a file that could not be checked at all."""
    return CheckRecord(
        target={"path": str(path), "sha256": None, "functions": []},
        settings=to_json(run),
        verdict=RunVerdict.ERROR,
        properties=[],
        error=message,
        reproduce=reproduce_command(Path(path), run, isolation=isolation, timeout=timeout),
        environment=environment(),
    )


def _judge_worker(scratch: str | None) -> None:
    # Ctrl-C and a hang-up reach the terminal's whole process group; the batch's own process decides
    # and ends the workers. A handler (not SIG_IGN) so that the evaluators they start get the defaults.
    for signum in STOP_SIGNALS:
        # A forked worker has the batch's own handlers: SIGTERM ends it as it ends a started one.
        signal.signal(signum, signal.SIG_DFL if signum == signal.SIGTERM else ignore_signal)
    if scratch is not None:
        tempfile.tempdir = scratch


def judge_pool(jobs: int, scratch: str | None = None) -> ProcessPoolExecutor:
    """``jobs`` judge workers, each with the judge already imported (on Linux).

    Forked from this process, which imported the judge, when it runs no other thread (a fork
    copies no thread, so a lock another thread held would stay held in the worker); else
    started from a fork server that imports the judge once. ``scratch``: the folder the workers
    make their temporary folders in (the evaluators' jails), so that whoever owns it can remove
    them even when the workers were killed.
    """
    # The fork server (and spawned workers) start as ``python -c``, which would put the current
    # folder first on sys.path: a submissions folder may hold a numpy.py the judge must never import.
    os.environ["PYTHONSAFEPATH"] = "1"
    context: multiprocessing.context.BaseContext | None = None
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        context = multiprocessing.get_context("fork")
    elif sys.platform.startswith("linux"):
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload(["gradharness.judge.checks"])
        context = forkserver
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_judge_worker, initargs=(scratch,))


@contextlib.contextmanager
def _scratch() -> Iterator[str]:
    """A temporary folder for an own pool's workers, removed at the end however the batch ends."""
    folder = tempfile.mkdtemp(prefix="gradharness-batch-")
    try:
        os.chmod(folder, 0o711)  # each evaluator, maybe under a uid of its own, reaches its jail; none lists the others
        yield folder
    finally:
        with signals_held():
            shutil.rmtree(folder, ignore_errors=True)


def _stop(pool: Executor, own: bool, futures: dict[Future, int]) -> None:
    """Cancel what has not started; kill an own pool's workers, and everything they started, at once."""
    with signals_held():
        for future in futures:
            future.cancel()
        if own and isinstance(pool, ProcessPoolExecutor):
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                if process.pid is not None:
                    kill_tree(process.pid)
            kill_pool(pool)
            sweep_free_uids()  # what the killed workers' evaluators started under uids of their own


def run_batch(
    files: list[Path] | tuple[Path, ...],
    run: RunSettings,
    *,
    names: FunctionNames | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    executor: Executor | None = None,
    jobs: int | None = None,
    on_done: Done | None = None,
    isolation: IsolationSettings | None = None,
) -> list[CheckRecord]:
    """Check every file with the same settings; records come back in the order of ``files``.

    - ``executor``: any ``concurrent.futures.Executor`` (default: :func:`judge_pool` of ``jobs``).
    - ``on_done(done, total, record)``: called as each file finishes.
    - ``isolation``: how every file's code is jailed. A file alone in its folder gets the helper
      modules beside it; files that share a folder get none of them.

    Raises :class:`BatchInterrupted` (a ``KeyboardInterrupt``) when stopped, with the finished records.
    """
    names = names or FunctionNames()
    files = [Path(f).resolve() for f in files]
    if executor is not None:
        return _run(files, run, names, timeout, executor, False, on_done, isolation)
    with _scratch() as scratch:
        pool = judge_pool(max(1, min(jobs or default_jobs(), len(files))), scratch)
        return _run(files, run, names, timeout, pool, True, on_done, isolation)


def largest_first(files: list[Path]) -> list[int]:
    """The indices of ``files``, largest file first: the long checks start early, the batch ends on short ones.

    (A file's size stands for how long its check takes: more functions, notebooks' outputs.)
    """

    def size(index: int) -> int:
        try:
            return files[index].stat().st_size
        except OSError:
            return 0

    return sorted(range(len(files)), key=lambda index: -size(index))


def _run(
    files: list[Path],
    run: RunSettings,
    names: FunctionNames,
    timeout: float,
    pool: Executor,
    own: bool,
    on_done: Done | None,
    isolation: IsolationSettings | None,
) -> list[CheckRecord]:
    shared = shared_folders(files)
    records: list[CheckRecord | None] = [None] * len(files)
    futures: dict[Future, int] = {}
    try:
        for index in largest_first(files):
            file = files[index]
            future = pool.submit(check_one, file, run, names, timeout, isolation, file.parent not in shared)
            futures[future] = index
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # the executor lost the task (a cluster worker died, ...)
                message = f"{files[index].name}: not checked: {type(exc).__name__}: {exc}"
                record = error_record(files[index], run, message, isolation, timeout)
            records[index] = record
            if on_done is not None:
                on_done(done, len(files), record)
    except KeyboardInterrupt as exc:
        _stop(pool, own, futures)
        raise BatchInterrupted([r for r in records if r is not None], exc) from None
    except BaseException:
        _stop(pool, own, futures)
        raise
    if own:
        pool.shutdown(wait=True)
    return [r for r in records if r is not None]
