"""Export a mutate record in the mutation-testing-elements report schema (version 2).

That JSON is what Stryker's and other mutation tools' HTML viewers and dashboards read:
``files`` maps each file to its ``source`` and its ``mutants`` (id, mutatorName, location
with 1-based line/column, status Killed/Survived/Timeout/Ignored...). Crash kills are
"Killed" (a property failed because the code raised), with the kind in ``statusReason``;
equivalent candidates are "Ignored", with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradharness.records.environment import tool_version
from gradharness.records.mutation import MutantRecord, MutateRecord
from gradharness.records.status import MutantStatus
from gradharness.records.store import write_json_atomic

MTE_SCHEMA_VERSION = "2"
_STATUS = {
    MutantStatus.KILLED: "Killed",
    MutantStatus.CRASHED: "Killed",
    MutantStatus.TIMED_OUT: "Timeout",
    MutantStatus.SURVIVED: "Survived",
    MutantStatus.EQUIVALENT: "Ignored",
}


def _reason(mutant: MutantRecord) -> str | None:
    kill_kind = mutant.kill_kind.value if mutant.kill_kind is not None else None
    if mutant.status is MutantStatus.EQUIVALENT:
        return f"equivalent candidate: {mutant.equivalence}"
    if mutant.status is MutantStatus.CRASHED:
        return f"crash kill ({kill_kind}): {mutant.message}"
    if mutant.message:
        return f"{kill_kind or mutant.status.value}: {mutant.message}"
    return None


def _mutant(mutant: MutantRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": mutant.id,
        "mutatorName": mutant.operator,
        "replacement": mutant.replacement,
        "description": mutant.description,
        "location": {
            "start": {"line": mutant.line, "column": mutant.column},
            "end": {"line": mutant.end_line, "column": mutant.end_column},
        },
        "status": _STATUS[mutant.status],
        "static": False,
    }
    reason = _reason(mutant)
    if reason:
        entry["statusReason"] = reason
    if mutant.examples_to_kill is not None:
        entry["testsCompleted"] = mutant.examples_to_kill
    elif mutant.cases:
        entry["testsCompleted"] = mutant.cases
    if mutant.seconds:
        entry["duration"] = round(mutant.seconds * 1000)
    return entry


def to_mutation_testing_elements(record: MutateRecord, source: str, file_name: str | None = None) -> dict[str, Any]:
    """The report as a mutation-testing-elements JSON object (one file: the target)."""
    name = file_name or str(record.target.get("path", "target.py")).removeprefix("builtin:")
    return {
        "$schema": "https://git.io/mutation-testing-schema",
        "schemaVersion": MTE_SCHEMA_VERSION,
        "thresholds": {"high": 80, "low": 60},
        "files": {name: {"language": "python", "source": source, "mutants": [_mutant(m) for m in record.mutants]}},
        "framework": {
            "name": "gradharness",
            "version": tool_version(),
            "branding": {"homepageUrl": "https://pypi.org/project/gradharness/"},
        },
        "system": {"ci": False, "os": {"platform": record.environment.get("platform", "")}},
    }


def save_mutation_testing_elements(record: MutateRecord, source: str, path: Path) -> None:
    """Write the export atomically."""
    write_json_atomic(Path(path), to_mutation_testing_elements(record, source))
