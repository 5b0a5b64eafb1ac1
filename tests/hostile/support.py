"""What the hostile tests share: the exercise's files, attack files built from them, and the checks run on them.

An attack is the exercise's network (with its two planted bugs, or an honest classmate's) with the
attacker's code added after it: a later ``def`` replaces the function of the same name, as it does
in a file a student hands in. ``MARKER`` in an attack's text becomes the test's marker, a number the
attack puts in the command line of every process it starts (``sleep MARKER``) or in its name, so
that a process left behind can be found in ``/proc`` after the check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from gradharness.judge.checks import check_file
from gradharness.records.check import CheckRecord
from gradharness.records.serialise import to_json
from gradharness.settings import CheckOptions, IsolationSettings, RunSettings, StrategyOptions

FIXTURES = Path(__file__).parent.parent / "fixtures" / "user_code"
BUGGY = (FIXTURES / "buggy_seed.py").read_text()
"""The exercise's network with its two planted bugs (dW2 doubled, db1 with 4/m): it must fail."""

HONEST = (FIXTURES / "correct_seed_style.py").read_text()
"""An honest classmate's correct network: it must pass."""

PLANTED_BLOCKS = {"dW2", "db1"}

RUN = RunSettings(seed=0, max_examples=10, strategy=StrategyOptions(max_units=3, max_batch=3))
NO_REFERENCE = RunSettings(
    seed=0, max_examples=10, check=CheckOptions(reference=False), strategy=StrategyOptions(max_units=3, max_batch=3)
)
TIMEOUT = 60.0

SPAWN = '''
import subprocess as _subprocess

_spawned = []


def _spawn_marker():
    """Leave a process behind: ``sleep MARKER``, in a session of its own."""
    if not _spawned:
        _spawned.append(_subprocess.Popen(
            ["sleep", "MARKER"], start_new_session=True,
            stdin=_subprocess.DEVNULL, stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL,
        ))
'''
"""Put before every attack's code: ``_spawn_marker()`` leaves a marked process behind (one per evaluator)."""


def attack(base: str, code: str, marker: str) -> str:
    """``base`` (a network file's text), then :data:`SPAWN` and the attacker's ``code``, ``MARKER`` made ``marker``."""
    return (base + "\n\n" + SPAWN + "\n\n" + textwrap.dedent(code)).replace("MARKER", marker)


def write(folder: Path, name: str, text: str) -> Path:
    """``text`` written to ``folder/name`` (the folder made if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def check(path: Path, level: str, run: RunSettings = RUN) -> CheckRecord:
    """``check_file`` at ``level`` with the hostile tests' settings."""
    return check_file(path, run, timeout=TIMEOUT, isolation=IsolationSettings(level=level))


def record_text(record: CheckRecord) -> str:
    """Everything a record says, as one JSON text (to look for what must not be in it)."""
    return json.dumps(to_json(record), ensure_ascii=False, default=str)


def failed_properties(record: CheckRecord) -> set[str]:
    return {failure.property for failure in record.failures}


def _state(pid: str) -> str:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return stat.read().rpartition(b")")[2].split()[0].decode()


def marked_processes(marker: str) -> list[int]:
    """Live processes (not zombies) with ``marker`` as an argument or as their name."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            name = Path(f"/proc/{entry}/comm").read_bytes().strip()
            marked = marker.encode() in argv or name == marker.encode()[:15]
            if marked and _state(entry) not in ("Z", "X"):
                found.append(int(entry))
        except (OSError, IndexError):
            continue  # it ended while it was read
    return found


def marked_jails(marker: str) -> list[Path]:
    """Evaluator folders still holding a file with ``marker`` in it (an attack's copy that was never removed)."""
    folders = [Path(tempfile.gettempdir()), *Path(tempfile.gettempdir()).glob("gradharness-batch-*")]
    found = []
    for folder in folders:
        for copy in folder.glob("gradharness-evaluator-*/submission/*.py"):
            try:
                if marker in copy.read_text(errors="replace"):
                    found.append(copy)
            except OSError:
                continue  # removed while it was read
    return found


def assert_nothing_left(marker: str, wait: float = 2.0) -> None:
    """No process with ``marker`` runs ``wait`` seconds at most after the check returned, and no jail is left."""
    deadline = time.monotonic() + wait
    while (left := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    details = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:200] for pid in left if Path(f"/proc/{pid}").exists()}
    assert not left, f"processes left running after the check: {details}"
    assert not marked_jails(marker), f"evaluator folders left behind: {marked_jails(marker)}"


def cli(
    *args: str, timeout: float = 240.0, cwd: Path | None = None, script: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``python -m gradharness ARGS`` (or the console ``script``) in a process of its own, its output as bytes."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(script), *args] if script is not None else [sys.executable, "-m", "gradharness", *args],
        capture_output=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )
