"""Names the checked functions use that the loaded file does not define.

One rule for module-level code that failed while loading: it is skipped unless a checked
function (the network pair, the 1-D pair, the file's own ``gradient_check_n``, and the file's
functions they call) uses a name it would have bound. The exercise's helpers (``relu``,
``sigmoid``, ``dictionary_to_vector``, ...) that nothing defines are supplied from the
compatible ``gc_utils``; any other name a failed import would have bound is an error that
names the module and how to provide it.
"""

from __future__ import annotations

import builtins
import dis
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gradharness.errors import UserCodeError
from gradharness.usercode.imports import remedy
from gradharness.usercode.shims import gc_utils

EXERCISE_HELPERS: tuple[str, ...] = tuple(gc_utils.__all__)


@dataclass(frozen=True)
class StatementFailure:
    """A module-level statement that raised while loading and was skipped.

    For an import: ``module`` is the module it could not import, ``binds`` the names it would
    have bound (``star`` for ``from x import *``, which binds names nobody can list),
    ``not_found`` whether the module is simply not installed, ``statement`` its text.
    """

    where: str
    error: str
    module: str | None = None
    binds: tuple[str, ...] = ()
    star: bool = False
    not_found: bool = False
    statement: str | None = None

    @property
    def is_import(self) -> bool:
        """Whether the failed statement was an import."""
        return self.statement is not None


def global_names(function: Callable, module: types.ModuleType, seen: set[int] | None = None) -> set[str]:
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
            names |= global_names(value, module, seen)
    return names


def undefined(function: Callable, module: types.ModuleType) -> list[str]:
    """The global names ``function`` (and the file's functions it calls) reads that nothing defines."""
    return sorted(n for n in global_names(function, module) if n not in module.__dict__ and not hasattr(builtins, n))


def supply_helpers(
    module: types.ModuleType, functions: Iterable[Callable], helpers: types.ModuleType = gc_utils
) -> list[str]:
    """Put into the module the helpers (of the ``helpers`` shim: the exercise's ``gc_utils`` by default) the
    functions use and nothing defines; their names."""
    offered = set(getattr(helpers, "__all__", ()))
    needed = sorted({n for f in functions for n in undefined(f, module) if n in offered})
    for name in needed:
        module.__dict__[name] = getattr(helpers, name)
    return needed


def helpers_note(supplied: list[str], helpers: types.ModuleType = gc_utils) -> str:
    """The one note saying which helpers came from gradharness (from which shim)."""
    verb = "is" if len(supplied) == 1 else "are"
    shim = helpers.__name__.rsplit(".", 1)[-1]
    return f"{', '.join(supplied)} {verb} not defined in the file: using gradharness's compatible {shim}"


def failed_import_of(name: str, failures: list[StatementFailure]) -> StatementFailure | None:
    """The failed import that would have bound ``name``: one that names it, else a failed star import."""
    imports = [f for f in failures if f.is_import]
    named = next((f for f in imports if name in f.binds), None)
    return named or next((f for f in imports if f.star), None)


def import_error(label: str, function: str, names: list[str], failure: StatementFailure) -> UserCodeError:
    """A checked function needs what a failed import would have bound: say which module and how to provide it."""
    statement = f"{failure.where} ({failure.statement})"
    if any(n in failure.binds for n in names):
        source = f"bound by {statement}, which failed"
    else:
        source = f"which nothing in the file defines: {statement} would supply it, but failed"
    fix = f": {remedy(failure.module)}" if failure.not_found and failure.module else ""
    return UserCodeError(f"{label}: {function} uses {', '.join(names)}, {source} ({failure.error}){fix}")


def check_imports(
    label: str, checked: list[tuple[Callable, str]], module: types.ModuleType, failures: list[StatementFailure]
) -> None:
    """Raise when a checked function uses a name that a failed import would have bound."""
    for function, name in checked:
        by_import: dict[StatementFailure, list[str]] = {}
        for used in undefined(function, module):
            failure = failed_import_of(used, failures)
            if failure is not None:
                by_import.setdefault(failure, []).append(used)
        if by_import:
            failure, names = next(iter(by_import.items()))
            raise import_error(label, name, names, failure)


def check_statements(
    label: str, checked: list[tuple[Callable, str]], module: types.ModuleType, failures: list[StatementFailure]
) -> None:
    """Raise when a checked function uses a name nothing defines and other module-level code failed.

    The failed statement may be what defined the name (``X, Y = load_dataset()``), so the
    function cannot be checked as it was meant to run.
    """
    statements = [f for f in failures if not f.is_import]
    if not statements:
        return
    first = statements[0]
    for function, name in checked:
        missing = undefined(function, module)
        if missing:
            raise UserCodeError(
                f"{label}: {name} uses {', '.join(missing)}, undefined because module-level code failed "
                f"at {first.where}: {first.error}"
            )
