"""The mutation-testing-elements export: the report schema's required fields, statuses and locations."""

from __future__ import annotations

import json

from test_mutation_records import _mutant, mutate_record

from gradharness.mutation.export import save_mutation_testing_elements, to_mutation_testing_elements

SOURCE = "line one\nline two\nline three\n"
STATUSES = {"Killed", "Survived", "NoCoverage", "CompileError", "RuntimeError", "Timeout", "Ignored", "Pending"}


def _export(*mutants):
    record = mutate_record()
    record = type(record)(**{**record.__dict__, "mutants": list(mutants)})
    return to_mutation_testing_elements(record, SOURCE)


def test_required_fields_and_types() -> None:
    report = _export(_mutant())
    assert report["schemaVersion"] == "2" and set(report["thresholds"]) == {"high", "low"}
    ((name, file),) = report["files"].items()
    assert name == "gradharness/model/network.py"
    assert file["language"] == "python" and file["source"] == SOURCE
    (mutant,) = file["mutants"]
    assert {"id", "mutatorName", "location", "status"} <= set(mutant)
    assert mutant["status"] in STATUSES and isinstance(mutant["id"], str)
    assert mutant["location"] == {"start": {"line": 3, "column": 11}, "end": {"line": 3, "column": 20}}
    assert report["framework"]["name"] == "gradharness"


def test_statuses_map_to_the_schemas() -> None:
    mutants = [
        _mutant(id="k", status="killed"),
        _mutant(id="c", status="crashed", kill_kind="malformed", message="db3 has shape (1,)"),
        _mutant(id="t", status="timed_out", kill_kind="timeout"),
        _mutant(id="s", status="survived", kill_kind=None, message=None, examples_to_kill=None),
        _mutant(id="e", status="equivalent", kill_kind=None, equivalence="relu(Z) > 0 exactly when Z > 0"),
    ]
    exported = {m["id"]: m for m in _export(*mutants)["files"]["gradharness/model/network.py"]["mutants"]}
    assert {k: v["status"] for k, v in exported.items()} == {
        "k": "Killed", "c": "Killed", "t": "Timeout", "s": "Survived", "e": "Ignored",
    }  # fmt: skip
    assert exported["c"]["statusReason"].startswith("crash kill (malformed)")
    assert "relu(Z) > 0" in exported["e"]["statusReason"]
    assert exported["k"]["testsCompleted"] == 4


def test_written_atomically_as_json(tmp_path) -> None:
    save_mutation_testing_elements(mutate_record(), SOURCE, tmp_path / "mte.json")
    assert json.loads((tmp_path / "mte.json").read_text())["schemaVersion"] == "2"
