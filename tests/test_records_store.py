"""Results files: what is not a gradharness record fails with one message, from the library and from `report`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_mutation_records import mutate_record

from gradharness.cli.main import main
from gradharness.errors import ResultsFormatError
from gradharness.records.batch import BatchSummary
from gradharness.records.check import CheckRecord
from gradharness.records.mutation import MutateRecord, SensitivityRecord
from gradharness.records.serialise import to_json
from gradharness.records.store import SCHEMA_VERSION, load, save, write_json_atomic
from gradharness.records.verdict import RunVerdict
from tests.cli_support import gradharness
from tests.report_support import seed_case_record

REPORTABLE = (CheckRecord, MutateRecord, SensitivityRecord)


def _check_json(**changes) -> str:
    data = to_json(seed_case_record())
    data.update(changes)
    return json.dumps(data)


BAD_FILES = [
    ("not JSON", "{not json", "it is not JSON (Expecting property name"),
    ("empty", "", "it is not JSON"),
    ("a JSON list", "[1, 2]", "it holds a list, not an object"),
    ("a JSON string", '"results"', "it holds a string, not an object"),
    ("no schema_version", json.dumps({"kind": "check", "verdict": "pass"}), "it has no schema_version"),
    ("a newer schema_version", _check_json(schema_version=SCHEMA_VERSION + 1),
     f"schema_version {SCHEMA_VERSION + 1} is not supported (written by a newer gradharness); this gradharness reads 1"),
    ("a schema_version that is not a number", _check_json(schema_version="1"), "schema_version '1' is not supported"),
    ("an unknown kind", json.dumps({"schema_version": 1, "kind": "weather"}),
     "its kind 'weather' is not check, mutate or sensitivity"),
    ("a batch summary", json.dumps({"schema_version": 1, "kind": "batch"}),
     "its kind 'batch' is not check, mutate or sensitivity"),
    ("a field of the wrong type", _check_json(examples="many"), "results.examples: expected an integer, got 'many'"),
    ("a status that does not exist", _check_json(verdict="maybe"), "results.verdict: 'maybe' is not a RunVerdict"),
    ("an unknown field", _check_json(surprise=1), "results: unknown keys surprise"),
]  # fmt: skip


@pytest.fixture(params=BAD_FILES, ids=[case[0] for case in BAD_FILES])
def bad_file(request, tmp_path: Path) -> tuple[Path, str]:
    _, text, reason = request.param
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    return path, reason


def test_each_bad_file_gives_the_one_message(bad_file: tuple[Path, str]) -> None:
    path, reason = bad_file
    with pytest.raises(ResultsFormatError) as caught:
        load(path, *REPORTABLE)
    assert str(caught.value).startswith(f"{path} is not a gradharness results file: {reason}")


def test_report_gives_the_one_message(bad_file: tuple[Path, str]) -> None:
    path, reason = bad_file
    result = CliRunner().invoke(main, ["report", str(path)])
    assert isinstance(result.exception, ResultsFormatError)
    assert str(result.exception).startswith(f"{path} is not a gradharness results file: {reason}")


def test_report_on_a_json_that_is_not_a_record_says_so_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "my notes", "scores": [1, 2]}), encoding="utf-8")
    run = gradharness("report", str(path))  # the entry point itself; tests/test_report_cli.py runs the installed script
    assert run.returncode == 2
    assert (
        run.stderr.strip() == f"gradharness: error: {path} is not a gradharness results file: it has no schema_version"
    )


def test_bytes_that_are_not_text(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ResultsFormatError, match="is not a gradharness results file: it is not UTF-8 text"):
        load(path, CheckRecord)


def test_a_record_of_another_kind_than_asked_for(tmp_path: Path) -> None:
    save(mutate_record(), tmp_path / "m.json")
    with pytest.raises(ResultsFormatError, match="is not a gradharness results file: its kind 'mutate' is not check"):
        load(tmp_path / "m.json", CheckRecord)
    assert load(tmp_path / "m.json", *REPORTABLE) == mutate_record()


def test_every_kind_is_saved_with_the_schema_version_and_loaded_back(tmp_path: Path) -> None:
    summary = BatchSummary("2026-01-01T00:00:00+00:00", {"seed": 0}, {"pass": 0, "fail": 0, "error": 0}, [])
    for record, kind in ((seed_case_record(), CheckRecord), (mutate_record(), MutateRecord), (summary, BatchSummary)):
        path = tmp_path / f"{record.kind}.json"
        save(record, path)
        assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION
        assert load(path, kind) == record
    assert load(tmp_path / "check.json", CheckRecord).verdict is RunVerdict.FAIL


def test_writing_refuses_what_json_cannot_hold_and_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        write_json_atomic(tmp_path / "x.json", {"difference": float("inf")})
    assert list(tmp_path.iterdir()) == []


def test_non_finite_floats_in_every_kind_of_record_survive_a_file(tmp_path: Path) -> None:
    from dataclasses import replace

    from test_records_cli import type_errors

    check = seed_case_record()
    gradient = check.failures[0].gradient_check
    blocks = [replace(gradient.blocks[0], difference=math.inf), *gradient.blocks[1:]]
    worst = [replace(gradient.worst_entries[0], numerical=math.nan, backprop=-math.inf), *gradient.worst_entries[1:]]
    gradient = replace(gradient, difference=math.inf, blocks=blocks, worst_entries=worst, grad=[math.nan, 1.0])
    check = replace(check, failures=[replace(check.failures[0], gradient_check=gradient)], seconds=math.inf)
    mutate = replace(mutate_record(), score=replace(mutate_record().score, score=math.nan, checker_score=math.inf))
    for record, kind in ((check, CheckRecord), (mutate, MutateRecord)):
        path = tmp_path / f"{record.kind}.json"
        save(record, path)
        text = path.read_text()
        json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
        back = load(path, kind)
        assert type_errors(back, kind, record.kind) == []
        assert to_json(back) == to_json(record)  # NaN != NaN: compare the encodings
    back_check = load(tmp_path / "check.json", CheckRecord)
    loaded = back_check.failures[0].gradient_check
    assert loaded.difference == math.inf and loaded.blocks[0].difference == math.inf
    assert math.isnan(loaded.worst_entries[0].numerical) and loaded.worst_entries[0].backprop == -math.inf
    assert math.isnan(loaded.grad[0]) and back_check.seconds == math.inf
    score = load(tmp_path / "mutate.json", MutateRecord).score
    assert math.isnan(score.score) and score.checker_score == math.inf
