"""Scores from a rubric (one rule, bad rubric files refused in one line) and the exports: Gradescope, JUnit XML."""

from __future__ import annotations

import csv
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cli_support import gradharness
from exercise_files import EXERCISE
from user_files import FIXTURES

from gradharness.batch.rubric import DEFAULT_RUBRIC, Rubric, parse_rubric, score
from gradharness.errors import GradHarnessError
from gradharness.properties.failures import Property
from gradharness.records.check import CheckRecord, FailureRecord, PropertyRecord, PropertyStatus
from gradharness.records.status import FailureKind
from gradharness.records.verdict import RunVerdict
from gradharness.render.gradescope import gradescope_results
from gradharness.render.junit import junit_xml

README = Path(__file__).parents[1] / "README.md"
FAST = ("--seed", "3", "--max-examples", "20")

# --- the rubric -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("backprop = 6\n", "unknown property 'backprop'; the properties are forward_cost"),
        ("gradient_agrees = -1\n", "the points for 'gradient_agrees' must be a finite number >= 0, not -1"),
        ("gradient_agrees = nan\n", "must be a finite number >= 0, not nan"),
        ("gradient_agrees = inf\n", "must be a finite number >= 0, not inf"),
        ("gradient_agrees = true\n", "must be a number, not True"),
        ("gradient_agrees = '6'\n", "must be a number, not '6'"),
        ("[gradient_agrees]\npoints = 6\n", "must be a number, not {'points': 6}"),
        ("gradient_agrees 6\n", "is not TOML: Expected '='"),
        ("gradient_agrees = 6\nGRADIENT_AGREES = 2\n", "'GRADIENT_AGREES' is given twice"),
        ("", "gives no points"),
        ("gradient_agrees = 0\n", "gives no points"),
    ],
)  # fmt: skip
def test_a_bad_rubric_is_refused_with_one_line_that_says_why(text: str, words: str) -> None:
    with pytest.raises(GradHarnessError) as caught:
        parse_rubric(text, "r.toml")
    message = str(caught.value)
    assert words in message and message.startswith("rubric r.toml") and "\n" not in message


def test_a_rubric_reads_names_in_either_case_and_what_it_leaves_out_is_worth_nothing() -> None:
    rubric = parse_rubric("Gradient_Agrees = 5\nno_side_effects = 1.5\nstudent_checker = 0\n", "r.toml")
    assert rubric.points == {"GRADIENT_AGREES": 5.0, "NO_SIDE_EFFECTS": 1.5, "STUDENT_CHECKER": 0.0}
    assert rubric.max_points == 6.5 and rubric.source == "r.toml"


def test_the_readme_documents_the_default_rubric() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Teachers: class overview, scores and exports") :]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block, "the default rubric as a TOML block in the teachers' section"
    assert parse_rubric(block.group(1), "README").points == DEFAULT_RUBRIC.points


def _record(statuses: dict[str, tuple[PropertyStatus, int]], verdict: RunVerdict = RunVerdict.FAIL) -> CheckRecord:
    properties = [PropertyRecord(name, Property[name].value, status, n) for name, (status, n) in statuses.items()]
    return CheckRecord({"path": "x.py"}, {"seed": 1}, verdict, properties)


P, F, S, N = PropertyStatus.PASSED, PropertyStatus.FAILED, PropertyStatus.STOPPED, PropertyStatus.NOT_RUN
EVERY = Rubric({p.name: 1.0 for p in Property}, "one each")


@pytest.mark.parametrize(
    ("statuses", "earned"),
    [
        ({p.name: (P, 20) for p in Property}, 7.0),  # every property held
        # the backward returns a list: the shapes fail, the gradients are never compared
        ({"FORWARD_COST": (S, 10), "FORWARD_MATCHES": (S, 10), "GRADIENT_SHAPES": (F, 10),
          "GRADIENT_AGREES": (N, 0), "NO_SIDE_EFFECTS": (N, 0), "DERIVATIVE_1D": (P, 20)}, 3.0),
        # wrong gradients: the properties stopped after holding keep their points
        ({"FORWARD_COST": (S, 10), "FORWARD_MATCHES": (S, 10), "GRADIENT_SHAPES": (S, 10),
          "GRADIENT_AGREES": (F, 10), "NO_SIDE_EFFECTS": (S, 10)}, 4.0),
        ({"FORWARD_COST": (S, 0), "GRADIENT_AGREES": (F, 1)}, 0.0),  # stopped before it saw a case
        ({}, 0.0),  # nothing the file defines was checked
    ],
)  # fmt: skip
def test_a_property_earns_its_points_only_when_shown_to_hold(statuses, earned) -> None:
    result = score(_record(statuses), EVERY)
    assert (result.points, result.max_points) == (earned, 7.0)
    assert [part.name for part in result.parts] == [p.name for p in Property]  # absent ones too: they have points
    absent = {part.name for part in result.parts if part.status is None}
    assert absent == {p.name for p in Property} - set(statuses)


