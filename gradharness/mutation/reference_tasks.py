"""Worker side of a reference's campaign: build one variant of the reference's functions and run its target's tests.

A variant is the reference module with one function's source replaced (a mutant), or with the planted
bugs, or unchanged. Every mutated function is re-created over one copy of the module's globals, so a
mutant of ``relu_backward`` is also what ``linear_activation_backward`` and ``L_model_backward`` call.
The variant's functions, with the reference's forward functions, are judged by the target's property
tests (:func:`gradharness.properties.runner.run_tests`), as ``gradharness check`` judges a file:
killed means some property failed.

A survivor is only believed equivalent when every call the tests made of a mutated function returned
what the reference returns on a copy of the same arguments, on the campaign's cases and on a second draw
(another seed): bit for bit, or to rounding (:data:`ROUNDING_ULPS`), or but where an argument is exactly
zero (a ReLU kink: :data:`NUDGE`); dict keys in either letter case, and keys the tests never read aside
(:class:`Comparison`).
"""

from __future__ import annotations

import ast
import copy
import importlib
import time
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from gradharness.errors import GradHarnessError
from gradharness.mutation.evaluate import Evaluation
from gradharness.mutation.references import Planted, Reference
from gradharness.mutation.tasks import guarded
from gradharness.properties.runner import RunFindings, run_tests
from gradharness.records.status import FailureKind, KillKind, MutantStatus
from gradharness.settings import RunSettings
from gradharness.targets.registry import TARGETS
from gradharness.targets.target import TargetFunctions

_CRASHES = (FailureKind.CRASHED, FailureKind.MALFORMED)


@dataclass(frozen=True)
class ReferenceJob:
    """What every variant of one campaign shares: the reference, the tests' settings, the second draw's."""

    reference: Reference
    run: RunSettings
    probe: RunSettings  # the second draw a survivor must also agree on to be believed equivalent
    timeout: float


@dataclass(frozen=True)
class ReferenceVariant:
    """One variant: a mutant's function source (``function`` at ``line``), the planted bugs, or the reference."""

    id: str
    parts: tuple[str, ...]  # the target's parts to run (those the change can reach)
    function: str | None = None
    source: str | None = None
    line: int = 1
    planted: bool = False


def _scaled_returns(function: Callable, planted: Planted) -> Callable:
    """``function`` with the planted factors applied to the items it returns."""

    def planted_bugs(*arguments: Any) -> Any:
        returned = function(*arguments)
        items = dict(returned) if isinstance(returned, Mapping) else list(returned)
        for item, factor in planted.factors:
            items[item] = items[item] * factor  # type: ignore[index]
        return items if isinstance(returned, Mapping) else tuple(items)

    return planted_bugs


def _rebound(function: Callable, namespace: dict[str, Any]) -> Callable:
    """The same code with ``namespace`` as its globals (so it calls the variant's functions)."""
    assert isinstance(function, types.FunctionType)
    rebound = types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )
    rebound.__kwdefaults__ = function.__kwdefaults__
    rebound.__doc__ = function.__doc__
    return rebound


def variant_namespace(reference: Reference, variant: ReferenceVariant) -> dict[str, Any]:
    """The module's globals with the variant's change, every mutated function re-created over them."""
    module = importlib.import_module(reference.module)
    namespace = dict(vars(module))
    changed: set[str] = set()
    if variant.source is not None:
        assert variant.function is not None
        tree = ast.parse(variant.source)
        ast.increment_lineno(tree, variant.line - 1)  # tracebacks point at the file's lines
        exec(compile(tree, reference.label, "exec"), namespace)
        changed.add(variant.function)
    if variant.planted:
        planted = reference.planted
        for name in planted.functions:
            namespace[name] = _scaled_returns(getattr(module, name), planted)
            changed.add(name)
    for name in reference.functions:
        if name not in changed:
            namespace[name] = _rebound(getattr(module, name), namespace)
    return namespace


