"""The summary of a batch check (``kind: "batch"``, ``summary.json``) as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradharness.records.store import SCHEMA_VERSION
from gradharness.records.verdict import RunVerdict


@dataclass(frozen=True)
class SummaryRow:
    """One file's line in the summary table."""

    file: str
    verdict: RunVerdict
    exit_code: int
    wrong_blocks: list[str]
    failed_properties: list[str]
    smallest_network: str | None
    error: str | None
    seconds: float
    report_json: str
    report_html: str | None
    report_text: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BatchSummary:
    """The whole batch: settings shared by every file, counts per verdict (pass, fail, error), rows."""

    created: str
    settings: dict[str, Any]
    counts: dict[str, int]
    rows: list[SummaryRow]
    interrupted: bool = False
    """The batch was stopped (Ctrl-C, a signal): only the files that finished are listed."""
    kind: str = "batch"
    schema_version: int = SCHEMA_VERSION

    @property
    def exit_code(self) -> int:
        """0 when every file passed, 1 when any failed or could not be checked."""
        return 0 if all(row.verdict is RunVerdict.PASS for row in self.rows) else 1