def test_a_file_that_could_not_be_checked_scores_nothing_even_with_properties_recorded() -> None:
    record = _record({p.name: (P, 20) for p in Property}, RunVerdict.ERROR)
    assert score(record, EVERY).points == 0.0
    assert score(_record({"GRADIENT_AGREES": (P, 20)})).points == 6.0  # the default rubric's backprop points


def test_a_bad_rubric_on_the_command_line_is_one_line_and_exit_2_before_any_check(tmp_path: Path) -> None:
    bad = tmp_path / "rubric.toml"
    bad.write_text("backprop = 6\n", encoding="utf-8")
    for rubric in (bad, tmp_path / "missing.toml"):
        run = gradharness("check", str(FIXTURES / "buggy_seed.py"), "--rubric", str(rubric))
        assert run.returncode == 2 and run.stdout == ""
        assert len(run.stderr.splitlines()) == 1 and run.stderr.startswith("gradharness: error: "), run.stderr
    assert "unknown property 'backprop'" in gradharness("check", "x.py", "--rubric", str(bad)).stderr


def test_a_single_checks_terminal_output_and_report_show_its_score_by_the_rubric_given(tmp_path: Path) -> None:
    rubric = tmp_path / "rubric.toml"
    rubric.write_text("gradient_agrees = 3\nderivative_1d = 1\n", encoding="utf-8")
    report = tmp_path / "report.html"
    run = gradharness(
        "check", str(FIXTURES / "buggy_seed.py"), "--seed", "0", "--max-examples", "10",
        "--rubric", str(rubric), "--html", str(report),
    )  # fmt: skip
    assert run.returncode == 1
    assert "score: 1 of 4 points (rubric: " in run.stdout  # the 1-D pair holds, the backprop does not
    assert re.search(r'<p id="score"[^>]*>score: 1 of 4 points \(rubric: ', report.read_text(encoding="utf-8"))


# --- Gradescope -----------------------------------------------------------------------------------------------

# Gradescope's autograder specification (gradescope-autograders.readthedocs.io/en/latest/specs/, "Output format").
_FORMATS = {"text", "simple_format", "html", "md", "ansi"}
_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
_NUMBER = (int, float)
TOP_FIELDS: dict[str, Any] = {
    "score": _NUMBER, "execution_time": _NUMBER, "output": str, "output_format": _FORMATS,
    "test_output_format": _FORMATS, "test_name_format": _FORMATS, "visibility": _VISIBILITY,
    "stdout_visibility": _VISIBILITY, "extra_data": dict, "tests": list, "leaderboard": list,
}  # fmt: skip
TEST_FIELDS: dict[str, Any] = {
    "score": _NUMBER, "max_score": _NUMBER, "status": {"passed", "failed"}, "name": str, "name_format": _FORMATS,
    "number": str, "output": str, "output_format": _FORMATS, "tags": list, "visibility": _VISIBILITY,
    "extra_data": dict,
}  # fmt: skip


def _valid(value: Any, rule: Any, where: str) -> None:
    if isinstance(rule, set):
        assert value in rule, f"{where}: {value!r} is not one of {sorted(rule)}"
    else:
        assert isinstance(value, rule) and not isinstance(value, bool), f"{where}: {value!r} is not {rule}"


def validate_gradescope(results: Any) -> None:
    """Gradescope's documented results.json: known fields of the documented types; a score at the top or on every test."""
    assert isinstance(results, dict)
    for key, value in results.items():
        assert key in TOP_FIELDS, f"{key!r} is not a documented top-level field"
        _valid(value, TOP_FIELDS[key], key)
    tests = results.get("tests", [])
    for number, test in enumerate(tests):
        for key, value in test.items():
            assert key in TEST_FIELDS, f"tests[{number}]: {key!r} is not a documented test field"
            _valid(value, TEST_FIELDS[key], f"tests[{number}].{key}")
        if "max_score" in test and "score" in test:
            assert 0 <= test["score"] <= test["max_score"]
    assert "score" in results or all("score" in test for test in tests)
    for key in ("output_format", "test_output_format", "test_name_format"):  # what the code printed stays text
        assert results[key] == "text"
    if tests:
        assert results["score"] == sum(test["score"] for test in tests)
        assert len({test["name"] for test in tests}) == len(tests)