ROUNDING_ULPS = 64
"""Results agree "to rounding" when every entry is within this many units in the last place of its array's largest
entry: the same function computed in another order (``np.exp(+Z)`` for ``1 - sigmoid``'s symmetric product)."""


NUDGE = 1e-300
"""Where results differ, every exact zero of the arguments is moved to +NUDGE and to -NUDGE and both are called
again: a mutant that then agrees differs only at exact zeros (a ReLU kink, where either value is a derivative)."""

SAME_RESULTS = "bit for bit"
SAME_TO_ROUNDING = f"to rounding (every entry within {ROUNDING_ULPS} units in the last place of its array's largest)"
SAME_BUT_AT_KINKS = (
    f"except on arguments holding exact zeros, and on those too once each zero is moved to +-{NUDGE:g} "
    "(a ReLU kink, where the derivative is undefined and either value is a subgradient)"
)
UNDER_OTHER_KEYS = "under keys in another letter case (which the targets read as the same)"
"""How an equivalent candidate's results agreed with the reference's: its Evaluation's message."""


def nudged(value: Any, step: float) -> Any:
    """A copy of ``value`` (arrays, floats, and tuples, lists and dicts of them) with every exact zero float at ``step``."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind != "f":
            return value.copy()
        moved = value.copy()
        moved[moved == 0] = step
        return moved
    if isinstance(value, float):
        return step if value == 0 else value
    if isinstance(value, Mapping):
        return type(value)({k: nudged(v, step) for k, v in value.items()}) if isinstance(value, dict) else value
    if isinstance(value, (tuple, list)):
        return type(value)(nudged(v, step) for v in value)
    return copy.deepcopy(value)


class Comparison:
    """Counts the calls of a variant's functions and whether each returned what the reference returns.

    Only survivors are judged by it: every property held, so a dict key one side returns and the other does not
    is a key the target's tests never read (had they read it, the variant would have failed).
    """

    def __init__(self) -> None:
        self.calls = 0
        self.differed: set[str] = set()  # functions whose result differed beyond rounding
        self.rounded: set[str] = set()  # functions whose result agreed only to rounding
        self.kinks: set[str] = set()  # functions whose result differed only at exact zeros of the arguments
        self.renamed: set[str] = set()  # functions that returned a dict's entries under keys in another case
        self.unread: set[str] = set()  # dict keys only one side returned (none the tests read)

    @property
    def identical(self) -> bool:
        """Every call (there was at least one) returned the reference's result, to rounding or but at kinks."""
        return self.calls > 0 and not self.differed

    @property
    def agreement(self) -> str:
        """How the results agreed: bit for bit, to rounding or but at kinks, and under which keys."""
        words = SAME_BUT_AT_KINKS if self.kinks else SAME_TO_ROUNDING if self.rounded else SAME_RESULTS
        if self.renamed:
            words += f", {UNDER_OTHER_KEYS}"
        if self.unread:
            words += f", on every key both return (the tests read none of the others: {', '.join(sorted(self.unread))})"
        return words

    @property
    def difference(self) -> str:
        """Which functions returned other results than the reference's, in words."""
        return (
            f"every property held, but {', '.join(sorted(self.differed))} returned other results than the reference's"
        )

    def _record(self, name: str, arguments: tuple, result: object, expected: object, mine: Callable, theirs: Callable):
        unread: set[str] = set()
        if same(result, expected, unread=unread):
            pass
        elif same(result, expected, ulps=ROUNDING_ULPS, unread=unread):
            self.rounded.add(name)
        elif self._at_kinks_only(arguments, mine, theirs, unread):
            self.kinks.add(name)
        else:
            self.differed.add(name)
            return
        self.unread |= unread
        if not _same_keys(result, expected):
            self.renamed.add(name)

    @staticmethod
    def _at_kinks_only(arguments: tuple, mine: Callable, theirs: Callable, unread: set[str]) -> bool:
        try:
            return all(
                same(
                    mine(*nudged(arguments, step)), theirs(*nudged(arguments, step)), ulps=ROUNDING_ULPS, unread=unread
                )
                for step in (NUDGE, -NUDGE)
            )
        except Exception:  # either fails off the kink: a difference
            return False

    def twin(self, name: str, mine: Callable, reference: Callable) -> Callable:
        """``mine``, also checked against ``reference`` on a copy of the same arguments at each call."""

        def compared(*arguments: Any) -> Any:
            copies = copy.deepcopy(arguments)
            result = mine(*arguments)  # whatever it raises is the tests' finding
            self.calls += 1
            try:
                expected = reference(*copy.deepcopy(copies))
            except Exception:  # the reference fails where the variant did not: that is a difference
                self.differed.add(name)
                return result
            self._record(name, copies, result, expected, mine, reference)
            return result

        return compared


