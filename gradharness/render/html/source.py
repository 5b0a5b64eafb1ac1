"""Find the user's source for a report and the lines that compute the offending gradients.

Collecting only: returns plain dataclasses, the templates decide how they look.
A file whose SHA-256 no longer matches the one recorded by the check is not shown,
so a report never pairs a finding with code it was not found in.
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

BUILTIN_PREFIX = "builtin:"
MAX_SOURCE_LINES = 3000
CONTEXT = 3


@dataclass(frozen=True)
class SourceLine:
    """One line of the user's code; ``note`` says why it is highlighted."""

    number: int
    text: str
    highlighted: bool = False
    note: str = ""


@dataclass(frozen=True)
class SourceExcerpt:
    """A run of consecutive lines (a function, or a line with its context)."""

    lines: list[SourceLine]


@dataclass(frozen=True)
class SourceView:
    """The offending lines in context, the whole file, or why the code cannot be shown."""

    label: str
    excerpts: list[SourceExcerpt]
    full: list[SourceLine]
    located: list[str]
    not_located: list[str]
    unavailable: str | None = None


def _read_builtin(name: str) -> tuple[list[str], int] | None:
    function = getattr(network, name, None)
    if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != network.__name__:
        return None
    lines, start = inspect.getsourcelines(function)
    return [line.rstrip("\r\n") for line in lines], start


def _read_file(target: dict, search: list[Path]) -> tuple[list[str] | None, str, str | None]:
    """(lines, label, why-unavailable) of a user's file, checked against the recorded SHA-256."""
    path = Path(str(target.get("path", "")))
    label = str(path)
    candidates = [path] if path.is_absolute() else [path, *(base / path for base in search)]
    for candidate in candidates:
        try:
            data = candidate.read_bytes()
        except OSError:
            continue
        recorded = target.get("sha256")
        if recorded and hashlib.sha256(data).hexdigest() != recorded:
            return None, label, "the file has changed since the check (its SHA-256 differs), so its code is not shown"
        text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        return text.split("\n"), label, None
    return None, label, "the file could not be read where the check found it, so its code is not shown"


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
    # For code that does not parse (a syntax error elsewhere, a notebook's JSON).
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


def _excerpt_ranges(highlighted: list[int], spans: list[tuple[int, int]], total: int) -> list[tuple[int, int]]:
    ranges = []
    for line in highlighted:
        enclosing = [span for span in spans if span[0] <= line <= span[1]]
        if enclosing:
            ranges.append(min(enclosing, key=lambda span: span[1] - span[0]))  # the innermost function
        else:
            ranges.append((max(1, line - CONTEXT), min(total, line + CONTEXT)))
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def locate_source(
    target: dict,
    notes: dict[str, str],
    *,
    error_line: int | None = None,
    search: list[Path] | None = None,
) -> SourceView | None:
    """The user's code with the lines assigning the named gradients highlighted.

    * ``notes`` maps a gradient name (``dW2``, ``dtheta``; matched case-insensitively) to the
      note shown beside the lines that assign it.
    * ``error_line`` highlights one line (e.g. a syntax error's).
    * ``search``: folders to try a relative path in, after the current directory.
    """
    path = str(target.get("path", ""))
    offset = 0
    if path.startswith(BUILTIN_PREFIX):
        builtin = _read_builtin(path.removeprefix(BUILTIN_PREFIX))
        if builtin is None:
            return None
        lines, start = builtin
        offset, label, unavailable = start - 1, f"gradharness/model/network.py ({path})", None
    else:
        read, label, unavailable = _read_file(target, search or [])
        if read is None:
            return SourceView(label, [], [], [], sorted(notes), unavailable)
        lines = read
    if len(lines) > MAX_SOURCE_LINES:
        return SourceView(label, [], [], [], sorted(notes), f"the file has {len(lines)} lines; not shown")
    first = offset + 1
    try:
        tree: ast.AST | None = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        tree = None
    if not notes:
        assigned = {}
    elif tree is not None:
        assigned = _assignments_ast(tree, notes, offset)
    else:
        assigned = {number + offset: name for number, name in _assignments_regex(lines, notes).items()}
    highlight = {number: notes[name] for number, name in assigned.items()}
    if error_line is not None and first <= error_line < first + len(lines):
        highlight[error_line] = "the error is reported here"
    full = [
        SourceLine(number, text, number in highlight, highlight.get(number, ""))
        for number, text in enumerate(lines, start=first)
    ]
    ranges = _excerpt_ranges(sorted(highlight), _function_spans(tree, offset), first + len(lines) - 1)
    excerpts = [SourceExcerpt(full[start - first : stop - first + 1]) for start, stop in ranges]
    located = sorted({name for name in assigned.values()})
    return SourceView(label, excerpts, full, located, sorted(set(notes) - set(located)), None)
