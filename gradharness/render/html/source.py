"""Find the user's source for a report and the lines that compute the offending gradients.

Collecting only: returns plain dataclasses, the templates decide how they look.
A file whose SHA-256 no longer matches the one recorded by the check is not shown,
so a report never pairs a finding with code it was not found in. What is shown is capped in
bytes (a line, all the lines of a view, what is read of the file), and says what was cut, so a
huge or one-line file gives a report of ordinary size.

A notebook is shown as its code cells, each line labelled ``cell 7, line 3`` as the loader names
it; each cell is located on its own, so a cell that does not parse (IPython lines, a typo) falls
back to a line search without costing the others their AST.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from gradharness.model import network
from gradharness.model.keys import matching_key
from gradharness.render.html.cells import code_cells
from gradharness.render.safe_text import CODE_BYTES, LINE_BYTES, cut, utf8_size
from gradharness.usercode.notebook import strip_ipython

BUILTIN_PREFIX = "builtin:"
MAX_SOURCE_LINES = 3000
MAX_READ_BYTES = 2_000_000  # of the user's file; the rest is only hashed, and counted as cut
MAX_NOTEBOOK_BYTES = 20_000_000  # a notebook is JSON read whole (outputs may hold images); a larger one is not shown
CONTEXT = 3


@dataclass(frozen=True)
class SourceLine:
    """One line of the user's code; ``note`` says why it is highlighted."""

    number: int
    text: str
    highlighted: bool = False
    note: str = ""
    cut: int = 0  # bytes of the line not shown (LINE_BYTES at most are)
    cell: int | None = None  # a notebook's line: the cell it is in (numbered among all cells) ...
    row: int | None = None  # ... and its line in that cell

    @property
    def where(self) -> str:
        """``cell 7, line 3`` in a notebook, ``line 12`` in a file."""
        return f"cell {self.cell}, line {self.row}" if self.cell is not None else f"line {self.number}"


@dataclass(frozen=True)
class SourceExcerpt:
    """A run of consecutive lines (a function, or a line with its context)."""

    lines: list[SourceLine]
    omitted: int = 0  # lines after these that are not shown (CODE_BYTES over all excerpts)


@dataclass(frozen=True)
class SourceView:
    """The offending lines in context, the whole file, or why the code cannot be shown."""

    label: str
    excerpts: list[SourceExcerpt]
    full: list[SourceLine]
    located: list[str]
    not_located: list[str]
    unavailable: str | None = None
    omitted: int = 0  # lines of the whole source after ``full`` that are not shown (CODE_BYTES)
    unread: int = 0  # bytes at the end of the file that were not read (MAX_READ_BYTES)
    cells: int = 0  # a notebook's code cells shown (0 for a .py file)


def _read_builtin(name: str) -> tuple[list[str], int] | None:
    function = getattr(network, name, None)
    if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != network.__name__:
        return None
    lines, start = inspect.getsourcelines(function)
    return [line.rstrip("\r\n") for line in lines], start


@dataclass(frozen=True)
class _Cell:
    """A notebook's code cell within :attr:`_Code.lines`: its number among all cells, first index and length."""

    number: int
    start: int
    size: int


@dataclass(frozen=True)
class _Code:
    """The lines of code to show, where they start, and how many bytes at the end of the file were not read."""

    lines: list[str]
    offset: int
    label: str
    unread: int = 0
    cells: tuple[_Cell, ...] = ()  # a notebook's code cells, whose lines follow each other in ``lines``

    def parts(self) -> tuple[_Cell, ...]:
        """The runs of lines parsed on their own: each code cell, or the whole file as one."""
        return self.cells or (_Cell(0, 0, len(self.lines)),)


def _read_head(path: Path, limit: int = MAX_READ_BYTES) -> tuple[bytes, int, str]:
    """The first ``limit`` bytes of a file (whole characters), the bytes after them, and the SHA-256 of all of it."""
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):  # hashed in chunks: a huge file is never held whole
            digest.update(chunk)
            size += len(chunk)
            if len(head) <= limit:  # one byte more, to see whether a character goes on
                head += chunk[: limit + 1 - len(head)]
    end = min(len(head), limit)
    while 0 < end < len(head) and head[end] & 0xC0 == 0x80:  # not half a UTF-8 character at the end
        end -= 1
    return bytes(head[:end]), size - end, digest.hexdigest()


