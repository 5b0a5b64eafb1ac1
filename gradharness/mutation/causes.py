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

The rule (:func:`ranked_causes`) is the same for every target: a target's part gives it an
:class:`Explainer` (the true gradients of a case, its blocks, the mutants to try), as the ``deep``
target's does in :mod:`gradharness.mutation.causes_deep`.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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
from gradharness.usercode.source import UserSource, read_user_source

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
    constant: bool = False  # a multiple by no named factor: its words hold for this case only


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
            "multiple", f"{name} is {words} x the true gradient", lambda u, t, m: _agrees(u, scale * t, threshold),
            constant=True,
        )  # fmt: skip
    return None


class MutantCause(Protocol):
    """A mutant of a target's reference, as the rule tries it: what it is, where, and its gradients on a case."""

    @property
    def operator(self) -> str:
        """The operator that made it."""
        ...

    @property
    def summary(self) -> str:
        """The operator's ``before -> after: words``."""
        ...

    @property
    def line(self) -> int:
        """The line of the reference it changes (orders causes that explain as much)."""
        ...

    @property
    def as_if(self) -> str:
        """The reference's line as the mutant changes it."""
        ...

    @property
    def variable(self) -> str | None:
        """What that line assigns."""
        ...

    @property
    def reaches(self) -> frozenset[str] | None:
        """The gradient blocks the change can reach (None: unknown, it is tried on every failure)."""
        ...

    def gradients(self, case: Any) -> Gradients | None:
        """Every block of ``case`` the mutant gives, each with its shape (None when it fails on the case)."""
        ...


@dataclass(frozen=True)
class Explainer:
    """What the rule needs of a target's part: a case's true gradients (every block, None when the reference
    fails on it), the names of its blocks in order, and the mutants to try on it."""

    true: Callable[[Any], Gradients | None]
    blocks: Callable[[Any], Sequence[str]]
    mutants: Callable[[Any], Sequence[MutantCause]]


def _words(mutant: MutantCause, blocks: list[str], every: int) -> str:
    """What the mutant's mistake is, from its operator's summary (``before -> after: words``)."""
    summary = mutant.summary
    words = summary.split(": ", 1)[1].rstrip(".") if ": " in summary else summary
    which = "every gradient block" if len(blocks) == every > 1 else ", ".join(blocks)
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

    @property
    def operator(self) -> str:
        """The operator that made the mutant."""
        return self.mutant.operator

    @property
    def summary(self) -> str:
        """The operator's ``before -> after: words``."""
        return OPERATORS[self.mutant.operator].summary

    @property
    def line(self) -> int:
        """The line of the reference the mutant changes."""
        return self.mutant.line

    def gradients(self, case: NetworkCase) -> Gradients | None:
        """The mutated backward's gradients on ``case``."""
        return _gradients_of(self.backward, case)


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
    """A case and the gradients the user's backward returned on it (a NetworkCase for the exercise; another
    target's case as its Explainer takes it)."""

    case: Any
    user: Gradients


def _mutant_causes(
    explainer: Explainer, first: Observation, names: Sequence[str], true: Gradients, wrong: set[str], threshold: float
) -> list[tuple[frozenset[str], MutantCause]]:
    """The mutants that change only blocks in ``wrong``, and those exactly as the user's, with the blocks they explain."""
    found = []
    for mutant in explainer.mutants(first.case):
        if mutant.reaches is not None and not mutant.reaches & wrong:
            continue  # it changes only blocks the user got right: nothing of the user's mistake
        gradients = mutant.gradients(first.case)
        if gradients is None:
            continue
        changed = {n for n in names if not _agrees(gradients[n], true[n], threshold)}
        if changed and changed <= wrong and all(_agrees(gradients[n], first.user[n], threshold) for n in changed):
            found.append((frozenset(changed), mutant))
    return found


def _mutant_holds(mutant: MutantCause, blocks: frozenset[str], seen: Observation, threshold: float) -> bool:
    gradients = mutant.gradients(seen.case)
    return gradients is not None and all(
        n in gradients and n in seen.user and _agrees(gradients[n], seen.user[n], threshold) for n in blocks
    )


def _fit_holds(explainer: Explainer, fit: _Fit, name: str, seen: Observation) -> bool:
    true = explainer.true(seen.case)
    if true is None or name not in true or name not in seen.user or true[name].shape != seen.user[name].shape:
        return False  # another case without this block (another depth): the fit says nothing there
    return fit.holds(seen.user[name], true[name], seen.case.m)


def ranked_causes(
    explainer: Explainer, observations: Sequence[Observation], wrong_blocks: Sequence[str], threshold: float
) -> list[LikelyCause]:
    """The likely causes of the wrong blocks of the first observation (the failing case), best first.

    Candidates come from the failing case; each counts the observations it explains. Of the mutants
    that explain the same blocks, those that explain the most cases speak for them.
    """
    first, rest = observations[0], observations[1:]
    true = explainer.true(first.case)
    if true is None:
        return []
    names = list(explainer.blocks(first.case))
    tried = len(observations)
    wrong = {n for n in wrong_blocks if n in first.user and n in true}
    fits = {n: fit for n in sorted(wrong) if (fit := _fit(n, first.user[n], true[n], first.case.m, threshold))}
    if tried == 1:  # a block of one non-zero entry is some multiple of its true value: with no other case, an
        # unnamed constant says nothing
        fits = {n: f for n, f in fits.items() if not f.constant or np.count_nonzero(true[n]) > 1}
    best: dict[frozenset[str], tuple[int, MutantCause]] = {}
    for blocks, mutant in _mutant_causes(explainer, first, names, true, wrong, threshold):
        cases = 1 + sum(_mutant_holds(mutant, blocks, seen, threshold) for seen in rest)
        if blocks not in best or cases > best[blocks][0]:
            best[blocks] = (cases, mutant)
    causes: list[LikelyCause] = []
    covered: set[str] = set()
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], -len(item[0]), item[1][1].line))
    for blocks, (cases, mutant) in ranked:
        if blocks <= covered:
            continue  # a cause already named explains these blocks (on as many cases or more)
        covered |= blocks
        shown = [n for n in names if n in blocks]
        fit = fits.get(shown[0]) if len(shown) == 1 else None
        fit = None if fit is not None and fit.constant else fit  # the mutant's words hold beyond this case
        causes.append(
            LikelyCause(
                description=fit.description if fit else _words(mutant, shown, len(names)),
                blocks=shown,
                operator=mutant.operator,
                fit=fit.kind if fit else None,
                as_if=mutant.as_if,
                variable=mutant.variable,
                cases=cases,
                tried=tried,
            )
        )
    for name, fit in fits.items():
        if name not in covered:
            cases = 1 + sum(_fit_holds(explainer, fit, name, seen) for seen in rest)
            causes.append(LikelyCause(fit.description, [name], fit=fit.kind, cases=cases, tried=tried))
    return causes[:MAX_CAUSES]


EXERCISE = Explainer(
    true=functools.partial(_gradients_of, network.backward_propagation_n),
    blocks=lambda case: GRADIENT_NAMES,
    mutants=lambda case: reference_mutants(),
)
"""The exercise's network: the reference backward pass and its mutants, on a NetworkCase."""


def likely_causes(
    observations: Sequence[Observation], wrong_blocks: Sequence[str], threshold: float
) -> list[LikelyCause]:
    """The likely causes of the exercise's wrong blocks on the first observation (the failing case), best first
    (:func:`ranked_causes` with the exercise's reference)."""
    return ranked_causes(EXERCISE, observations, wrong_blocks, threshold)


def _user_gradients(vector: Sequence[float], sizes: LayerSizes) -> Gradients | None:
    """The blocks dW1 ... db3 of a recorded gradient vector (None when it does not fit the sizes)."""
    if len(vector) == 0:
        return None
    try:
        blocks = vector_to_dictionary(np.asarray(vector, dtype=np.float64), sizes)
    except ValueError:
        return None
    return {f"d{name}": blocks[name] for name in PARAMETER_NAMES}


@dataclass(frozen=True)
class Assignment:
    """A statement that assigns a name: in which function (the innermost ``def`` around it), its lines, its text
    on one line, and whether it is a plain ``name = ...`` (not an item, an attribute, one of an unpacking's
    names or an augmented or annotated assignment)."""

    name: str
    function: str | None
    line: int
    end_line: int
    text: str
    plain: bool


def one_line(text: str) -> str:
    """A statement's text on one line: runs of white space as one space, none inside brackets' ends."""
    joined = " ".join(text.split())
    for opening in "([{":
        joined = joined.replace(opening + " ", opening)
    for closing in ")]}":
        joined = joined.replace(" " + closing, closing)
    return joined


