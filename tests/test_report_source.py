"""Locating the user's code and the lines that compute the offending gradients."""

from __future__ import annotations

import hashlib

from gradharness.render.html.source import locate_source
from tests.user_files import FIXTURES


def _target(path):
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _highlighted(view):
    return [(line.number, line.text.strip()) for e in view.excerpts for line in e.lines if line.highlighted]


def test_the_exercise_file_has_its_two_bugs_highlighted_inside_backward():
    path = FIXTURES / "buggy_seed.py"
    view = locate_source(_target(path), {"dW2": "wrong", "db1": "wrong"})
    assert view.unavailable is None
    assert [text.split("=")[0].strip() for _, text in _highlighted(view)] == ["dW2", "db1"]
    assert len(view.excerpts) == 1
    assert view.excerpts[0].lines[0].text.startswith("def backward_propagation_n")
    assert view.located == ["dW2", "db1"] and view.not_located == []
    assert len(view.full) == len(path.read_text().splitlines()) + 1  # the text after the last newline


def test_other_spellings_are_found(tmp_path):
    path = tmp_path / "user.py"
    path.write_text(
        "def backward(X, Y, cache):\n"
        "    grads = {}\n"
        "    grads['dW2'] = 2 * X\n"
        "    dw3: float = 1.0\n"
        "    db1, db2 = X, Y\n"
        "    dW2 == X\n"
        "    return grads\n",
        encoding="utf-8",
    )
    view = locate_source(_target(path), {"dW2": "a", "dW3": "b", "db1": "c", "db3": "d"})
    assert [n for n, _ in _highlighted(view)] == [3, 4, 5]
    assert view.not_located == ["db3"]


def test_code_that_does_not_parse_falls_back_to_a_line_search(tmp_path):
    path = tmp_path / "user.py"
    path.write_text("def backward(X:\n    dW2 = 2 * X\n    dW2 == X\n", encoding="utf-8")
    view = locate_source(_target(path), {"dW2": "wrong"}, error_line=1)
    assert [n for n, _ in _highlighted(view)] == [1, 2]


def test_a_changed_file_is_not_shown(tmp_path):
    path = tmp_path / "user.py"
    path.write_text("dW2 = 1\n", encoding="utf-8")
    target = _target(path)
    path.write_text("dW2 = 2\n", encoding="utf-8")
    view = locate_source(target, {"dW2": "wrong"})
    assert view.full == [] and view.excerpts == [] and "changed" in view.unavailable


def test_a_relative_path_is_looked_for_in_the_search_folders(tmp_path):
    (tmp_path / "user.py").write_text("dW2 = 1\n", encoding="utf-8")
    target = {"path": "user.py", "sha256": None}
    assert locate_source(target, {"dW2": "x"}).unavailable is not None
    assert _highlighted(locate_source(target, {"dW2": "x"}, search=[tmp_path])) == [(1, "dW2 = 1")]


def test_builtin_targets_only_name_functions_of_the_network_module():
    assert locate_source({"path": "builtin:backward_propagation_n_buggy"}, {"db1": "x"}).located == ["db1"]
    assert locate_source({"path": "builtin:np"}, {"db1": "x"}) is None
    assert locate_source({"path": "builtin:__import__"}, {"db1": "x"}) is None