def _read_file(target: dict, search: list[Path]) -> tuple[_Code | None, str, str | None]:
    """(code, label, why-unavailable) of a user's file, checked against the recorded SHA-256."""
    path = Path(str(target.get("path", "")))
    label = str(path)
    candidates = [path] if path.is_absolute() else [path, *(base / path for base in search)]
    notebook = path.suffix.lower() == ".ipynb"
    for candidate in candidates:
        try:
            head, unread, sha256 = _read_head(candidate, MAX_NOTEBOOK_BYTES if notebook else MAX_READ_BYTES)
        except OSError:
            continue
        recorded = target.get("sha256")
        if recorded and sha256 != recorded:
            return None, label, "the file has changed since the check (its SHA-256 differs), so its code is not shown"
        text = head.decode("utf-8", errors="replace")
        if notebook:
            code, unavailable = _notebook_code(text, unread, label)
            return code, label, unavailable
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return _Code(text.split("\n"), 0, label, unread), label, None
    return None, label, "the file could not be read where the check found it, so its code is not shown"


def _notebook_code(text: str, unread: int, label: str) -> tuple[_Code | None, str | None]:
    """A notebook's code cells one after another, or why they cannot be shown (its JSON is never shown)."""
    if unread:
        return None, f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB, so its code is not shown"
    found = code_cells(text)
    if found is None:
        return None, "the file could not be read as a Jupyter notebook, so its code is not shown"
    if not found:
        return None, "the notebook has no code cells to show"
    lines: list[str] = []
    cells = []
    for cell in found:
        cells.append(_Cell(cell.number, len(lines), len(cell.lines)))
        lines += cell.lines
    return _Code(lines, 0, label, 0, tuple(cells)), None


def _assigned_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value  # grads["dW2"] = ...
    return None


def _assignments_ast(tree: ast.AST, wanted: Collection[str], offset: int) -> dict[int, str]:
    found: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = [
                t for target in node.targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])
            ]
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        else:
            continue
        for target in targets:
            name = _assigned_name(target)
            key = matching_key(wanted, name) if name is not None else None
            if key is not None:
                for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    found.setdefault(line + offset, key)
    return found


def _assignments_regex(lines: list[str], wanted: Collection[str]) -> dict[int, str]:
    # For code that does not parse (a syntax error elsewhere, a notebook cell's typo).
    names = "|".join(re.escape(name) for name in wanted)
    pattern = re.compile(rf"(?<![\w.'\"])({names})\s*[-+*/@]?=(?!=)", re.IGNORECASE)
    found: dict[int, str] = {}
    for number, text in enumerate(lines, start=1):
        match = pattern.search(text)
        key = matching_key(wanted, match.group(1)) if match else None
        if key is not None:
            found[number] = key
    return found


