"""Load a user's file and find the exercise's functions in it.

Runs inside the worker process only: executing the user's module may hang,
crash or call sys.exit, and that must never take the tool down.
"""

from __future__ import annotations

import io
import sys
import tokenize
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gradharness.errors import UserCodeError


@dataclass(frozen=True)
class FunctionNames:
    """Names of the functions under test (the exercise's by default)."""

    forward_n: str = "forward_propagation_n"
    backward_n: str = "backward_propagation_n"
    forward_1d: str = "forward_propagation"
    backward_1d: str = "backward_propagation"


@dataclass(frozen=True)
class FoundFunctions:
    """The functions found in a user's module; either pair may be missing, not both."""

    network: tuple[Callable, Callable] | None
    one_d: tuple[Callable, Callable] | None
    names: FunctionNames

    def found(self) -> list[str]:
        """Names of the functions that will be checked."""
        out = []
        if self.network is not None:
            out += [self.names.forward_n, self.names.backward_n]
        if self.one_d is not None:
            out += [self.names.forward_1d, self.names.backward_1d]
        return out


def read_source(path: Path) -> str:
    """The file's text: encoding from its coding cookie or BOM (UTF-8 by default), any line endings."""
    path = Path(path)
    if not path.exists():
        raise UserCodeError(f"{path}: no such file")
    if path.is_dir():
        raise UserCodeError(f"{path}: is a directory, expected a .py file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserCodeError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise UserCodeError(f"{path}: cannot decode the file ({exc})") from None
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def load_module(path: Path, source: str) -> types.ModuleType:
    """Execute the user's source as a fresh module named after the file."""
    path = Path(path).resolve()
    try:
        code = compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise UserCodeError(f"{path.name}: syntax error{where}: {exc.msg}") from None
    except ValueError as exc:
        raise UserCodeError(f"{path.name}: cannot compile: {exc}") from None
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    sys.modules[path.stem] = module
    # The user's own helper modules sit beside their file.
    sys.path.insert(0, str(path.parent))
    try:
        exec(code, module.__dict__)
    except SystemExit as exc:
        raise UserCodeError(f"{path.name} called sys.exit({exc.code!r}) while loading") from None
    except BaseException as exc:  # any error at import is the file's problem, reported in one line
        line = _user_line(exc, str(path))
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UserCodeError(
            f"{path.name}: loading failed{line}: {type(exc).__name__}" + (f": {detail}" if detail else "")
        ) from None
    return module


def _user_line(exc: BaseException, filename: str) -> str:
    traceback = exc.__traceback__
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return f" at line {line}" if line else ""


def find_functions(module: types.ModuleType, names: FunctionNames) -> FoundFunctions:
    """The network pair and the 1-D pair, by name; a half pair or neither is an error."""

    def get(name: str) -> Callable | None:
        value = getattr(module, name, None)
        if value is not None and not callable(value):
            raise UserCodeError(f"{name} in {module.__name__}.py is a {type(value).__name__}, not a function")
        return value

    pairs = {}
    for label, forward_name, backward_name in (
        ("network", names.forward_n, names.backward_n),
        ("one_d", names.forward_1d, names.backward_1d),
    ):
        forward, backward = get(forward_name), get(backward_name)
        if (forward is None) != (backward is None):
            present, missing = (forward_name, backward_name) if forward is not None else (backward_name, forward_name)
            raise UserCodeError(f"{module.__name__}.py defines {present} but not {missing}")
        pairs[label] = (forward, backward) if forward is not None else None
    if pairs["network"] is None and pairs["one_d"] is None:
        defined = sorted(
            n
            for n, v in vars(module).items()
            if callable(v) and not n.startswith("_") and isinstance(v, types.FunctionType)
        )
        listing = ", ".join(defined[:8]) or "none"
        raise UserCodeError(
            f"{module.__name__}.py has no functions to check: expected {names.forward_n} and {names.backward_n} "
            f"(or {names.forward_1d} and {names.backward_1d}); functions defined: {listing}"
        )
    return FoundFunctions(network=pairs["network"], one_d=pairs["one_d"], names=names)
