"""Results of ``gradharness mutate`` and ``gradharness sensitivity`` as plain data (JSON, schema_version 1).

Saved and loaded by :mod:`gradharness.records.store` (other schema versions, other kinds
and unknown keys are refused; non-finite floats are encoded as
:mod:`gradharness.records.serialise` describes). The fields, kept stable:

**MutateRecord** (``kind: "mutate"``)
  ``target`` {path, sha256, function}: the backward pass mutated (path ``builtin:...`` for the
  reference); ``checker`` {kind: builtin|file, path, sha256, function}: the checker under test;
  ``engine``: ``domain`` (gradharness's operators), ``mutmut`` or ``both``; ``settings``: seed,
  max_examples, epsilon, threshold, jobs, timeout, strategy, shrink, operators;
  ``verdict``: ``pass`` (every mutant not believed equivalent was detected), ``fail`` (survivors,
  or a checker under test that failed the harness proof), ``error``; ``harness``: the proof that
  the unmutated code passes and a deliberately broken one is caught; ``cases`` (generated cases
  used) and ``cases_dropped`` (left out as inconclusive, only for a checker under test);
  ``mutants``: one MutantRecord each; ``score``: the totals (ScoreRecord, name ``all``);
  ``operators``: a ScoreRecord per operator; ``examples_to_kill``: how many cases a mutant
  survives before it is caught (ExamplesRecord); ``exercise_case``: what the exercise's single
  fixed case catches and misses; ``engines``: throughput of each engine (EngineRecord);
  ``seconds``; ``error``; ``reproduce`` (the command); ``environment`` (versions).

**MutantRecord**
  ``id`` (e.g. ``scale_gradient-3``, ``mutmut-17``), ``operator``, ``engine``; the edit's
  ``line``/``column``/``end_line``/``end_column`` (1-based), ``original`` and ``replacement``
  text, a one-line ``description`` and the unified ``diff``; ``status`` (killed, crashed,
  timed_out, survived, equivalent); ``kill_kind`` (wrong, nonfinite, side_effect, crashed,
  malformed, timeout, worker_exit, test_failed); ``message`` (what failed, on the counterexample);
  ``examples_to_kill`` (1-based position of the first generated case that caught it);
  ``cases_killed``/``cases_crashed``/``cases`` (how many of the cases caught it);
  ``counterexample`` (the smallest case that caught it, as NetworkCase.to_json; ``shrunk`` when
  Hypothesis shrank it); ``exercise_case`` (its status on the exercise's fixed case alone);
  ``equivalence`` (why a survivor is believed equivalent); ``seconds``.

**SensitivityRecord** (``kind: "sensitivity"``)
  ``target``, ``checker``, ``settings`` as above; ``verdict`` pass or error; ``harness`` (the
  same proof; a checker under test that fails it is still measured); ``cases``;
  ``deltas``: the relative errors swept (1e-1 ... 1e-10); ``blocks``: per gradient block, the
  fraction of cases on which scaling the block by (1 + delta) is caught, for each delta, and the
  smallest delta caught on every / half / any of the cases; ``thresholds`` and
  ``threshold_sweep``: per threshold, the false-failure rate on the unmutated code and the
  kill rate over the non-equivalent mutants, with the checker's noise diagnosis and with the
  exercise's bare ``difference > threshold`` rule; ``mutants`` (how many the kill rate is
  over); ``safe_thresholds`` (no false failure and the best kill rate); ``seconds``, ``error``,
  ``reproduce``, ``environment``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradharness.records.status import KillKind, MutantStatus
from gradharness.records.store import SCHEMA_VERSION
from gradharness.records.verdict import RunVerdict


@dataclass(frozen=True)
class MutantRecord:
    """One mutant: the edit, and what the properties made of it."""

    id: str
    operator: str
    engine: str
    line: int
    column: int
    end_line: int
    end_column: int
    original: str
    replacement: str
    description: str
    diff: str
    status: MutantStatus
    kill_kind: KillKind | None = None
    message: str | None = None
    examples_to_kill: int | None = None
    cases_killed: int = 0
    cases_crashed: int = 0
    cases: int = 0
    counterexample: dict[str, Any] | None = None
    shrunk: bool = False
    exercise_case: MutantStatus | None = None
    equivalence: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class HarnessRecord:
    """The proof run before any kill is counted."""

    passed: bool
    unmutated: str  # status of the unmutated backward (must be "survived")
    broken: str  # status of the deliberately broken one (must be "killed"; "not run" if the unmutated one failed)
    message: str


@dataclass(frozen=True)
class ScoreRecord:
    """Counts and scores of a group of mutants (``name`` "all" or an operator's name)."""

    name: str
    total: int
    killed: int
    crashed: int
    timed_out: int
    survived: int
    equivalent: int
    score: float | None  # (killed + crashed + timed_out) / (total - equivalent)
    checker_score: float | None  # killed / (total - equivalent): the checker's own kills


@dataclass(frozen=True)
class ExamplesRecord:
    """How many generated cases mutants survive before the first one that catches them."""

    buckets: dict[str, int]
    median: float | None
    maximum: int | None


@dataclass(frozen=True)
class ExerciseCaseRecord:
    """The exercise's single fixed case (4-5-3-1, m=3) against the generated cases."""

    detected: int  # mutants the fixed case alone detects
    missed: list[str]  # ids of mutants the generated cases detect and the fixed case misses


@dataclass(frozen=True)
class EngineRecord:
    """Throughput of one engine on the target, end to end and in its mutation phase."""

    engine: str
    mutants: int
    seconds: float
    mutants_per_second: float
    phase_seconds: float | None = None
    phase_mutants_per_second: float | None = None
    note: str = ""


@dataclass(frozen=True)
class MutateRecord:
    """Everything a mutation campaign found (see the module docstring)."""

    target: dict[str, Any]
    checker: dict[str, Any]
    engine: str
    settings: dict[str, Any]
    verdict: RunVerdict
    harness: HarnessRecord | None = None
    cases: int = 0
    cases_dropped: int = 0
    mutants: list[MutantRecord] = field(default_factory=list)
    score: ScoreRecord | None = None
    operators: list[ScoreRecord] = field(default_factory=list)
    examples_to_kill: ExamplesRecord | None = None
    exercise_case: ExerciseCaseRecord | None = None
    engines: list[EngineRecord] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    reproduce: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    kind: str = "mutate"
    schema_version: int = SCHEMA_VERSION

    @property
    def exit_code(self) -> int:
        """0 every non-equivalent mutant detected, 1 survivors or a broken checker, 2 could not run."""
        return self.verdict.exit_code


@dataclass(frozen=True)
class BlockSweepRecord:
    """One gradient block scaled by (1 + delta): the fraction of cases caught, per delta."""

    block: str
    cases: int  # cases on which the block is not all zeros (scaling zeros changes nothing)
    caught: list[float]  # aligned with SensitivityRecord.deltas
    smallest_always: float | None  # smallest delta caught on every such case
    smallest_half: float | None  # ... on at least half of them
    smallest_any: float | None  # ... on at least one


@dataclass(frozen=True)
class ThresholdPointRecord:
    """At one threshold: false failures on correct code against kills of mutants."""

    threshold: float
    false_failures: float  # fraction of cases on which the unmutated code is called wrong
    kill_rate: float  # fraction of non-equivalent mutants detected
    bare_false_failures: float  # the same with the bare rule: largest block difference > threshold
    bare_kill_rate: float


@dataclass(frozen=True)
class SensitivityRecord:
    """The checker's measured sensitivity (see the module docstring)."""

    target: dict[str, Any]
    checker: dict[str, Any]
    settings: dict[str, Any]
    verdict: RunVerdict
    harness: HarnessRecord | None = None
    cases: int = 0
    deltas: list[float] = field(default_factory=list)
    blocks: list[BlockSweepRecord] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)
    threshold_sweep: list[ThresholdPointRecord] = field(default_factory=list)
    mutants: int = 0
    safe_thresholds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    reproduce: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    kind: str = "sensitivity"
    schema_version: int = SCHEMA_VERSION

    @property
    def exit_code(self) -> int:
        """0 measured, 2 could not run."""
        return self.verdict.exit_code  # pass or error: a sweep measures, it does not fail


Record = MutateRecord | SensitivityRecord
