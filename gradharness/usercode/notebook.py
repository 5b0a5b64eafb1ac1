"""Python source out of Jupyter notebooks and IPython-flavoured scripts.

A notebook's code cells are joined into one module; IPython-only syntax
(``%magics``, ``%%cell magics``, ``!shell`` escapes, ``obj?`` help) becomes
``pass`` on the same line, so line numbers still point into the right cell.
Notebook-exported scripts call ``get_ipython()`` instead; :class:`IPythonStub`
stands in for it at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradharness.errors import UserCodeError

# Cell magics whose body is ordinary Python that still runs (timing, capturing output).
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})

_ASSIGNED_MAGIC = re.compile(r"^(\s*)([\w.,\s\[\]()]+?)\s*=\s*[%!]")
_HELP = re.compile(r"^\s*(\?\??[\w.]+|[\w.]+\?\??)\s*$")
_GET_IPYTHON = re.compile(r"\bget_ipython\s*\(\s*\)")


@dataclass(frozen=True)
class NotebookSource:
    """A notebook's code cells as one Python source, and where each line came from."""

    text: str
    line_origins: tuple[tuple[int, int], ...]  # per source line: (cell number, line in cell), 1-based
    code_cells: int
    ignored: tuple[str, ...]  # IPython lines replaced by pass, as "cell 3: %matplotlib inline"

    def where(self, line: int) -> str:
        """``cell 3, line 2`` for a line of :attr:`text`."""
        if 1 <= line <= len(self.line_origins):
            cell, row = self.line_origins[line - 1]
            return f"cell {cell}, line {row}"
        return f"line {line}"


def _is_ipython_line(stripped: str) -> bool:
    if stripped.startswith(("%", "!")) and not stripped.startswith("!="):
        return True
    return bool(_HELP.match(stripped))


def strip_ipython(text: str) -> tuple[str, list[str]]:
    """Replace IPython-only lines of one cell (or script) by ``pass``; return the text and what was replaced.

    A cell magic other than the timing ones drops its whole cell (``%%bash`` is not Python).
    Lines inside triple-quoted strings are left alone.
    """
    lines = text.split("\n")
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return "\n".join("" for _ in lines), [first]
    ignored: list[str] = []
    out: list[str] = []
    in_string: str | None = None
    continuing = False
    for line in lines:
        stripped = line.strip()
        if continuing:
            out.append("")
            continuing = stripped.endswith("\\")
            continue
        if in_string is None and stripped:
            indent = line[: len(line) - len(line.lstrip())]
            assigned = _ASSIGNED_MAGIC.match(line)
            if stripped.startswith("%%"):
                out.append(indent + "pass")
                ignored.append(stripped)
                continue
            if _is_ipython_line(stripped):
                out.append(indent + "pass")
                ignored.append(stripped)
                continuing = stripped.endswith("\\")
                continue
            if assigned:
                out.append(f"{assigned.group(1)}{assigned.group(2).strip()} = None")
                ignored.append(stripped)
                continuing = stripped.endswith("\\")
                continue
        out.append(line)
        in_string = _string_state(line, in_string)
    return "\n".join(out), ignored


def _string_state(line: str, state: str | None) -> str | None:
    """Whether a triple-quoted string is open after ``line`` (a simple scan, comments aside)."""
    i = 0
    while i < len(line):
        if state is None:
            if line[i] == "#":
                return None
            if line.startswith('"""', i) or line.startswith("'''", i):
                state = line[i : i + 3]
                i += 3
                continue
            if line[i] in "\"'":
                quote = line[i]
                end = line.find(quote, i + 1)
                while end != -1 and line[end - 1] == "\\":
                    end = line.find(quote, end + 1)
                i = len(line) if end == -1 else end + 1
                continue
        elif line.startswith(state, i):
            state = None
            i += 3
            continue
        i += 1
    return state


def read_notebook(path: Path) -> NotebookSource:
    """The code cells of a Jupyter notebook as one module (nbformat reads any notebook version)."""
    import nbformat  # a dependency, imported here so that checking a .py file does not load it

    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserCodeError(f"{path.name}: not a readable Jupyter notebook ({detail[:160]})") from None
    language = _language(notebook.get("metadata", {}))
    if language not in ("", "python"):
        raise UserCodeError(f"{path.name}: a {language} notebook, expected Python")
    pieces: list[str] = []
    origins: list[tuple[int, int]] = []
    ignored: list[str] = []
    code_cells = 0
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        code_cells += 1
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        text, replaced = strip_ipython(source.replace("\r\n", "\n").replace("\r", "\n"))
        ignored += [f"cell {number}: {line}" for line in replaced]
        cell_lines = text.split("\n")
        pieces.extend(cell_lines)
        origins.extend((number, row) for row in range(1, len(cell_lines) + 1))
        pieces.append("")  # a blank line between cells
        origins.append((number, len(cell_lines) + 1))
    if code_cells == 0:
        raise UserCodeError(f"{path.name}: the notebook has no code cells")
    return NotebookSource("\n".join(pieces) + "\n", tuple(origins), code_cells, tuple(ignored))


def _language(metadata: dict[str, Any]) -> str:
    info = metadata.get("language_info") or {}
    kernel = metadata.get("kernelspec") or {}
    return str(info.get("name") or kernel.get("language") or "").lower()


def count_get_ipython(text: str) -> int:
    """How many ``get_ipython()`` calls a (notebook-exported) script makes."""
    return len(_GET_IPYTHON.findall(text))


class IPythonStub:
    """Stands in for ``get_ipython()`` in exported scripts: magics and shell commands do nothing.

    ``run_cell_magic('time', '', code)`` and the other timing magics still run ``code``,
    since the cell's definitions are part of the exercise.
    """

    def __init__(self, namespace: dict[str, Any], filename: str) -> None:
        self._namespace = namespace
        self._filename = filename
        self.ignored = 0

    def run_cell_magic(self, magic: str, line: str = "", cell: str = "", *_args: Any) -> None:
        """Run the body of a timing cell magic; ignore any other cell magic."""
        if str(magic) in PYTHON_CELL_MAGICS and isinstance(cell, str):
            text, _ = strip_ipython(cell)
            exec(compile(text, self._filename, "exec", dont_inherit=True), self._namespace)
        else:
            self.ignored += 1

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        def ignore(*_args: Any, **_kwargs: Any) -> None:
            self.ignored += 1

        return ignore
