"""Apply the operators to one function of a source file: the mutants, each with its line and diff.

Only the text of the edited span changes (the rest of the file keeps its formatting),
so each mutant's unified diff shows exactly the mistake it plants.
"""

from __future__ import annotations

import ast
import difflib
import textwrap
from dataclasses import dataclass, replace

from gradharness.errors import GradHarnessError
from gradharness.mutation.operators import Operator, Replacement, Scope, select_operators


@dataclass(frozen=True)
class Mutant:
    """One variant of the function: what changed, where, and the mutated function's source."""

    id: str
    operator: str
    line: int  # 1-based lines and columns of the (first) edit in the file
    column: int
    end_line: int
    end_column: int
    original: str  # the replaced source text
    replacement: str  # the text put in its place
    function_source: str  # the whole mutated function, as it would appear in the file
    function_line: int  # the line of its ``def`` in the file
    diff: str
    equivalent: str | None = None  # why this edit may change nothing, when it may

    @property
    def description(self) -> str:
        """One line such as ``line 78: 1.0 / m -> 4.0 / m``."""
        return f"line {self.line}: {_one_line(self.original)} -> {_one_line(self.replacement)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def find_function(tree: ast.Module, name: str, label: str) -> ast.FunctionDef:
    """The top-level function ``name`` (an error naming the file's functions if it is missing)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    raise GradHarnessError(f"{label} defines no function {name} (functions: {', '.join(defined) or 'none'})")


def parse_source(source: str, label: str) -> ast.Module:
    """Parse the file's text; a syntax error is the file's problem, reported in one line."""
    try:
        return ast.parse(source, filename=label)
    except SyntaxError as exc:
        raise GradHarnessError(f"{label}: syntax error (line {exc.lineno}): {exc.msg}") from None


def _scope(function: ast.FunctionDef) -> Scope:
    parents: dict[int, ast.AST] = {}
    names: set[str] = set()
    m_names: set[str] = set()
    for node in ast.walk(function):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.Name):
            names.add(node.id)
        if isinstance(node, ast.arg):
            names.add(node.arg)
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Subscript)
            and isinstance(node.value.value, ast.Attribute)
            and node.value.value.attr == "shape"
        ):
            m_names.add(node.targets[0].id)
    return Scope(frozenset(names), frozenset(m_names), parents)


def _body_nodes(function: ast.FunctionDef) -> list[ast.AST]:
    """Every node of the body in source order, the docstring left out."""
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    nodes: list[ast.AST] = []
    for statement in body:
        nodes.extend(ast.walk(statement))
    return sorted(
        (n for n in nodes if hasattr(n, "lineno")),
        key=lambda n: (n.lineno, n.col_offset, -(n.end_lineno or 0), -(n.end_col_offset or 0)),  # type: ignore[attr-defined]
    )


# Binding strength of binary operators, for deciding where a replacement needs parentheses.
_PRECEDENCE = {
    ast.Pow: 6, ast.Mult: 5, ast.MatMult: 5, ast.Div: 5, ast.FloorDiv: 5, ast.Mod: 5,
    ast.Add: 4, ast.Sub: 4, ast.LShift: 3, ast.RShift: 3, ast.BitAnd: 2, ast.BitXor: 1, ast.BitOr: 0,
}  # fmt: skip


def _needs_parentheses(new: ast.AST, old: ast.AST, parent: ast.AST | None) -> bool:
    if not isinstance(new, (ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Lambda)):
        return False
    if isinstance(parent, ast.BinOp):
        if not isinstance(new, ast.BinOp):
            return True
        inner, outer = _PRECEDENCE[type(new.op)], _PRECEDENCE[type(parent.op)]
        return inner < outer or (inner == outer and parent.right is old)
    if isinstance(parent, ast.Compare):
        return not isinstance(new, ast.BinOp)
    if isinstance(parent, ast.Subscript):
        return parent.value is old  # an index needs none: caches[l + 1]
    return isinstance(parent, (ast.UnaryOp, ast.Attribute, ast.Await, ast.Starred)) or (
        isinstance(parent, ast.Call) and parent.func is old
    )


@dataclass(frozen=True)
class _Edit:
    line: int
    column: int  # character (not byte) offsets, 0-based
    end_line: int
    end_column: int
    text: str


def _char_column(lines: list[str], line: int, byte_column: int) -> int:
    return len(lines[line - 1].encode("utf-8")[:byte_column].decode("utf-8", errors="replace"))


def _string_in_quotes_of(new: ast.AST, old_text: str) -> str | None:
    """A string constant written with the quotes of the text it replaces (``"relu"`` for ``"sigmoid"``)."""
    if not (isinstance(new, ast.Constant) and isinstance(new.value, str)):
        return None
    quote = old_text[:1]
    if quote not in ("'", '"') or any(c in new.value for c in (quote, "\\", "\n")):
        return None
    return quote + new.value + quote


def _edit(lines: list[str], old: ast.AST, new: ast.AST, scope: Scope) -> _Edit:
    text = ast.unparse(new)
    if _needs_parentheses(new, old, scope.parent(old)):
        text = f"({text})"
    edit = _Edit(
        old.lineno,  # type: ignore[attr-defined]
        _char_column(lines, old.lineno, old.col_offset),  # type: ignore[attr-defined]
        old.end_lineno,  # type: ignore[attr-defined]
        _char_column(lines, old.end_lineno, old.end_col_offset),  # type: ignore[attr-defined]
        text,
    )
    quoted = _string_in_quotes_of(new, _span_text(lines, edit))
    return edit if quoted is None else replace(edit, text=quoted)


def _apply(lines: list[str], edits: list[_Edit]) -> list[str]:
    """The file's lines with the edits applied (edits must not overlap)."""
    out = list(lines)
    for edit in sorted(edits, key=lambda e: (e.line, e.column), reverse=True):
        head = out[edit.line - 1][: edit.column]
        tail = out[edit.end_line - 1][edit.end_column :]
        replaced = (head + edit.text + tail).split("\n")
        out[edit.line - 1 : edit.end_line] = replaced
    return out


