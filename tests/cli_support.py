"""Run `gradharness` as a user does: the installed console script, or its entry point in this process.

In process, the expensive part of a check -- examining the file (the judge's properties, the
evaluator running the user's code) -- can run ahead for many commands at once: ``gradharness_many``
runs each command with its calls of ``checks.examine`` only noted down, runs those two at a time in
worker processes, then runs each command again with every call answered by the result of the
identical call. Parsing, building the record, printing and the exit code are the command's own, run
for real both times.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gradharness.cli.main import run as entry_point
from gradharness.judge import checks

CONSOLE_SCRIPT = Path(sys.executable).with_name("gradharness")

WorkerCall = tuple[Any, ...]  # the arguments of checks.examine, but its progress callback


@dataclass(frozen=True)
class Run:
    """What the user sees of one command: its exit code, stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


def console_script(*args: str, timeout: float = 240, cwd: Path | None = None) -> Run:
    """The installed ``gradharness`` script, in a process of its own."""
    assert CONSOLE_SCRIPT.is_file(), f"{CONSOLE_SCRIPT} is missing: pip install -e ."
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd
    )
    return Run(done.returncode, done.stdout, done.stderr)


class _WorkerAsked(Exception):
    """Stands in for a worker run whose result is not known yet."""


def gradharness(*args: str) -> Run:
    """The console script's entry point, called in this process with its own argv, stdout and stderr."""
    with CliRunner().isolation() as (stdout, stderr, _), pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["gradharness", *args])
        try:
            entry_point()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except _WorkerAsked:
            raise
        except Exception:
            traceback.print_exc()  # what the interpreter prints for an uncaught exception, with exit code 1
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        return Run(code, stdout.getvalue().decode(), stderr.getvalue().decode())


class _Workers:
    """The worker calls a set of commands makes: noted down first, then run ahead, then answered."""

    def __init__(self, real: Callable[..., dict[str, Any]]) -> None:
        self.real = real
        self.calls: list[WorkerCall] = []
        self.asked = 0  # every call noted down, repeats included
        self.outcomes: list[tuple[dict[str, Any] | None, Exception | None]] = []

    def note_down(self, *arguments: Any, progress: Any = None) -> Any:
        self.asked += 1
        if arguments[:6] not in self.calls:
            self.calls.append(arguments[:6])
        raise _WorkerAsked

    def run_ahead(self, jobs: int) -> None:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            self.outcomes = list(pool.map(_outcome, [self.real] * len(self.calls), self.calls))

    def answer(self, *arguments: Any, progress: Any = None) -> Any:
        if arguments[:6] not in self.calls:
            return self.real(*arguments, progress=progress)
        result, error = self.outcomes[self.calls.index(arguments[:6])]
        if error is not None:
            raise error
        assert result is not None
        return copy.deepcopy(result)


def _outcome(real: Callable[..., Any], call: WorkerCall) -> tuple[Any, Exception | None]:
    try:
        return real(*call), None
    except Exception as exc:  # check_file turns it into the record
        return None, exc


def gradharness_many(commands: Sequence[Sequence[str]], jobs: int = 2) -> list[Run]:
    """``gradharness(*command)`` for each command, their examinations run ``jobs`` at a time."""
    workers = _Workers(checks.examine)
    runs: dict[int, Run] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "examine", workers.note_down)
        for index, command in enumerate(commands):
            before = workers.asked
            try:
                run = gradharness(*command)
            except _WorkerAsked:
                continue
            if workers.asked == before:  # it never needed a worker (a usage error): that run is the answer
                runs[index] = run
    workers.run_ahead(jobs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "examine", workers.answer)
        for index, command in enumerate(commands):
            if index not in runs:
                runs[index] = gradharness(*command)
    return [runs[index] for index in range(len(commands))]
