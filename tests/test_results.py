"""Check records: saved as JSON with a schema_version, loaded back as the record that was saved."""

from __future__ import annotations

import json

import pytest

from gradharness.check.verdict import Verdict
from gradharness.errors import ResultsFormatError
from gradharness.judge.checks import check_builtin
from gradharness.model import network
from gradharness.records.check import CheckRecord, PropertyStatus
from gradharness.records.mutation import MutateRecord
from gradharness.records.serialise import to_json
from gradharness.records.status import FailureKind
from gradharness.records.store import from_json, load, save
from gradharness.records.verdict import RunVerdict
from gradharness.settings import RunSettings


@pytest.fixture(scope="module")
def failing_record() -> CheckRecord:
    return check_builtin(network.backward_propagation_n_buggy, "buggy", RunSettings(seed=2, max_examples=30))


def test_round_trip(tmp_path, failing_record):
    path = tmp_path / "out" / "result.json"
    save(failing_record, path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1 and data["kind"] == "check" and data["verdict"] == "fail"
    assert data["failures"][0]["gradient_check"]["blocks"][0]["name"] == "dW1"
    back = load(path, CheckRecord)
    assert back == failing_record
    assert back.exit_code == 1


def test_statuses_are_enums_in_memory_and_their_values_in_json(tmp_path, failing_record):
    save(failing_record, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    back = load(tmp_path / "r.json", CheckRecord)
    assert back.verdict is RunVerdict.FAIL
    assert {p.status for p in back.properties} <= set(PropertyStatus)
    assert {p["status"] for p in data["properties"]} <= {"passed", "failed", "not run", "stopped"}
    failure = next(f for f in back.failures if f.gradient_check is not None)
    assert failure.kind is FailureKind.WRONG
    check = failure.gradient_check
    assert check.verdict is Verdict.WRONG and all(isinstance(b.verdict, Verdict) for b in check.blocks)
    assert all(isinstance(s, Verdict) for s in check.entry_status)
    raw = next(f for f in data["failures"] if f["gradient_check"] is not None)["gradient_check"]
    assert raw["verdict"] == "wrong" and set(raw["entry_status"]) <= {v.value for v in Verdict}


def test_no_nan_in_json(tmp_path, failing_record):
    path = tmp_path / "result.json"
    save(failing_record, path)
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()


def test_rejects_other_versions_kinds_and_unknown_keys(failing_record):
    data = to_json(failing_record)
    with pytest.raises(ResultsFormatError, match="schema_version 99 is not supported"):
        from_json(dict(data, schema_version=99), CheckRecord)
    with pytest.raises(ResultsFormatError, match="unknown keys surprise"):
        from_json(dict(data, surprise=1), CheckRecord)
    with pytest.raises(ResultsFormatError, match="holds a list, not an object"):
        from_json([1, 2], CheckRecord)
    with pytest.raises(ResultsFormatError, match="its kind 'check' is not mutate"):
        from_json(data, MutateRecord)


def test_a_record_without_kind_is_a_check_record(failing_record):
    data = to_json(failing_record)
    del data["kind"]
    assert from_json(data, CheckRecord) == failing_record


def test_unreadable_files(tmp_path):
    with pytest.raises(ResultsFormatError, match="does not exist"):
        load(tmp_path / "missing.json", CheckRecord)
    with pytest.raises(ResultsFormatError, match="cannot read"):
        load(tmp_path, CheckRecord)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ResultsFormatError, match="broken.json is not a gradharness results file: it is not JSON"):
        load(broken, CheckRecord)


def test_atomic_write_leaves_no_temporary_files(tmp_path, failing_record):
    save(failing_record, tmp_path / "r.json")
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
