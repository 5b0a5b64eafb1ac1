"""Check a user's file (its code in a jailed evaluator) or a built-in backward pass, as a CheckRecord.

This is the judge: it draws the cases, computes the numerical gradients, runs every property and
writes the record. The user's code runs only in the evaluator process (:mod:`~gradharness.isolation`),
reached through the stand-ins of :mod:`~gradharness.judge.remote`; at ``--isolation none`` (trusted
code only) it is loaded into this process instead.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gradharness.errors import EvaluatorLost, GradHarnessError
from gradharness.isolation import warm
from gradharness.isolation.client import Evaluator
from gradharness.isolation.jail import resolve_level
from gradharness.isolation.values import cut
from gradharness.judge.expected import denied_pairs, denied_parts, stub_functions, unchecked_checker
from gradharness.judge.observed import observe_wrong_gradients
from gradharness.judge.remote import RemoteFunction, RemoteNetwork, RemotePrograms, RemoteTargetFunction, one_d_pair
from gradharness.judge.reproduce import demo_command, reproduce_command
from gradharness.judge.signatures import file_layers, missing_layers
from gradharness.model import network
from gradharness.properties.properties import NetworkFunctions, Property
from gradharness.properties.runner import Progress, RunFindings, run_properties, run_tests
from gradharness.properties.student_checker import check_student_checker
from gradharness.records.check import CheckRecord
from gradharness.records.environment import environment, file_sha256
from gradharness.records.serialise import to_json
from gradharness.records.verdict import RunVerdict
from gradharness.settings import DEFAULT_TIMEOUT, FunctionNames, IsolationSettings, RunSettings
from gradharness.targets.functions import TargetSpec
from gradharness.targets.registry import targets_with
from gradharness.targets.signature.functions import SIGNATURE, SignedLayer
from gradharness.targets.specs import SPECS, specs_with
from gradharness.targets.target import TargetFunctions
from gradharness.usercode.discover import with_key_case
from gradharness.usercode.loader import load_user_file
from gradharness.usercode.source import check_checkable

OUTPUT_SHOWN = 4096
"""Characters of the user's output kept in the record."""


@dataclass
class Examined:
    """What examining a file found: findings, or the error that stopped it; and what to tell the user."""

    findings: RunFindings | None
    error: str | None = None
    functions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    output: str = ""
    isolation: str = ""
    not_checked: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckedFunctions:
    """The file's functions as the judge calls them (remote stand-ins, or the functions themselves)."""

    network: NetworkFunctions | None
    one_d: tuple[Callable, Callable] | None
    checker: Callable | None
    targets: dict[str, TargetFunctions] = field(default_factory=dict)  # the other targets', by target name
    layers: tuple[SignedLayer, ...] = ()  # the layers the signature target checks

    def names(self, names: FunctionNames) -> list[str]:
        """The names of the functions checked, as the judge knows them."""
        out = [names.forward_n, names.backward_n] if self.network is not None else []
        out += [names.forward_1d, names.backward_1d] if self.one_d is not None else []
        out += [names.checker_n] if self.checker is not None else []
        return out + [name for functions in self.targets.values() for name in functions.functions]

    def only(self, target: str | None) -> CheckedFunctions:
        """These functions with only ``target``'s kept (None: all of them)."""
        if target is None:
            return self
        if target == "exercise":
            return CheckedFunctions(self.network, self.one_d, self.checker)
        return CheckedFunctions(None, None, None, {k: v for k, v in self.targets.items() if k == target}, self.layers)

    @property
    def empty(self) -> bool:
        """Nothing to check."""
        return self.network is None and self.one_d is None and not self.targets


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


def judge(functions: CheckedFunctions, run: RunSettings, notes: list[str], progress: Progress | None) -> RunFindings:
    """Every target's properties on the file's functions: the exercise's, then each other target's."""
    findings = None
    if functions.network is not None or functions.one_d is not None:
        findings = judge_exercise(functions, run, notes, progress)
    sizes = run.strategy
    if functions.targets and (sizes.n0, sizes.n1, sizes.n2) != (None, None, None):
        targets = " and ".join(f"the {name} target" for name in functions.targets)
        notes.append(
            f"--layer-sizes sets the exercise's network: {targets} drew its own sizes, all but the output layer's "
            "(the depth: --layers; the largest layer: --max-units)"
        )
    known = targets_with(functions.layers)
    for name, target_functions in functions.targets.items():
        if findings is not None and findings.cut_short is not None:
            break  # the evaluator is gone
        tests = known[name].tests
        assert tests is not None
        found = run_tests(tests(target_functions, run), run, progress)
        findings = found if findings is None else findings.merged(found)
        if found.cut_short is not None:
            notes.append(f"the check was cut short after a failure was found ({found.cut_short})")
    assert findings is not None, "judge() needs functions to check"
    return findings


