"""Notebooks and IPython syntax: cells to one module, magics out, and the exercise notebooks end to end."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from exercise_files import CORRECTED_NOTEBOOK, ORIGINAL_NOTEBOOK

from gradharness.errors import UserCodeError
from gradharness.judge.checks import check_file
from gradharness.records.check import CheckRecord, PropertyStatus
from gradharness.records.verdict import RunVerdict
from gradharness.settings import RunSettings
from gradharness.usercode.notebook import IPythonStub, count_get_ipython, read_notebook, strip_ipython


@pytest.mark.parametrize(
    ("cell", "expected", "ignored"),
    [
        ("%matplotlib inline\nx = 1", "pass\nx = 1", 1),
        ("!pip install numpy\nx = 1", "pass\nx = 1", 1),
        ("files = !ls\nt = %timeit -o f()", "files = None\nt = None", 2),
        ("if True:\n    %time f()\n    y = 2", "if True:\n    pass\n    y = 2", 1),
        ("np.dot?\n??relu", "pass\npass", 2),
        ("!echo a \\\n  b\nx = 1", "pass\n\nx = 1", 1),
        ("%%bash\necho hi\nls", "\n\n", 1),
        ("%%time\nx = f()\n", "pass\nx = f()\n", 1),
        ('s = """\n%not a magic\n!nor this\n"""', 's = """\n%not a magic\n!nor this\n"""', 0),
        ("a = b != c\nd = 7 % 3\ne = '%d' % 4", "a = b != c\nd = 7 % 3\ne = '%d' % 4", 0),
    ],
)
def test_strip_ipython(cell: str, expected: str, ignored: int) -> None:
    text, replaced = strip_ipython(cell)
    assert text == expected
    assert len(replaced) == ignored
    assert text.count("\n") == cell.count("\n")  # line numbers are kept


def test_read_notebook_keeps_cell_and_line_of_every_statement() -> None:
    source = read_notebook(ORIGINAL_NOTEBOOK)
    lines = source.text.split("\n")
    at = next(i for i, line in enumerate(lines, start=1) if line.startswith("def backward_propagation_n"))
    notebook = nbformat.read(str(ORIGINAL_NOTEBOOK), as_version=4)
    cell = next(i for i, c in enumerate(notebook.cells, start=1) if "def backward_propagation_n" in c.source)
    assert source.where(at) == f"cell {cell}, line 1"
    assert source.code_cells == 11
    assert source.ignored == ("cell 3: %load_ext autoreload", "cell 3: %autoreload 2")
    compile(source.text, "nb", "exec")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a readable Jupyter notebook"),
        (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), "no code cells"),
        (
            json.dumps(
                {
                    "cells": [
                        {"cell_type": "code", "source": "x <- 1", "metadata": {}, "outputs": [], "execution_count": 1}
                    ],
                    "metadata": {"kernelspec": {"language": "R", "name": "ir", "display_name": "R"}},
                    "nbformat": 4,
                    "nbformat_minor": 5,
                }
            ),
            "a r notebook",
        ),
    ],
)
def test_bad_notebooks_are_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserCodeError, match=message):
        read_notebook(path)


def test_ipython_stub_runs_timing_cells_and_ignores_the_rest() -> None:
    namespace: dict = {}
    stub = IPythonStub(namespace, "<exported>")
    stub.run_cell_magic("time", "", "def f():\n    return 3\n")
    stub.run_cell_magic("bash", "", "rm -rf /")
    stub.run_line_magic("matplotlib", "inline")
    stub.system("pip install numpy")
    assert namespace["f"]() == 3
    assert stub.ignored == 3
    assert count_get_ipython("get_ipython().system('x')\nget_ipython ().run_line_magic('a', 'b')") == 2


@pytest.fixture(scope="module")
def notebook_records() -> dict[Path, CheckRecord]:
    """Both exercise notebooks checked end to end, their worker processes side by side."""
    notebooks = [ORIGINAL_NOTEBOOK, CORRECTED_NOTEBOOK]
    with ThreadPoolExecutor(max_workers=2) as pool:
        records = pool.map(lambda path: check_file(path, RunSettings(seed=11, max_examples=10)), notebooks)
        return dict(zip(notebooks, records, strict=True))


@pytest.mark.slow
def test_original_notebook_is_wrong_in_dw2_and_db1(notebook_records: dict[Path, CheckRecord]) -> None:
    record = notebook_records[ORIGINAL_NOTEBOOK]
    assert record.verdict is RunVerdict.FAIL, record.error
    assert set(record.wrong_blocks) == {"dW2", "db1"}
    assert {p.name: p.status for p in record.properties}["STUDENT_CHECKER"] is PropertyStatus.PASSED
    assert any("module-level code failed" in note for note in record.target["notes"])


@pytest.mark.slow
def test_corrected_notebook_passes(notebook_records: dict[Path, CheckRecord]) -> None:
    record = notebook_records[CORRECTED_NOTEBOOK]
    assert record.verdict is RunVerdict.PASS, record.error or record.failures
    assert "gradient_check_n" in record.target["functions"]
