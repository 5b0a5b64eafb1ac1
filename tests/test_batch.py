"""Batch grading: discovery, a mixed folder through the CLI, the summary files, a Dask executor."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from exercise_files import EXERCISE, EXPECTED_EXIT
from user_files import FIXTURES

from gradharness.batch import discover, is_batch, run_batch
from gradharness.batch.summary import load_summary
from gradharness.cli.main import main
from gradharness.errors import ResultsFormatError
from gradharness.mutation.runner import TaskRunner
from gradharness.records.batch import BatchSummary, SummaryRow
from gradharness.records.verdict import RunVerdict
from gradharness.render.batch import summary_csv
from gradharness.render.html.render import render_summary
from gradharness.settings import RunSettings

# A folder as a grader gets it: the exercise files, plus files that cannot be checked.
MIXED = {
    **{name: code for name, code in EXPECTED_EXIT.items()},
    "../user_code/bad_syntax.py": 2,
    "../user_code/crash_os_exit.py": 2,
}


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("submissions")
    for name in MIXED:
        source = (EXERCISE / name).resolve()
        target = folder / ("extra" if name.startswith("..") else Path(name).parent) / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    shutil.copy(EXERCISE / "notebooks" / "gc_utils.py", folder / "notebooks" / "gc_utils.py")
    (folder / "notebooks" / ".ipynb_checkpoints").mkdir()
    shutil.copy(EXERCISE / "notebooks" / "Gradient_Checking.ipynb", folder / "notebooks" / ".ipynb_checkpoints")
    (folder / "extra" / "broken.ipynb").write_text("{not json", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def batch_run(mixed_folder: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("graded")
    result = CliRunner().invoke(
        main,
        [
            "check", str(mixed_folder), str(mixed_folder / "nothing-*.py"), "--seed", "4", "--max-examples", "15",
            "--timeout", "60", "--out", str(out), "--jobs", "4",
        ],
    )  # fmt: skip
    return result, out


def expected_code(path: str) -> int:
    name = Path(path).name
    if name == "broken.ipynb" or name.startswith("nothing-"):
        return 2
    return next(code for key, code in MIXED.items() if Path(key).name == name)


def test_discover_expands_folders_and_globs_and_skips_helpers(mixed_folder: Path) -> None:
    inputs = discover([str(mixed_folder), str(mixed_folder / "scripts" / "*.py"), "no-such-file.py"])
    names = [p.name for p in inputs.files]
    assert len(names) == len(set(names)) == len(MIXED) + 1  # each once, plus broken.ipynb
    assert "gc_utils.py" not in names and [p.name for p in inputs.helpers] == ["gc_utils.py"]
    assert all(".ipynb_checkpoints" not in p.parts for p in inputs.files)
    assert inputs.unmatched == ("no-such-file.py",)


def test_symbolic_links_in_a_folder_are_skipped_but_a_named_one_is_checked(tmp_path: Path) -> None:
    (tmp_path / "honest.py").write_text("x = 1\n")
    (tmp_path / "copy.py").symlink_to(tmp_path / "honest.py")
    inputs = discover([str(tmp_path)])
    assert [p.name for p in inputs.files] == ["honest.py"] and [p.name for p in inputs.links] == ["copy.py"]
    assert [p.name for p in discover([str(tmp_path / "copy.py"), str(tmp_path / "x.py")]).files] == ["copy.py"]


@pytest.mark.parametrize(
    ("arguments", "batch"),
    [
        (["a.py"], False),
        (["a.py", "b.py"], True),
        (["*.py"], True),
        ([str(EXERCISE)], True),
        ([str(FIXTURES / "buggy_seed.py")], False),
    ],
)
def test_is_batch(arguments: list[str], batch: bool) -> None:
    assert is_batch(arguments) is batch


@pytest.mark.slow
def test_mixed_folder_gives_a_summary_and_a_report_per_file(batch_run) -> None:
    result, out = batch_run
    assert result.exit_code == 1, result.output
    summary = load_summary(out / "summary.json")
    assert len(summary.rows) == len(MIXED) + 2  # broken.ipynb and the pattern that matched nothing
    for row in summary.rows:
        assert row.exit_code == expected_code(row.file), row
        for report in (row.report_json, row.report_text, row.report_html):
            assert report and (out / report).is_file(), (row.file, report)
    by_name = {Path(row.file).name: row for row in summary.rows}
    assert by_name["Gradient_Checking.ipynb"].wrong_blocks == ["db1", "dW2"]  # in parameter order
    assert by_name["Gradient_Checking.ipynb"].smallest_network
    assert by_name["checker_norms_only.py"].failed_properties == ["STUDENT_CHECKER"]
    assert "ended the evaluator process" in by_name["crash_os_exit.py"].error
    assert summary.counts == {
        "pass": sum(row.verdict is RunVerdict.PASS for row in summary.rows),
        "fail": sum(row.verdict is RunVerdict.FAIL for row in summary.rows),
        "error": sum(row.verdict is RunVerdict.ERROR for row in summary.rows),
    }
    assert "summary:" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_summary_csv_and_html_hold_every_row(batch_run) -> None:
    _, out = batch_run
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [r["file"] for r in rows] == [r["file"] for r in data["rows"]]
    assert {r["file"]: r["verdict"] for r in rows} == {r["file"]: r["verdict"] for r in data["rows"]}
    html = (out / "summary.html").read_text(encoding="utf-8")
    for row in data["rows"]:
        assert row["report_json"] in html
    report = json.loads((out / data["rows"][0]["report_json"]).read_text(encoding="utf-8"))
    assert report["schema_version"] == 1 and report["kind"] == "check"


def test_summary_html_escapes_what_files_contain() -> None:
    row = SummaryRow(
        file="<script>alert(1)</script>.py", verdict=RunVerdict.ERROR, exit_code=2, wrong_blocks=[],
        failed_properties=[], smallest_network=None, error="bad <b>input</b>", seconds=0.1, report_json="reports/x.json",
        report_html=None, report_text="reports/x.txt",
    )  # fmt: skip
    html = render_summary(BatchSummary("now", {}, {"pass": 0, "fail": 0, "error": 1}, [row]))
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;.py" in html
    assert "bad &lt;b&gt;input&lt;/b&gt;" in html
    assert (
        summary_csv(BatchSummary("now", {}, {}, [row]))
        .splitlines()[1]
        .startswith("<script>alert(1)</script>.py,error,2")
    )


def test_load_summary_rejects_other_versions(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"kind": "batch", "schema_version": 99, "rows": []}), encoding="utf-8")
    with pytest.raises(
        ResultsFormatError, match="is not a gradharness results file: schema_version 99 is not supported"
    ):
        load_summary(path)


def test_batch_options_are_checked() -> None:
    result = CliRunner().invoke(main, ["check", str(EXERCISE / "scripts"), "--json", "x.json"])
    assert result.exit_code == 2 and "--json and --html are for one file" in result.output
    result = CliRunner().invoke(main, ["check", "/no/such/dir/*.py"])
    assert result.exit_code != 0


@pytest.mark.slow
def test_run_batch_on_a_dask_cluster() -> None:
    distributed = pytest.importorskip("distributed")
    files = [EXERCISE / "scripts" / "lowercase_keys_crlf.py", FIXTURES / "bad_syntax.py"]
    with (
        distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        records = run_batch(files, RunSettings(seed=2, max_examples=5), executor=client.get_executor())
        with TaskRunner(client.get_executor(), jobs=2) as runner:
            assert runner.map(pow, [2], [3, 10]) == [8, 1024]
    assert [r.verdict for r in records] == [RunVerdict.PASS, RunVerdict.ERROR]
    assert Path(records[0].target["path"]).name == "lowercase_keys_crlf.py"


def test_a_report_that_cannot_be_rendered_leaves_the_text_report_whole(tmp_path: Path, monkeypatch) -> None:
    import gradharness.render.batch as batch_output
    from gradharness.judge.checks import check_builtin
    from gradharness.model import network

    record = check_builtin(network.backward_propagation_n_buggy, "buggy", RunSettings(seed=0, max_examples=5))

    def broken(*_args, **_kwargs):
        raise ValueError("no template")

    monkeypatch.setattr(batch_output, "write_report", broken)
    [(_, html, text)] = batch_output.write_reports([record], tmp_path)
    assert html is None
    assert "FAIL" in (tmp_path / text).read_text(encoding="utf-8")  # the check's result, not the HTML error
    assert "no template" in next(tmp_path.glob("*.error.txt")).read_text(encoding="utf-8")
