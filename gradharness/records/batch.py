"""The summary of a batch check (``kind: "batch"``, ``summary.json``) as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradharness.records.store import SCHEMA_VERSION
from gradharness.records.verdict import RunVerdict


@dataclass(frozen=True)
class RowCause:
    """A likely cause of a file's wrong gradient, as the class statistics group it.

    ``operator``: the mutation operator whose mutant reproduces the gradients; ``fit``: the
    closed-form fit (``multiple``, ``zero``, ``transpose``); either may be None.
    """

    description: str
    operator: str | None = None
    fit: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """What files share when they have the same cause: the operator (or the fit) and the description."""
        return (self.operator or self.fit or "", self.description)


@dataclass(frozen=True)
class SummaryRow:
    """One file's line in the summary table.

    ``reason``: what went wrong, in words (the likely causes, or the failure message's first line;
    an ERROR row's error; what the rubric gives points to and the file lacks); empty when every
    property held and the file has them all. ``score`` of ``max_score``: the points the rubric gives
    the file's record (:mod:`gradharness.batch.rubric`).
    """

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
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    likely_causes: list[RowCause] = field(default_factory=list)


@dataclass(frozen=True)
class CauseCount:
    """How many files of a batch have one likely cause (grouped by :attr:`RowCause.key`)."""

    description: str
    operator: str | None
    fit: str | None
    files: int


@dataclass(frozen=True)
class ClassStatistics:
    """The class overview: how many files have each verdict, wrong block, likely cause, failed property, score.

    Every count is of files (a file with a block wrong in two failures counts once). ``unexplained``:
    files with a wrong network gradient that no likely cause explains. ``scores``: files per score
    (``"10"``, ``"8.5"``), highest first; ``mean_score`` is None for a batch with no files.
    """

    files: int
    verdicts: dict[str, int]
    wrong_blocks: dict[str, int]
    likely_causes: list[CauseCount]
    unexplained: int
    failed_properties: dict[str, int]
    scores: dict[str, int]
    mean_score: float | None
    max_score: float


@dataclass(frozen=True)
class BatchSummary:
    """The whole batch: settings shared by every file, counts per verdict (pass, fail, error), rows.

    ``rubric``: the points per property the scores were computed with; ``statistics``: the class
    overview (None in summaries written before it was kept).
    """

    created: str
    settings: dict[str, Any]
    counts: dict[str, int]
    rows: list[SummaryRow]
    interrupted: bool = False
    """The batch was stopped (Ctrl-C, a signal): only the files that finished are listed."""
    rubric: dict[str, float] = field(default_factory=dict)
    statistics: ClassStatistics | None = None
    kind: str = "batch"
    schema_version: int = SCHEMA_VERSION

    @property
    def exit_code(self) -> int:
        """0 when every file passed, 1 when any failed or could not be checked."""
        return 0 if all(row.verdict is RunVerdict.PASS for row in self.rows) else 1
