"""Run tasks on any ``concurrent.futures.Executor``, so that a hang or a crash costs one task.

By default a process pool of ``jobs`` workers is created (and owned). Any other executor
(Dask's ``Client.get_executor()``, a thread pool in tests) can be passed in. At most
``jobs`` tasks are in flight, so a task's age is its running time. Two failure modes of
the code under test are contained:

* a task past its time limit (plus a grace period; the worker's own timer normally
  fires first) is reported timed out; an owned pool is killed and restarted and the
  other tasks in flight are resubmitted;
* a task that ends its worker process (``os._exit``, a segfault) breaks a process pool;
  the tasks that were in flight are then re-run one at a time to find which one did it.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gradharness.isolation.processes import default_jobs, kill_pool

Item = TypeVar("Item")
Result = TypeVar("Result")

GRACE_SECONDS = 5.0
"""How long past a task's time limit the runner waits before it gives up on the task from outside."""


@dataclass(frozen=True)
class Lost(Generic[Item]):
    """What the runner reports for a task it could not get a result for."""

    item: Item
    reason: str  # "timeout" or "worker_exit"


def _pool(jobs: int) -> ProcessPoolExecutor:
    # fork starts workers in milliseconds with gradharness already imported; elsewhere use the default.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork") if "fork" in methods else None
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context)


class TaskRunner:
    """Runs ``function(*shared, item)`` for many items with a time limit per task."""

    def __init__(self, executor: Executor | None = None, *, jobs: int | None = None, timeout: float = 30.0) -> None:
        self.jobs = max(1, jobs or default_jobs())
        self.timeout = timeout
        self.owned = executor is None
        self.executor: Executor = executor if executor is not None else _pool(self.jobs)

    def __enter__(self) -> TaskRunner:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Shut down an owned pool (a caller's executor stays theirs)."""
        if self.owned:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def _restart(self) -> None:
        if isinstance(self.executor, ProcessPoolExecutor):
            kill_pool(self.executor)
        self.executor = _pool(self.jobs)
        self.owned = True  # the replacement pool is ours to shut down, whoever made the first

    def call(self, function: Callable[..., Result], *args: Any, timeout: float | None = None) -> Result | Lost:
        """One task; its result, or Lost."""
        return self.map(function, args[:-1], [args[-1]], timeout=timeout)[0]

    def map(
        self,
        function: Callable[..., Result],
        shared: Sequence[Any],
        items: Sequence[Item],
        *,
        timeout: float | None = None,
        done: Callable[[int, Result | Lost], None] | None = None,
    ) -> list[Result | Lost]:
        """Results in the order of ``items``; ``done(index, result)`` is called as each finishes."""
        limit = (timeout if timeout is not None else self.timeout) + GRACE_SECONDS
        results: dict[int, Result | Lost] = {}
        queue = list(range(len(items)))
        suspects: list[int] = []
        running: dict[Future, tuple[int, float]] = {}

        def finish(index: int, value: Result | Lost) -> None:
            results[index] = value
            if done is not None:
                done(index, value)

        while queue or running or suspects:
            if suspects and not running:
                # After a broken pool: re-run each task that was in flight alone, to find the one that broke it.
                index = suspects.pop(0)
                finish(index, self._isolated(function, shared, items[index], limit))
                continue
            while queue and len(running) < self.jobs and not suspects:
                index = queue.pop(0)
                running[self.executor.submit(function, *shared, items[index])] = (index, time.monotonic())
            finished, _ = wait(list(running), timeout=0.05, return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                index, _started = running.pop(future)
                try:
                    finish(index, future.result())
                except BrokenProcessPool:
                    suspects.append(index)
                    broken = True
            if broken:
                suspects.extend(index for index, _ in running.values())
                running.clear()
                self._restart()
                continue
            now = time.monotonic()
            late = [f for f, (_, started) in running.items() if now - started > limit]
            if late:
                for future in late:
                    index, _ = running.pop(future)
                    future.cancel()
                    finish(index, Lost(items[index], "timeout"))
                if self.owned:
                    # The late worker may be stuck where no signal reaches it: start afresh, resubmit the rest.
                    queue[:0] = [index for index, _ in running.values()]
                    running.clear()
                    self._restart()
        return [results[i] for i in range(len(items))]

    def _isolated(
        self, function: Callable[..., Result], shared: Sequence[Any], item: Item, limit: float
    ) -> Result | Lost:
        future = self.executor.submit(function, *shared, item)
        try:
            return future.result(timeout=limit)
        except BrokenProcessPool:
            self._restart()
            return Lost(item, "worker_exit")
        except TimeoutError:
            if self.owned:
                self._restart()
            return Lost(item, "timeout")
