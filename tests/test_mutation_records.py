"""Mutate and sensitivity records: JSON with a schema_version; loading rejects what it does not know."""

from __future__ import annotations

import json

import pytest

from gradharness.errors import ResultsFormatError
from gradharness.records.mutation import (
    BlockSweepRecord,
    EngineRecord,
    ExamplesRecord,
    ExerciseCaseRecord,
    HarnessRecord,
    MutantRecord,
    MutateRecord,
    ScoreRecord,
    SensitivityRecord,
    ThresholdPointRecord,
)
from gradharness.records.serialise import to_json
from gradharness.records.status import KillKind, MutantStatus
from gradharness.records.store import from_json as store_from_json
from gradharness.records.store import load, save
from gradharness.records.verdict import RunVerdict


def from_json(data):
    return store_from_json(data, MutateRecord, SensitivityRecord)


def _mutant(**changes) -> MutantRecord:
    """A mutant record; ``status``, ``kill_kind`` and ``exercise_case`` may be given as their JSON strings."""
    fields = dict(id="scale_gradient-1", operator="scale_gradient", engine="domain", line=3, column=11, end_line=3,
                  end_column=20, original="x", replacement="x * 2", description="line 3: x -> x * 2",
                  diff="--- a/f.py\n+++ b/f.py\n", status=MutantStatus.KILLED, kill_kind=KillKind.WRONG,
                  message="dW2 wrong", examples_to_kill=4, cases_killed=10, cases=100,
                  counterexample={"sizes": [1, 1, 1, 1], "m": 1}, exercise_case=MutantStatus.KILLED,
                  seconds=0.01)  # fmt: skip
    fields.update(changes)
    for name, enum in (("status", MutantStatus), ("kill_kind", KillKind), ("exercise_case", MutantStatus)):
        if isinstance(fields[name], str):
            fields[name] = enum(fields[name])
    return MutantRecord(**fields)


def mutate_record() -> MutateRecord:
    score = ScoreRecord("all", 1, 1, 0, 0, 0, 0, 1.0, 1.0)
    return MutateRecord(
        target={"path": "builtin:gradharness/model/network.py", "sha256": None, "function": "backward_propagation_n"},
        checker={"kind": "builtin", "path": None, "sha256": None, "function": "gradharness.gradient_check_n"},
        engine="domain", settings={"seed": 0, "threshold": 1e-7}, verdict=RunVerdict.PASS,
        harness=HarnessRecord(True, "survived", "killed", "proved"), cases=100, mutants=[_mutant()], score=score,
        operators=[score], examples_to_kill=ExamplesRecord({"1": 0, "3-5": 1}, 4.0, 4),
        exercise_case=ExerciseCaseRecord(1, []), engines=[EngineRecord("domain", 1, 0.5, 2.0, 0.4, 2.5, "note")],
        seconds=0.5, reproduce="gradharness mutate", environment={"python": "3.11"},
    )  # fmt: skip


def sensitivity_record() -> SensitivityRecord:
    return SensitivityRecord(
        target={"path": "x"}, checker={"kind": "builtin"}, settings={"threshold": 1e-7}, verdict=RunVerdict.PASS,
        harness=HarnessRecord(True, "survived", "killed", "proved"), cases=10, deltas=[0.1, 1e-7],
        blocks=[BlockSweepRecord("dW1", 9, [1.0, 0.0], 0.1, 0.1, 0.1)], thresholds=[1e-7],
        threshold_sweep=[ThresholdPointRecord(1e-7, 0.0, 0.9, float("inf"), 1.0)], mutants=9, safe_thresholds=[1e-7],
    )  # fmt: skip


@pytest.mark.parametrize("make", [mutate_record, sensitivity_record])
def test_round_trip(tmp_path, make) -> None:
    record = make()
    save(record, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["schema_version"] == 1 and data["kind"] == record.kind
    assert load(tmp_path / "r.json", MutateRecord, SensitivityRecord) == record


def test_statuses_load_as_enums() -> None:
    record = from_json(to_json(mutate_record()))
    assert record.verdict is RunVerdict.PASS
    (mutant,) = record.mutants
    assert mutant.status is MutantStatus.KILLED and mutant.kill_kind is KillKind.WRONG
    assert mutant.exercise_case is MutantStatus.KILLED


def test_infinities_survive_and_null_is_none_where_allowed() -> None:
    data = to_json(sensitivity_record())
    assert data["threshold_sweep"][0]["bare_false_failures"] == "inf"
    assert from_json(data).threshold_sweep[0].bare_false_failures == float("inf")
    data["blocks"][0]["smallest_any"] = None
    assert from_json(data).blocks[0].smallest_any is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema_version=2), "schema_version 2 is not supported"),
        (lambda d: d.pop("schema_version"), "no schema_version"),
        (lambda d: d.update(kind="check"), "its kind 'check' is not mutate or sensitivity"),
        (lambda d: d.update(surprise=1), "unknown keys surprise"),
        (lambda d: d["mutants"][0].update(extra=True), r"results.mutants\[0\]: unknown keys extra"),
        (lambda d: d.update(mutants={}), "expected a list"),
        (lambda d: d["score"].update(score="high"), "expected a number"),
        (lambda d: d.pop("verdict"), "results: missing verdict"),
        (lambda d: d.update(verdict="maybe"), "'maybe' is not a RunVerdict"),
        (lambda d: d["mutants"][0].update(status="dead"), r"results.mutants\[0\].status: 'dead' is not a MutantStatus"),
    ],
)
def test_loading_rejects_what_it_does_not_know(change, message: str) -> None:
    data = to_json(mutate_record())
    change(data)
    with pytest.raises(ResultsFormatError, match=message):
        from_json(data)


def test_unreadable_files_are_format_errors(tmp_path) -> None:
    with pytest.raises(ResultsFormatError, match="does not exist"):
        load(tmp_path / "missing.json", MutateRecord)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ResultsFormatError, match="is not a gradharness results file: it is not JSON"):
        load(tmp_path / "bad.json", MutateRecord)


def test_exit_codes() -> None:
    assert mutate_record().exit_code == 0
    assert MutateRecord({}, {}, "domain", {}, RunVerdict.FAIL).exit_code == 1
    assert MutateRecord({}, {}, "domain", {}, RunVerdict.ERROR).exit_code == 2
    assert sensitivity_record().exit_code == 0
