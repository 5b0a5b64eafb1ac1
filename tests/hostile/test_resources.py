"""A submission that leaves processes behind, takes all the memory, or floods its output."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import time
from pathlib import Path

import pytest

from gradharness.records.serialise import to_json
from gradharness.records.verdict import RunVerdict
from tests.hostile.support import (
    BUGGY,
    HONEST,
    TIMEOUT,
    assert_nothing_left,
    attack,
    check,
    failed_properties,
    marked_processes,
    write,
)

SETSID_CHILDREN = 40

LEFTOVERS = """
import ctypes as _ctypes
import os as _os
import signal as _signal
import time as _time

_left = []


def _setsid_sleeper():
    if _os.fork() == 0:
        try:
            _os.setsid()
            _os.execvp("sleep", ["sleep", "MARKER"])
        finally:
            _os._exit(1)
    return 1


def _plain_fork():
    if _os.fork() == 0:
        try:
            _ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)  # PR_SET_NAME: the child carries the marker
            for signum in (_signal.SIGTERM, _signal.SIGHUP, _signal.SIGINT):
                _signal.signal(signum, _signal.SIG_IGN)
            while True:
                _time.sleep(1)
        finally:
            _os._exit(0)
    return 1


def _leave_processes():
    started = 0
    _spawn_marker()  # a Popen child
    started += len(_spawned)
    for _ in range(SETSID_CHILDREN):
        try:
            started += _setsid_sleeper()
        except OSError:
            pass
    try:
        started += _plain_fork()
    except OSError:
        pass
    print(f"STARTED {started}", flush=True)


_honest_forward = forward_propagation_n


def forward_propagation_n(X, Y, parameters):
    if not _left:
        _left.append(True)
        _leave_processes()
    return _honest_forward(X, Y, parameters)
""".replace("SETSID_CHILDREN", str(SETSID_CHILDREN))

SETUID_PROGRAMS = ("/usr/bin/su", "/bin/su", "/usr/lib/polkit-1/polkit-agent-helper-1")

SETUID_WAITER = """
import os as _os
import subprocess as _subprocess
import time as _time

_honest_forward = forward_propagation_n
_left = []


def _start_waiter():
    # A set-user-ID program waiting for a password on a pipe it holds both ends of: it never gets one.
    reading, writing = _os.pipe()
    _subprocess.Popen(
        ["MARKER", "root"], executable="PROGRAM", stdin=reading, stdout=writing, stderr=writing,
        start_new_session=True,
    )


def forward_propagation_n(X, Y, parameters):
    if not _left:
        _left.append(True)
        if _os.fork() == 0:
            try:
                _os.setsid()
                _start_waiter()
            finally:
                _os._exit(0)
        _time.sleep(0.3)
        print("STARTED waiter", flush=True)
    return _honest_forward(X, Y, parameters)
"""

MEMORY_HOG = """
import numpy as _np

_calls = []


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    _calls.append(1)
    if len(_calls) == 1:
        hog = [b"x" * 2**28 for _ in range(40)]  # 10 GiB, each piece written to (once: it is slow)
    else:
        hog = _np.ones(10 * 2**30 // 8)
    return float(len(hog)), None
"""

FLOOD = """
import os as _os
import sys as _sys


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    chunk = "x" * 2**20
    for _ in range(500):  # 500 MiB on one line
        _sys.stdout.write(chunk)
    _sys.stdout.flush()
    _os._exit(1)
"""


def test_popen_setsid_and_forked_children_are_all_ended(tmp_path: Path, level: str, marker: str) -> None:
    path = write(tmp_path / "submission", "spawner.py", attack(HONEST, LEFTOVERS, marker))
    record = check(path, level)
    assert record.verdict is RunVerdict.PASS, (record.error, [f.message for f in record.failures])
    assert f"STARTED {SETSID_CHILDREN + 2}" in record.target.get("output", "")  # every child was started
    assert_nothing_left(marker)


def test_a_setuid_program_started_by_the_file_is_ended_too(tmp_path: Path, level: str, marker: str) -> None:
    program = next((p for p in SETUID_PROGRAMS if Path(p).exists() and Path(p).stat().st_mode & 0o4000), None)
    if program is None:
        pytest.skip("no set-user-ID program that waits for a password on its standard input")
    path = write(
        tmp_path / "submission", "setuid.py", attack(HONEST, SETUID_WAITER.replace("PROGRAM", program), marker)
    )
    try:
        record = check(path, level)
        assert record.verdict is RunVerdict.PASS, (record.error, [f.message for f in record.failures])
        assert "STARTED waiter" in record.target.get("output", "")
        assert_nothing_left(marker)
    finally:
        for pid in marked_processes(marker):  # a leftover of this test only, found by its marker
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_a_memory_hog_is_a_finding_and_the_judge_survives(tmp_path: Path, level: str, marker: str) -> None:
    path = write(tmp_path / "submission", "hog.py", attack(BUGGY, MEMORY_HOG, marker))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record = check(path, level)
    assert record.verdict in (RunVerdict.FAIL, RunVerdict.ERROR)
    if record.verdict is RunVerdict.FAIL:
        assert "FORWARD_COST" in failed_properties(record)
        assert any(f.kind.value == "crashed" for f in record.failures)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB: the judge kept its size
    assert_nothing_left(marker)


def test_a_500_mb_print_gives_a_short_error_and_a_judge_of_ordinary_size(
    tmp_path: Path, level: str, marker: str
) -> None:
    path = write(tmp_path / "submission", "flood.py", attack(BUGGY, FLOOD, marker))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    record = check(path, level)
    took = time.monotonic() - started
    assert record.verdict is RunVerdict.ERROR
    assert record.error is not None and len(record.error.encode()) < 2048, record.error[:300]
    assert len(json.dumps(to_json(record), default=str)) < 200_000
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024, "the judge grew by over 100 MB"
    assert took < TIMEOUT
    assert_nothing_left(marker)