def _span_text(lines: list[str], edit: _Edit) -> str:
    if edit.line == edit.end_line:
        return lines[edit.line - 1][edit.column : edit.end_column]
    middle = lines[edit.line : edit.end_line - 1]
    return "\n".join([lines[edit.line - 1][edit.column :], *middle, lines[edit.end_line - 1][: edit.end_column]])


def _overlap(edits: list[_Edit]) -> bool:
    spans = sorted((e.line, e.column, e.end_line, e.end_column) for e in edits)
    return any((b[0], b[1]) < (a[2], a[3]) for a, b in zip(spans, spans[1:], strict=False))


def unified_diff(lines: list[str], mutated: list[str], label: str) -> str:
    """The unified diff of a mutant against its file, one line of context, as every mutant's ``diff`` shows it."""
    return "".join(
        difflib.unified_diff(
            [line + "\n" for line in lines],
            [line + "\n" for line in mutated],
            fromfile=f"a/{label}",
            tofile=f"b/{label}",
            n=1,
        )
    )


def generate_mutants(
    source: str, function_name: str, label: str, operators: list[Operator] | None = None, *, diffs: bool = True
) -> list[Mutant]:
    """Every distinct, syntactically valid mutant of ``function_name`` in ``source``.

    ``label`` names the file in diffs and messages. Mutants that leave the function's
    text unchanged, or repeat another mutant's text, are dropped. ``diffs`` False leaves each
    mutant's ``diff`` empty (most of the time spent here, and not wanted by every caller).
    """
    tree = parse_source(source, label)
    function = find_function(tree, function_name, label)
    scope = _scope(function)
    lines = source.split("\n")
    first, last = function.lineno, function.end_lineno or function.lineno
    original_function = "\n".join(lines[first - 1 : last])
    seen = {original_function}
    mutants: list[Mutant] = []
    counts: dict[str, int] = {}
    for node in _body_nodes(function):
        for op in operators if operators is not None else select_operators(None):
            for replacement in op.function(node, scope):
                mutant = _make_mutant(op, replacement, lines, scope, first, last, label, seen, counts, diffs)
                if mutant is not None:
                    mutants.append(mutant)
    return mutants


def _make_mutant(
    op: Operator,
    replacement: Replacement,
    lines: list[str],
    scope: Scope,
    first: int,
    last: int,
    label: str,
    seen: set[str],
    counts: dict[str, int],
    diffs: bool = True,
) -> Mutant | None:
    edits = [_edit(lines, replacement.node, replacement.new, scope)]
    edits += [_edit(lines, old, new, scope) for old, new in replacement.also]
    if _overlap(edits):
        return None
    mutated = _apply(lines, edits)
    shift = len(mutated) - len(lines)
    function_source = "\n".join(mutated[first - 1 : last + shift])
    if function_source in seen:
        return None
    try:
        ast.parse(textwrap.dedent(function_source))
    except SyntaxError:
        return None  # an operator bug must not become a "crashed" mutant
    seen.add(function_source)
    counts[op.name] = counts.get(op.name, 0) + 1
    main = edits[0]
    diff = unified_diff(lines, mutated, label) if diffs else ""
    new_text = main.text
    return Mutant(
        id=f"{op.name}-{counts[op.name]}",
        operator=op.name,
        line=main.line,
        column=main.column + 1,
        end_line=main.end_line,
        end_column=main.end_column + 1,
        original=_span_text(lines, main),
        replacement=new_text,
        function_source=function_source,
        function_line=first,
        diff=diff,
        equivalent=replacement.equivalent,
    )
