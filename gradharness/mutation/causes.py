"""The likely cause of a wrong gradient: which common mistake gives the user's gradients on the failing case.

Worked out from the failing case and the gradients the user's backward returned there, both in
the record (the user's code is not run again), in two ways:

- **closed-form fits**, block by block: the user's block is c times the true one (c = 2, 4, 1/2,
  1/4, -1, m, 1/m, or another constant), zero, or the true one transposed;
- **mutants of the reference backward pass** (the operators of :mod:`gradharness.mutation.operators`):
  a mutant whose gradients differ from the true ones only in blocks the user got wrong, and there
  equal the user's within the checker's threshold, makes the user's mistake. The line it changes
  names the mistake: the ``dZ1`` line for a wrong ReLU mask, not only the ``dW1`` line it feeds.

A fit and a mutant that explain the same blocks are one cause. Nothing is said about a block no
fit or mutant explains, and nothing at all about a correct file (no failure, no cause).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradharness.check.result import relative_difference
from gradharness.errors import GradHarnessError
from gradharness.model import network
from gradharness.model.case import NetworkCase
from gradharness.model.parameters import GRADIENT_NAMES, PARAMETER_NAMES, Gradients, LayerSizes, vector_to_dictionary
from gradharness.mutation.loading import compile_function
from gradharness.mutation.mutants import Mutant, generate_mutants
from gradharness.mutation.operators import OPERATORS
from gradharness.mutation.target import reference_target
from gradharness.records.check import CheckRecord, FailureRecord, LikelyCause
from gradharness.records.environment import file_sha256
from gradharness.records.status import FailureKind
from gradharness.usercode.source import read_user_source

MAX_CAUSES = 4
"""Causes reported per failure at most (the ones that explain most of the wrong blocks first)."""

# Constants a block is often off by, with the words for each (m is the batch size).
_FACTORS: tuple[tuple[str, Callable[[int], float]], ...] = (
    ("2", lambda m: 2.0),
    ("4", lambda m: 4.0),
    ("1/2", lambda m: 0.5),
    ("1/4", lambda m: 0.25),
    ("-1", lambda m: -1.0),
    ("m", lambda m: float(m)),
    ("1/m", lambda m: 1.0 / m),
)


def _agrees(a: np.ndarray, b: np.ndarray, threshold: float) -> bool:
    """The checker's rule between two analytic gradients: their seed difference within the threshold."""
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    return relative_difference(a.reshape(-1), b.reshape(-1)) <= threshold


@dataclass(frozen=True)
class _Fit:
    """A closed form of a block: its name, its words, and whether it holds for (user block, true block, m)."""

    kind: str
    description: str
    holds: Callable[[np.ndarray, np.ndarray, int], bool]


def _multiple_holds(
    factor: Callable[[int], float], threshold: float, user: np.ndarray, true: np.ndarray, m: int
) -> bool:
    return _agrees(user, factor(m) * true, threshold)


def _fit(name: str, user: np.ndarray, true: np.ndarray, m: int, threshold: float) -> _Fit | None:
    """The closed form that gives ``user`` from ``true``; None if none does."""
    if not np.any(true):
        return None  # the true block is zero here: every multiple of it is too
    if not np.any(user):
        return _Fit("zero", f"{name} is zero", lambda u, t, m: not np.any(u) and bool(np.any(t)))
    for words, factor in _FACTORS:
        if words in ("m", "1/m") and m == 1:
            continue
        if _agrees(user, factor(m) * true, threshold):
            extra = f" (m = {m})" if "m" in words else ""
            return _Fit(
                "multiple",
                f"{name} is {words} x the true gradient{extra}",
                functools.partial(_multiple_holds, factor, threshold),
            )
    if true.shape[0] == true.shape[1] and true.shape[0] > 1 and _agrees(user, true.T, threshold):
        return _Fit("transpose", f"{name} is the true gradient transposed", lambda u, t, m: _agrees(u, t.T, threshold))
    scale = float(np.vdot(user, true) / np.vdot(true, true))
    if scale != 0 and _agrees(user, scale * true, threshold):
        off = scale - 1.0
        words = f"(1 {'+' if off > 0 else '-'} {abs(off):.2g})" if abs(off) < 1e-3 else f"{scale:.4g}"
        return _Fit(
            "multiple", f"{name} is {words} x the true gradient", lambda u, t, m: _agrees(u, scale * t, threshold)
        )
    return None


def _words(reference: _ReferenceMutant, blocks: list[str]) -> str:
    """What the mutant's mistake is, from its operator's summary (``before -> after: words``)."""
    summary = OPERATORS[reference.mutant.operator].summary
    words = summary.split(": ", 1)[1].rstrip(".") if ": " in summary else summary
    which = "every gradient block" if len(blocks) == len(GRADIENT_NAMES) else ", ".join(blocks)
    return f"{which} wrong: {words}"