def _assigned_names(target: ast.expr) -> Iterator[tuple[str, bool]]:
    """The names a target assigns, each with whether it is the target itself (``x``; not ``x[i]``, ``x.a``,
    ``x, y``)."""
    if isinstance(target, ast.Name):
        yield target.id, True
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from ((name, False) for name, _ in _assigned_names(element))
    elif isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        base = target.value
        while isinstance(base, (ast.Subscript, ast.Attribute, ast.Starred)):
            base = base.value
        if isinstance(base, ast.Name):
            yield base.id, False


def assignments_in(text: str, tree: ast.Module) -> list[Assignment]:
    """Every assignment of a name in ``tree`` (parsed from ``text``), in line order."""
    found: list[Assignment] = []
    todo: list[tuple[ast.AST, str | None]] = [(tree, None)]
    while todo:  # a stack, not recursion: a user's file may nest deeper than Python's recursion limit
        node, function = todo.pop()
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            todo.append((child, inner))
            if not isinstance(child, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                continue
            targets = child.targets if isinstance(child, ast.Assign) else [child.target]
            words = one_line(ast.get_source_segment(text, child) or "")
            for target in targets:
                for name, itself in _assigned_names(target):
                    plain = itself and isinstance(child, ast.Assign)
                    found.append(
                        Assignment(name, function, child.lineno, child.end_lineno or child.lineno, words, plain)
                    )
    return sorted(found, key=lambda a: (a.line, a.end_line))


@dataclass(frozen=True)
class UserLines:
    """The assignments of the user's file (read as text, never run) and how its places are named."""

    assignments: tuple[Assignment, ...] = ()
    source: UserSource | None = None

    def place(self, line: int) -> tuple[int | None, str]:
        """(the line in a .py file, None in a notebook; ``line 68`` or ``cell 18, line 23``)."""
        assert self.source is not None, "only a file's lines have places"
        return (line if self.source.notebook is None else None, self.source.where(line))

    def first_lines(self) -> dict[str, tuple[int | None, str]]:
        """Per name, the place of the first plain ``name = ...`` of the file."""
        first: dict[str, int] = {}
        for assignment in self.assignments:
            if assignment.plain:
                first[assignment.name] = min(first.get(assignment.name, assignment.line), assignment.line)
        return {name: self.place(line) for name, line in first.items()}


def user_lines(path: Path) -> UserLines:
    """The assignments of the user's file (none when it cannot be read or parsed)."""
    try:
        source = read_user_source(path)
        tree = ast.parse(source.text)
        return UserLines(tuple(assignments_in(source.text, tree)), source)
    except (GradHarnessError, OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return UserLines()


def _assigning_lines(path: Path) -> dict[str, tuple[int | None, str]]:
    """Per name, where the user's file first assigns it: (its line in a .py file, None in a notebook;
    ``line 68`` or ``cell 18, line 23``). The file is read as text, never run."""
    return user_lines(path).first_lines()


def explain_failure(
    failure: FailureRecord, lines: dict[str, tuple[int | None, str]], in_file: UserLines | None = None
) -> FailureRecord:
    """``failure`` with its likely causes, when it is a wrong gradient of a target whose operators name causes:
    on a network case of the exercise (``lines``: where the file first assigns each name), or on a case of the
    L-layer model, the regularisation exercise or CS231n's layers (``in_file``: the file's assignments)."""
    if failure.kind is not FailureKind.WRONG or failure.gradient_check is None or failure.case is None:
        return failure
    if failure.target == "layers":  # CS231n's layers, by the reference that defines the failing function
        from gradharness.mutation.causes_layers import explain_layers_failure  # it builds on this module's rule

        return explain_layers_failure(failure, in_file if in_file is not None else UserLines())
    if failure.target != "exercise":  # the L-layer model's and the regularisation exercise's parts, by property
        from gradharness.mutation.causes_deep import explain_deep_failure  # it builds on this module's rule

        return explain_deep_failure(failure, in_file if in_file is not None else UserLines())
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
    in_file = user_lines(path) if same else UserLines()  # lines of the code the finding was made on, only
    lines = in_file.first_lines() if in_file.source is not None else {}
    return dataclasses.replace(record, failures=[explain_failure(f, lines, in_file) for f in record.failures])
