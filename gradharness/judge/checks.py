"""Check a user's file (in a worker process) or a built-in backward pass, as a CheckRecord."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gradharness.errors import GradHarnessError
from gradharness.isolation.sandbox import run_worker
from gradharness.model import network
from gradharness.properties.properties import NetworkFunctions
from gradharness.properties.runner import Progress, RunFindings, run_properties
from gradharness.records.check import CheckRecord, from_json
from gradharness.records.environment import environment, file_sha256
from gradharness.records.settings_json import run_settings_to_json
from gradharness.settings import DEFAULT_THRESHOLD, FunctionNames, RunSettings, StrategyOptions

DEFAULT_TIMEOUT = 120.0


def _record(
    target: dict, run: RunSettings, findings: RunFindings | None, error: str | None, reproduce: str, seconds: float
) -> CheckRecord:
    settings = run_settings_to_json(run)
    if findings is None:
        return CheckRecord(
            target=target,
            settings=settings,
            verdict="error",
            properties=[],
            error=error,
            seconds=seconds,
            reproduce=reproduce,
            environment=environment(),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    return CheckRecord(
        target=target,
        settings=settings,
        verdict="fail" if findings.failures else "pass",
        properties=findings.properties,
        failures=findings.failures,
        diagnoses=findings.diagnoses,
        wrong_blocks=findings.wrong_blocks,
        examples=findings.examples,
        seconds=seconds,
        reproduce=reproduce,
        environment=environment(),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _findings_from_json(data: dict) -> RunFindings:
    # Reuse the record loader's validation for the nested failure and property records.
    shell = from_json(
        {
            "schema_version": 1,
            "target": {},
            "settings": {},
            "verdict": "pass",
            "properties": data["properties"],
            "failures": data["failures"],
        }
    )
    return RunFindings(
        properties=list(shell.properties),
        failures=list(shell.failures),
        diagnoses=data["diagnoses"],
        examples=data["examples"],
        seconds=data["seconds"],
        wrong_blocks=data.get("wrong_blocks", {}),
    )


def reproduce_command(
    path: Path, run: RunSettings, extra: list[str] | None = None, names: FunctionNames | None = None
) -> str:
    """The command line that repeats this run: every setting that differs from the defaults."""
    words = ["gradharness", "check", str(path), "--seed", str(run.seed), "--max-examples", str(run.max_examples)]
    if run.check.epsilon is not None:
        words += ["--epsilon", repr(run.check.epsilon)]
    if run.check.threshold != DEFAULT_THRESHOLD:
        words += ["--threshold", repr(run.check.threshold)]
    strategy, defaults = run.strategy, StrategyOptions()
    sizes = (strategy.n0, strategy.n1, strategy.n2, strategy.n3)
    if any(n is not None for n in sizes):
        words += ["--layer-sizes", ",".join("*" if n is None else str(n) for n in sizes)]
    for option, value, default in (
        ("--batch-size", strategy.batch_size, defaults.batch_size),
        ("--max-units", strategy.max_units, defaults.max_units),
        ("--max-batch", strategy.max_batch, defaults.max_batch),
    ):
        if value != default:
            words += [option, str(value)]
    if strategy.adversarial:
        words.append("--adversarial")
    if names is not None:
        for flag, name, default_name in zip(
            ("--forward", "--backward", "--forward-1d", "--backward-1d"),
            (names.forward_n, names.backward_n, names.forward_1d, names.backward_1d),
            (FunctionNames.forward_n, FunctionNames.backward_n, FunctionNames.forward_1d, FunctionNames.backward_1d),
            strict=True,
        ):
            if name != default_name:
                words += [flag, name]
    return shlex.join(words + (extra or []))


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
        "names": asdict(names),
        "settings": run_settings_to_json(run),
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
    findings = _findings_from_json(result["findings"])
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
        f"gradharness demo --seed {run.seed} --max-examples {run.max_examples}",
        time.perf_counter() - started,
    )