@dataclass(frozen=True)
class _ReferenceMutant:
    mutant: Mutant
    as_if: str  # the reference's line as the mutant changes it
    variable: str | None  # what that line assigns
    reaches: frozenset[str]  # the gradient blocks the change can reach (every block when unknown)

    @functools.cached_property
    def backward(self) -> Callable:
        """The mutated backward pass, compiled on first use (most failures need only a few of them)."""
        target = reference_target()
        return compile_function(target, self.mutant.function_source, self.mutant.function_line, target.backward)


def _assigned(tree: ast.Module, line: int) -> str | None:
    """The name the statement at ``line`` of the reference assigns (``dZ1``), if it assigns one name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and node.lineno <= line <= (node.end_lineno or node.lineno):
            targets = node.targets
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                return targets[0].id
    return None


def _reach(function: ast.FunctionDef) -> dict[str, frozenset[str]]:
    """Per name the reference backward assigns, the gradient blocks computed from it (itself included)."""
    reads: dict[str, set[str]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            reads.setdefault(node.targets[0].id, set()).update(
                n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)
            )

    @functools.cache
    def depends(name: str, on: str) -> bool:
        return name == on or any(depends(read, on) for read in reads.get(name, ()) if read != name)

    return {name: frozenset(g for g in GRADIENT_NAMES if depends(g, name)) for name in reads}


@functools.cache
def reference_mutants() -> tuple[_ReferenceMutant, ...]:
    """Every mutant of the reference backward pass (each compiled when first run), once per process."""
    target = reference_target()
    tree = ast.parse(target.source)
    function = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == target.backward)
    reach = _reach(function)
    everything = frozenset(GRADIENT_NAMES)
    out = []
    for mutant in generate_mutants(target.source, target.backward, target.label, diffs=False):
        changed = mutant.function_source.split("\n")[mutant.line - mutant.function_line]
        variable = _assigned(tree, mutant.line)
        reaches = reach.get(variable, everything) if variable is not None else everything
        out.append(_ReferenceMutant(mutant, changed.strip(), variable, reaches or everything))
    return tuple(out)


def _gradients_of(backward: Callable, case: NetworkCase) -> Gradients | None:
    """The gradient blocks ``backward`` gives on ``case`` (None when it fails or gives malformed ones)."""
    try:
        with np.errstate(all="ignore"):
            _, cache = network.forward_propagation_n(case.X, case.Y, case.copy_parameters())
            returned = backward(case.X, case.Y, cache)
        gradients = {name: np.asarray(returned[name], dtype=np.float64) for name in GRADIENT_NAMES}
    except Exception:  # a mutant may crash on a case: it explains nothing there
        return None
    shapes = {name: case.parameters[name[1:]].shape for name in GRADIENT_NAMES}
    return gradients if all(gradients[n].shape == shapes[n] for n in GRADIENT_NAMES) else None


@dataclass(frozen=True)
class Observation:
    """A case and the gradients the user's backward returned on it."""

    case: NetworkCase
    user: Gradients


def _mutant_causes(
    case: NetworkCase, user: Gradients, true: Gradients, wrong: set[str], threshold: float
) -> list[tuple[frozenset[str], _ReferenceMutant]]:
    """The mutants that change only blocks in ``wrong``, and those exactly as the user's, with the blocks they explain."""
    found = []
    for reference in reference_mutants():
        if not reference.reaches & wrong:
            continue  # it changes only blocks the user got right: nothing of the user's mistake
        gradients = _gradients_of(reference.backward, case)
        if gradients is None:
            continue
        changed = {n for n in GRADIENT_NAMES if not _agrees(gradients[n], true[n], threshold)}
        if changed and changed <= wrong and all(_agrees(gradients[n], user[n], threshold) for n in changed):
            found.append((frozenset(changed), reference))
    return found


def _mutant_holds(reference: _ReferenceMutant, blocks: frozenset[str], seen: Observation, threshold: float) -> bool:
    gradients = _gradients_of(reference.backward, seen.case)
    return gradients is not None and all(_agrees(gradients[n], seen.user[n], threshold) for n in blocks)


def _fit_holds(fit: _Fit, name: str, seen: Observation) -> bool:
    true = _gradients_of(network.backward_propagation_n, seen.case)
    return true is not None and fit.holds(seen.user[name], true[name], seen.case.m)


