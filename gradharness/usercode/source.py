"""Read a user's file as Python text: encodings, notebooks' code cells, mixed tabs, IPython lines."""

from __future__ import annotations

import ast
import io
import re
import threading
import tokenize
from dataclasses import dataclass
from pathlib import Path

from gradharness.errors import UserCodeError
from gradharness.usercode.notebook import NotebookSource, read_notebook, strip_ipython

_CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", re.MULTILINE)


@dataclass(frozen=True)
class UserSource:
    """The Python text to run for a user's file, and what was done to make it runnable."""

    path: Path
    text: str
    notes: tuple[str, ...] = ()
    notebook: NotebookSource | None = None

    def where(self, line: int | None) -> str:
        """``line 12``, or ``cell 3, line 2`` in a notebook."""
        if line is None:
            return "an unknown line"
        return self.notebook.where(line) if self.notebook is not None else f"line {line}"


def read_source(path: Path) -> str:
    """The Python text of a ``.py`` file (encoding from its cookie or BOM) or of a notebook's code cells."""
    return read_user_source(Path(path)).text


def check_checkable(path: Path) -> None:
    """Raise UserCodeError (one line) unless ``path`` is a file that exists."""
    if not path.exists():
        raise UserCodeError(f"{path}: no such file")
    if path.is_dir():
        raise UserCodeError(f"{path}: is a directory, expected a .py file or a notebook")


def _read_text(path: Path) -> tuple[str, list[str]]:
    check_checkable(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserCodeError(f"{path}: cannot read ({exc.strerror})") from None
    notes = []
    declared = _CODING_COOKIE.search(b"\n".join(raw.split(b"\n", 2)[:2])) is not None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        if declared:
            raise UserCodeError(f"{path}: cannot decode the file ({exc})") from None
        # Non-ASCII comments saved by an editor in a Windows or Latin-1 code page.
        text = raw.decode("cp1252", errors="replace")
        notes.append(f"{path.name} is not UTF-8: read it as Windows-1252 text")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"), notes


def read_user_source(path: Path) -> UserSource:
    """A ``.py`` file's text or a notebook's code cells, IPython syntax removed, as one source."""
    path = Path(path)
    if path.suffix.lower() == ".ipynb" and path.is_file():
        notebook = read_notebook(path)
        notes = [f"read {notebook.code_cells} code cells from the notebook {path.name}"]
        if notebook.ignored:
            shown = "; ".join(notebook.ignored[:3]) + ("; ..." if len(notebook.ignored) > 3 else "")
            notes.append(f"ignored {len(notebook.ignored)} IPython magic/shell lines ({shown})")
        return UserSource(path, notebook.text, tuple(notes), notebook)
    text, notes = _read_text(path)
    return UserSource(path, text, tuple(notes))


_PARSING = threading.Lock()
"""CPython 3.11's parser is not safe in two threads at once (a batch checks files from threads): a
``SystemError: AST constructor recursion depth mismatch`` now and then. One parse at a time."""


def parse_source(source: UserSource) -> tuple[ast.Module, UserSource]:
    """Parse the source; retry inconsistent tabs with 8-column tab stops and IPython lines removed."""
    with _PARSING:
        return _parsed(source)


def _parsed(source: UserSource) -> tuple[ast.Module, UserSource]:
    filename = str(source.path.resolve())
    try:
        return ast.parse(source.text, filename), source
    except TabError:
        text = "\n".join(_expand_indent(line) for line in source.text.split("\n"))
        retry = UserSource(
            source.path, text, (*source.notes, "tabs and spaces mixed: read with 8-column tab stops"), source.notebook
        )
    except SyntaxError as exc:
        text, ignored = strip_ipython(source.text)
        if not ignored:
            raise _syntax_error(source, exc) from None
        retry = UserSource(
            source.path, text, (*source.notes, f"ignored {len(ignored)} IPython magic/shell lines"), source.notebook
        )
    except ValueError as exc:
        raise UserCodeError(f"{source.path.name}: cannot compile: {exc}") from None
    try:
        return ast.parse(retry.text, filename), retry
    except SyntaxError as exc:
        raise _syntax_error(source, exc) from None


def _expand_indent(line: str) -> str:
    body = line.lstrip(" \t")
    return line[: len(line) - len(body)].expandtabs(8) + body


def _syntax_error(source: UserSource, exc: SyntaxError) -> UserCodeError:
    where = f" ({source.where(exc.lineno)})" if exc.lineno else ""
    return UserCodeError(f"{source.path.name}: syntax error{where}: {exc.msg}")
