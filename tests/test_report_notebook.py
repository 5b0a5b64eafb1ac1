"""A notebook's check report: its code shown by cell, highlighted as a .py file's is, and its loading notes."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from gradharness.judge.checks import check_file
from gradharness.mutation.causes import explain
from gradharness.records.check import CheckRecord
from gradharness.records.store import load, save
from gradharness.records.verdict import RunVerdict
from gradharness.render.batch import write_reports
from gradharness.render.html import render_report, source
from gradharness.render.html.source import locate_source
from gradharness.render.html.viewmodels import build_check_view
from gradharness.settings import RunSettings
from tests.exercise_files import CORRECTED_NOTEBOOK, ORIGINAL_NOTEBOOK
from tests.report_support import Node, parse, seed_case_record
from tests.user_files import FIXTURES

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
BUGS = ("dW2 = 1. / m * np.dot(dZ2, A1.T) * 2", "db1 = 4. / m * np.sum(dZ1, axis=1, keepdims=True)")


def _places(path: Path, starts: tuple[str, ...]) -> list[tuple[int, int]]:
    """(cell, line in cell) of the lines starting with ``starts``, counted from the notebook's JSON itself."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = []
    for number, cell in enumerate(cells, start=1):
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for row, line in enumerate(text.split("\n"), start=1):
            if cell["cell_type"] == "code" and line.strip().startswith(starts):
                found.append((number, row))
    return found


def _target(path: Path) -> dict:
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _notebook(path: Path, *cells: str, markdown_first: bool = False) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# The exercise")] if markdown_first else []
    notebook.cells += [nbformat.v4.new_code_cell(text) for text in cells]
    nbformat.write(notebook, str(path))
    return path


def _highlighted(view) -> list[tuple[str, str]]:
    return [(line.where, line.text.strip()) for excerpt in view.excerpts for line in excerpt.lines if line.highlighted]


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> CheckRecord:
    """The exercise's notebook as a student has it: no gc_utils.py or testCases.py beside it."""
    folder = tmp_path_factory.mktemp("student")
    path = Path(shutil.copy(ORIGINAL_NOTEBOOK, folder / ORIGINAL_NOTEBOOK.name))
    checked = explain(check_file(path, RunSettings(seed=0, max_examples=30)))
    assert checked.verdict is RunVerdict.FAIL
    return checked


@pytest.fixture(scope="module")
def document(record) -> Node:
    return parse(render_report(record, created=NOW))


def test_the_buggy_notebook_has_its_two_bugs_located_by_cell_and_line(record):
    view = build_check_view(record, created=NOW).source
    assert view is not None and view.unavailable is None
    assert view.located == ["dW2", "db1"] and view.not_located == []
    assert view.cells == sum(cell.cell_type == "code" for cell in nbformat.read(str(ORIGINAL_NOTEBOOK), 4).cells)
    expected = [f"cell {cell}, line {row}" for cell, row in _places(ORIGINAL_NOTEBOOK, ("dW2 =", "db1 ="))]
    assert len(expected) == 2
    assert _highlighted(view) == list(zip(expected, BUGS, strict=True))
    (excerpt,) = view.excerpts  # both inside one function, shown whole
    assert excerpt.lines[0].text.startswith("def backward_propagation_n") and excerpt.lines[0].row == 1
    assert {line.cell for line in excerpt.lines} == {_places(ORIGINAL_NOTEBOOK, ("dW2 =",))[0][0]}
    notes = [line.note for line in excerpt.lines if line.highlighted]
    assert all(note.startswith("likely cause:") for note in notes)


def test_the_report_shows_the_code_by_cell_and_no_json(record, document):
    code = document.by_id("source")
    assert "Could not locate" not in code.text()
    for text in ('"cell_type"', '"nbformat"', '"metadata"', '"outputs"'):
        assert text not in code.text()
    (excerpt,) = code.find_all("table", class_="excerpt")
    (cell_row,) = excerpt.find_all("tr", class_="cell")
    (cell, _), (_, db1_row) = _places(ORIGINAL_NOTEBOOK, ("dW2 =", "db1 ="))
    assert cell_row.text().strip() == f"cell {cell}"
    highlighted = excerpt.find_all("tr", class_="hl")
    assert [tr.find_all("td")[1].text().strip() for tr in highlighted] == list(BUGS)
    lines = [tr.find_all("td", class_="ln")[0] for tr in highlighted]
    assert lines[1].text() == str(db1_row) and lines[1].attrs["title"] == f"cell {cell}, line {db1_row}"
    (whole,) = code.find_all("details")
    assert whole.find_all("summary")[0].text().strip().startswith("All code cells")
    cells = [tr.text().strip() for tr in whole.find_all("tr", class_="cell")]
    code_cells = [n for n, c in enumerate(nbformat.read(str(ORIGINAL_NOTEBOOK), 4).cells, 1) if c.cell_type == "code"]
    assert cells == [f"cell {n}" for n in code_cells]


def test_the_report_shows_the_loading_notes(record, document):
    notes = [li.text() for li in document.by_id("notes").find_all("li")]
    for note in record.target["notes"]:
        assert note in notes
    assert any("using gradharness's compatible gc_utils" in note for note in notes)
    assert any("testCases" in note and "skipped" in note for note in notes)
    assert any(f"code cells from the notebook {ORIGINAL_NOTEBOOK.name}" in note for note in notes)


