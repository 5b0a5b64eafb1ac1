"""Issue 12's small findings, one test (or a few) each, written to fail on the code they were found in.

1. ``mutate --html`` repeated as ``--html 'default'`` (a file named ``default``);
2. ``report bad.json``: "schema_version None is not supported";
3. ``.hypothesis/`` left in the folder a command ran in;
4. ``python -m gradharness.bench --help``: ``usage: bench.py``;
5. the sensitivity report: "fraction of the 100 generated cases" over other denominators,
   curves that hide each other, every threshold "safe" beside the bare rule's false failures;
6. the report index wrapping names mid-word (``mutat|e``);
7. no progress from ``mutate --engine mutmut|both`` and ``sensitivity``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import pkgutil
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis.configuration import storage_directory
from rich.console import Console

import gradharness.bench as bench_package
from gradharness.cli import mutate as mutate_cli
from gradharness.cli.cache import CACHE_VARIABLE, HYPOTHESIS_VARIABLE, hypothesis_folder, hypothesis_in_cache
from gradharness.cli.main import main
from gradharness.cli.report import DEFAULT
from gradharness.errors import GradHarnessError
from gradharness.model.parameters import GRADIENT_NAMES
from gradharness.mutation.campaign import run_campaign
from gradharness.mutation.engine_mutmut import FUNCTION, _wait, mutmut_progress
from gradharness.mutation.sensitivity import DELTAS, not_safe, run_sensitivity, safe_thresholds
from gradharness.mutation.target import CheckerSpec, reference_target
from gradharness.records.mutation import MutateRecord, ThresholdPointRecord
from gradharness.records.store import SCHEMA_VERSION, load
from gradharness.render.html import render_report, write_report
from gradharness.render.html.mutation_viewmodels import build_sensitivity_view, merge_coinciding
from gradharness.render.terminal_mutation import render_sensitivity
from gradharness.settings import CampaignSettings
from tests.cli_support import console_script, gradharness
from tests.report_support import mutate_record, parse, sensitivity_record

FIXTURES = Path(__file__).parent / "fixtures"
BUGGY = FIXTURES / "user_code" / "buggy_seed.py"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
QUICK = ("--max-examples", "3", "--operators", "scale_gradient", "--jobs", "2")


# 1. The reproduce line of mutate and sensitivity repeats --html as it was given.


def _reproduced(command, args: list[str]) -> tuple[str, dict]:
    """The reproduce line a command builds for ``args``, and the parameters ``args`` parse to."""
    with command.make_context(command.name, list(args)) as context:
        return mutate_cli._reproduce(command.name), dict(context.params)


@pytest.mark.parametrize("command", [mutate_cli.mutate, mutate_cli.sensitivity], ids=["mutate", "sensitivity"])
@pytest.mark.parametrize(
    ("args", "html"),
    [
        (["--html"], DEFAULT),
        (["--html", "--quiet", "--seed", "3"], DEFAULT),
        (["--max-examples", "5", "--html"], DEFAULT),
        (["--html", "out.html", "-q"], "out.html"),
        (["--html=odd name.html", "--json", "r.json"], "odd name.html"),
        (["--seed", "3"], None),
    ],
)
def test_the_reproduce_line_parses_back_to_the_same_run(command, args: list[str], html: str | None) -> None:
    line, params = _reproduced(command, args)
    assert params["html_path"] == html
    words = shlex.split(line)
    assert words[:2] == ["gradharness", command.name]
    assert "default" not in line and "\0" not in line
    with command.make_context(command.name, words[2:]) as again:
        assert again.params == params


@pytest.mark.slow
def test_mutate_html_without_a_file_is_repeated_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["mutate", "--html", *QUICK, "--json", "r.json", "-q"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    reproduce = load(tmp_path / "r.json", MutateRecord).reproduce
    assert reproduce is not None and shlex.split(reproduce)[-1] == "--html"
    again = runner.invoke(main, shlex.split(reproduce)[1:], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "reports"]  # no file named 'default'
    assert len(list((tmp_path / "reports").glob("mutate-*.html"))) == 2


# 2. `report` on a JSON file that is not a results file.


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"schema_version": None, "kind": "check"}, "is not a gradharness results file: it has no schema_version"),
        ({"schema_version": None}, "is not a gradharness results file: it has no schema_version"),
        ({"name": "my notes", "scores": [1, 2]}, "is not a gradharness results file: it has no schema_version"),
        ({"schema_version": SCHEMA_VERSION + 1, "kind": "check"}, "(written by a newer gradharness)"),
    ],
)
def test_report_on_a_file_that_is_not_a_record(tmp_path: Path, data: dict, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    run = gradharness("report", str(path))
    assert run.returncode == 2 and run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"gradharness: error: {path} ") and reason in line
    assert "None" not in line


# 3. Hypothesis's files go to a cache folder.


def test_the_cache_folder_and_its_order(tmp_path: Path) -> None:
    home = Path.home() / ".cache" / "gradharness" / "hypothesis"
    assert hypothesis_folder({}) == home
    assert hypothesis_folder({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "gradharness" / "hypothesis"
    assert hypothesis_folder({"XDG_CACHE_HOME": "relative"}) == home  # the XDG rule: relative paths are ignored
    assert hypothesis_folder({CACHE_VARIABLE: str(tmp_path / "g")}) == tmp_path / "g" / "hypothesis"
    assert hypothesis_folder({HYPOTHESIS_VARIABLE: str(tmp_path / "h")}) == tmp_path / "h"
    both = {CACHE_VARIABLE: str(tmp_path / "g"), HYPOTHESIS_VARIABLE: str(tmp_path / "h")}
    assert hypothesis_folder(both) == tmp_path / "g" / "hypothesis"


def test_hypothesis_storage_is_pointed_there_and_put_back(tmp_path: Path) -> None:
    environ = {CACHE_VARIABLE: str(tmp_path / "cache")}
    before = storage_directory(intent_to_write=False).home_directory
    with hypothesis_in_cache(environ) as folder:
        assert folder == tmp_path / "cache" / "hypothesis"
        assert storage_directory("constants", intent_to_write=False).path == folder / "constants"
        assert environ[HYPOTHESIS_VARIABLE] == str(folder)  # for worker processes started afresh
    assert storage_directory(intent_to_write=False).home_directory == before
    assert HYPOTHESIS_VARIABLE not in environ


SOME = ("--seed", "0", "--max-examples", "20")  # enough draws that Hypothesis writes its files, every time


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["check", str(BUGGY), *SOME],
        ["check", "submissions", *SOME, "--out", "graded"],
        ["mutate", *SOME, "--operators", "scale_gradient"],
        ["sensitivity", *SOME, "--operators", "scale_gradient"],
        ["demo", *SOME],
    ],
    ids=["check", "batch", "mutate", "sensitivity", "demo"],
)
def test_no_hypothesis_folder_where_a_command_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args) -> None:
    cache, cwd = tmp_path / "cache", tmp_path / "work"
    (cwd / "submissions").mkdir(parents=True)
    shutil.copy(BUGGY, cwd / "submissions" / "buggy_seed.py")
    monkeypatch.setenv(CACHE_VARIABLE, str(cache))
    monkeypatch.delenv(HYPOTHESIS_VARIABLE, raising=False)
    run = console_script(*args, cwd=cwd, timeout=300)
    assert run.returncode in (0, 1), run.stderr
    assert not (cwd / ".hypothesis").exists()
    assert not (cwd / "submissions" / ".hypothesis").exists()
    assert (cache / "hypothesis" / "constants").is_dir()  # what Hypothesis keeps went to the cache instead


# 4. Every bench module's usage line is the command that runs it.


def _bench_modules() -> list[str]:
    names = [f"gradharness.bench.{m.name}" for m in pkgutil.iter_modules(bench_package.__path__)]
    return [n for n in names if not n.endswith("__main__") and hasattr(importlib.import_module(n), "main")]


def test_the_bench_modules_with_a_command_line_are_all_checked() -> None:
    assert {"gradharness.bench.speed", "gradharness.bench.versus", "gradharness.bench.calibration",
            "gradharness.bench.draws", "gradharness.bench.screening"} <= set(_bench_modules())  # fmt: skip


@pytest.mark.parametrize("module", _bench_modules())
def test_each_bench_usage_line_names_a_command_that_runs_it(module, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", [f"{module.rsplit('.', 1)[-1]}.py", "--help"])
    with pytest.raises(SystemExit) as stopped:
        importlib.import_module(module).main()
    assert stopped.value.code == 0
    usage = capsys.readouterr().out.splitlines()[0]
    found = re.match(r"usage: python -m (\S+) ", usage)
    assert found is not None, usage
    runs = found.group(1)
    assert importlib.util.find_spec(runs) is not None
    if runs != module:  # the package itself: its __main__ runs this module's main
        assert runs == "gradharness.bench" and module == "gradharness.bench.speed"


def test_the_layers_calibration_prints_a_row_per_part_and_its_false_failures(monkeypatch, capsys) -> None:
    from gradharness.bench import calibration
    from gradharness.targets.layers.functions import LAYERS_SPEC

    monkeypatch.setattr(sys, "argv", ["calibration.py", "--target", "layers", "--cases", "3"])
    calibration.main()
    rows = {line.split()[1]: line.split()[2:5] for line in capsys.readouterr().out.splitlines()
            if line.startswith("layers ")}  # fmt: skip
    assert rows == {part.name: ["3", "0", "0"] for part in LAYERS_SPEC.parts}  # cases, false failures, kinks
    blamed = calibration.Calibration()
    blamed.verdicts.update({"failed": 1, "kink": 2})
    blamed.false_failures.append("N=1 D=2: dx wrong")
    table = calibration.part_table({"layers relu_backward": blamed}).splitlines()
    assert table[1].split()[2:5] == ["3", "1", "2"] and table[-1] == "  layers relu_backward: N=1 D=2: dx wrong"


@pytest.mark.slow
def test_python_m_gradharness_bench_help() -> None:
    run = subprocess.run([sys.executable, "-m", "gradharness.bench", "--help"], capture_output=True, text=True,
                         timeout=120, check=False)  # fmt: skip
    assert run.returncode == 0 and run.stdout.startswith("usage: python -m gradharness.bench ")


# 5. The sensitivity report: its denominators, curves that coincide, what safe means.


def test_the_detection_curve_says_how_many_cases_exercise_each_block() -> None:
    record = sensitivity_record()
    page = parse(render_report(record, created=NOW))
    meaning = " ".join(page.by_id("detection-meaning").text().split())
    assert "the fraction of the cases that exercise the block" in meaning
    assert "dW1 on 10 of the 20 cases, db1 on 10, dW2 on 10, db2 on 10, dW3 on 10, db3 on 10" in meaning
    assert "generated cases" not in meaning
    assert [row[-1] for row in page.by_id("smallest-delta").rows()] == ["10 of 20"] * 6
    assert [row[1] for row in page.by_id("detection").rows()] == ["10"] * 6


def test_curves_that_coincide_are_one_line_named_after_each_of_them() -> None:
    view = build_sensitivity_view(sensitivity_record(), created=NOW)  # dW1 alone; db1, dW2, db2; dW3, db3
    assert view.detection_chart is not None
    assert [label for label, _, _ in view.detection_chart.arguments["series"]] == [
        "dW1",
        "db1 = dW2 = db2",
        "dW3 = db3",
    ]
    assert view.detection_overlap.startswith("db1, dW2 and db2 coincide; so do dW3 and db3 ")
    page = parse(render_report(sensitivity_record(), created=NOW))
    (svg,) = page.by_id("detection-chart").find_all("svg")
    assert {"dW1", "db1 = dW2 = db2", "dW3 = db3"} <= {t.text().strip() for t in svg.find_all("text")}
    assert page.by_id("detection-overlap").text().startswith("db1, dW2 and db2 coincide")


@pytest.mark.slow
def test_six_identical_curves_still_show_whose_they_are() -> None:
    record = sensitivity_record()
    same = [replace(b, caught=list(record.blocks[0].caught)) for b in record.blocks]
    page = parse(render_report(replace(record, blocks=same), created=NOW))
    (svg,) = page.by_id("detection-chart").find_all("svg")
    assert " = ".join(GRADIENT_NAMES) in {t.text().strip() for t in svg.find_all("text")}  # its legend
    assert page.by_id("detection-overlap").text().startswith("dW1, db1, dW2, db2, dW3 and db3 coincide")


def test_merging_keeps_distinct_curves_apart() -> None:
    lines = [("a", [1.0, 2.0], [0.0, 1.0]), ("b", [1.0, 2.0], [0.0, 0.5]), ("c", [1.0, 2.0], [0.0, 1.0])]
    merged, note = merge_coinciding(lines)
    assert [label for label, _, _ in merged] == ["a = c", "b"]
    assert note.startswith("a and c coincide")
    assert merge_coinciding(lines[:2]) == (lines[:2], "")


def test_safe_is_judged_for_the_checker_and_the_bare_rule_apart() -> None:
    # The fixture: the checker has false failures below 1e-10 and kills more from 1e-8 on; the bare
    # rule has false failures below 1e-9. So 1e-10 is safe for the checker only.
    points = sensitivity_record().threshold_sweep
    assert safe_thresholds(points) == [1e-8, 1e-9, 1e-10]
    assert safe_thresholds(points, bare=True) == [10.0**-k for k in range(2, 10)]
    why = dict(zip([p.threshold for p in points], not_safe(points), strict=True))
    bare_why = dict(zip([p.threshold for p in points], not_safe(points, bare=True), strict=True))
    assert why[1e-7] == "fewer kills" and why[1e-11] == "10.0% false failures" and why[1e-10] == ""
    assert bare_why[1e-10] == "20.0% false failures" and bare_why[1e-7] == ""
    assert safe_thresholds([ThresholdPointRecord(1e-7, 0.0, 0.5, 0.1, 0.9)], bare=True) == []


def test_the_report_never_shows_the_bare_rules_false_failures_as_safe() -> None:
    page = parse(render_report(sensitivity_record(), created=NOW))
    sweep = page.by_id("threshold-sweep")
    for row, bare in zip(sweep.rows(), sweep.find_all("td", class_="safe-bare"), strict=True):
        false_failures = float(row[4].rstrip("%"))
        assert ("safe" in bare.attrs["class"].split()) == (row[-1] == "safe")
        if false_failures > 0:
            assert row[-1] == f"not safe: {row[4]} false failures", row
    rows = {row[0]: row for row in sweep.rows()}
    assert rows["1e-10"][3] == "safe" and rows["1e-10"][6] == "not safe: 20.0% false failures"
    meaning = " ".join(page.by_id("safe-meaning").text().split())
    assert "safe for a rule when it gives no false failure on the correct code, and the best kill rate" in meaning
    assert "Safe for the checker: 1e-08, 1e-09, 1e-10." in meaning
    assert "Safe for the bare rule: 0.01, 0.001, 0.0001, 1e-05, 1e-06, 1e-07, 1e-08, 1e-09." in meaning


def test_the_terminal_uses_the_same_words() -> None:
    screen = io.StringIO()
    render_sensitivity(Console(file=screen, width=200, color_system=None), sensitivity_record())
    text = screen.getvalue()
    assert "fraction of the cases exercising each block on which it is caught" in text
    assert "safe: no false failure on the correct code, and the best kill rate among such thresholds" in text
    assert "safe for the checker: 1e-08, 1e-09, 1e-10\n" in text
    assert (
        "safe for the bare rule (difference > threshold): 0.01, 0.001, 0.0001, 1e-05, 1e-06, 1e-07, 1e-08, 1e-09\n"
        in text
    )
    (row,) = [line for line in text.splitlines() if line.strip().startswith("1e-10 ") and "%" in line]
    assert row.split()[3] == "safe" and "no: 20.0% false failures" in row


# 6. The report index wraps names only at sensible points.


def _css_rules(html: str) -> list[tuple[list[str], str]]:
    (style,) = re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    style = re.sub(r"/\*.*?\*/", "", style, flags=re.S)
    body = re.sub(r"@media[^{]*\{(.*?\})\s*\}", "", style, flags=re.S)  # print rules aside
    return [
        ([s.strip() for s in selectors.split(",")], rules)
        for selectors, rules in re.findall(r"([^{}]+)\{([^}]*)\}", body)
    ]


def _index(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    long_target = "submissions/a_class_of_2026_with_a_long_folder_name/student_0042/gradient_checking_final_v3.py"
    write_report(mutate_record(), folder=folder)
    write_report(replace(sensitivity_record(), target={**sensitivity_record().target, "path": long_target}),
                 folder=folder)  # fmt: skip
    return folder / "index.html"


def test_the_index_keeps_kinds_whole_and_breaks_paths_after_a_slash(tmp_path: Path) -> None:
    html = _index(tmp_path).read_text(encoding="utf-8")
    rules = _css_rules(html)
    for selector, declarations in rules:
        if any(s.startswith("#reports") or s in ("h1", "td", "th", "table") for s in selector):
            assert "break-all" not in declarations, selector  # that is what split "mutat|e"
    nowrap = {s for selector, declarations in rules if "white-space: nowrap" in declarations for s in selector}
    assert {"#reports td.kind", "#reports td.verdict", "#reports td.date"} <= nowrap
    anywhere = {s for selector, declarations in rules if "overflow-wrap: anywhere" in declarations for s in selector}
    assert {"#reports td.target", "#reports td.file"} <= anywhere
    page = parse(html)
    assert [td.text() for td in page.by_id("reports").find_all("td", class_="kind")] == ["sensitivity", "mutate"]
    (target,) = [td for td in page.by_id("reports").find_all("td", class_="target") if "student_0042" in td.text()]
    assert (
        target.text()
        == "submissions/a_class_of_2026_with_a_long_folder_name/student_0042/gradient_checking_final_v3.py"
    )
    assert len(target.find_all("wbr")) == 3  # a break opportunity after each "/"


@pytest.mark.slow
def test_in_a_browser_no_kind_or_verdict_wraps(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed")
    index = _index(tmp_path)
    # The height of the cell's content in lines of its own line height: 1 when it did not wrap.
    lines_of = """cell => {
        const r = document.createRange(); r.selectNodeContents(cell);
        return Math.round(r.getBoundingClientRect().height / parseFloat(getComputedStyle(cell).lineHeight));
    }"""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 560, "height": 800})
            page.goto(index.as_uri())
            for cell in page.locator("#reports td.kind, #reports td.verdict").all():
                assert cell.evaluate(lines_of) == 1, cell.inner_text()
            assert page.evaluate("document.documentElement.scrollWidth") <= 560  # long paths wrap instead
        finally:
            browser.close()


# 7. Progress from the long commands: counts, through a callback.


def test_sensitivity_counts_every_step_of_both_sweeps() -> None:
    seen: list[tuple[int, int | None, str]] = []
    settings = CampaignSettings(seed=0, max_examples=3, jobs=2, operators=("scale_gradient",))
    run_sensitivity(reference_target(), CheckerSpec(), settings, progress=lambda *call: seen.append(call))
    total = len(GRADIENT_NAMES) * len(DELTAS) + 1 + 6  # scaled blocks, the unmutated code, 6 scale_gradient mutants
    assert seen[0] == (0, total, "preparing the cases")
    assert {t for _, t, _ in seen} == {total}
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen) and seen[-1][0] == total
    assert len(seen) == total + 1
    assert "dW1*(1+0.1)" in {w for _, _, w in seen} and (61, total, "unmutated") in seen


def test_the_domain_campaign_counts_its_mutants() -> None:
    seen: list[tuple[int, int | None, str]] = []
    settings = CampaignSettings(seed=0, max_examples=3, jobs=2, operators=("scale_gradient",))
    run_campaign(reference_target(), CheckerSpec(), settings, progress=lambda *call: seen.append(call))
    assert seen[0] == (0, 6, "preparing the cases") and [d for d, _, _ in seen] == list(range(7))


def _meta(folder: Path, codes: dict[str, int | None]) -> None:
    path = folder / "mutants" / "gradharness" / "model" / "network.py.meta"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": codes, "durations_by_key": {}}), encoding="utf-8")


def test_mutmut_progress_counts_the_backwards_mutants_it_has_run(tmp_path: Path) -> None:
    assert mutmut_progress(tmp_path) == (0, None)  # nothing generated yet
    ours = f"gradharness.model.network.x_{FUNCTION}__mutmut_"
    _meta(tmp_path, {f"{ours}1": 1, f"{ours}2": None, f"{ours}12": 0,
                     "gradharness.model.network.x_forward_propagation_n__mutmut_1": 1})  # fmt: skip
    assert mutmut_progress(tmp_path) == (2, 3)
    assert mutmut_progress(tmp_path, pattern=f"{ours}1?") == (1, 1)
    (tmp_path / "mutants" / "gradharness" / "model" / "network.py.meta").write_text('{"exit_code_by', encoding="utf-8")
    assert mutmut_progress(tmp_path) == (0, None)  # caught half written


@pytest.mark.slow
def test_waiting_for_mutmut_reports_progress_and_the_last_count(tmp_path: Path) -> None:
    ours = f"gradharness.model.network.x_{FUNCTION}__mutmut_"
    _meta(tmp_path, {f"{ours}1": 1, f"{ours}2": None})
    seen: list[tuple[int, int | None, str]] = []
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.3)"])
    _wait(process, tmp_path, f"{ours}*", 30.0, lambda *call: seen.append(call))
    assert process.returncode == 0
    assert len(seen) >= 2 and set(seen) == {(1, 2, "mutmut run")}


def test_a_mutmut_run_past_its_time_is_ended(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    seen: list[tuple[int, int | None, str]] = []
    with pytest.raises(GradHarnessError, match="did not finish within 0.6 s"):
        _wait(process, tmp_path, "*", 0.6, lambda *call: seen.append(call))
    assert process.poll() is not None
    assert seen and seen[0] == (0, None, "mutmut: generating mutants")


def test_mutate_with_mutmut_gets_the_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int | None, str]] = []

    @contextlib.contextmanager
    def bar(_console, label, *, quiet=False):
        assert label == "mutants" and not quiet
        yield lambda *call: seen.append(call)

    def campaign(_target, _settings, *, progress=None, **_options):
        assert progress is not None
        progress(4, 44, "mutmut run")
        raise GradHarnessError("stopped here")

    monkeypatch.setattr(mutate_cli, "progress_bar", bar)
    monkeypatch.setattr(mutate_cli, "mutmut_campaign", campaign)
    for engine in ("mutmut", "both"):
        result = CliRunner().invoke(main, ["mutate", "--engine", engine])
        assert result.exit_code == 2 and "stopped here" in result.stderr
    assert seen == [(4, 44, "mutmut run")] * 2


# A real mutmut run's progress: tests/test_mutation_engine_mutmut.py (its one small run serves both tests there).
