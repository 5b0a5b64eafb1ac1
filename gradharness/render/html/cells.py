"""A notebook's code cells as text, for showing them in a report (nothing in them is run).

Cells are numbered as the loader numbers them (every cell counts, markdown too), so a report's
``cell 7, line 3`` is the place the loading notes and error messages name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeCell:
    """One code cell: its place among all the notebook's cells (1-based) and its lines."""

    number: int
    lines: list[str]


def _cell_lines(source: object) -> list[str]:
    text = "".join(str(piece) for piece in source) if isinstance(source, list) else str(source or "")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines  # not the empty text after a final newline


def code_cells(text: str) -> list[CodeCell] | None:
    """The code cells of a notebook's JSON text (any nbformat version), or None when it is not a notebook.

    The notebook is not validated: a notebook the loader accepted with a validation warning is shown too,
    and reading it writes nothing to the log.
    """
    import nbformat  # a dependency, imported here so that a .py file's report does not load it
    from nbformat import reader

    try:
        notebook = nbformat.convert(reader.reads(text), 4)
        cells = notebook.get("cells", [])
    except Exception:  # nbformat raises several unrelated types for a broken file
        return None
    if not isinstance(cells, list):
        return None
    shown = []
    for number, cell in enumerate(cells, start=1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            lines = _cell_lines(cell.get("source", ""))
            if any(line.strip() for line in lines):  # an empty cell has nothing to show
                shown.append(CodeCell(number, lines))
    return shown