@pytest.fixture(scope="module")
def gradescope_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, dict[str, Any]]]:
    out = tmp_path_factory.mktemp("gradescope")
    runs = {}
    for name, path in {
        "buggy": FIXTURES / "buggy_seed.py",
        "correct": EXERCISE / "notebooks" / "Gradient_Checking_corrected.ipynb",
        "syntax": FIXTURES / "bad_syntax.py",
    }.items():
        results = out / name / "results.json"
        run = gradharness("check", str(path), *FAST, "-q", "--gradescope", str(results))
        runs[name] = (run.returncode, json.loads(results.read_text(encoding="utf-8")))
    return runs


@pytest.mark.slow
def test_gradescope_results_have_the_documented_fields(gradescope_runs) -> None:
    for name, (_, results) in gradescope_runs.items():
        validate_gradescope(results)
        assert {test["name"] for test in results["tests"]} >= {Property[p].value for p in DEFAULT_RUBRIC.points}, name


@pytest.mark.slow
def test_gradescope_scores_each_property_and_names_the_likely_cause(gradescope_runs) -> None:
    code, buggy = gradescope_runs["buggy"]
    tests = {test["name"]: test for test in buggy["tests"]}
    agrees = tests[Property.GRADIENT_AGREES.value]
    assert code == 1 and (agrees["status"], agrees["score"], agrees["max_score"]) == ("failed", 0, 6)
    assert "likely cause: dW2 is 2 x the true gradient" in agrees["output"]
    assert "likely cause: db1 is 4 x the true gradient" in agrees["output"]
    one_d = tests[Property.DERIVATIVE_1D.value]
    assert (one_d["status"], one_d["score"]) == ("passed", 2)
    checker = tests[Property.STUDENT_CHECKER.value]  # buggy_seed.py has no gradient_check_n
    assert checker["status"] == "failed" and "does not have the functions" in checker["output"]
    assert (
        buggy["score"] == 2
        and buggy["output"].startswith("FAIL ")
        and "reproduce: gradharness check" in buggy["output"]
    )
    code, correct = gradescope_runs["correct"]
    assert code == 0 and correct["score"] == 10 and all(test["status"] == "passed" for test in correct["tests"])
    assert "note: loading:" in correct["output"]  # the loading notes, for the student too
    code, syntax = gradescope_runs["syntax"]
    assert code == 2 and syntax["score"] == 0
    assert all(t["status"] == "failed" and "syntax error" in t["output"] for t in syntax["tests"])


def test_gradescope_output_escapes_control_characters() -> None:
    failure = FailureRecord(Property.GRADIENT_SHAPES.name, FailureKind.CRASHED, "raised <b>x</b>\x1b[31m PASS", 1)
    record = CheckRecord(
        {"path": "e\u202evil.py"}, {}, RunVerdict.FAIL,
        [PropertyRecord(Property.GRADIENT_SHAPES.name, Property.GRADIENT_SHAPES.value, PropertyStatus.FAILED, 1)],
        failures=[failure],
    )  # fmt: skip
    results = gradescope_results(record)
    validate_gradescope(results)
    text = json.dumps(results)
    assert "\\u001b" not in text and "\\u202e" not in text.replace("\\\\u202e", "")
    shapes = next(t for t in results["tests"] if t["name"] == Property.GRADIENT_SHAPES.value)
    assert shapes["output"] == "raised <b>x</b>\\x1b[31m PASS"  # shown as text, never rendered


def test_gradescope_is_for_one_file() -> None:
    run = gradharness("check", str(EXERCISE / "scripts"), "--gradescope", "results.json")
    assert run.returncode == 2 and "--gradescope writes one file's results.json" in run.stdout + run.stderr


# --- JUnit XML ------------------------------------------------------------------------------------------------


def _suites(xml_text: str) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.fromstring(xml_text)
    assert root.tag == "testsuites"
    suites = {Path(suite.get("name", "")).name: suite for suite in root.findall("testsuite")}
    for key in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(key, "-1")) == sum(int(s.get(key, "-1")) for s in suites.values()), key
    for name, suite in suites.items():
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases), name
        assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None), name
        assert int(suite.get("errors", "-1")) == sum(1 for c in cases if c.find("error") is not None), name
        assert int(suite.get("skipped", "-1")) == sum(1 for c in cases if c.find("skipped") is not None), name
        if "timestamp" in suite.attrib:  # a record's time, as JUnit writes it
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", suite.get("timestamp", "")), suite.attrib
    return root, suites


