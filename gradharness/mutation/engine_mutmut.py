"""mutmut as a second engine: its generic operators on the reference backward, our result model.

mutmut 3 mutates a copy of the source tree in ``mutants/`` and runs the configured tests
against each mutant through trampolines. Here it runs in a scratch copy of the project
(so nothing is written to the user's tree) with the configuration below, which is also
the project's ``[tool.mutmut]`` in pyproject.toml (a test keeps the two equal), and with
:mod:`gradharness.mutation.mutmut_suite` (the network properties under Hypothesis) as its
test suite. Its per-mutant exit codes (``mutants/**/*.meta``) become MutantRecords with
operator "mutmut"; each mutant is then also run through gradharness's own cases, which says
whether mutmut's kill was the checker's or a crash, and spots survivors whose gradients
never differ (equivalent candidates).
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import gradharness
import strategies
from gradharness.errors import GradHarnessError
from gradharness.isolation.processes import default_jobs, kill
from gradharness.mutation.campaign import (
    HarnessError,
    Progress,
    assemble,
    evaluate_mutants,
    prove_harness,
    run_campaign,
    setup,
)
from gradharness.mutation.evaluate import Evaluation
from gradharness.mutation.mutants import Mutant, unified_diff
from gradharness.mutation.mutmut_suite import EXAMPLES_VARIABLE
from gradharness.mutation.runner import TaskRunner
from gradharness.mutation.target import REFERENCE_LABEL, CheckerSpec, Target
from gradharness.records.mutation import EngineRecord, MutantRecord, MutateRecord
from gradharness.records.status import KillKind, MutantStatus
from gradharness.settings import CampaignSettings

MUTMUT_CONFIG: dict[str, list[str]] = {
    "source_paths": ["gradharness"],
    "only_mutate": ["gradharness/model/network.py"],
    "also_copy": ["strategies"],
    "pytest_add_cli_args_test_selection": ["gradharness/mutation/mutmut_suite.py"],
    "pytest_add_cli_args": ["-p", "no:cacheprovider", "-o", "addopts="],
}
"""``[tool.mutmut]``: mutate gradharness/model/network.py, test with the property suite (kept equal to pyproject.toml)."""

FUNCTION = "backward_propagation_n"
MUTANT_PATTERN = f"gradharness.model.network.x_{FUNCTION}__mutmut_*"
"""mutmut mutates every function of network.py; only the backward pass's mutants are run."""

Patterns = str | tuple[str, ...]
"""One mutmut mutant-name pattern, or several (``mutmut run`` takes each)."""


def mutmut_config(module_path: str, suite: str) -> dict[str, list[str]]:
    """A ``[tool.mutmut]`` table as MUTMUT_CONFIG's, mutating ``module_path`` and testing with ``suite``."""
    return {**MUTMUT_CONFIG, "only_mutate": [module_path], "pytest_add_cli_args_test_selection": [suite]}


def mutant_patterns(module: str, functions: tuple[str, ...]) -> tuple[str, ...]:
    """The mutant-name patterns of ``functions`` of the importable ``module`` (mutmut mutates all its functions)."""
    return tuple(f"{module}.x_{function}__mutmut_*" for function in functions)


# mutmut's exit codes (mutmut/stats.py): 1 and 3 a test failed; 0 all passed; the rest timeouts, signals, no tests.
_KILLED = {1, 3}
_SURVIVED = {0}
_TIMEOUT = {36, 24, -24, 152, 255}
_SIGNALLED = {-11, -9}
_RUNNER = "import sys; from mutmut.__main__ import cli; sys.argv[0] = 'mutmut'; cli()"
_POLL_SECONDS = 0.5  # how often a running mutmut's results file is read for the progress bar


@dataclass(frozen=True)
class MutmutResult:
    """One mutmut mutant: its name, exit code and duration, and the mutated function's source."""

    name: str
    number: int
    exit_code: int | None
    seconds: float
    function_source: str
    function: str = FUNCTION  # the function it is a mutant of


@dataclass(frozen=True)
class MutmutRun:
    """What one ``mutmut run`` produced."""

    results: tuple[MutmutResult, ...]
    seconds: float  # wall-clock time of the whole run (generation, stats, clean and forced-fail runs, mutants)
    reported_rate: float | None  # the "mutations/second" mutmut prints for its mutation phase
    log: str


