"""The commands' progress bar: only on a terminal, fed by counts or by the check worker's lines."""

from __future__ import annotations

import io

from rich.console import Console

from gradharness.cli.progress import from_lines, progress_bar


def test_no_bar_off_a_terminal_or_when_quiet() -> None:
    with progress_bar(Console(file=io.StringIO()), "mutants") as update:
        assert update is None
    with progress_bar(Console(file=io.StringIO(), force_terminal=True), "mutants", quiet=True) as update:
        assert update is None


def test_a_bar_on_a_terminal_takes_counts() -> None:
    screen = io.StringIO()
    with progress_bar(Console(file=screen, force_terminal=True, width=100), "mutants") as update:
        assert update is not None
        update(3, 10, "scale_gradient-1")
    assert "mutants" in screen.getvalue() and "3/10" in screen.getvalue() and "eta" in screen.getvalue()


def test_the_workers_lines_become_counts() -> None:
    seen: list[tuple[int, int | None, str]] = []
    line = from_lines(lambda done, total, what: seen.append((done, total, what)))
    line("loading f.py")
    line("example 3/100: 4-5-3-1, m=2")
    line("example 3/100 gradient_check_n")  # no ": ", so no count: only a description
    line("example a/b: x")
    assert seen == [
        (0, None, "loading f.py"),
        (3, 100, "4-5-3-1, m=2"),
        (3, 100, "example 3/100 gradient_check_n"),
        (3, 100, "example a/b: x"),
    ]