def judge_exercise(
    functions: CheckedFunctions, run: RunSettings, notes: list[str], progress: Progress | None
) -> RunFindings:
    """Run every property of the exercise on the file's functions, then its own checker once its forward is right."""
    findings = run_properties(functions.network, functions.one_d, run, progress)
    if findings.cut_short is not None:
        notes.append(
            f"the check was cut short after a failure was found ({findings.cut_short}): the failing case shown "
            "is the first one drawn, not shrunk, and the properties after it were not run"
        )
        return findings
    if functions.network is not None:
        observe_wrong_gradients(functions.network, findings)
    if functions.checker is None:
        return findings
    forward_failed = {f.property for f in findings.failures} & {
        Property.FORWARD_COST.name,
        Property.FORWARD_MATCHES.name,
    }
    if forward_failed:
        notes.append("gradient_check_n is not checked: the forward pass is wrong")
        return findings
    student = check_student_checker(functions.checker, run, progress)
    findings.properties.append(student.property)
    findings.failures.extend(student.failures)
    findings.seconds += student.seconds
    if not student.failures:
        notes.append(student.note())
    return findings


def implemented_parts(spec: TargetSpec, defined: set[str], stubs: set[str]) -> tuple[list[str], list[str]]:
    """The parts of ``spec`` the ``defined`` functions implement, and one line for each part that only a stub
    (``pass``, ``raise NotImplementedError``) keeps from being checked: a finding, not a failure."""
    parts, left = [], []
    for part in spec.parts_in(defined):
        stubbed = [name for name in part.required if name in stubs]
        if stubbed:
            verb = "is a stub" if len(stubbed) == 1 else "are stubs"
            left.append(f"the {spec.name} target's {part.name}: not implemented ({' and '.join(stubbed)} {verb})")
        else:
            parts.append(part.name)
    return parts, left


def _remote_functions(
    evaluator: Evaluator,
    hello: dict[str, Any],
    names: FunctionNames,
    stubs: set[str],
    left: list[str],
    layers: tuple[SignedLayer, ...],
) -> CheckedFunctions:
    remote = RemoteNetwork(evaluator)
    network_pair = None
    if hello.get("network") is True:
        network_pair = NetworkFunctions(remote.forward, remote.backward, names.forward_n, names.backward_n)
    one_d = None
    if hello.get("one_d") is True:
        one_d = one_d_pair(evaluator, names.forward_1d, names.backward_1d)
    checker = None
    if hello.get("checker") is not None and network_pair is not None:
        signature = hello["checker"] if isinstance(hello["checker"], list) else None
        checker = RemoteFunction(evaluator, "checker", names.checker_n, signature)
    targets = {}
    programs = RemotePrograms(evaluator)
    specs = specs_with(names.signatures)
    for name, defined in reported_targets(hello, specs).items():
        spec = specs[name]
        stand_ins = {function: RemoteTargetFunction(evaluator, spec.function(function)) for function in defined}
        parts, stubbed = implemented_parts(spec, set(defined), stubs)
        left += stubbed
        if parts:
            targets[name] = TargetFunctions(stand_ins, tuple(parts), programs)
    return CheckedFunctions(network_pair, one_d, checker, targets, layers)


def reported_targets(hello: dict[str, Any], specs: dict[str, TargetSpec] = SPECS) -> dict[str, list[str]]:
    """The other targets' functions the evaluator says the file defines: known targets and names only, for the
    targets with a complete part (what the evaluator sends is the user's: anything else is left out)."""
    reported = hello.get("targets")
    out: dict[str, list[str]] = {}
    if not isinstance(reported, dict):
        return out
    for name, spec in specs.items():
        functions = reported.get(name)
        if name == "exercise" or not isinstance(functions, dict):
            continue
        defined = [function for function in spec.names if function in functions]
        if spec.parts_in(set(defined)):
            out[name] = defined
    return out