def likely_causes(
    observations: Sequence[Observation], wrong_blocks: Sequence[str], threshold: float
) -> list[LikelyCause]:
    """The likely causes of the wrong blocks of the first observation (the failing case), best first.

    Candidates come from the failing case; each counts the observations it explains. Of the mutants
    that explain the same blocks, those that explain the most cases speak for them.
    """
    first, rest = observations[0], observations[1:]
    true = _gradients_of(network.backward_propagation_n, first.case)
    if true is None:
        return []
    tried = len(observations)
    wrong = {n for n in wrong_blocks if n in first.user}
    fits = {n: fit for n in sorted(wrong) if (fit := _fit(n, first.user[n], true[n], first.case.m, threshold))}
    best: dict[frozenset[str], tuple[int, _ReferenceMutant]] = {}
    for blocks, reference in _mutant_causes(first.case, first.user, true, wrong, threshold):
        cases = 1 + sum(_mutant_holds(reference, blocks, seen, threshold) for seen in rest)
        if blocks not in best or cases > best[blocks][0]:
            best[blocks] = (cases, reference)
    causes: list[LikelyCause] = []
    covered: set[str] = set()
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], -len(item[0]), item[1][1].mutant.line))
    for blocks, (cases, reference) in ranked:
        if blocks <= covered:
            continue  # a cause already named explains these blocks (on as many cases or more)
        covered |= blocks
        names = [n for n in GRADIENT_NAMES if n in blocks]
        fit = fits.get(names[0]) if len(names) == 1 else None
        causes.append(
            LikelyCause(
                description=fit.description if fit else _words(reference, names),
                blocks=names,
                operator=reference.mutant.operator,
                fit=fit.kind if fit else None,
                as_if=reference.as_if,
                variable=reference.variable,
                cases=cases,
                tried=tried,
            )
        )
    for name, fit in fits.items():
        if name not in covered:
            cases = 1 + sum(_fit_holds(fit, name, seen) for seen in rest)
            causes.append(LikelyCause(fit.description, [name], fit=fit.kind, cases=cases, tried=tried))
    return causes[:MAX_CAUSES]


def _user_gradients(vector: Sequence[float], sizes: LayerSizes) -> Gradients | None:
    """The blocks dW1 ... db3 of a recorded gradient vector (None when it does not fit the sizes)."""
    if len(vector) == 0:
        return None
    try:
        blocks = vector_to_dictionary(np.asarray(vector, dtype=np.float64), sizes)
    except ValueError:
        return None
    return {f"d{name}": blocks[name] for name in PARAMETER_NAMES}


def _assigning_lines(path: Path) -> dict[str, tuple[int | None, str]]:
    """Per name, where the user's file first assigns it: (its line in a .py file, None in a notebook;
    ``line 68`` or ``cell 18, line 23``). The file is read as text, never run."""
    try:
        source = read_user_source(path)
        tree = ast.parse(source.text)
    except (GradHarnessError, OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    first: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    first[target.id] = min(first.get(target.id, node.lineno), node.lineno)
    in_file = source.notebook is None
    return {name: (line if in_file else None, source.where(line)) for name, line in first.items()}


def explain_failure(failure: FailureRecord, lines: dict[str, tuple[int | None, str]]) -> FailureRecord:
    """``failure`` with its likely causes, when it is a wrong gradient on a network case of the exercise."""
    if failure.kind is not FailureKind.WRONG or failure.gradient_check is None or failure.case is None:
        return failure
    if failure.target != "exercise":  # the other targets' operators do not name causes yet
        return failure
    try:
        case = NetworkCase.from_json(failure.case)
    except (KeyError, TypeError, ValueError):
        return failure
    user = _user_gradients(failure.gradient_check.grad, case.sizes)
    if user is None:
        return failure
    observations = [Observation(case, user)]
    for seen in failure.observed:
        try:
            other = NetworkCase.from_json(seen.case)
        except (KeyError, TypeError, ValueError):
            continue
        gradients = _user_gradients(seen.gradients, other.sizes)
        if gradients is not None:
            observations.append(Observation(other, gradients))
    wrong = [b.name for b in failure.gradient_check.blocks if b.verdict.value == "wrong"]
    causes = likely_causes(observations, wrong, failure.gradient_check.threshold)
    lowered = {name.lower(): place for name, place in lines.items()}
    located = []
    for cause in causes:
        place = lowered.get(cause.variable.lower()) if cause.variable is not None else None
        located.append(dataclasses.replace(cause, line=place[0], where=place[1]) if place else cause)
    return dataclasses.replace(failure, likely_causes=located)


def explain(record: CheckRecord) -> CheckRecord:
    """``record`` with the likely causes of each wrong gradient it found."""
    if not any(f.kind is FailureKind.WRONG and f.gradient_check is not None for f in record.failures):
        return record
    path = Path(str(record.target.get("path", "")))
    same = path.is_file() and file_sha256(path) == record.target.get("sha256")
    lines = _assigning_lines(path) if same else {}  # lines of the code the finding was made on, only
    return dataclasses.replace(record, failures=[explain_failure(f, lines) for f in record.failures])