@pytest.fixture(scope="module")
def junit_batch(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("class")
    for path in (
        FIXTURES / "buggy_seed.py",
        FIXTURES / "bad_syntax.py",
        EXERCISE / "scripts" / "checker_norms_only.py",
    ):
        shutil.copy(path, folder / path.name)
    rubric = folder.parent / f"{folder.name}-rubric.toml"
    rubric.write_text("gradient_agrees = 5\nderivative_1d = 3\nno_side_effects = 1.5\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("graded")
    run = gradharness(
        "check", str(folder), *FAST, "--jobs", "2", "--out", str(out), "--rubric", str(rubric),
        "--junit", str(out / "junit.xml"),
    )  # fmt: skip
    return run, out


@pytest.mark.slow
def test_junit_for_a_batch_has_a_suite_per_file_and_a_case_per_property(junit_batch) -> None:
    run, out = junit_batch
    assert run.returncode == 1, run.stderr
    _, suites = _suites((out / "junit.xml").read_text(encoding="utf-8"))
    assert set(suites) == {"buggy_seed.py", "bad_syntax.py", "checker_norms_only.py"}
    buggy = suites["buggy_seed.py"]
    assert "timestamp" in buggy.attrib
    failures = [case for case in buggy.findall("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failures] == [Property.GRADIENT_AGREES.value]
    failure = failures[0].find("failure")
    assert failure is not None and failure.get("type") == "wrong"
    assert failure.get("message", "").startswith("db1, dW2 wrong") and "\n" not in failure.get("message", "")
    assert "likely cause: dW2 is 2 x the true gradient" in (failure.text or "")
    score = {p.get("name"): p.get("value") for p in buggy.iter("property")}
    assert (score["score"], score["max_score"], score["verdict"]) == ("4.5", "9.5", "fail")  # 1-D 3, side effects 1.5
    error = suites["bad_syntax.py"].find("testcase/error")
    assert error is not None and "syntax error" in error.get("message", "")
    checker = suites["checker_norms_only.py"].findall("testcase")
    assert [c.find("failure").get("type") for c in checker if c.find("failure") is not None] == ["wrong"]
    assert any(c.find("skipped") is not None for c in checker)  # no 1-D pair in it: the rubric's 3 points


@pytest.mark.slow
def test_a_batch_scores_with_the_rubric_it_was_given(junit_batch) -> None:
    _, out = junit_batch
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert data["rubric"] == {"GRADIENT_AGREES": 5.0, "DERIVATIVE_1D": 3.0, "NO_SIDE_EFFECTS": 1.5}
    rows = {Path(r["file"]).name: r for r in csv.DictReader((out / "summary.csv").open(encoding="utf-8"))}
    assert {name: (r["score"], r["max_score"]) for name, r in rows.items()} == {
        "buggy_seed.py": ("4.5", "9.5"), "bad_syntax.py": ("0", "9.5"), "checker_norms_only.py": ("6.5", "9.5"),
    }  # fmt: skip
    assert data["statistics"]["scores"] == {"6.5": 1, "4.5": 1, "0": 1}
    text_report = (out / data["rows"][0]["report_text"]).read_text(encoding="utf-8")
    assert "points (rubric: " in text_report.splitlines()[-1]


@pytest.mark.slow
def test_junit_for_one_file(tmp_path: Path) -> None:
    run = gradharness("check", str(FIXTURES / "correct_list_cache.py"), *FAST, "-q", "--junit", str(tmp_path / "j.xml"))
    assert run.returncode == 0
    root, suites = _suites((tmp_path / "j.xml").read_text(encoding="utf-8"))
    assert list(suites) == ["correct_list_cache.py"] and root.get("failures") == "0"
    skipped = [c.get("name") for c in root.iter("testcase") if c.find("skipped") is not None]
    assert skipped == [Property.DERIVATIVE_1D.value, Property.STUDENT_CHECKER.value]  # not in the file


def test_junit_xml_stays_well_formed_whatever_the_user_wrote() -> None:
    error = "x.py: raised \x00\x1b[31m\ufffe <![CDATA[ ]]> & \udcff"
    record = CheckRecord({"path": "\x07odd<name>.py", "notes": ["\x0cnote"]}, {}, RunVerdict.ERROR, [], error=error)
    _, suites = _suites(junit_xml([record]))
    suite = next(iter(suites.values()))
    message = suite.find("testcase/error").get("message", "")
    assert message.startswith("x.py: raised \\x00\\x1b[31m\\ufffe <![CDATA[ ]]> & \\udcff")