def config_toml(config: dict[str, list[str]] = MUTMUT_CONFIG) -> str:
    """The ``[tool.mutmut]`` table as TOML text."""
    lines = ["[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    return "\n".join(lines) + "\n"


def scratch_project(folder: Path, config: dict[str, list[str]] = MUTMUT_CONFIG) -> Path:
    """A copy of the gradharness and strategies packages with the mutmut configuration, in ``folder``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants")
    shutil.copytree(Path(gradharness.__file__).parent, folder / "gradharness", ignore=ignore)
    shutil.copytree(Path(strategies.__file__).parent, folder / "strategies", ignore=ignore)
    (folder / "pyproject.toml").write_text(config_toml(config), encoding="utf-8")
    return folder


def _mutated(folder: Path, config: dict[str, list[str]]) -> Path:
    """Where mutmut writes its copy of the mutated module (its results file beside it, ``.meta`` added)."""
    return folder / "mutants" / config["only_mutate"][0]


def _matches(name: str, pattern: Patterns) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in ((pattern,) if isinstance(pattern, str) else pattern))


def mutmut_progress(
    folder: Path, pattern: Patterns = MUTANT_PATTERN, config: dict[str, list[str]] = MUTMUT_CONFIG
) -> tuple[int, int | None]:
    """How many of the mutants ``pattern`` names mutmut has run in ``folder``, of how many (None: not generated yet).

    Read from the results file mutmut rewrites after each mutant; a file caught half written
    counts as not there yet.
    """
    meta_path = _mutated(folder, config).with_name(_mutated(folder, config).name + ".meta")
    try:
        codes = json.loads(meta_path.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        ours = [code for name, code in codes.items() if _matches(name, pattern)]
    except (OSError, ValueError, AttributeError):
        return 0, None
    return sum(code is not None for code in ours), len(ours)


def _report(progress: Progress | None, folder: Path, pattern: Patterns, config: dict[str, list[str]]) -> None:
    if progress is not None:
        done, total = mutmut_progress(folder, pattern, config)
        progress(done, total, "mutmut run" if total is not None else "mutmut: generating mutants")


def _wait(
    process: subprocess.Popen,
    folder: Path,
    pattern: Patterns,
    timeout: float,
    progress: Progress | None,
    config: dict[str, list[str]] = MUTMUT_CONFIG,
) -> None:
    """Wait for mutmut within ``timeout`` seconds, telling ``progress`` how far it got; kill it on any way out."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                process.wait(timeout=min(_POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
                _report(progress, folder, pattern, config)  # the last count: the bar ends full
                return
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    raise
            _report(progress, folder, pattern, config)
    except subprocess.TimeoutExpired:
        kill(process)
        raise GradHarnessError(f"mutmut did not finish within {timeout:g} s (see --mutmut-timeout)") from None
    except BaseException:
        kill(process)
        raise


def run_mutmut(
    *,
    max_examples: int = 100,
    jobs: int = 2,
    timeout: float = 600.0,
    pattern: Patterns = MUTANT_PATTERN,
    keep: Path | None = None,
    progress: Progress | None = None,
    config: dict[str, list[str]] = MUTMUT_CONFIG,
    functions: tuple[str, ...] = (FUNCTION,),
    variables: dict[str, str] | None = None,
) -> MutmutRun:
    """Run ``mutmut run`` on the reference backward in a scratch project; bounded by ``timeout`` seconds.

    ``progress(done, total, what)`` is called about twice a second while mutmut runs (see
    :func:`mutmut_progress`). ``config`` names the module mutated and the suite; the mutants of ``functions``
    (those ``pattern`` names) are read back; ``variables`` are set in mutmut's environment (for its suite).
    """
    folder = Path(tempfile.mkdtemp(prefix="gradharness-mutmut-")) if keep is None else Path(keep)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        scratch_project(folder, config) if not (folder / "gradharness").exists() else None
        log_path = folder / "mutmut.log"
        environment = {**os.environ, **(variables or {}), EXAMPLES_VARIABLE: str(max_examples),
                       "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
        started = time.perf_counter()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", _RUNNER, "run", "--max-children", str(jobs),
                 *((pattern,) if isinstance(pattern, str) else pattern)],
                cwd=folder, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=environment, start_new_session=True,
            )  # fmt: skip
            _wait(process, folder, pattern, timeout, progress, config)
        seconds = time.perf_counter() - started
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        if process.returncode != 0:
            tail = " ".join(log_text.strip().splitlines()[-3:])[-300:]
            raise GradHarnessError(f"mutmut run exited with code {process.returncode}: {tail}")
        return MutmutRun(_read_results(folder, config, functions), seconds, _reported_rate(log_text), log_text)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _reported_rate(log: str) -> float | None:
    match = re.findall(r"([0-9.]+) mutations/second", log)
    return float(match[-1]) if match else None


