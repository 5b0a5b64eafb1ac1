"""Worker processes: how many run at once by default, and how one is ended when it must stop now.

Every process that runs code under test is ended the same way, by :func:`kill`: the sandbox's
worker and the mutmut run (each leads its own process group, so whatever the user's code
started dies with it) and the mutation pool's workers (:func:`kill_pool`).
"""

from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.process import BaseProcess


def default_jobs() -> int:
    """Worker processes run at once unless told otherwise: the CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _running(process: subprocess.Popen | BaseProcess) -> bool:
    if isinstance(process, subprocess.Popen):
        return process.poll() is None
    return process.pid is not None and process.is_alive()


def kill(process: subprocess.Popen | BaseProcess) -> None:
    """End ``process`` at once (SIGKILL), with its whole process group when it leads one.

    A ``subprocess.Popen`` is also reaped; a pool's worker is left to its pool to reap.
    """
    if not _running(process) or process.pid is None:
        return
    pid = process.pid
    try:
        if hasattr(os, "killpg") and os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass  # it ended by itself in the meantime
    except PermissionError:
        process.kill()
    if isinstance(process, subprocess.Popen):
        process.wait()


def kill_pool(pool: ProcessPoolExecutor) -> None:
    """Kill every worker of ``pool`` (a task may be stuck where no signal handler runs), then shut it down."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        kill(process)
    pool.shutdown(wait=False, cancel_futures=True)
