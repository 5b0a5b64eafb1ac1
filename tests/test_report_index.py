"""Writing reports: default names, atomic writes, and the reports/index.html audit trail."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gradharness.records.store import write_text_atomic
from gradharness.render.html import render, write_report
from gradharness.render.html.index import build_index_view, write_index
from gradharness.render.html.render import default_report_path
from tests.report_support import HOSTILE_NAME, hostile_record, parse, pass_record, seed_case_record

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def test_default_names_are_timestamped_safe_and_unique(tmp_path):
    path = default_report_path("check", f"/x/{HOSTILE_NAME}", NOW, tmp_path)
    assert path.parent == tmp_path
    assert path.name == "check-20260102-030405-123456-img_src_x_onerror_alert_1.html"
    path.write_text("taken")
    assert default_report_path("check", f"/x/{HOSTILE_NAME}", NOW, tmp_path).name.endswith("alert_1-2.html")
    assert default_report_path("check", "builtin:backward_propagation_n", NOW, tmp_path).name.endswith(
        "-backward_propagation_n.html"
    )


def test_reports_land_in_the_folder_and_the_index_lists_them_newest_first(tmp_path):
    folder = tmp_path / "reports"
    first = write_report(seed_case_record(), folder=folder)
    second = write_report(pass_record(), folder=folder)
    assert first.parent == second.parent == folder and first != second
    index = parse((folder / "index.html").read_text(encoding="utf-8"))
    rows = index.by_id("reports").rows()
    assert [row[-1] for row in rows] == [second.name, first.name]
    assert [row[2] for row in rows] == ["pass", "fail"]
    assert [row[3] for row in rows] == ["builtin:backward_propagation_n", "builtin:backward_propagation_n_buggy"]
    assert [a.attrs["href"] for a in index.find_all("a")] == [second.name, first.name]


def test_index_orders_by_the_recorded_time_and_follows_the_folder(tmp_path):
    html = render.render_check
    from gradharness.render.html.viewmodels import build_check_view

    for hours, name in ((1, "b.html"), (3, "c.html"), (2, "a.html")):
        view = build_check_view(seed_case_record(), created=NOW + timedelta(hours=hours))
        (tmp_path / name).write_text(html(view), encoding="utf-8")
    (tmp_path / "notes.html").write_text("<html><body>not a report</body></html>")
    assert [e.file for e in build_index_view(tmp_path, created=NOW).entries] == ["c.html", "a.html", "b.html"]
    (tmp_path / "c.html").unlink()
    write_index(tmp_path)
    rows = parse((tmp_path / "index.html").read_text()).by_id("reports").rows()
    assert [row[-1] for row in rows] == ["a.html", "b.html"]


def test_an_explicit_path_elsewhere_leaves_the_folder_alone(tmp_path):
    out = write_report(seed_case_record(), tmp_path / "out" / "mine.html", folder=tmp_path / "reports")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not (tmp_path / "reports").exists()


def test_the_index_escapes_targets(tmp_path):
    folder = tmp_path / "reports"
    write_report(hostile_record(tmp_path), folder=folder)
    index = parse((folder / "index.html").read_text(encoding="utf-8"))
    assert index.find_all("img") == []
    assert index.by_id("reports").rows()[0][3].endswith(HOSTILE_NAME)


def test_a_write_that_fails_leaves_the_old_report_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    write_text_atomic(path, "old")

    def broken_replace(_src, _dst):
        raise KeyboardInterrupt  # interrupted just before the rename

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(path, "new " * 10_000)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_a_render_that_fails_writes_nothing(tmp_path, monkeypatch):
    def broken(_view):
        raise RuntimeError("template bug")

    monkeypatch.setattr(render, "render_check", broken)
    record = replace(seed_case_record())
    with pytest.raises(RuntimeError):
        write_report(record, folder=tmp_path / "reports")
    assert not (tmp_path / "reports").exists() or list(Path(tmp_path / "reports").iterdir()) == []
