"""A mistake as a student makes it: a correct file with one change. ``made_file`` writes one out as a file of its
own, its docstring saying the mistake (the tables: deep_mistakes.py, regularisation_mistakes.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mistake:
    """The correct file it is made from, what is wrong (the file's docstring) and the edits that make it:
    (old text, new text), each old text once in the file."""

    base: Path
    why: str
    edits: tuple[tuple[str, str], ...]


def made_file(name: str, mistake: Mistake, folder: Path) -> Path:
    """The file with ``mistake``, written into ``folder`` as ``name``."""
    source = mistake.base.read_text(encoding="utf-8")
    source = source[source.index('"""', 3) + 3 :]  # the correct file's own docstring gives way to the mistake's
    for old, new in mistake.edits:
        assert source.count(old) == 1, (name, old)
        source = source.replace(old, new)
    path = Path(folder) / name
    path.write_text(f'"""{mistake.why}"""{source}', encoding="utf-8")
    return path
