"""Run a job in a separate worker process with a wall-clock limit.

The worker gets a job file and writes a result file atomically; whatever the
user's code does (hang, crash, os._exit, print), the parent only ever sees a
result, a timeout, or a process that ended without one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradharness.errors import UserCodeError, UserCodeTimeout
from gradharness.isolation.processes import kill
from gradharness.records.store import write_json_atomic

ProgressLine = Callable[[str], None]


def run_worker(job: dict[str, Any], timeout: float, progress: ProgressLine | None = None) -> dict[str, Any]:
    """Run ``python -m gradharness.isolation.worker`` on ``job``; return its result dict.

    Raises UserCodeTimeout after ``timeout`` seconds, UserCodeError when the
    process ends without a result (os._exit, a crash of the interpreter).
    """
    with tempfile.TemporaryDirectory(prefix="gradharness-") as folder:
        base = Path(folder)
        job_file, result_file, progress_file, log_file = (
            base / n for n in ("job.json", "result.json", "progress", "log")
        )
        write_json_atomic(job_file, job)
        with open(log_file, "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gradharness.isolation.worker",
                    str(job_file),
                    str(result_file),
                    str(progress_file),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            deadline = time.monotonic() + timeout
            last = ""
            try:
                while process.poll() is None:
                    if time.monotonic() > deadline:
                        kill(process)
                        where = f"; last step: {_read(progress_file)}" if _read(progress_file) else ""
                        raise UserCodeTimeout(f"timed out after {timeout:g} s{where}")
                    current = _read(progress_file)
                    if progress is not None and current and current != last:
                        progress(current)
                        last = current
                    time.sleep(0.05)
            except BaseException:
                kill(process)
                raise
        if result_file.exists():
            return json.loads(result_file.read_text(encoding="utf-8"))
        where = f" during: {_read(progress_file)}" if _read(progress_file) else ""
        code = process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        tail = _tail(log_file)
        raise UserCodeError(
            f"the checked code ended the worker process (it {how}){where}" + (f"; output: {tail}" if tail else "")
        )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _tail(path: Path) -> str:
    lines = [line for line in _read(path).splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
