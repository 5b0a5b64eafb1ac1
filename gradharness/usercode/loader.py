"""Execute a user's file statement by statement and find the exercise's functions in it.

Runs inside the worker process only: executing the user's module may hang,
crash or call sys.exit, and that must never take the tool down.

Real exercise files are loaded as they are: ``.py`` scripts and ``.ipynb``
notebooks, IPython magics, ``get_ipython()`` calls, tab indentation, CRLF and
non-UTF-8 text, a missing ``gc_utils`` (a compatible one is supplied), and
module-level code that fails (the exercise's own test calls, ``testCases`` /
``public_tests`` / plotting imports): the module runs statement by statement,
so every function definition is loaded, and what was skipped is said in one note.
"""

from __future__ import annotations
import __future__ as future_features

import ast
import builtins
import dis
import importlib
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gradharness.errors import UserCodeError
from gradharness.settings import FunctionNames
from gradharness.usercode.discover import FoundFunctions, find_functions
from gradharness.usercode.notebook import IPythonStub, count_get_ipython
from gradharness.usercode.source import UserSource, parse_source, read_user_source

# Modules that only feed the exercise's own test calls or draw plots: failing to import
# them never stops a check. Any other missing module is an error, as before.
_TOLERATED_MODULE = re.compile(r"^(testCases\w*|testcases\w*|public_tests\w*|test_utils\w*|test_cases\w*)$")
_TOLERATED_PACKAGES = frozenset({"matplotlib", "pylab", "IPython", "ipywidgets", "seaborn", "plotly", "bokeh"})
_SHIMS = {"gc_utils": "gradharness.usercode.shims.gc_utils"}


@dataclass(frozen=True)
class StatementFailure:
    """A module-level statement that raised while loading and was skipped."""

    where: str
    error: str
    module: str | None = None  # the module an import statement could not import


@dataclass
class LoadedFile:
    """A user's file, executed: the module, the functions found, and notes for the user."""

    module: types.ModuleType
    found: FoundFunctions
    notes: list[str] = field(default_factory=list)
    skipped: list[StatementFailure] = field(default_factory=list)


def load_module(path: Path, source: str | UserSource) -> types.ModuleType:
    """Execute the user's source as a fresh module named after the file (skipped statements aside)."""
    if isinstance(source, str):
        source = UserSource(Path(path), source)
    return _execute(source)[0]


def _imported_modules(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def _tolerated_module(name: str | None) -> bool:
    if not name:
        return False
    top = name.split(".")[0]
    return bool(_TOLERATED_MODULE.match(top)) or top in _TOLERATED_PACKAGES or name.startswith("google.colab")


def _install_shims(tree: ast.Module, folder: Path) -> list[str]:
    """Supply a compatible helper module the file imports when none sits beside it."""
    imported = {
        name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.stmt) for name in _imported_modules(node)
    }
    notes = []
    for name, shim in _SHIMS.items():
        if name not in imported or (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists():
            continue
        sys.modules[name] = importlib.import_module(shim)
        notes.append(f"{name}.py is not beside the file: using gradharness's compatible {name} (any layer sizes)")
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
        except BaseException as exc:  # any error at import is the file's problem, reported in one line
            where = source.where(_user_line(exc, filename) or node.lineno)
            error = _describe(exc)
            imported = _imported_modules(node)
            if imported:
                missing = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
                if not (any(_tolerated_module(name) for name in imported) or _tolerated_module(missing)):
                    raise UserCodeError(f"{path.name}: loading failed at {where}: {error}") from None
                failures.append(StatementFailure(where, error, missing or imported[0]))
            else:
                failures.append(StatementFailure(where, error))
    return module, failures, notes


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


def _global_names(function: Callable, module: types.ModuleType, seen: set[int] | None = None) -> set[str]:
    """Global names a function reads, following the file's own functions it calls."""
    seen = set() if seen is None else seen
    code = getattr(function, "__code__", None)
    if code is None or id(code) in seen:
        return set()
    seen.add(id(code))
    names: set[str] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        for instruction in dis.get_instructions(current):
            if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(instruction.argval, str):
                names.add(instruction.argval)
        stack += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    for name in list(names):
        value = module.__dict__.get(name)
        if isinstance(value, types.FunctionType) and value.__code__.co_filename == module.__file__:
            names |= _global_names(value, module, seen)
    return names


def _undefined(function: Callable, module: types.ModuleType) -> list[str]:
    return sorted(n for n in _global_names(function, module) if n not in module.__dict__ and not hasattr(builtins, n))


def _skipped_note(failures: list[StatementFailure]) -> str:
    first = failures[0]
    modules = sorted({f.module for f in failures if f.module})
    also = (
        f" (modules not found: {', '.join(modules)})" if len(modules) > 1 or (modules and first.module is None) else ""
    )
    more = f"; {len(failures) - 1} more failed" if len(failures) > 1 else ""
    return (
        f"module-level code failed and was skipped, function definitions loaded: "
        f"{first.where}: {first.error}{more}{also}"
    )


def load_user_file(path: Path, names: FunctionNames | None = None) -> LoadedFile:
    """Read, execute and search a user's file; raise UserCodeError (one line) when it cannot be checked."""
    names = names or FunctionNames()
    module, failures, notes = _execute(read_user_source(Path(path)))
    found = find_functions(module, names)
    label = Path(module.__file__ or path).name
    if failures:
        for function, name in _checked(found):
            missing = _undefined(function, module)
            if missing:
                first = failures[0]
                raise UserCodeError(
                    f"{label}: {name} uses {', '.join(missing)}, undefined because module-level code failed "
                    f"at {first.where}: {first.error}"
                )
        notes.append(_skipped_note(failures))
    checker = found.checker
    if checker is not None:
        missing = _undefined(checker, module)
        if missing:
            notes.append(
                f"{names.checker_n} is not checked: it uses {', '.join(missing)}, which the file never defines"
            )
            found = FoundFunctions(found.network, found.one_d, names, None)
    return LoadedFile(module, found, notes, failures)


def _checked(found: FoundFunctions) -> list[tuple[Callable, str]]:
    out = []
    if found.network is not None:
        out += [(found.network[0], found.names.forward_n), (found.network[1], found.names.backward_n)]
    if found.one_d is not None:
        out += [(found.one_d[0], found.names.forward_1d), (found.one_d[1], found.names.backward_1d)]
    return out
