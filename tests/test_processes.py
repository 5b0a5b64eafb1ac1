"""Worker processes: the default count, and one way to end a process (its group with it) or a pool's workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from gradharness.isolation.processes import default_jobs, kill, kill_pool

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:  # a zombie (ended, not yet reaped by whoever adopted it) is not running
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def test_default_jobs_is_the_cpus_this_process_may_use() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_jobs() == expected >= 1


def test_kill_ends_a_session_leader_and_the_children_it_started(tmp_path) -> None:
    child_pid = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time, pathlib;"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"pathlib.Path({str(child_pid)!r}).write_text(str(child.pid)); time.sleep(60)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    deadline = time.monotonic() + 20
    while not child_pid.exists() or not child_pid.read_text():
        assert time.monotonic() < deadline, "the child was not started"
        time.sleep(0.02)
    kill(process)
    assert process.returncode is not None and process.returncode < 0  # reaped, by a signal
    child = int(child_pid.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(child)


def test_kill_of_an_ended_process_does_nothing() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    kill(process)
    assert process.returncode == 0


def test_kill_pool_ends_a_worker_stuck_in_a_task() -> None:
    pool = ProcessPoolExecutor(max_workers=1)
    future = pool.submit(time.sleep, 60)
    deadline = time.monotonic() + 20
    while not future.running() and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = list(pool._processes.values())
    assert workers
    pids = [worker.pid for worker in workers if worker.pid is not None]
    started = time.monotonic()
    kill_pool(pool)
    # The pool's own manager thread reaps its workers, so their exitcode may never be set here:
    # ask the system whether the processes still run.
    while any(_alive(pid) for pid in pids) and time.monotonic() - started < 10:
        time.sleep(0.02)
    assert not any(_alive(pid) for pid in pids)
    assert time.monotonic() - started < 10
