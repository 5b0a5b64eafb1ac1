"""Execute a user's file statement by statement and find the exercise's functions in it.

Runs inside the worker process only: executing the user's module may hang,
crash or call sys.exit, and that must never take the tool down.

Real exercise files are loaded as they are: ``.py`` scripts and ``.ipynb``
notebooks, IPython magics, ``get_ipython()`` calls, tab indentation, CRLF and
non-UTF-8 text, a missing ``gc_utils`` or exercise helpers nothing defines (compatible
ones are supplied), and module-level code that fails (the exercise's own test calls,
imports of modules that are not installed): the module runs statement by statement,
so every function definition is loaded, and what was skipped is said in one note.
A failure matters only when a checked function uses what it would have defined
(see :mod:`gradharness.usercode.missing`).
"""

from __future__ import annotations
import __future__ as future_features

import ast
import dataclasses
import importlib
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gradharness.errors import Interrupt, UserCodeError
from gradharness.settings import FunctionNames
from gradharness.targets.regularisation.functions import REGULARISATION_NOTEBOOK
from gradharness.usercode.discover import FoundFunctions, find_functions
from gradharness.usercode.imports import bound_names, imported_modules, is_import, statement_text
from gradharness.usercode.missing import (
    StatementFailure,
    check_imports,
    check_statements,
    helpers_note,
    supply_helpers,
    undefined,
)
from gradharness.usercode.notebook import IPythonStub, count_get_ipython
from gradharness.usercode.shims import dnn_utils, gc_utils
from gradharness.usercode.source import UserSource, parse_source, read_user_source

__all__ = ["LoadedFile", "StatementFailure", "load_module", "load_user_file"]

# Helper modules supplied when a file imports them and none sits beside it: the shim, and what it is.
_ACTIVATIONS = "the course's sigmoid, relu, sigmoid_backward, relu_backward"
_SHIMS = {
    "gc_utils": ("gradharness.usercode.shims.gc_utils", "any layer sizes"),
    "dnn_utils": ("gradharness.usercode.shims.dnn_utils", _ACTIVATIONS),
    "dnn_utils_v2": ("gradharness.usercode.shims.dnn_utils_v2", _ACTIVATIONS),
    "testCases_v4a": ("gradharness.usercode.shims.testCases_v4a", "the course's seeded test cases"),
    "reg_utils": ("gradharness.usercode.shims.reg_utils", "the course's 3-layer network, its cost and helpers"),
    "testCases": ("gradharness.usercode.shims.testCases", "the regularisation notebook's seeded test cases"),
}
_SHIMS_FOR = {"reg_utils": REGULARISATION_NOTEBOOK, "testCases": REGULARISATION_NOTEBOOK}
"""Shims supplied only to a file that defines one of these functions (other notebooks ship a testCases.py of their
own, and their files' failed imports of these modules are theirs to report)."""


@dataclass
class LoadedFile:
    """A user's file, executed: the module, the functions found, and notes for the user."""

    module: types.ModuleType
    found: FoundFunctions
    notes: list[str] = field(default_factory=list)
    skipped: list[StatementFailure] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)  # parts of the exercise left unchecked, and why


def load_module(path: Path, source: str | UserSource) -> types.ModuleType:
    """Execute the user's source as a fresh module named after the file (skipped statements aside)."""
    if isinstance(source, str):
        source = UserSource(Path(path), source)
    return _execute(source)[0]