def _function_spans(tree: ast.AST | None, offset: int) -> list[tuple[int, int]]:
    if tree is None:
        return []
    return [
        (node.lineno + offset - len(node.decorator_list), (node.end_lineno or node.lineno) + offset)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def _excerpt_ranges(
    highlighted: list[int], spans: list[tuple[int, int]], bounds: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The runs of lines to show: each highlighted line's innermost function, or the line with its context.

    ``bounds``: the first and last line of each part (a notebook's cell) that context may not leave.
    """
    ranges = []
    for line in highlighted:
        enclosing = [span for span in spans if span[0] <= line <= span[1]]
        if enclosing:
            ranges.append(min(enclosing, key=lambda span: span[1] - span[0]))  # the innermost function
        else:
            low, high = next((bound for bound in bounds if bound[0] <= line <= bound[1]), (line, line))
            ranges.append((max(low, line - CONTEXT), min(high, line + CONTEXT)))
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def _parse(lines: list[str]) -> ast.AST | None:
    """The AST of some lines; with IPython lines blanked when they alone stop it parsing (line numbers kept)."""
    text = "\n".join(lines)
    for attempt in (text, None):
        try:
            return ast.parse(attempt if attempt is not None else strip_ipython(text)[0])
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def _locate(code: _Code, texts: list[str], wanted: Collection[str]) -> tuple[dict[int, str], list[tuple[int, int]]]:
    """Line number -> the gradient it assigns, and the functions' spans, over each part of the code on its own.

    A part that does not parse (or of which only the start was read) is searched line by line.
    """
    assigned: dict[int, str] = {}
    spans: list[tuple[int, int]] = []
    for part in code.parts():
        offset = code.offset + part.start
        tree = None if code.unread else _parse(code.lines[part.start : part.start + part.size])
        spans += _function_spans(tree, offset)
        if not wanted:
            continue
        if tree is not None:
            assigned.update(_assignments_ast(tree, wanted, offset))
        else:
            found = _assignments_regex(texts[part.start : part.start + part.size], wanted)
            assigned.update({number + offset: name for number, name in found.items()})
    return assigned, spans


def _origins(code: _Code) -> list[tuple[int | None, int | None]]:
    """Per line of the code: (cell, line in the cell) in a notebook, (None, None) in a file."""
    if not code.cells:
        return [(None, None)] * len(code.lines)
    return [(cell.number, row) for cell in code.cells for row in range(1, cell.size + 1)]


def _error_number(code: _Code, error_line: int | None, error_cell: int | None) -> int | None:
    """The line number, in this view, of the line an error names (a notebook's by its cell)."""
    if error_line is None:
        return None
    if not code.cells:
        return error_line
    for cell in code.cells:
        if cell.number == error_cell and 1 <= error_line <= cell.size:
            return code.offset + cell.start + error_line
    return None  # a notebook's line without its cell names no line of the cells shown


def _within(lines: list[SourceLine], budget: int) -> tuple[list[SourceLine], int]:
    """The first of ``lines`` whose text fits in ``budget`` bytes, and how many are left out."""
    used = 0
    for index, line in enumerate(lines):
        used += utf8_size(line.text) + 1
        if used > budget:
            return lines[:index], len(lines) - index
    return lines, 0


def _excerpts(full: list[SourceLine], ranges: list[tuple[int, int]], first: int) -> list[SourceExcerpt]:
    excerpts, budget = [], CODE_BYTES
    for start, stop in ranges:
        lines, omitted = _within(full[start - first : stop - first + 1], budget)
        budget -= sum(utf8_size(line.text) + 1 for line in lines)
        excerpts.append(SourceExcerpt(lines, omitted))
    return excerpts


def _view(code: _Code, notes: dict[str, str], error_line: int | None, lines: dict[int, str]) -> SourceView:
    first = code.offset + 1
    pieces = [cut(text, LINE_BYTES) for text in code.lines]
    if code.unread:
        text, dropped = pieces[-1]
        pieces[-1] = (text, dropped + code.unread)
    assigned, spans = _locate(code, [text for text, _ in pieces], notes)
    highlight = {number: notes[name] for number, name in assigned.items()}
    highlight.update({number: note for number, note in lines.items() if first <= number < first + len(pieces)})
    if error_line is not None and first <= error_line < first + len(pieces):
        highlight[error_line] = "the error is reported here"
    full = [
        SourceLine(number, text, number in highlight, highlight.get(number, ""), dropped, cell, row)
        for number, ((text, dropped), (cell, row)) in enumerate(zip(pieces, _origins(code), strict=True), start=first)
    ]
    bounds = [(first + part.start, first + part.start + part.size - 1) for part in code.parts()]
    ranges = _excerpt_ranges(sorted(highlight), spans, bounds)
    shown_full, omitted = _within(full, CODE_BYTES)
    located = sorted({name for name in assigned.values()})
    return SourceView(
        code.label, _excerpts(full, ranges, first), shown_full, located, sorted(set(notes) - set(located)), None,
        omitted, code.unread, len(code.cells),
    )  # fmt: skip


def locate_source(
    target: dict,
    notes: dict[str, str],
    *,
    error_line: int | None = None,
    error_cell: int | None = None,
    search: list[Path] | None = None,
    cause_lines: dict[int, str] | None = None,
) -> SourceView | None:
    """The user's code with the lines assigning the named gradients highlighted.

    * ``notes`` maps a gradient name (``dW2``, ``dtheta``; matched case-insensitively) to the
      note shown beside the lines that assign it.
    * ``cause_lines`` maps a line of the file to its note (a likely cause's line: that assignment, not every
      one of its variable).
    * ``error_line`` highlights one line (e.g. a syntax error's); in a notebook, a line of the cell
      ``error_cell`` (a notebook's line named without its cell is not highlighted).
    * ``search``: folders to try a relative path in, after the current directory.

    At most LINE_BYTES of a line and CODE_BYTES of the whole source (and as much again of the
    excerpts) are kept; each line says how many of its bytes were cut, the view how many lines.
    """
    path = str(target.get("path", ""))
    if path.startswith(BUILTIN_PREFIX):
        builtin = _read_builtin(path.removeprefix(BUILTIN_PREFIX))
        if builtin is None:
            return None
        lines, start = builtin
        code = _Code(lines, start - 1, f"gradharness/model/network.py ({path})")
    else:
        read, label, unavailable = _read_file(target, search or [])
        if read is None:
            return SourceView(label, [], [], [], sorted(notes), unavailable)
        code = read
    if len(code.lines) > MAX_SOURCE_LINES:
        more = "more than " if code.unread else ""
        whose = "the notebook's code cells have" if code.cells else "the file has"
        unavailable = f"{whose} {more}{len(code.lines)} lines; not shown"
        return SourceView(code.label, [], [], [], sorted(notes), unavailable, cells=len(code.cells))
    return _view(code, notes, _error_number(code, error_line, error_cell), cause_lines or {})
