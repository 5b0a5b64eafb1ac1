"""`--html [FILE]` on check, mutate and sensitivity (demo's: tests/test_cli.py), and `gradharness report RESULTS.json`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gradharness.cli.main import main
from gradharness.errors import ResultsFormatError
from gradharness.records.store import save
from tests.cli_support import console_script
from tests.report_support import meta, parse, seed_case_record
from tests.user_files import FIXTURES


def _reports(folder):
    return sorted(p.name for p in folder.glob("*.html") if p.name != "index.html")


def test_check_html_without_a_file_writes_to_reports_with_an_index(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["check", str(FIXTURES / "buggy_sign.py"), "--seed", "1", "--max-examples", "5", "-q", "--html"]
    result = CliRunner().invoke(main, [*args, "--json", "out.json"])
    assert result.exit_code == 1, result.output
    (name,) = _reports(tmp_path / "reports")
    assert name.startswith("check-") and name.endswith("-buggy_sign.html")
    assert f"report written to reports/{name}" in result.output
    document = parse((tmp_path / "reports" / name).read_text(encoding="utf-8"))
    assert meta(document)["gradharness-verdict"] == "fail"
    assert document.by_id("verdict").text().split()[0] == "FAIL"
    assert document.by_id("blocks-1").rows()
    highlighted = [tr.text() for tr in document.by_id("source").find_all("tr", class_="hl")]
    assert any("dW2 = " in line for line in highlighted) and any("db1 = " in line for line in highlighted)
    sha = json.loads((tmp_path / "out.json").read_text())["target"]["sha256"]
    assert sha in document.by_id("target").text()
    index = parse((tmp_path / "reports" / "index.html").read_text(encoding="utf-8"))
    assert index.by_id("reports").rows()[0][-1] == name


def test_check_that_cannot_run_still_writes_its_report(tmp_path):
    out = tmp_path / "error.html"
    result = CliRunner().invoke(main, ["check", str(FIXTURES / "bad_syntax.py"), f"--html={out}"])
    assert result.exit_code == 2
    document = parse(out.read_text(encoding="utf-8"))
    assert document.by_id("verdict").text().split()[0] == "ERROR"
    assert "syntax error" in document.by_id("error").text()


def test_html_before_the_path_is_a_usage_error_not_an_overwrite(tmp_path):
    target = tmp_path / "mine.py"
    target.write_text("x = 1\n")
    result = CliRunner().invoke(main, ["check", "--html", str(target)])
    assert result.exit_code == 2 and "looks like an input" in result.output
    assert target.read_text() == "x = 1\n"


def test_report_renders_saved_results(tmp_path):
    results = tmp_path / "results.json"
    save(seed_case_record(), results)
    out = tmp_path / "from-json.html"
    result = CliRunner().invoke(main, ["report", str(results), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    document = parse(out.read_text(encoding="utf-8"))
    assert {r[0] for r in document.by_id("blocks-1").rows() if r[2] == "wrong"} == {"dW2", "db1"}


def test_report_rejects_what_it_cannot_read(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1, "kind": "weather"}))
    result = CliRunner().invoke(main, ["report", str(bad)])
    assert isinstance(result.exception, ResultsFormatError)
    assert f"{bad} is not a gradharness results file: its kind 'weather'" in str(result.exception)
    bad.write_text("{not json")
    result = CliRunner().invoke(main, ["report", str(bad)])
    assert isinstance(result.exception, ResultsFormatError)


@pytest.mark.slow
def test_report_console_script(tmp_path):
    results, out, bad = tmp_path / "results.json", tmp_path / "from-json.html", tmp_path / "bad.json"
    save(seed_case_record(), results)
    rendered = console_script("report", str(results), "-o", str(out))
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.strip() == str(out)
    assert meta(parse(out.read_text(encoding="utf-8")))["gradharness-verdict"] == "fail"
    bad.write_text(json.dumps({"schema_version": 1, "kind": "weather"}))
    refused = console_script("report", str(bad))
    assert refused.returncode == 2 and refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()  # the entry point turns the error into one line
    assert line.startswith("gradharness: error: ") and "its kind 'weather'" in line


@pytest.mark.slow
def test_mutate_and_sensitivity_write_reports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = [
        "--max-examples",
        "20",
        "--seed",
        "0",
        "--jobs",
        "2",
        "--operators",
        "scale_gradient,relu_mask_comparison",
        "-q",
    ]
    mutate = CliRunner().invoke(main, ["mutate", *common, "--json", "mutate.json", "--html"])
    assert mutate.exit_code in (0, 1), mutate.output
    sensitivity = CliRunner().invoke(main, ["sensitivity", *common, "--html=sensitivity.html"])
    assert sensitivity.exit_code == 0, sensitivity.output
    (name,) = _reports(tmp_path / "reports")
    assert name.startswith("mutate-")
    page = parse((tmp_path / "reports" / name).read_text(encoding="utf-8"))
    assert page.by_id("score").rows()[0][0] == "all operators"
    assert len(page.by_id("mutants").find_all("tbody")[0].find_all("tr")) == len(
        json.loads((tmp_path / "mutate.json").read_text())["mutants"]
    )
    assert parse((tmp_path / "sensitivity.html").read_text(encoding="utf-8")).by_id("detection").rows()
    again = CliRunner().invoke(main, ["report", "mutate.json", "-o", "again.html"])
    assert again.exit_code == 0, again.output
    assert meta(parse((tmp_path / "again.html").read_text(encoding="utf-8")))["gradharness-kind"] == "mutate"
