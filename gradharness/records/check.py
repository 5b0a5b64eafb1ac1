"""Results of a check run as plain data (``kind: "check"``), saved and loaded by :mod:`gradharness.records.store`.

Statuses are Enums; the JSON holds their values: a run's ``verdict`` pass/fail/error, a
property's ``status`` passed/failed/not run/stopped, a failure's ``kind`` (FailureKind), and the
checker's verdicts (Verdict) of each block and entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gradharness.check.verdict import Verdict
from gradharness.records.status import FailureKind
from gradharness.records.store import SCHEMA_VERSION
from gradharness.records.verdict import RunVerdict


class PropertyStatus(Enum):
    """How one property went over a run."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not run"  # no generated case got as far as this property
    STOPPED = "stopped"  # held on every case it saw, but another property's failure ended the drawing early


@dataclass(frozen=True)
class EntryRecord:
    """A named gradient entry, backprop against numerical."""

    name: str
    backprop: float
    numerical: float
    status: Verdict


@dataclass(frozen=True)
class BlockRecord:
    """One gradient block's difference and verdict."""

    name: str
    difference: float
    verdict: Verdict
    entries: int
    kinks: int
    saturated: int
    mode: str = "full"  # "full" (every entry perturbed) or "screened" (random directional probes)
    exercised: bool = True  # False: the numerical gradient is exactly 0 on every checked entry (nothing compared)
    shape: list[int] | None = None  # the block's shape (None in records of the exercise written before targets)


@dataclass(frozen=True)
class GradientRecord:
    """The gradient check of a failing case, with per-entry values for heat maps."""

    difference: float
    verdict: Verdict
    reason: str
    epsilon: float | None
    threshold: float
    method: str
    blocks: list[BlockRecord]
    worst_entries: list[EntryRecord]
    grad: list[float]
    gradapprox: list[float | None]
    entry_status: list[Verdict]


@dataclass(frozen=True)
class DrawnFailure:
    """The first generated case that failed a property, as Hypothesis drew it (before any shrinking).

    ``case`` is a network case's plain data (``point`` the 1-D one's x and theta); ``difference``
    and ``wrong_blocks`` summarise its gradient check, when one ran.
    """

    message: str
    case: dict[str, Any] | None = None
    point: list[float] | None = None
    difference: float | None = None
    wrong_blocks: list[str] = field(default_factory=list)
    description: str | None = None  # the case in words, as its target describes it


@dataclass(frozen=True)
class ObservedCase:
    """What the user's backward returned on one more case (``case``'s plain data): ``gradients`` in the
    seed's order dW1, db1, ..., db3, for naming a failure's likely cause on more than the shrunk case."""

    case: dict[str, Any]
    gradients: list[float]


@dataclass(frozen=True)
class LikelyCause:
    """A common mistake that gives the user's wrong gradients on the failing case.

    ``operator``: the mutation operator whose mutant of the reference backward reproduces them
    (None for a closed-form fit alone); ``fit``: the closed-form fit (``multiple``, ``zero``,
    ``transpose``; None for a mutant alone). ``as_if``: the reference's line as the mutant changes
    it; ``variable``: what that line assigns (``dZ1`` for a mask, not only the ``dW1`` it feeds);
    ``line``: the line of the user's .py file that assigns it, when found, and ``where`` that place
    in words (``line 68``, ``cell 18, line 23`` in a notebook); ``cases``: how many of the
    ``tried`` cases (the failing case and the failure's ``observed`` ones) it explains.
    """

    description: str
    blocks: list[str]
    operator: str | None = None
    fit: str | None = None
    as_if: str | None = None
    variable: str | None = None
    line: int | None = None
    where: str | None = None
    cases: int = 1
    tried: int = 1


@dataclass(frozen=True)
class FailureRecord:
    """The smallest failing case of one property.

    ``examples_before``: generated cases (shrink steps not counted) up to and including the first
    that failed this property; all the generated cases when the failure first showed while shrinking.
    ``observed``: the user's gradients on more cases (a wrong gradient's), ``likely_causes`` what
    explains them. ``target``: the target whose property failed, ``description`` what that property asserts. ``first_case``: that first failing generated case, before shrinking (None when the failure first
    showed while shrinking, or in records written before it was kept).
    """

    property: str  # the Property's name, e.g. GRADIENT_AGREES
    kind: FailureKind
    message: str
    examples_before: int
    case: dict[str, Any] | None = None
    point: list[float] | None = None
    gradient_check: GradientRecord | None = None
    first_case: DrawnFailure | None = None
    observed: list[ObservedCase] = field(default_factory=list)
    likely_causes: list[LikelyCause] = field(default_factory=list)
    target: str = "exercise"  # the target whose property failed
    description: str = ""  # what the property asserts ("" in records written before targets: the exercise's)
    case_description: str | None = None  # the case in words, e.g. "sizes 4-5-3-1 (L=3), m=2"


@dataclass(frozen=True)
class PropertyRecord:
    """One property: passed, failed, stopped or not run, and on how many generated cases it was evaluated."""

    name: str
    description: str
    status: PropertyStatus
    examples: int
    target: str = "exercise"  # the target the property belongs to
    precision: str | None = None  # what the code was judged at (float64, float32), for targets that say


@dataclass(frozen=True)
class CheckRecord:
    """Everything a check run found.

    Counts are of generated cases (drawn by Hypothesis; shrink steps are never counted):
    ``examples`` sums the network cases and the 1-D points; ``diagnoses`` counts the checker's
    verdicts on the generated cases whose gradient check held; ``wrong_blocks`` counts, per block,
    the generated network cases that failed with that block wrong.
    """

    target: dict[str, Any]
    settings: dict[str, Any]
    verdict: RunVerdict
    properties: list[PropertyRecord]
    failures: list[FailureRecord] = field(default_factory=list)
    diagnoses: dict[str, int] = field(default_factory=dict)
    wrong_blocks: dict[str, int] = field(default_factory=dict)
    examples: int = 0
    seconds: float = 0.0
    error: str | None = None
    reproduce: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    kind: str = "check"
    created: str | None = None  # ISO 8601 UTC time the run finished
    schema_version: int = SCHEMA_VERSION

    @property
    def exit_code(self) -> int:
        """0 pass, 1 a property failed, 2 the code could not be checked."""
        return self.verdict.exit_code
