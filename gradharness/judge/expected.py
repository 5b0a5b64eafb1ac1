"""What the judge expects to be checked, read from the file's source without running it.

The evaluator says which functions it found, but the evaluator is the user's: a file could make it
deny its own network pair, so that only the 1-D pair is checked, or hide its own faulty checker.
So the judge reads the source (notebooks' code cells too) and lists the names its top level binds;
a pair the source defines and the evaluator denies is a lie, and a checker the source defines and
the judge did not check is said to be not checked, by the judge.
"""

from __future__ import annotations

import ast
from pathlib import Path

from gradharness.errors import GradHarnessError
from gradharness.settings import FunctionNames
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


def denied_parts(path: Path, reported: dict[str, dict[str, object]]) -> list[str]:
    """The parts of the other targets whose functions the source defines (``def`` at its top level) that the
    evaluator does not report (``reported``: its functions by target), as ``deep's linear_backward``."""
    defined = {node.name for node in _top_level(path) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    denied = []
    for spec in SPECS.values():
        if spec.name == "exercise":
            continue
        for part in spec.parts_in(defined):
            if not set(part.required) <= set(reported.get(spec.name, {})):
                denied.append(f"{spec.name}'s {part.name} ({', '.join(part.required)})")
    return denied