def _refused(hello: dict[str, Any], path: Path, specs: dict[str, TargetSpec]) -> str | None:
    """Why the evaluator's answer to ``hello`` leaves nothing to check (None: there is something)."""
    if "error" in hello:
        return cut(hello["error"], 2000)
    raised = hello.get("raised")
    if isinstance(raised, dict):
        return f"{path.name}: loading failed: {cut(raised.get('type'), 100)}: {cut(raised.get('message'), 500)}"
    if hello.get("network") is not True and hello.get("one_d") is not True and not reported_targets(hello, specs):
        return f"{path.name}: the evaluator found no functions to check"
    return None


def _denied(hello: dict[str, Any], path: Path, names: FunctionNames) -> str | None:
    """An error when the evaluator denies a function pair the source defines (it is the user's to make lie)."""
    specs = specs_with(names.signatures)
    reported = {name: dict.fromkeys(defined) for name, defined in reported_targets(hello, specs).items()}
    denied = denied_pairs(path, names, hello) + denied_parts(path, reported, specs)
    if not denied:
        return None
    return f"{path.name}: the evaluator says there is no {'; no '.join(denied)}, which the file defines"


def _text_list(value: object) -> list[str]:
    return [cut(item, 1000) for item in value[:20]] if isinstance(value, list) else []


def _progress(evaluator: Evaluator | None, line: Callable[[str], None] | None) -> Progress:
    def update(done: int, total: int, what: str) -> None:
        step = f"example {done}/{total}: {what}"
        if evaluator is not None:
            evaluator.step = step
        if line is not None:
            line(step)

    return update


def _level(requested: str | None, timeout: float) -> tuple[str, str | None]:
    """The isolation level to use: the namespace level at once when the warm server runs (it proves bubblewrap
    works; its start waits no longer than the file's ``timeout``)."""
    if requested in (None, "namespace") and warm.server(timeout) is not None:
        return "namespace", None
    return resolve_level(requested)


