"""What the judge expects to be checked, read from the file's source without running it.

The evaluator says which functions it found, but the evaluator is the user's: a file could make it
deny its own network pair, so that only the 1-D pair is checked, or hide its own faulty checker.
So the judge reads the source (notebooks' code cells too) and lists the names its top level binds;
a pair the source defines and the evaluator denies is a lie, and a checker the source defines and
the judge did not check is said to be not checked, by the judge.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

from gradharness.errors import GradHarnessError
from gradharness.settings import FunctionNames
from gradharness.targets.functions import TargetSpec
from gradharness.targets.specs import SPECS, claimed
from gradharness.usercode.discover import exercise_defined
from gradharness.usercode.source import parse_source, read_user_source


def _top_level(path: Path) -> list[ast.stmt]:
    try:
        tree, _ = parse_source(read_user_source(path))
    except (GradHarnessError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return tree.body


def bound_names(path: Path) -> set[str]:
    """The names the file's top level binds (def, class, assignment, import); empty if it cannot be parsed."""
    names: set[str] = set()
    for node in _top_level(path):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def denied_pairs(path: Path, names: FunctionNames, hello: dict) -> list[str]:
    """The function pairs the source defines that the evaluator says are not there (none where the file
    implements another target and defines none of the exercise's functions that target does not claim: the
    evaluator then looks for no exercise pair, as ``usercode.discover.find_functions`` decides)."""
    bound = bound_names(path)
    defined = {node.name for node in _top_level(path) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    others = claimed(defined)
    if others and not exercise_defined(defined, names, others):
        return []
    denied = []
    for key, pair in (
        ("network", (names.forward_n, names.backward_n)),
        ("one_d", (names.forward_1d, names.backward_1d)),
    ):
        if set(pair) <= bound and hello.get(key) is not True:
            denied.append(" and ".join(pair))
    return denied


def unchecked_checker(path: Path, names: FunctionNames, checked: bool) -> str | None:
    """A note when the source defines the file's own checker and it was not checked."""
    if checked or names.checker_n not in bound_names(path):
        return None
    return f"{names.checker_n} (the file's own checker) is defined in the file but was not checked"


def denied_parts(
    path: Path, reported: dict[str, dict[str, object]], specs: Mapping[str, TargetSpec] = SPECS
) -> list[str]:
    """The parts of the other targets whose functions the source defines (``def`` at its top level) that the
    evaluator does not report (``reported``: its functions by target), as ``deep's linear_backward``."""
    defined = {node.name for node in _top_level(path) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    denied = []
    for spec in specs.values():
        if spec.name == "exercise":
            continue
        for part in spec.parts_in(defined):
            if not set(part.required) <= set(reported.get(spec.name, {})):
                denied.append(f"{spec.name}'s {part.name} ({', '.join(part.required)})")
    return denied


def stub_functions(path: Path) -> set[str]:
    """The top-level functions whose body is an assignment's stub (``pass``, ``...``, ``raise
    NotImplementedError``, ``out = None``), computing nothing: read from the source, so the file cannot hide one."""
    return {
        node.name
        for node in _top_level(path)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_stub(node.body)
    }


def _is_stub(body: list[ast.stmt]) -> bool:
    """Whether the statements compute nothing (constants, names, tuples of them, ``if`` on such) and hold a
    stub's marker: ``pass``, ``...`` or ``raise NotImplementedError`` (CS231n's skeletons hold a ``pass`` in
    every block left to write; a finished function that kept one computes something)."""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:] if isinstance(body[0].value.value, str) else body  # the docstring
    return _stub_statements(body) is True


def _stub_statements(body: list[ast.stmt]) -> bool | None:
    """True: these statements compute nothing and hold a marker; False: they compute nothing; None: they compute."""
    marked = False
    for statement in body:
        if isinstance(statement, ast.If) and _inert(statement.test):
            branches = [_stub_statements(statement.body), _stub_statements(statement.orelse)]
            if None in branches:
                return None
            marked = marked or any(branches)
        elif isinstance(statement, ast.Pass) or _not_implemented(statement):
            marked = True
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            marked = marked or statement.value.value is Ellipsis
        elif not (isinstance(statement, (ast.Assign, ast.AnnAssign, ast.Return)) and _inert(statement.value)):
            return None
    return marked


def _not_implemented(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.Raise) or statement.exc is None:
        return False
    raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def _inert(value: ast.expr | None) -> bool:
    """A value that computes nothing: constants, names, and tuples or lists of them."""
    if value is None or isinstance(value, (ast.Constant, ast.Name)):
        return True
    if isinstance(value, ast.Subscript):  # dropout_param["mode"]
        return _inert(value.value) and _inert(value.slice)
    if isinstance(value, ast.Compare):  # mode == "train"
        return _inert(value.left) and all(_inert(item) for item in value.comparators)
    return isinstance(value, (ast.Tuple, ast.List)) and all(_inert(item) for item in value.elts)


SIGNATURES_NAME = "GRADHARNESS_SIGNATURES"
"""The module-level dict a file declares its layers' signatures in: ``{"my_layer": "(N,D),(D)->(N,D)"}``."""


def declared_signatures(path: Path) -> dict[str, str]:
    """The layers' signatures the file declares in ``GRADHARNESS_SIGNATURES``, read from the source as a literal
    (never by running it; the last top-level assignment counts). GradHarnessError in one line when it is not a
    dict of text by text."""
    declared: ast.expr | None = None
    for node in _top_level(path):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id == SIGNATURES_NAME for target in targets):
                declared = node.value
    if declared is None:
        return {}
    try:
        value = ast.literal_eval(declared)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise GradHarnessError(
            f"{path.name}: {SIGNATURES_NAME} must be a literal dict such as {{'my_layer': '(N,D),(D)->(N,D)'}} "
            "(it is read from the source, not run)"
        ) from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise GradHarnessError(
            f"{path.name}: {SIGNATURES_NAME} must map layer names to signatures, both text, "
            f"such as {{'my_layer': '(N,D),(D)->(N,D)'}}"
        )
    return value


def positional_parameters(path: Path) -> dict[str, tuple[str, ...] | None]:
    """Each top-level function's positional parameter names, read from the source (None: it takes ``*args``)."""
    return {name: None if names is None else names[0] for name, names in _parameters(path).items()}


def required_parameters(path: Path) -> dict[str, int]:
    """How many positional arguments each top-level function needs (those without a default), from the source."""
    return {name: names[1] for name, names in _parameters(path).items() if names is not None}


def _parameters(path: Path) -> dict[str, tuple[tuple[str, ...], int] | None]:
    out: dict[str, tuple[tuple[str, ...], int] | None] = {}
    for node in _top_level(path):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            names = tuple(a.arg for a in (*arguments.posonlyargs, *arguments.args))
            required = len(names) - len(arguments.defaults)
            out[node.name] = None if arguments.vararg is not None else (names, required)
    return out
