"""Mutate and sensitivity reports: view models and the rendered HTML, parsed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gradharness.records.verdict import RunVerdict
from gradharness.render.html import render_report, write_report
from gradharness.render.html.mutation_viewmodels import build_mutate_view, build_sensitivity_view, diff_lines
from tests.report_support import DELTAS, meta, mutate_record, parse, sensitivity_record

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def mutate_page():
    return parse(render_report(mutate_record(), created=NOW))


@pytest.fixture(scope="module")
def sensitivity_page():
    return parse(render_report(sensitivity_record(), created=NOW))


def test_mutants_are_listed_survivors_first():
    view = build_mutate_view(mutate_record(), created=NOW)
    assert [m.status for m in view.mutants] == ["survived", "equivalent", "crashed", "killed", "killed"]
    assert view.header.verdict == "fail" and "1 survived" in view.header.summary
    assert "1 equivalent candidate not counted" in view.header.summary


def test_diff_lines_are_tagged_and_file_names_dropped():
    lines = diff_lines("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n b = 3\n")
    assert [(line.kind, line.text) for line in lines] == [
        ("hunk", "@@ -1 +1 @@"), ("del", "-a = 1"), ("add", "+a = 2"), ("context", " b = 3"),
    ]  # fmt: skip


def test_mutate_report_scores_and_table(mutate_page):
    assert meta(mutate_page)["gradharness-kind"] == "mutate"
    assert mutate_page.by_id("verdict").text().split()[0] == "FAIL"
    rows = mutate_page.by_id("score").rows()
    assert rows[0][:7] == ["all operators", "5", "2", "1", "0", "1", "1"]
    assert rows[0][7] == "75.0%" and rows[0][8] == "50.0%"
    assert {r[0] for r in rows[1:]} == {
        "scale_gradient",
        "lost_keepdims",
        "relu_mask_comparison",
        "float32_downcast",
        "sum_wrong_axis",
    }
    mutants = mutate_page.by_id("mutants")
    body = mutants.find_all("tbody")[0].find_all("tr")
    assert [tr.attrs["class"] for tr in body] == [
        "mutant-survived", "mutant-equivalent", "mutant-crashed", "mutant-killed", "mutant-killed",
    ]  # fmt: skip
    survivor = body[0]
    assert "open" in survivor.find_all("details")[0].attrs
    assert "open" not in body[3].find_all("details")[0].attrs
    assert [s.text() for s in survivor.find_all("span", class_="del")] == ["-    x = A2 > 0"]
    assert [s.text() for s in survivor.find_all("span", class_="add")] == ["+    x = A2 >= 0"]
    assert "believed equivalent: float32 rounding" in body[1].text()
    killed = [tr for tr in body if "scale_gradient-1" in tr.text()][0]
    assert "sizes 4-5-3-1, m=3 (shrunk)" in killed.text()


def test_mutate_report_charts_and_numbers(mutate_page):
    (svg,) = mutate_page.by_id("operator-chart").find_all("svg")
    labels = {t.text().strip() for t in svg.find_all("text")}
    assert {"scale_gradient", "killed by the checker", "survived"} <= labels
    assert dict(mutate_page.by_id("examples-to-kill").rows())["1"] == "2"
    assert "detects 2 mutants; it misses 1 " in mutate_page.by_id("exercise-case").text()
    assert "Missed by the fixed case: hostile-1." in mutate_page.text()
    assert mutate_page.by_id("harness").find_all("span", class_="status-passed")


def test_mutant_diffs_from_the_user_stay_text(mutate_page):
    assert mutate_page.find_all("img") == [] and mutate_page.find_all("script") == []
    assert "+    x = <img src=z onerror=alert(3)>" in mutate_page.by_id("mutants").text()


def test_sensitivity_report_charts_with_numbers_beside_them(sensitivity_page):
    assert meta(sensitivity_page)["gradharness-kind"] == "sensitivity"
    assert sensitivity_page.by_id("verdict").text().split()[0] == "PASS"
    assert "dW1 1e-05" in sensitivity_page.by_id("verdict").text()
    detection = sensitivity_page.by_id("detection")
    assert [th.text() for th in detection.find_all("th")][2:] == [format(d, ".3g") for d in DELTAS]
    assert detection.rows()[0] == ["dW1", "10"] + ["100.0%"] * 5 + ["50.0%"] + ["0.0%"] * 4
    smallest = {row[0]: row[1:] for row in sensitivity_page.by_id("smallest-delta").rows()}
    assert smallest["db3"] == ["1e-07", "1e-08", "1e-08", "10 of 20"]
    sweep = sensitivity_page.by_id("threshold-sweep")
    thresholds, cells = [row[0] for row in sweep.rows()], sweep.find_all("td", class_="safe-checker")
    safe = [t for t, cell in zip(thresholds, cells, strict=True) if "safe" in cell.attrs["class"].split()]
    assert safe == ["1e-08", "1e-09", "1e-10"]
    for chart, label in (("detection-chart", "dW1"), ("threshold-chart", "kill rate (checker)")):
        (svg,) = sensitivity_page.by_id(chart).find_all("svg")
        assert label in {t.text().strip() for t in svg.find_all("text")}


def test_a_campaign_that_could_not_run_still_reports(tmp_path):
    record = replace(
        mutate_record(), verdict=RunVerdict.ERROR, mutants=[], score=None, operators=[], error="<b>hang</b>"
    )
    page = parse(render_report(record, created=NOW))
    assert page.by_id("verdict").text().split()[0] == "ERROR"
    assert page.by_id("error").text().strip().endswith("<b>hang</b>")
    assert page.find_all("b") == []
    view = build_sensitivity_view(replace(sensitivity_record(), blocks=[], threshold_sweep=[]), created=NOW)
    assert view.detection_chart is None and view.threshold_chart is None


def test_mutation_reports_join_the_audit_trail(tmp_path):
    folder = tmp_path / "reports"
    first = write_report(mutate_record(), folder=folder)
    second = write_report(sensitivity_record(), folder=folder)
    assert first.name.startswith("mutate-") and second.name.startswith("sensitivity-")
    rows = parse((folder / "index.html").read_text(encoding="utf-8")).by_id("reports").rows()
    assert [(row[1], row[2]) for row in rows] == [("sensitivity", "pass"), ("mutate", "fail")]