def examine(
    path: Path,
    run: RunSettings,
    names: FunctionNames,
    timeout: float,
    isolation: IsolationSettings,
    siblings: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Examined:
    """Load the file at the isolation level asked for and judge its functions."""
    level, fallback = _level(isolation.level, timeout)
    notes = [fallback] if fallback else []
    try:
        layers, layer_notes = file_layers(path, names)
    except GradHarnessError as exc:
        return Examined(None, str(exc), notes=notes, isolation=level)
    notes += layer_notes
    names = dataclasses.replace(names, signatures=tuple((layer.name, str(layer.signature)) for layer in layers))
    missing = missing_layers(path, layers)
    if not run.check.reference:
        notes.append(
            "--no-reference: the costs were not compared with the network's; only self-consistency was checked"
        )
    if level == "none":
        return _examine_in_process(path, run, names, notes, progress, layers, missing)
    evaluator = Evaluator(path, names, level=level, isolation=isolation, timeout=timeout, siblings=siblings)
    try:
        with evaluator:
            hello = evaluator.call({"call": "hello"})
            notes += [f"loading: {note}" for note in _text_list(hello.get("notes"))]  # a refused file's too
            refused = _refused(hello, path, specs_with(names.signatures)) or _denied(hello, path, names)
            if refused is not None and missing and "has no functions to check" in refused:  # the layers asked for
                refused = f"{path.name}: {'; '.join(missing)}"
            if refused is not None:
                return Examined(None, refused, notes=notes, isolation=level)
            notes += [f"not checked: {line}" for line in missing]
            left: list[str] = []
            functions = _remote_functions(evaluator, hello, names, stub_functions(path), left, layers).only(run.target)
            notes += [f"not checked: {line}" for line in left]
            if functions.empty:
                return Examined(None, not_implemented(path, run.target), notes=notes, isolation=level)
            findings = judge(functions, run, notes, _progress(evaluator, progress))
    except (EvaluatorLost, GradHarnessError) as exc:
        return Examined(None, f"{path.name}: {exc}", notes=notes, isolation=level)
    output = evaluator.output()[-OUTPUT_SHOWN:]  # all of it: the evaluator has ended
    not_checked = _text_list(hello.get("not_checked")) + missing + left
    hidden = unchecked_checker(path, names, functions.checker is not None)
    if hidden is not None and not any(names.checker_n in item for item in not_checked):
        not_checked.append(hidden)
        notes.append(f"not checked: {hidden}")
    return Examined(findings, None, functions.names(names), notes, output, level, not_checked)


def _examine_in_process(
    path: Path,
    run: RunSettings,
    names: FunctionNames,
    notes: list[str],
    progress: Callable[[str], None] | None,
    layers: tuple[SignedLayer, ...],
    missing: list[str],
) -> Examined:
    """Trusted code only: the file is loaded into this process."""
    try:
        loaded = load_user_file(path, names)
    except GradHarnessError as exc:
        error = (
            f"{path.name}: {'; '.join(missing)}" if missing and "has no functions to check" in str(exc) else str(exc)
        )
        return Examined(None, error, notes=notes, isolation="none")
    notes += [f"not checked: {line}" for line in missing]
    found = loaded.found
    network_pair = None
    if found.network is not None:
        forward, backward = found.network
        network_pair = NetworkFunctions(with_key_case(forward), backward, names.forward_n, names.backward_n)
    notes += loaded.notes
    stubs, left, targets, specs = stub_functions(path), [], {}, specs_with(names.signatures)
    for name, defined in found.targets.items():
        parts, stubbed = implemented_parts(specs[name], set(defined), stubs)
        left += stubbed
        if parts:
            targets[name] = TargetFunctions.in_process(defined, parts)
    notes += [f"not checked: {line}" for line in left]
    functions = CheckedFunctions(network_pair, found.one_d, found.checker, targets, layers).only(run.target)
    if functions.empty:
        return Examined(None, not_implemented(path, run.target), notes=notes, isolation="none")
    findings = judge(functions, run, notes, _progress(None, progress))
    not_checked = list(loaded.not_checked) + missing + left
    return Examined(findings, None, found.found(), notes, isolation="none", not_checked=not_checked)


def not_implemented(path: Path, target: str | None) -> str:
    """The error for a file that implements none of the targets asked for, saying what was looked for."""
    if target == SIGNATURE:
        return (
            f"{path.name} implements no layer of the signature target: give each layer's signature with "
            "--signature NAME=SIG or in the file's GRADHARNESS_SIGNATURES, for NAME_forward and NAME_backward"
        )
    spec = SPECS.get(target or "")
    if spec is None:
        return f"{path.name} has no functions to check"
    return f"{path.name} implements no part of the {spec.name} target ({spec.title}): looked for {spec.looked_for()}"


def check_file(
    path: Path,
    run: RunSettings,
    *,
    names: FunctionNames | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[str], None] | None = None,
    extra_args: list[str] | None = None,
    isolation: IsolationSettings | None = None,
    siblings: bool = True,
) -> CheckRecord:
    """Check the functions in a user's file, its code jailed; errors become an 'error' record.

    ``siblings``: the .py files beside the file are its own helpers (False for a submission that
    shares its folder with other submissions).
    """
    path = Path(path)
    names = names or FunctionNames()
    isolation = isolation or IsolationSettings()
    started = time.perf_counter()
    reproduce = reproduce_command(path, run, extra_args, names, isolation=isolation, timeout=timeout)
    try:
        check_checkable(path)
    except GradHarnessError as exc:
        missing: dict[str, Any] = {"path": str(path), "sha256": None, "functions": []}
        return _record(missing, run, None, str(exc), reproduce, time.perf_counter() - started)
    target: dict[str, Any] = {"path": str(path), "sha256": file_sha256(path), "functions": []}
    examined = examine(path.resolve(), run, names, timeout, isolation, siblings, progress=progress)
    target["functions"] = examined.functions
    target["isolation"] = examined.isolation
    if examined.notes:
        target["notes"] = examined.notes
    if examined.not_checked:
        target["not_checked"] = examined.not_checked
    if examined.output:
        target["output"] = examined.output
    return _record(target, run, examined.findings, examined.error, reproduce, time.perf_counter() - started)


def check_builtin(backward: Callable, label: str, run: RunSettings, progress: Progress | None = None) -> CheckRecord:
    """Check a built-in backward pass against the built-in forward, in this process (trusted code)."""
    started = time.perf_counter()
    functions = NetworkFunctions(
        network.forward_propagation_n, backward, "forward_propagation_n", backward.__name__, builtin=True
    )
    findings = run_properties(functions, (network.forward_propagation, network.backward_propagation), run, progress)
    observe_wrong_gradients(functions, findings)
    target = {"path": f"builtin:{label}", "sha256": None, "functions": ["forward_propagation_n", backward.__name__]}
    return _record(
        target,
        run,
        findings,
        None,
        demo_command(run),
        time.perf_counter() - started,
    )
