from __future__ import annotations

import json

import pytest

from gradharness.errors import ResultsFormatError
from gradharness.judge.checks import check_builtin
from gradharness.model import network
from gradharness.records.check import from_json, load, save, to_json
from gradharness.settings import RunSettings


@pytest.fixture(scope="module")
def failing_record():
    return check_builtin(network.backward_propagation_n_buggy, "buggy", RunSettings(seed=2, max_examples=30))


def test_round_trip(tmp_path, failing_record):
    path = tmp_path / "out" / "result.json"
    save(failing_record, path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1 and data["verdict"] == "fail"
    assert data["failures"][0]["gradient_check"]["blocks"][0]["name"] == "dW1"
    back = load(path)
    assert back == from_json(to_json(failing_record))
    assert back.exit_code == 1


def test_no_nan_in_json(tmp_path, failing_record):
    path = tmp_path / "result.json"
    save(failing_record, path)
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()


def test_rejects_other_versions_and_unknown_keys(failing_record):
    data = to_json(failing_record)
    with pytest.raises(ResultsFormatError, match="schema_version 99"):
        from_json(dict(data, schema_version=99))
    with pytest.raises(ResultsFormatError, match="unknown keys surprise"):
        from_json(dict(data, surprise=1))
    with pytest.raises(ResultsFormatError, match="not a JSON object|does not hold"):
        from_json([1, 2])


def test_unreadable_files(tmp_path):
    with pytest.raises(ResultsFormatError, match="does not exist"):
        load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ResultsFormatError, match="cannot read"):
        load(broken)


def test_atomic_write_leaves_no_temporary_files(tmp_path, failing_record):
    save(failing_record, tmp_path / "r.json")
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