def test_a_batch_report_and_one_rendered_from_the_json_show_the_same(record, tmp_path):
    ((_, html, _),) = write_reports([record], tmp_path)
    save(record, tmp_path / "saved.json")
    again = load(tmp_path / "saved.json", CheckRecord)
    for page in (parse((tmp_path / str(html)).read_text(encoding="utf-8")), parse(render_report(again, created=NOW))):
        assert [li.text() for li in page.by_id("notes").find_all("li")][1:] == record.target["notes"]
        rows = page.by_id("source").find_all("table", class_="excerpt")[0].find_all("tr", class_="hl")
        assert [tr.find_all("td")[1].text().strip() for tr in rows] == list(BUGS)


def test_the_corrected_notebook_has_its_lines_found_too():
    view = locate_source(_target(CORRECTED_NOTEBOOK), {"dW2": "x", "db1": "y"})
    expected = [f"cell {c}, line {r}" for c, r in _places(CORRECTED_NOTEBOOK, ("dW2 =", "db1 ="))]
    assert [where for where, _ in _highlighted(view)] == expected
    assert [text.split("=")[0].strip() for _, text in _highlighted(view)] == ["dW2", "db1"]


def test_a_cell_with_magics_is_still_parsed_and_one_that_does_not_parse_is_searched(tmp_path):
    path = _notebook(
        tmp_path / "user.ipynb",
        "%matplotlib inline\n!pip list\ndef backward(X, Y):\n    dW2 = 2 * X\n    return dW2",
        "def broken(X:\n    dW3 = X\n",
        "\n".join(f"x{n} = {n}" for n in range(8)),
        "db1, db2 = 1, 2",
        markdown_first=True,
    )
    view = locate_source(_target(path), {"dW2": "a", "dW3": "b", "db1": "c"})
    assert _highlighted(view) == [
        ("cell 2, line 4", "dW2 = 2 * X"),  # the AST once the IPython lines are blanked
        ("cell 3, line 2", "dW3 = X"),  # a line search: this cell does not parse
        ("cell 5, line 1", "db1, db2 = 1, 2"),  # the AST again: a line search would miss a tuple
    ]
    first, second = view.excerpts
    assert [line.where for line in first.lines] == [
        "cell 2, line 3", "cell 2, line 4", "cell 2, line 5", "cell 3, line 1", "cell 3, line 2",
    ]  # fmt: skip
    assert first.lines[0].text == "def backward(X, Y):"
    assert [line.where for line in second.lines] == ["cell 5, line 1"]  # context stays in the cell
    assert [line.text for line in view.full][:2] == ["%matplotlib inline", "!pip list"]  # shown as written


def test_an_error_is_highlighted_in_the_cell_it_names(tmp_path):
    path = _notebook(tmp_path / "user.ipynb", "x = 1\ny = 2", "a = 1\nb = (", markdown_first=True)
    view = locate_source(_target(path), {}, error_line=2, error_cell=3)
    assert _highlighted(view) == [("cell 3, line 2", "b = (")]
    assert _highlighted(locate_source(_target(path), {}, error_line=2)) == []  # which cell's line 2 is unknown


def test_an_error_record_of_a_notebook_highlights_the_cell_and_line_of_its_message(tmp_path):
    path = _notebook(tmp_path / "user.ipynb", "x = 1", "def f(:\n    pass")
    record = check_file(path, RunSettings(seed=0, max_examples=5))
    assert record.verdict is RunVerdict.ERROR and "cell 2, line 1" in str(record.error)
    assert _highlighted(build_check_view(record, created=NOW).source) == [("cell 2, line 1", "def f(:")]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"cells": [', "could not be read as a Jupyter notebook"),
        ("not json at all", "could not be read as a Jupyter notebook"),
        (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), "no code cells"),
    ],
)
def test_a_file_that_is_not_a_notebook_with_code_shows_why_and_never_its_text(tmp_path, content, reason):
    path = tmp_path / "user.ipynb"
    path.write_text(content, encoding="utf-8")
    view = locate_source(_target(path), {"dW2": "x"})
    assert reason in view.unavailable and view.full == [] and view.excerpts == []


def test_a_changed_notebook_is_not_shown(tmp_path):
    path = _notebook(tmp_path / "user.ipynb", "dW2 = 1")
    target = _target(path)
    _notebook(path, "dW2 = 2")
    view = locate_source(target, {"dW2": "x"})
    assert view.full == [] and "changed" in view.unavailable


def test_a_notebook_over_the_cap_is_not_read(tmp_path, monkeypatch):
    path = _notebook(tmp_path / "user.ipynb", "dW2 = 1")
    monkeypatch.setattr(source, "MAX_NOTEBOOK_BYTES", path.stat().st_size - 1)
    view = locate_source(_target(path), {"dW2": "x"})
    assert view.full == [] and "larger than" in view.unavailable


def test_a_py_report_has_no_cells(tmp_path):
    document = parse(render_report(seed_case_record(), created=NOW))
    assert document.by_id("source").find_all("tr", class_="cell") == []
    view = locate_source(_target(FIXTURES / "buggy_seed.py"), {"dW2": "x"})
    assert view.cells == 0 and all(line.cell is None for line in view.full)
    assert [where for where, _ in _highlighted(view)] == [
        f"line {n}" for n, text in enumerate((FIXTURES / "buggy_seed.py").read_text().splitlines(), 1)
        if text.strip().startswith("dW2 =")
    ]  # fmt: skip