def _same_keys(a: object, b: object) -> bool:
    """The same dict keys, letter case included, wherever both have a key in either case."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        theirs = {str(k).lower(): k for k in b}
        common = [k for k in a if str(k).lower() in theirs]
        return all(theirs[str(k).lower()] == k and _same_keys(a[k], b[theirs[str(k).lower()]]) for k in common)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return all(_same_keys(x, y) for x, y in zip(a, b, strict=False))
    return True


def _same_arrays(a: np.ndarray, b: np.ndarray, ulps: int) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if ulps == 0 or a.dtype.kind not in "fc":
        try:
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        except TypeError:
            return bool(np.array_equal(a, b))
    finite = np.isfinite(b)
    if not (np.array_equal(finite, np.isfinite(a)) and np.array_equal(a[~finite], b[~finite], equal_nan=True)):
        return False
    scale = float(np.max(np.abs(b[finite]), initial=0.0))
    return bool(np.all(np.abs(a[finite] - b[finite]) <= ulps * np.finfo(b.dtype).eps * scale))


def _same_mappings(a: Mapping, b: Mapping, ulps: int, unread: set[str] | None) -> bool:
    mine, theirs = ({str(k).lower(): (k, v) for k, v in m.items()} for m in (a, b))
    if len(mine) != len(a) or len(theirs) != len(b):
        return False  # two keys in one letter case: not what a target reads
    if mine.keys() != theirs.keys():
        if unread is None:
            return False
        unread |= {str(mine[k][0]) for k in mine.keys() - theirs.keys()}
        unread |= {str(theirs[k][0]) for k in theirs.keys() - mine.keys()}
    return all(same(mine[k][1], theirs[k][1], ulps=ulps, unread=unread) for k in mine.keys() & theirs.keys())


def same(a: object, b: object, *, ulps: int = 0, unread: set[str] | None = None) -> bool:
    """Equal results, item by item: arrays of one dtype and shape, bit for bit (NaN where NaN) or, with ``ulps``,
    within that many units in the last place of the array's largest entry; dict keys as the targets read them (in
    either letter case). With ``unread``, keys only one dict has are added to it instead of making a difference."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and _same_arrays(a, b, ulps)
    if isinstance(a, Mapping):
        return isinstance(b, Mapping) and _same_mappings(a, b, ulps, unread)
    if isinstance(a, (tuple, list)):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(same(x, y, ulps=ulps, unread=unread) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, float) and isinstance(b, float):
        close = ulps > 0 and abs(a - b) <= ulps * float(np.finfo(float).eps) * abs(b)
        return bool((np.isnan(a) and np.isnan(b)) or a == b or close)
    return type(a) is type(b) and a == b


