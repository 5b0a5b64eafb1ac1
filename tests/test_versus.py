"""The side-by-side timing of two checkouts: each tree is timed from its own code, and the table says which."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradharness.bench import versus


def test_a_tree_is_timed_from_its_own_code():
    times = versus.time_tree(versus.HERE, ["exercise"], budget=0.01)
    assert set(times) == {"exercise"} and 0 < times["exercise"] < 1


def test_a_directory_without_gradharness_is_refused(tmp_path: Path):
    # PYTHONPATH points at an empty directory: the child would time the installed package instead.
    with pytest.raises(RuntimeError, match="not from that tree"):
        versus.time_tree(tmp_path, ["exercise"], budget=0.01)
    with pytest.raises(SystemExit):
        versus.main([str(tmp_path)])


def test_rounds_alternate_and_keep_the_best(monkeypatch):
    seen = []

    def fake(tree, sizes, budget):
        seen.append(tree)
        return {name: (2.0 if tree == versus.HERE else 4.0) + len(seen) for name in sizes}

    monkeypatch.setattr(versus, "time_tree", fake)
    new, old = versus.versus(Path("/elsewhere"), ["exercise", "medium"], rounds=3, budget=0.1)
    here, other = versus.HERE, Path("/elsewhere")
    assert seen == [here, other, other, here, here, other]
    assert new == {"exercise": 3.0, "medium": 3.0} and old == {"exercise": 6.0, "medium": 6.0}


def test_report_prints_both_times_and_the_ratio():
    text = versus.report(
        Path("/tmp/old"), {"exercise": 110e-6, "medium": 9e-3}, {"exercise": 100e-6, "medium": 10e-3}, 4
    )
    assert "best of 4 interleaved rounds" in text and "old: /tmp/old" in text
    exercise = next(line for line in text.splitlines() if line.startswith("4-5-3-1, m=3"))
    assert exercise.split()[-5:] == ["110", "us", "100", "us", "1.100"]
    medium = next(line for line in text.splitlines() if line.startswith("64-32-16-1, m=64"))
    assert medium.split()[-5:] == ["9", "ms", "10", "ms", "0.900"]


def test_unknown_sizes_are_refused(capsys):
    with pytest.raises(SystemExit):
        versus.main([str(versus.HERE), "--sizes", "huge"])
    assert "unknown sizes huge" in capsys.readouterr().err
