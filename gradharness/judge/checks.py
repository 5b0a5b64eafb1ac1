"""Check a user's file (in a worker process) or a built-in backward pass, as a CheckRecord."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gradharness.errors import GradHarnessError, ResultsFormatError
from gradharness.isolation.sandbox import run_worker
from gradharness.judge.reproduce import demo_command, reproduce_command
from gradharness.model import network
from gradharness.properties.properties import NetworkFunctions
from gradharness.properties.runner import Progress, RunFindings, run_properties
from gradharness.records.check import CheckRecord
from gradharness.records.environment import environment, file_sha256
from gradharness.records.serialise import decode, to_json
from gradharness.records.verdict import RunVerdict
from gradharness.settings import FunctionNames, RunSettings

DEFAULT_TIMEOUT = 120.0


def _record(
    target: dict, run: RunSettings, findings: RunFindings | None, error: str | None, reproduce: str, seconds: float
) -> CheckRecord:
    """The check's record; without findings (the file could not be checked) an error record."""
    found: dict = {}
    verdict = RunVerdict.ERROR
    if findings is not None:
        verdict = RunVerdict.FAIL if findings.failures else RunVerdict.PASS
        found = {
            "failures": findings.failures,
            "diagnoses": findings.diagnoses,
            "wrong_blocks": findings.wrong_blocks,
            "examples": findings.examples,
        }
    return CheckRecord(
        target=target,
        settings=to_json(run),
        verdict=verdict,
        properties=findings.properties if findings is not None else [],
        error=error,
        seconds=seconds,
        reproduce=reproduce,
        environment=environment(),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        **found,
    )


def check_file(
    path: Path,
    run: RunSettings,
    *,
    names: FunctionNames | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[str], None] | None = None,
    extra_args: list[str] | None = None,
) -> CheckRecord:
    """Check the functions in a user's file in a worker process; errors become an 'error' record."""
    path = Path(path)
    names = names or FunctionNames()
    target: dict[str, Any] = {"path": str(path), "sha256": file_sha256(path), "functions": []}
    reproduce = reproduce_command(path, run, extra_args, names)
    started = time.perf_counter()
    job = {
        "path": str(path.resolve()),
        "names": to_json(names),
        "settings": to_json(run),
    }
    try:
        result = run_worker(job, timeout, progress)
    except GradHarnessError as exc:
        return _record(target, run, None, f"{path.name}: {exc}", reproduce, time.perf_counter() - started)
    if "error" in result:
        return _record(target, run, None, result["error"], reproduce, time.perf_counter() - started)
    target["functions"] = result["functions"]
    if result.get("notes"):
        target["notes"] = result["notes"]
    try:
        findings = decode(RunFindings, result["findings"], "the worker's findings")
    except ResultsFormatError as exc:  # the judge decides only on findings it can read
        message = f"{path.name}: the worker's result is malformed: {exc}"
        return _record(target, run, None, message, reproduce, time.perf_counter() - started)
    return _record(target, run, findings, None, reproduce, time.perf_counter() - started)


def check_builtin(backward: Callable, label: str, run: RunSettings, progress: Progress | None = None) -> CheckRecord:
    """Check a built-in backward pass against the built-in forward, in this process (trusted code)."""
    started = time.perf_counter()
    functions = NetworkFunctions(
        network.forward_propagation_n, backward, "forward_propagation_n", backward.__name__, builtin=True
    )
    findings = run_properties(functions, (network.forward_propagation, network.backward_propagation), run, progress)
    target = {"path": f"builtin:{label}", "sha256": None, "functions": ["forward_propagation_n", backward.__name__]}
    return _record(
        target,
        run,
        findings,
        None,
        demo_command(run),
        time.perf_counter() - started,
    )