def _read_results(
    folder: Path, config: dict[str, list[str]] = MUTMUT_CONFIG, functions: tuple[str, ...] = (FUNCTION,)
) -> tuple[MutmutResult, ...]:
    mutated_path = _mutated(folder, config)
    meta_path = mutated_path.with_name(mutated_path.name + ".meta")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        mutated = mutated_path.read_text(encoding="utf-8")
    except (OSError, json.JSONDecodeError) as exc:
        raise GradHarnessError(f"mutmut left no readable results in {meta_path.parent}: {exc}") from None
    sources = _function_sources(mutated, functions)
    names = "|".join(re.escape(f) for f in functions)
    results = []
    for name, code in meta.get("exit_code_by_key", {}).items():
        local = name.rpartition(".")[2]
        match = re.fullmatch(rf"x_({names})__mutmut_(\d+)", local)
        if match is None or code is None or local not in sources:
            continue  # another function's mutant, or one mutmut did not run
        function = match.group(1)
        renamed = re.sub(rf"^def {re.escape(local)}\(", f"def {function}(", sources[local], count=1)
        seconds = float(meta.get("durations_by_key", {}).get(name, 0.0))
        results.append(MutmutResult(name, int(match.group(2)), code, seconds, renamed, function))
    order = {function: index for index, function in enumerate(functions)}
    return tuple(sorted(results, key=lambda r: (order[r.function], r.number)))


def _function_sources(text: str, functions: tuple[str, ...] = (FUNCTION,)) -> dict[str, str]:
    # Slicing lines, not ast.get_source_segment: that rescans the text per node (quadratic on
    # mutmut's file of a few hundred functions). Top-level defs start at column 0.
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    prefixes = tuple(f"x_{function}__mutmut_" for function in functions)
    return {
        node.name: "".join(lines[node.lineno - 1 : node.end_lineno]).rstrip("\n")
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith(prefixes)
    }


def as_mutant(result: MutmutResult, target: Target) -> Mutant:
    """A mutmut mutant in our Mutant form: the file's text with the function replaced, and its diff."""
    return mutmut_mutant(result, target.source, target.label)


def mutmut_mutant(result: MutmutResult, source: str, label: str, prefix: str = "mutmut") -> Mutant:
    """:func:`as_mutant` for any file's text (``source``, named ``label`` in diffs); its id ``{prefix}-{number}``."""
    tree = ast.parse(source)
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == result.function)
    lines = source.split("\n")
    first, last = function.lineno, function.end_lineno or function.lineno
    mutated = lines[: first - 1] + result.function_source.split("\n") + lines[last:]
    diff = unified_diff(lines, mutated, label)
    changed = next((i for i, (a, b) in enumerate(zip(lines, mutated, strict=False)) if a != b), first - 1)
    before, after = lines[changed] if changed < len(lines) else "", mutated[changed] if changed < len(mutated) else ""
    start = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), min(len(before), len(after))
    )
    return Mutant(
        id=f"{prefix}-{result.number}",
        operator="mutmut",
        line=changed + 1,
        column=start + 1,
        end_line=changed + 1,
        end_column=len(before) + 1,
        original=before.strip(),
        replacement=after.strip(),
        function_source=result.function_source,
        function_line=first,
        diff=diff,
    )


