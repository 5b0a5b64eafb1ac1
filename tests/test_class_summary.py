"""The teacher's view of a batch: class statistics, a reason and a score per row, notes folded, a terminal table.

The batch is real: exercise files and user files checked by the judge (20 cases per property),
plus a backward pass that returns a list. The statistics are checked against what those files
are known to get wrong (tests/exercise_files.py, tests/user_files.py).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from exercise_files import EXERCISE, ORIGINAL_NOTEBOOK
from rich.console import Console
from user_files import FIXTURES

from gradharness.batch import run_batch
from gradharness.batch.overview import class_statistics
from gradharness.batch.summary import REASON_CHARACTERS, load_summary, reason
from gradharness.cli.batch import PIPE_WIDTH, print_table
from gradharness.properties.failures import Property
from gradharness.records.batch import BatchSummary, RowCause, SummaryRow
from gradharness.records.check import CheckRecord, FailureRecord
from gradharness.records.status import FailureKind
from gradharness.records.verdict import RunVerdict
from gradharness.render.batch import write_batch
from gradharness.render.html.render import render_summary
from gradharness.settings import RunSettings
from tests.report_support import parse
from tests.test_report_browser import _clean, _open, _screenshot, browser  # noqa: F401 (browser: a fixture)

FILES = {
    "Gradient_Checking.ipynb": ORIGINAL_NOTEBOOK,  # dW2 x 2 and db1 with 4/m, with loading notes
    "checker_norms_only.py": EXERCISE / "scripts" / "checker_norms_only.py",  # its own checker is broken
    "buggy_seed.py": FIXTURES / "buggy_seed.py",  # the same two bugs as the notebook
    "buggy_sign.py": FIXTURES / "buggy_sign.py",  # every block wrong: dZ3 with the sign flipped
    "correct_list_cache.py": FIXTURES / "correct_list_cache.py",
    "mutates_input.py": FIXTURES / "mutates_input.py",
    "bad_syntax.py": FIXTURES / "bad_syntax.py",
}


def _returns_a_list() -> str:
    """buggy_seed.py with its bugs fixed and its gradients returned as a list instead of a dict."""
    source = (FIXTURES / "buggy_seed.py").read_text(encoding="utf-8")
    fixed = source.replace("np.dot(dZ2, A1.T) * 2", "np.dot(dZ2, A1.T)").replace("db1 = 4. / m", "db1 = 1. / m")
    returned = fixed.replace("    return gradients\n", "    return [dW1, db1, dW2, db2, dW3, db3]\n")
    assert returned != fixed != source
    return returned


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[BatchSummary, dict[str, Path], list[CheckRecord]]:
    folder = tmp_path_factory.mktemp("class")
    paths = []
    for name, source in FILES.items():
        shutil.copy(source, folder / name)
        paths.append(folder / name)
    (folder / "returns_list.py").write_text(_returns_a_list(), encoding="utf-8")
    paths.append(folder / "returns_list.py")
    records = run_batch(paths, RunSettings(seed=3, max_examples=20), jobs=2)
    summary, written = write_batch(records, tmp_path_factory.mktemp("graded"), base=folder)
    return summary, written, records


def _rows(summary: BatchSummary) -> dict[str, SummaryRow]:
    return {Path(row.file).name: row for row in summary.rows}


@pytest.mark.slow
def test_summary_json_has_the_class_statistics(graded) -> None:
    summary, written, _ = graded
    data = json.loads(written["json"].read_text(encoding="utf-8"))
    stats = data["statistics"]
    assert stats["files"] == len(FILES) + 1
    assert stats["verdicts"] == {"pass": 1, "fail": 6, "error": 1}
    assert stats["wrong_blocks"] == {"dW1": 1, "db1": 3, "dW2": 3, "db2": 1, "dW3": 1, "db3": 1}  # parameter order
    causes = {(c["description"], c["operator"]): c["files"] for c in stats["likely_causes"]}
    assert causes[("dW2 is 2 x the true gradient", "scale_gradient")] == 2  # the notebook and buggy_seed.py
    assert causes[("db1 is 4 x the true gradient", "wrong_constant_over_m")] == 2
    assert any("sign" in description and files == 1 for (description, _), files in causes.items())
    assert stats["unexplained"] == 0
    assert stats["failed_properties"] == {
        "GRADIENT_SHAPES": 1, "GRADIENT_AGREES": 3, "NO_SIDE_EFFECTS": 1, "STUDENT_CHECKER": 1,
    }  # fmt: skip
    assert sum(stats["scores"].values()) == stats["files"] and stats["max_score"] == 10
    assert stats["mean_score"] == pytest.approx(sum(row.score for row in summary.rows) / stats["files"], abs=1e-3)
    assert load_summary(written["json"]).statistics == summary.statistics  # read back as it was written


@pytest.mark.slow
def test_every_failing_row_says_why_in_words(graded) -> None:
    summary, _, _ = graded
    rows = _rows(summary)
    for row in summary.rows:
        if row.verdict is not RunVerdict.PASS:
            assert row.reason, row
        assert not any(p.name in row.reason for p in Property), row.reason  # no internal ids
    assert rows["buggy_seed.py"].reason.startswith("dW2 is 2 x the true gradient; db1 is 4 x the true gradient")
    assert "returned list, expected a dict of gradients" in rows["returns_list.py"].reason
    assert rows["checker_norms_only.py"].reason.startswith("gradient_check_n returned")
    assert "modified in place" in rows["mutates_input.py"].reason
    assert "syntax error" in rows["bad_syntax.py"].reason
    # what the rubric gives points to and the file lacks explains a score below the maximum
    lacks = rows["correct_list_cache.py"].reason
    assert lacks.startswith("not in the file, so no points: ") and "the file's own gradient_check_n" in lacks


@pytest.mark.slow
def test_scores_follow_the_default_rubric(graded) -> None:
    rows = _rows(graded[0])
    assert {name: (row.score, row.max_score) for name, row in rows.items()} == {
        "Gradient_Checking.ipynb": (4.0, 10.0),  # the 1-D pair and its own checker; not the backprop
        "checker_norms_only.py": (6.0, 10.0),  # backprop right, no 1-D pair, its checker broken
        "buggy_seed.py": (2.0, 10.0),  # only the 1-D pair
        "buggy_sign.py": (0.0, 10.0),
        "correct_list_cache.py": (6.0, 10.0),  # backprop right; no 1-D pair, no checker
        "mutates_input.py": (0.0, 10.0),  # its gradients were never compared
        "bad_syntax.py": (0.0, 10.0),
        "returns_list.py": (2.0, 10.0),  # the gradients were never compared: a list has no shapes
    }


@pytest.mark.slow
def test_summary_csv_has_score_and_reason_columns(graded) -> None:
    summary, written, _ = graded
    rows = {Path(r["file"]).name: r for r in csv.DictReader(written["csv"].open(encoding="utf-8"))}
    for row in summary.rows:
        line = rows[Path(row.file).name]
        assert (line["score"], line["max_score"]) == (f"{row.score:g}", f"{row.max_score:g}")
        assert line["reason"] == row.reason


@pytest.mark.slow
def test_summary_html_opens_with_the_class_overview(graded) -> None:
    summary, written, _ = graded
    html = written["html"].read_text(encoding="utf-8")
    page = parse(html)
    overview = page.by_id("overview")
    assert overview.find_all("svg"), "the overview's bar chart"
    assert "<script" not in html.lower()
    verdicts = dict((label, int(files)) for label, files in page.by_id("by-verdict").rows())
    assert verdicts == {"pass": 1, "fail": 6, "not checked": 1}
    causes = [row[0] for row in page.by_id("by-cause").rows()]
    assert "dW2 is 2 x the true gradient (operator scale_gradient)" in causes
    properties = dict(page.by_id("by-property").rows())
    assert properties[Property.STUDENT_CHECKER.value] == "1"  # in words, not STUDENT_CHECKER
    assert dict(page.by_id("by-block").rows())["dW2"] == "3"
    table = page.by_id("files")
    text = table.text()
    assert "GRADIENT_AGREES" not in text and "STUDENT_CHECKER" not in text
    cells = {Path(row[0].split()[0]).name: row for row in table.rows()}
    assert cells["buggy_seed.py"][2] == "2 / 10"
    assert cells["returns_list.py"][5].startswith("backward_propagation_n returned list")


@pytest.mark.slow
def test_notes_are_folded_once_per_row(graded) -> None:
    summary, written, _ = graded
    page = parse(written["html"].read_text(encoding="utf-8"))
    notebook = _rows(summary)["Gradient_Checking.ipynb"]
    assert len(notebook.notes) >= 3
    folded = [d for d in page.by_id("files").find_all("details", class_="notes")]
    assert len(folded) == sum(1 for row in summary.rows if row.notes)
    items = [[li.text() for li in d.find_all("li")] for d in folded]
    assert notebook.notes in items
    body_text = "".join(n.text() for n in page.by_id("files").find_all("td"))
    for note in notebook.notes:  # every note shown once, inside its row's <details>
        assert body_text.count(note) == sum(note in row.notes for row in summary.rows)


@pytest.mark.slow
def test_the_summary_opens_in_a_browser_with_the_overview_visible(graded, browser, tmp_path: Path) -> None:  # noqa: F811
    _, written, _ = graded
    visit = _open(browser, written["html"])
    _clean(visit, written["html"])  # no console error, no request but the page itself
    page = visit.page
    for selector in ("#overview", "#overview-chart svg", "#by-verdict", "#by-score", "#by-block", "#by-cause",
                     "#by-property", "#files"):  # fmt: skip
        assert page.locator(selector).first.is_visible(), selector
    chart = page.locator("#overview-chart svg").bounding_box()
    assert chart is not None and chart["width"] > 300 and chart["height"] > 150
    _screenshot(visit, "summary", tmp_path, clip_below="#by-property")  # the class overview, before any scrolling
    notes = page.locator("#files details.notes").first
    assert notes.locator("summary").is_visible() and not notes.locator("li").first.is_visible()
    notes.locator("summary").click()
    assert notes.locator("li").first.is_visible()
    page.close()


def _row(name: str, verdict: RunVerdict, blocks=(), causes=(), failed=(), points=0.0) -> SummaryRow:
    return SummaryRow(
        file=name, verdict=verdict, exit_code=verdict.exit_code, wrong_blocks=list(blocks),
        failed_properties=list(failed), smallest_network=None, error=None, seconds=0.1, report_json="r.json",
        report_html=None, report_text="r.txt", score=points, max_score=10.0, likely_causes=list(causes),
    )  # fmt: skip


def test_causes_are_grouped_by_operator_or_fit_and_description_and_counted_per_file() -> None:
    scaled = RowCause("dW2 is 2 x the true gradient", "scale_gradient", "multiple")
    fitted = RowCause("dW2 is 2 x the true gradient", None, "multiple")
    rows = [
        _row("a.py", RunVerdict.FAIL, ["dW2"], [scaled, scaled], ["GRADIENT_AGREES"], 4),  # once for the file
        _row("b.py", RunVerdict.FAIL, ["dW2"], [scaled], ["GRADIENT_AGREES"], 4),
        _row("c.py", RunVerdict.FAIL, ["dW2"], [fitted], ["GRADIENT_AGREES"], 4),
        _row("d.py", RunVerdict.FAIL, ["db3", "dtheta"], [], ["GRADIENT_AGREES", "DERIVATIVE_1D"], 0),
        _row("e.py", RunVerdict.FAIL, ["dtheta"], [], ["DERIVATIVE_1D"], 8.5),
        _row("f.py", RunVerdict.PASS, points=10),
    ]
    stats = class_statistics(rows, 10.0)
    assert [(c.description, c.operator, c.fit, c.files) for c in stats.likely_causes] == [
        ("dW2 is 2 x the true gradient", "scale_gradient", None, 2),
        ("dW2 is 2 x the true gradient", None, "multiple", 1),
    ]
    assert stats.unexplained == 1  # d.py: a network block wrong and no cause; e.py's 1-D derivative is not one
    assert stats.wrong_blocks == {"dW2": 3, "db3": 1, "dtheta": 2}
    assert stats.failed_properties == {"GRADIENT_AGREES": 4, "DERIVATIVE_1D": 2}
    assert stats.scores == {"10": 1, "8.5": 1, "4": 3, "0": 1}
    assert stats.mean_score == pytest.approx(30.5 / 6, abs=1e-3)
    assert stats.verdicts == {"pass": 1, "fail": 5, "error": 0}


def test_a_reason_is_the_first_line_of_the_message_cut_at_a_word() -> None:
    message = "backward_propagation_n raised ValueError: " + "word " * 100 + "\nTraceback line two"
    failure = FailureRecord(Property.GRADIENT_SHAPES.name, FailureKind.CRASHED, message, 1)
    record = CheckRecord({"path": "x.py"}, {}, RunVerdict.FAIL, [], failures=[failure])
    text = reason(record)
    assert len(text) <= REASON_CHARACTERS and text.endswith("word …") and "Traceback" not in text
    assert text.startswith("backward_propagation_n raised ValueError: word")
    error = CheckRecord({"path": "x.py"}, {}, RunVerdict.ERROR, [], error="x.py: syntax error (line 3)\ndetails")
    assert reason(error) == "x.py: syntax error (line 3)"


def test_a_summary_without_statistics_still_gets_its_overview() -> None:
    rows = [
        _row("a.py", RunVerdict.FAIL, ["dW2"], [], ["GRADIENT_AGREES"], 4),
        _row("b.py", RunVerdict.PASS, points=10),
    ]
    page = parse(render_summary(BatchSummary("now", {}, {"pass": 1, "fail": 1, "error": 0}, rows)))
    assert dict(page.by_id("by-verdict").rows()) == {"pass": "1", "fail": "1"}
    assert page.by_id("by-cause").rows() == [["a wrong gradient no likely cause explains", "1"]]


LONG_NAMES = [f"submissions/section-{n}/student_{'x' * 30}_{n}/Gradient_Checking_final_v{n}.ipynb" for n in range(3)]


def _long_summary() -> BatchSummary:
    rows = [
        _row(name, RunVerdict.FAIL, ["dW1", "db1", "dW2", "db2", "dW3", "db3"], [], ["GRADIENT_AGREES"], 2)
        for name in LONG_NAMES
    ]
    return BatchSummary("now", {}, {"pass": 0, "fail": 3, "error": 0}, rows)


def test_the_terminal_table_keeps_file_names_whole_when_the_output_is_not_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, highlight=False, soft_wrap=True)  # what a pipe gets
    assert not console.is_terminal
    print_table(console, _long_summary())
    lines = buffer.getvalue().splitlines()
    for name in LONG_NAMES:
        assert any(name in line and "FAIL" in line and "2/10" in line for line in lines), (name, lines)
    assert max(len(line) for line in lines) >= PIPE_WIDTH
    assert console.width == 80  # the console is as it was for what follows


def test_on_a_terminal_the_table_folds_to_its_width() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, force_terminal=True, color_system=None, highlight=False)
    print_table(console, _long_summary())
    assert all(len(line) <= 80 for line in buffer.getvalue().splitlines())
