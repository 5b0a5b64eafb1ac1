"""The task runner: any Executor, a time limit per task, and a crash that costs one task only."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

from gradharness.mutation import runner as runner_module
from gradharness.mutation.runner import Lost, TaskRunner
from gradharness.mutation.tasks import TaskTimeout, time_limit


def square(offset: int, x: int) -> int:
    return x * x + offset


def behave(_shared: None, x: int) -> int:
    if x == 3:
        os._exit(7)  # the worker process dies, as user code calling os._exit would make it
    if x == 5:
        time.sleep(60)  # stuck where the worker's own timer is not armed
    return x


def test_results_come_back_in_order_from_a_process_pool() -> None:
    with TaskRunner(jobs=2, timeout=10) as runner:
        assert runner.map(square, [1], list(range(8))) == [x * x + 1 for x in range(8)]


def test_any_executor_works_and_stays_the_callers() -> None:
    executor = ThreadPoolExecutor(max_workers=2)
    done = []
    with TaskRunner(executor, jobs=2, timeout=10) as runner:
        assert runner.map(square, [0], [2, 3], done=lambda i, r: done.append((i, r))) == [4, 9]
    assert sorted(done) == [(0, 4), (1, 9)]
    assert executor.submit(square, 0, 4).result() == 16  # not shut down by the runner
    executor.shutdown()


def test_a_dead_worker_and_a_hang_cost_one_task_each(monkeypatch) -> None:
    monkeypatch.setattr(runner_module, "GRACE_SECONDS", 0.5)
    started = time.monotonic()
    with TaskRunner(jobs=2, timeout=1.0) as runner:
        results = runner.map(behave, [None], list(range(8)))
    assert time.monotonic() - started < 20
    assert [r for i, r in enumerate(results) if i not in (3, 5)] == [0, 1, 2, 4, 6, 7]
    assert isinstance(results[3], Lost) and results[3].reason == "worker_exit"
    assert isinstance(results[5], Lost) and results[5].reason == "timeout"


def test_the_workers_own_timer_interrupts_a_python_loop() -> None:
    started = time.monotonic()
    try:
        with time_limit(0.2):
            while True:
                pass
    except TaskTimeout:
        pass
    assert time.monotonic() - started < 2
