"""Worker processes: how many run at once by default, and how one is ended when it must stop now.

Every process that runs code under test is ended the same way, by :func:`kill`: the sandbox's
worker and the mutmut run (each leads its own process group, so whatever the user's code
started dies with it) and the mutation pool's workers (:func:`kill_pool`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Collection, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.process import BaseProcess
from types import FrameType

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""The signals that stop a run: Ctrl-C, ``kill``, a closed terminal."""


def ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    """A handler that does nothing (unlike SIG_IGN, not inherited by the processes started meanwhile)."""


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """No Ctrl-C or stop signal breaks off the block (they are dropped: ending is under way already)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, ignore_signal) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)


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


def processes_of(uid: int) -> list[int]:
    """The pids of the live (not zombie) processes whose real or effective uid is ``uid``.

    Read from /proc/PID/status: a set-user-ID program keeps the real uid of whoever started it.
    """
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as status:
                fields = dict(line.split(b":", 1) for line in status.read().splitlines() if b":" in line)
            uids = {int(value) for value in fields[b"Uid"].split()[:2]}
            state = fields[b"State"].split()[0]
        except (OSError, KeyError, ValueError, IndexError):
            continue
        if uid in uids and state not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


def kill_uid(uid: int, rounds: int = 20) -> bool:
    """SIGKILL every process of ``uid``, an evaluator's own uid: whatever it started, in a new session or not.

    ``kill -9 -1`` run as ``uid`` signals all of that uid's processes at once, so a process that
    forks as fast as it can is not outrun one pid at a time. True when none is left.
    """
    for _ in range(rounds):
        if not processes_of(uid):
            return True
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                ["kill", "-9", "-1"], user=uid, group=uid, extra_groups=[], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10, env={"PATH": "/usr/bin:/bin"},
            )  # fmt: skip
        time.sleep(0.01)
    return not processes_of(uid)


def _process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process this one can see in /proc (empty where there is no /proc)."""
    table: dict[int, tuple[int, str]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stream:
                fields = stream.read().rpartition(b")")[2].split()
            table[int(entry)] = (int(fields[1]), fields[0].decode())
        except (OSError, IndexError, ValueError):
            continue  # it ended while the table was read
    return table


def _below(pid: int, table: dict[int, tuple[int, str]], spare: Collection[int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, (parent, state) in table.items():
        if state not in ("Z", "X") and child not in spare:
            children.setdefault(parent, []).append(child)
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_tree(pid: int, *, include_root: bool = True, spare: Collection[int] = ()) -> None:
    """SIGKILL every process below ``pid`` (and ``pid`` itself unless ``include_root`` is False), all at once.

    The tree is read from /proc by parent links, so children in sessions or PID namespaces of their
    own are found too, before anything is killed (a killed parent's children are adopted elsewhere);
    it is read again until nothing below is left running. Without /proc only ``pid`` itself is killed.
    The processes in ``spare`` and those below them are left alone.
    """
    for _ in range(20):
        table = _process_table()
        targets = _below(pid, table, spare)
        if include_root and (not table or table.get(pid, (0, "Z"))[1] not in ("Z", "X")):
            targets.append(pid)
        if not targets:
            return
        for target in targets:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(target, signal.SIGKILL)
        if not table:
            return
        time.sleep(0.01)


def kill_marked(marker: str, rounds: int = 20) -> bool:
    """SIGKILL every process of this uid whose environment holds ``marker`` (an evaluator's token).

    What a process level evaluator starts inherits the token, so its daemons are found even after
    they left its process group and session (unless they cleared their environment). True when none is left.
    """
    needle = marker.encode()
    for _ in range(rounds):
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as environ:
                    if needle in environ.read().split(b"\0"):
                        found.append(int(entry.name))
            except OSError:
                continue
        table = _process_table()
        found = [pid for pid in found if table.get(pid, (0, "Z"))[1] not in ("Z", "X")]
        if not found:
            return True
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
    return False


def undumpable() -> None:
    """Make this process undumpable: a process of the same uid can then neither ptrace it nor open its /proc files."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass


def nested_pid(root: int, inner: object) -> int:
    """The pid, as this process sees it, of the process below ``root`` that sees itself as ``inner`` (-1: none).

    A process in a PID namespace of its own has a pid there too: /proc/PID/status lists both (NSpid).
    """
    if not isinstance(inner, int) or isinstance(inner, bool):
        return -1
    for pid in _below(root, _process_table(), ()):
        try:
            with open(f"/proc/{pid}/status", "rb") as status:
                line = next((row for row in status.read().splitlines() if row.startswith(b"NSpid:")), b"")
        except OSError:
            continue
        if line.split()[-1:] == [str(inner).encode()] and len(line.split()) > 2:
            return pid
    return -1
