"""The progress bar the commands show on stderr while they work (only on a terminal, never with --quiet)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Update = Callable[[int, int | None, str], None]
"""``update(done, total, what)``: ``done`` of ``total`` steps (None: not known yet) finished, ``what`` under way."""


@contextlib.contextmanager
def progress_bar(console: Console, label: str, *, quiet: bool = False) -> Iterator[Update | None]:
    """A transient bar ``LABEL [####    ] done/total what elapsed eta remaining`` while the block runs.

    Yields its update function, or None when ``console`` is no terminal or ``quiet`` is set
    (the caller then passes no progress callback at all).
    """
    if quiet or not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console, transient=True,
    )  # fmt: skip
    task = bar.add_task("", total=None)

    def update(done: int, total: int | None, what: str) -> None:
        bar.update(task, completed=done, total=total, description=what)

    with bar:
        yield update


def from_lines(update: Update) -> Callable[[str], None]:
    """Feed ``update`` from the check worker's progress lines (``example 3/100: what``; other lines only describe)."""
    done: int = 0
    total: int | None = None

    def line(text: str) -> None:
        nonlocal done, total
        head, _, what = text.partition(": ")
        count = head.removeprefix("example ")
        if head.startswith("example ") and count.count("/") == 1 and all(p.isdigit() for p in count.split("/")):
            done, total = (int(p) for p in count.split("/"))
            update(done, total, what)
        else:
            update(done, total, text)

    return line