def mutmut_record(result: MutmutResult, mutant: Mutant, ours: Evaluation | None) -> MutantRecord:
    """mutmut's verdict in our model, refined by gradharness's own run of the same mutant when there is one."""
    code = result.exit_code
    if code in _KILLED:
        status, kind, message = MutantStatus.KILLED, KillKind.TEST_FAILED, "mutmut: the property test failed"
        if ours is not None and ours.status.detected:
            status = MutantStatus.CRASHED if ours.status is MutantStatus.CRASHED else MutantStatus.KILLED
            kind, message = ours.kill_kind or kind, ours.message or message
    elif code in _TIMEOUT:
        status, kind, message = MutantStatus.TIMED_OUT, KillKind.TIMEOUT, f"mutmut: timeout (exit code {code})"
    elif code in _SIGNALLED:
        status, kind, message = (
            MutantStatus.CRASHED,
            KillKind.WORKER_EXIT,
            f"mutmut: killed by a signal (exit code {code})",
        )
    elif code in _SURVIVED:
        status, kind, message = MutantStatus.SURVIVED, None, "mutmut: every property test passed"
        if ours is not None and ours.status.detected:
            message += f"; gradharness's cases catch it ({ours.message})"
    else:
        status, kind, message = MutantStatus.SURVIVED, None, f"mutmut: not tested (exit code {code})"
    equivalence = None
    if status is MutantStatus.SURVIVED and ours is not None and ours.identical:
        status = MutantStatus.EQUIVALENT
        equivalence = (
            f"its gradients are bit-for-bit those of the unmutated code on all {ours.cases} cases "
            "and on well-conditioned probe networks"
        )
    return MutantRecord(
        id=mutant.id, operator="mutmut", engine="mutmut", line=mutant.line, column=mutant.column,
        end_line=mutant.end_line, end_column=mutant.end_column, original=mutant.original,
        replacement=mutant.replacement, description=mutant.description, diff=mutant.diff, status=status,
        kill_kind=kind, message=message,
        examples_to_kill=ours.examples_to_kill if ours is not None and status.detected else None,
        cases_killed=ours.cases_killed if ours is not None else 0,
        cases_crashed=ours.cases_crashed if ours is not None else 0,
        cases=ours.cases if ours is not None else 0,
        counterexample=ours.counterexample if ours is not None and status.detected else None,
        exercise_case=ours.exercise if ours is not None else None,
        equivalence=equivalence, seconds=result.seconds,
    )  # fmt: skip


def engine_record(run: MutmutRun, max_examples: int) -> EngineRecord:
    """mutmut's throughput: end to end, and its own figure for the mutation phase."""
    count = len(run.results)
    return EngineRecord(
        engine="mutmut",
        mutants=count,
        seconds=run.seconds,
        mutants_per_second=count / run.seconds if run.seconds > 0 else 0.0,
        phase_seconds=count / run.reported_rate if run.reported_rate else None,
        phase_mutants_per_second=run.reported_rate,
        note=f"mutmut 3 with the property suite, {max_examples} Hypothesis examples per mutant",
    )


def reference_only(target: Target) -> None:
    """The mutmut engine runs on the built-in reference (its configuration names gradharness/model/network.py)."""
    if not target.builtin or target.label != REFERENCE_LABEL:
        raise GradHarnessError("--engine mutmut runs on the built-in reference only; drop PATH or use --engine domain")


def on_our_cases(progress: Progress | None, run: str = "gradharness's cases") -> Progress | None:
    """``progress`` for the run of mutmut's mutants through gradharness's own cases, named as such (``run``: how)."""
    if progress is None:
        return None
    return lambda done, total, what: progress(done, total, f"{run}: {what}")


def mutmut_campaign(
    target: Target,
    settings: CampaignSettings,
    *,
    with_domain: bool = False,
    executor: Executor | None = None,
    mutmut_timeout: float = 600.0,
    pattern: str = MUTANT_PATTERN,
    progress: Progress | None = None,
    reproduce: str | None = None,
) -> MutateRecord:
    """``--engine mutmut`` (or ``both``: the domain campaign first, then mutmut, side by side in one run)."""
    reference_only(target)
    checker = CheckerSpec()
    started = time.perf_counter()
    domain = run_campaign(target, checker, settings, executor=executor, progress=progress) if with_domain else None
    run = run_mutmut(max_examples=settings.max_examples, jobs=settings.jobs or default_jobs(), timeout=mutmut_timeout,
                     pattern=pattern, progress=progress)  # fmt: skip
    mutants = [as_mutant(r, target) for r in run.results]
    with TaskRunner(executor, jobs=settings.jobs, timeout=settings.timeout) as runner:
        prepared = setup(target, checker, settings, runner)
        proof = prove_harness(target, checker, prepared, runner)
        if not proof.record.passed:
            raise HarnessError(proof.record.message)
        ours = evaluate_mutants(mutants, prepared, runner, on_our_cases(progress))
    records = [mutmut_record(r, m, e) for r, m, e in zip(run.results, mutants, ours, strict=True)]
    engines = [engine_record(run, settings.max_examples)]
    if domain is not None:
        records = domain.mutants + records
        engines = domain.engines + engines
    return assemble(target, checker, settings, "both" if with_domain else "mutmut", proof.record, records,
                    cases=len(prepared.prepared.cases), dropped=0, engines=engines,
                    seconds=time.perf_counter() - started, reproduce=reproduce)  # fmt: skip