def variant_functions(
    reference: Reference, variant: ReferenceVariant, comparison: Comparison | None = None
) -> dict[str, Callable]:
    """Every function of the target: the variant's mutated ones (each a twin when ``comparison``), the module's rest."""
    module = importlib.import_module(reference.module)
    names = TARGETS[reference.target].spec.names
    functions = {name: getattr(module, name) for name in names if hasattr(module, name)}
    if variant.source is None and not variant.planted:
        return functions
    namespace = variant_namespace(reference, variant)
    for name in reference.functions:
        mine = namespace[name]
        functions[name] = comparison.twin(name, mine, getattr(module, name)) if comparison is not None else mine
    return functions


def findings_of(
    reference: Reference, functions: Mapping[str, Callable], parts: tuple[str, ...], run: RunSettings
) -> RunFindings:
    """The target's property tests of ``parts`` on these functions, part by part, up to the first part that fails.

    A kill needs one failing property; the parts after it would only make the same finding slower.
    """
    tests = TARGETS[reference.target].tests
    assert tests is not None
    findings: RunFindings | None = None
    for part in parts:
        found = run_tests(tests(TargetFunctions.in_process(functions, (part,)), run), run)
        findings = found if findings is None else findings.merged(found)
        if found.failures:
            break
    if findings is None:
        raise GradHarnessError("a variant must run at least one part of its target")
    return findings


def evaluation_of(findings: RunFindings, identical: bool, seconds: float) -> Evaluation:
    """An Evaluation of the tests' findings: killed when a property found a wrong value, crashed when only crashes."""
    failures = findings.failures
    wrong = [f for f in failures if f.kind not in _CRASHES]
    crashes = [f for f in failures if f.kind in _CRASHES]
    status = MutantStatus.KILLED if wrong else MutantStatus.CRASHED if crashes else MutantStatus.SURVIVED
    evaluation = Evaluation(
        status=status,
        cases_killed=len(wrong),
        cases_crashed=len(crashes),
        cases=findings.examples,
        identical=identical and status is MutantStatus.SURVIVED,
        seconds=seconds,
        shrunk=bool(failures),
    )
    detecting = wrong or crashes
    if not detecting:
        return evaluation
    first = min(detecting, key=lambda f: f.examples_before)
    others = len(detecting) - 1
    more = f" (and {others} more propert{'y' if others == 1 else 'ies'})" if others else ""
    return replace(
        evaluation,
        kill_kind=KillKind(first.kind.value),
        message=f"{first.property}: {first.message}{more}",
        examples_to_kill=first.examples_before,
        counterexample=first.case,
    )


def _judged(job: ReferenceJob, variant: ReferenceVariant, started: float) -> Evaluation:
    comparison = Comparison()
    functions = variant_functions(job.reference, variant, comparison)
    findings = findings_of(job.reference, functions, variant.parts, job.run)
    if findings.failures:
        return evaluation_of(findings, False, time.perf_counter() - started)
    if not comparison.identical:
        evaluation = evaluation_of(findings, False, time.perf_counter() - started)
        return replace(evaluation, message=comparison.difference) if variant.source is not None else evaluation
    probe = findings_of(job.reference, functions, variant.parts, job.probe)
    identical = comparison.identical and not probe.failures
    evaluation = evaluation_of(findings, identical, time.perf_counter() - started)
    if probe.failures:
        caught = evaluation_of(probe, False, 0.0).message
        message = f"survived the {findings.examples} cases; a second draw (seed {job.probe.seed}) catches it: {caught}"
        return replace(evaluation, message=message)
    return replace(evaluation, message=comparison.agreement if identical else comparison.difference)


def reference_variant_task(job: ReferenceJob, variant: ReferenceVariant) -> Evaluation:
    """Judge one variant on the target's tests of its parts; never raises for anything the variant does."""
    return guarded(partial(_judged, job, variant, time.perf_counter()), job.timeout)


def reference_pair_task(pair: tuple[ReferenceJob, ReferenceVariant]) -> Evaluation:
    """:func:`reference_variant_task` for a (job, variant) pair, when one batch mixes the jobs of several references."""
    return reference_variant_task(*pair)