def _install_shims(tree: ast.Module, folder: Path) -> list[str]:
    """Supply a compatible helper module the file imports when none sits beside it."""
    imported = {
        name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.stmt) for name in imported_modules(node)
    }
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    notes = []
    for name, (shim, what) in _SHIMS.items():
        if getattr(sys.modules.get(name), "__name__", None) == shim:
            del sys.modules[name]  # supplied to an earlier file: this one gets it only where it would itself
        if name not in imported or (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists():
            continue
        if name in _SHIMS_FOR and not defined & set(_SHIMS_FOR[name]):
            continue
        sys.modules[name] = importlib.import_module(shim)
        notes.append(f"{name}.py is not beside the file: using gradharness's compatible {name} ({what})")
    return notes


def _execute(source: UserSource) -> tuple[types.ModuleType, list[StatementFailure], list[str]]:
    tree, source = parse_source(source)
    path = source.path.resolve()
    filename = str(path)
    module = types.ModuleType(re.sub(r"\W", "_", path.stem) or "user_module")
    module.__file__ = filename
    sys.modules[module.__name__] = module
    # The user's own helper modules sit beside their file.
    sys.path.insert(0, str(path.parent))
    notes = list(source.notes) + _install_shims(tree, path.parent)
    stub = None
    calls = count_get_ipython(source.text)
    if calls:
        stub = IPythonStub(module.__dict__, filename)
        module.__dict__["get_ipython"] = lambda: stub
        notes.append(f"{calls} get_ipython() calls (IPython magics, shell commands) do nothing here")
    failures: list[StatementFailure] = []
    flags = 0
    for node in tree.body:
        code = compile(ast.Module(body=[node], type_ignores=[]), filename, "exec", flags=flags, dont_inherit=True)
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                flags |= getattr(future_features, alias.name, future_features.annotations).compiler_flag
        try:
            exec(code, module.__dict__)
        except SystemExit as exc:
            raise UserCodeError(f"{path.name} called sys.exit({exc.code!r}) while loading") from None
        except Interrupt:
            raise
        except BaseException as exc:  # any error at import is the file's problem, skipped or reported in one line
            failures.append(_failure(node, exc, source.where(_user_line(exc, filename) or node.lineno)))
    return module, failures, notes


def _failure(node: ast.stmt, exc: BaseException, where: str) -> StatementFailure:
    error = _describe(exc)
    if not is_import(node):
        return StatementFailure(where, error)
    not_found = isinstance(exc, ModuleNotFoundError) and bool(exc.name)
    imported = imported_modules(node)
    module = exc.name if isinstance(exc, ImportError) and exc.name else (imported[0] if imported else None)
    binds, star = bound_names(node)
    return StatementFailure(where, error, module, binds, star, not_found, statement_text(node))


def _describe(exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}" + (f": {detail[:200]}" if detail else "")


def _user_line(exc: BaseException, filename: str) -> int | None:
    traceback = exc.__traceback__
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _skipped_note(failures: list[StatementFailure]) -> str:
    first = failures[0]
    modules = sorted({f.module for f in failures if f.is_import and f.module})
    unused = (
        f" (imports not used by the checked functions: {', '.join(modules)})"
        if len(modules) > 1 or (modules and not first.is_import)
        else ""
    )
    more = f"; {len(failures) - 1} more failed" if len(failures) > 1 else ""
    return (
        f"module-level code failed and was skipped, function definitions loaded: "
        f"{first.where}: {first.error}{more}{unused}"
    )


def load_user_file(path: Path, names: FunctionNames | None = None) -> LoadedFile:
    """Read, execute and search a user's file; raise UserCodeError (one line) when it cannot be checked."""
    names = names or FunctionNames()
    module, failures, notes = _execute(read_user_source(Path(path)))
    try:
        found = find_functions(module, names)
    except UserCodeError as exc:
        if not failures:
            raise
        first = failures[0]  # the functions may be what the failed code would have defined
        raise UserCodeError(f"{exc}; module-level code failed at {first.where}: {first.error}") from None
    label = Path(module.__file__ or path).name
    exercise = _pairs(found) + ([(found.checker, names.checker_n)] if found.checker is not None else [])
    others = [(function, name) for functions in found.targets.values() for name, function in functions.items()]
    pairs = _pairs(found) + others
    checked = exercise + others
    for functions, helpers in ((exercise, gc_utils), (others, dnn_utils)):  # each target's own helpers
        supplied = supply_helpers(module, [function for function, _ in functions], helpers)
        if supplied:
            notes.append(helpers_note(supplied, helpers))
    check_imports(label, checked, module, failures)
    check_statements(label, pairs, module, failures)
    if failures:
        notes.append(_skipped_note(failures))
    found = _without_unusable_checker(found, module)
    if found.not_checked:
        notes.append("not checked: " + "; ".join(found.not_checked))
    return LoadedFile(module, found, notes, failures, list(found.not_checked))


def _without_unusable_checker(found: FoundFunctions, module: types.ModuleType) -> FoundFunctions:
    """The file's own checker, dropped (and said so) when it uses names the file never defines."""
    if found.checker is None:
        return found
    missing = undefined(found.checker, module)
    if not missing:
        return found
    reason = f"{found.names.checker_n}: it uses {', '.join(missing)}, which the file never defines"
    return dataclasses.replace(found, checker=None, not_checked=(*found.not_checked, reason))


def _pairs(found: FoundFunctions) -> list[tuple[Callable, str]]:
    out = []
    if found.network is not None:
        out += [(found.network[0], found.names.forward_n), (found.network[1], found.names.backward_n)]
    if found.one_d is not None:
        out += [(found.one_d[0], found.names.forward_1d), (found.one_d[1], found.names.backward_1d)]
    return out
