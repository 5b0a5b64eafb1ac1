"""View models of mutate and sensitivity reports, built from the mutation harness's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gradharness.mutation.sensitivity import SAFE_MEANING, not_safe
from gradharness.records.mutation import MutantRecord, MutateRecord, ScoreRecord, SensitivityRecord
from gradharness.records.status import MutantStatus
from gradharness.render.html.viewmodels import Header, Row, environment_rows, flatten_settings
from gradharness.render.safe_text import DIFF_BYTES, cut, cut_marker

# Survivors first: what needs a look, then what was only noticed by a crash or a hang, then kills.
_STATUS_ORDER = [
    MutantStatus.SURVIVED,
    MutantStatus.EQUIVALENT,
    MutantStatus.TIMED_OUT,
    MutantStatus.CRASHED,
    MutantStatus.KILLED,
]


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff; ``kind`` is add, del, hunk or context."""

    text: str
    kind: str


@dataclass(frozen=True)
class MutantRow:
    """One mutant in the table."""

    id: str
    operator: str
    line: int
    description: str
    status: str
    kill_kind: str | None
    examples_to_kill: int | None
    caught: str
    counterexample: str
    exercise_case: str | None
    note: str
    diff: list[DiffLine]


@dataclass(frozen=True)
class ScoreRow:
    """Counts and scores of the whole campaign or one operator."""

    name: str
    total: int
    killed: int
    crashed: int
    timed_out: int
    survived: int
    equivalent: int
    score: float | None
    checker_score: float | None


@dataclass(frozen=True)
class HarnessView:
    """The proof run before any kill is counted."""

    passed: bool
    unmutated: str
    broken: str
    message: str


@dataclass(frozen=True)
class ChartSpec:
    """Arguments of :func:`gradharness.render.html.charts.line_chart` or ``bar_chart``."""

    kind: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class MutateView:
    """Everything a mutate report shows."""

    header: Header
    checker: list[Row]
    harness: HarnessView | None
    score: ScoreRow | None
    operators: list[ScoreRow]
    operator_chart: ChartSpec | None
    mutants: list[MutantRow]
    examples_to_kill: list[Row]
    examples_summary: str
    exercise_case: str
    exercise_missed: list[str]
    engines: list[Row]
    cases: int
    cases_dropped: int
    seconds: float
    error: str | None


@dataclass(frozen=True)
class SweepRow:
    """One block of the magnitude sweep: the fraction caught per delta, and the smallest deltas caught."""

    block: str
    cases: int
    caught: list[float]
    smallest_always: float | None
    smallest_half: float | None
    smallest_any: float | None


@dataclass(frozen=True)
class ThresholdRow:
    """One threshold of the threshold sweep; ``safe`` and ``bare_safe`` judged apart (see SAFE_MEANING)."""

    threshold: float
    false_failures: float
    kill_rate: float
    bare_false_failures: float
    bare_kill_rate: float
    safe: bool  # for the checker
    bare_safe: bool  # for the bare rule
    why_not: str  # why the checker is not safe here ("" when it is)
    bare_why_not: str


@dataclass(frozen=True)
class SensitivityView:
    """Everything a sensitivity report shows."""

    header: Header
    checker: list[Row]
    harness: HarnessView | None
    deltas: list[float]
    blocks: list[SweepRow]
    exercised: str  # how many cases exercise each block: the denominators of the detection curve
    detection_chart: ChartSpec | None
    detection_overlap: str  # which curves coincide (drawn as one line), "" when none do
    thresholds: list[ThresholdRow]
    threshold_chart: ChartSpec | None
    threshold_overlap: str
    safe_meaning: str
    safe: list[float]
    bare_safe: list[float]
    mutants: int
    cases: int
    seconds: float
    error: str | None


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def diff_lines(diff: str) -> list[DiffLine]:
    """A unified diff split into lines tagged for colouring (at most DIFF_BYTES of it, then what was cut)."""
    lines = []
    kept, dropped = cut(diff.rstrip("\n"), DIFF_BYTES)
    for text in kept.split("\n") if kept else []:
        if text.startswith(("+++ ", "--- ")):
            continue  # the file names: the same file for every mutant, named in the header
        elif text.startswith("@@"):
            kind = "hunk"
        elif text.startswith("+"):
            kind = "add"
        elif text.startswith("-"):
            kind = "del"
        else:
            kind = "context"
        lines.append(DiffLine(text, kind))
    if dropped:
        lines.append(DiffLine(cut_marker(dropped).strip(), "hunk"))
    return lines


def _counterexample(mutant: MutantRecord) -> str:
    case = mutant.counterexample
    if not case or "sizes" not in case:
        return ""
    sizes = "-".join(str(n) for n in case["sizes"])
    return f"sizes {sizes}, m={case.get('m')}" + (" (shrunk)" if mutant.shrunk else "")


def _note(mutant: MutantRecord) -> str:
    if mutant.status is MutantStatus.EQUIVALENT and mutant.equivalence:
        return f"believed equivalent: {mutant.equivalence}"
    return mutant.message or ""


def mutant_row(mutant: MutantRecord) -> MutantRow:
    """The table row of one mutant."""
    return MutantRow(
        id=mutant.id,
        operator=mutant.operator,
        line=mutant.line,
        description=mutant.description,
        status=mutant.status.value,
        kill_kind=mutant.kill_kind.value if mutant.kill_kind is not None else None,
        examples_to_kill=mutant.examples_to_kill,
        caught=f"{mutant.cases_killed + mutant.cases_crashed}/{mutant.cases}" if mutant.cases else "",
        counterexample=_counterexample(mutant),
        exercise_case=mutant.exercise_case.value if mutant.exercise_case is not None else None,
        note=_note(mutant),
        diff=diff_lines(mutant.diff),
    )


def score_row(score: ScoreRecord) -> ScoreRow:
    """Counts and scores of a group of mutants."""
    return ScoreRow(
        score.name, score.total, score.killed, score.crashed, score.timed_out, score.survived, score.equivalent,
        score.score, score.checker_score,
    )  # fmt: skip


def _checker_rows(record: MutateRecord | SensitivityRecord) -> list[Row]:
    checker = record.checker
    rows = [Row("checker under test", str(checker.get("function") or checker.get("kind") or "?"))]
    if checker.get("path"):
        rows.append(Row("checker file", str(checker["path"])))
        rows.append(Row("checker SHA-256", str(checker.get("sha256") or "n/a")))
    if record.target.get("function"):
        rows.insert(0, Row("mutated function", str(record.target["function"])))
    return rows


def _header(record: MutateRecord | SensitivityRecord, kind: str, summary: str, created: datetime) -> Header:
    target = str(record.target.get("path") or "(unknown target)")
    return Header(
        kind=kind,
        title=f"gradharness {kind}: {target}",
        verdict=record.verdict.value,
        verdict_label=record.verdict.value.upper(),
        summary=summary,
        target=target,
        sha256=record.target.get("sha256"),
        created=created.isoformat(timespec="seconds"),
        environment=environment_rows(record.environment),
        settings=flatten_settings(record.settings),
        reproduce=record.reproduce,
    )


def _harness(record: MutateRecord | SensitivityRecord) -> HarnessView | None:
    h = record.harness
    return None if h is None else HarnessView(h.passed, h.unmutated, h.broken, h.message)


def _mutate_summary(record: MutateRecord) -> str:
    if record.error:
        return f"the campaign could not run: {record.error}"
    if record.harness is not None and not record.harness.passed:
        return f"the harness proof failed: {record.harness.message}"
    score = record.score
    if score is None:
        return "no mutants"
    counted = score.total - score.equivalent
    detected = score.killed + score.crashed + score.timed_out
    text = f"mutation score {_percent(score.score)}: {detected} of {counted} mutants detected"
    text += f"; {score.survived} survived" if score.survived else "; none survived"
    if score.equivalent:
        text += f"; {score.equivalent} equivalent candidate{'s' if score.equivalent != 1 else ''} not counted"
    return text


def _operator_chart(operators: list[ScoreRow]) -> ChartSpec | None:
    if not operators:
        return None
    return ChartSpec(
        "bars",
        {
            "labels": [o.name for o in operators],
            "stacks": {
                "killed by the checker": [o.killed for o in operators],
                "crashed": [o.crashed for o in operators],
                "timed out": [o.timed_out for o in operators],
                "survived": [o.survived for o in operators],
                "equivalent": [o.equivalent for o in operators],
            },
            "xlabel": "mutants",
        },
    )


def build_mutate_view(record: MutateRecord, *, created: datetime) -> MutateView:
    """The view of a mutate record; mutants sorted survivors first."""
    mutants = sorted(record.mutants, key=lambda m: (_STATUS_ORDER.index(m.status), m.operator, m.line, m.id))
    operators = [score_row(s) for s in record.operators]
    examples = record.examples_to_kill
    if examples is not None and (examples.median is not None or examples.maximum is not None):
        summary = f"median {examples.median:g}, most {examples.maximum}" if examples.median is not None else ""
    else:
        summary = ""
    exercise = record.exercise_case
    exercise_text = ""
    if exercise is not None:
        exercise_text = (
            f"The exercise's single fixed case (4-5-3-1, m=3) alone detects {exercise.detected} mutants; "
            f"it misses {len(exercise.missed)} that the generated cases catch."
        )
    return MutateView(
        header=_header(record, "mutate", _mutate_summary(record), created),
        checker=[Row("engine", record.engine), *_checker_rows(record)],
        harness=_harness(record),
        score=score_row(record.score) if record.score is not None else None,
        operators=operators,
        operator_chart=_operator_chart(operators),
        mutants=[mutant_row(m) for m in mutants],
        examples_to_kill=[Row(k, str(v)) for k, v in (examples.buckets.items() if examples else [])],
        examples_summary=summary,
        exercise_case=exercise_text,
        exercise_missed=list(exercise.missed) if exercise else [],
        engines=[
            Row(
                e.engine,
                f"{e.mutants} mutants in {e.seconds:.2f} s ({e.mutants_per_second:.1f}/s)"
                + (f"; {e.note}" if e.note else ""),
            )
            for e in record.engines
        ],
        cases=record.cases,
        cases_dropped=record.cases_dropped,
        seconds=record.seconds,
        error=record.error,
    )


def _sensitivity_summary(record: SensitivityRecord) -> str:
    if record.error:
        return f"the sweep could not run: {record.error}"
    found = [(b.block, b.smallest_always) for b in record.blocks]
    if not found:
        return "no blocks swept"
    parts = ", ".join(f"{name} {'—' if delta is None else format(delta, 'g')}" for name, delta in found)
    return f"smallest relative error caught on every case: {parts}"


Line = tuple[str, list[float], list[float]]
"""One curve of a line chart: label, x values, y values."""


def coinciding(lines: list[Line]) -> list[list[str]]:
    """The labels of curves with the same values at every point, grouped (single curves too), in order."""
    groups: dict[tuple[tuple[float, ...], tuple[float, ...]], list[str]] = {}
    for label, xs, ys in lines:
        groups.setdefault((tuple(xs), tuple(ys)), []).append(label)
    return list(groups.values())


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def merge_coinciding(lines: list[Line]) -> tuple[list[Line], str]:
    """Curves that coincide drawn as one line labelled ``a = b = c``, and a sentence naming them.

    One above another, such curves hide all but the top one whatever their markers; one line
    with every name in its legend entry keeps each of them identifiable.
    """
    by_label = {label: (xs, ys) for label, xs, ys in lines}
    merged: list[Line] = []
    overlaps: list[str] = []
    for group in coinciding(lines):
        xs, ys = by_label[group[0]]
        merged.append((" = ".join(group), xs, ys))
        if len(group) > 1:
            overlaps.append(_joined(group))
    if not overlaps:
        return merged, ""
    first, *rest = overlaps
    also = "".join(f"; so do {names}" for names in rest)
    return (
        merged,
        f"{first} coincide{also} (the same value at every point): each set is one line, named after all of its curves.",
    )


def exercised_text(record: SensitivityRecord) -> str:
    """``dW1 on 96 of the 100 cases, db1 on 96, ...``: the cases that exercise each block."""
    parts = [f"{b.block} on {b.cases}" for b in record.blocks]
    if parts:
        parts[0] += f" of the {record.cases} cases"
    return ", ".join(parts)


def threshold_rows(record: SensitivityRecord) -> list[ThresholdRow]:
    """The sweep's rows, each judged safe or not for the checker and, apart, for the bare rule."""
    points = record.threshold_sweep
    why, bare_why = not_safe(points), not_safe(points, bare=True)
    rows = []
    for p, checker, bare in zip(points, why, bare_why, strict=True):
        rows.append(
            ThresholdRow(
                p.threshold,
                p.false_failures,
                p.kill_rate,
                p.bare_false_failures,
                p.bare_kill_rate,
                safe=not checker,
                bare_safe=not bare,
                why_not=checker,
                bare_why_not=bare,
            )
        )
    return rows


def _detection_chart(deltas: list[float], blocks: list[SweepRow]) -> tuple[ChartSpec | None, str]:
    if not blocks or not deltas:
        return None, ""
    lines, note = merge_coinciding([(b.block, deltas, b.caught) for b in blocks])
    chart = ChartSpec(
        "line",
        {
            "series": lines,
            "xlabel": "delta: the block scaled by (1 + delta)",
            "ylabel": "fraction of the cases exercising it caught",
            "log_x": True,
            "invert_x": True,
            "y_range": (-0.03, 1.03),
            "legend": True,  # one line may stand for every block: its legend entry says which
        },
    )
    return chart, note


def _threshold_chart(thresholds: list[ThresholdRow], configured: Any) -> tuple[ChartSpec | None, str]:
    if not thresholds:
        return None, ""
    xs = [t.threshold for t in thresholds]
    lines, note = merge_coinciding(
        [
            ("false failures (checker)", xs, [t.false_failures for t in thresholds]),
            ("kill rate (checker)", xs, [t.kill_rate for t in thresholds]),
            ("false failures (bare rule)", xs, [t.bare_false_failures for t in thresholds]),
            ("kill rate (bare rule)", xs, [t.bare_kill_rate for t in thresholds]),
        ]
    )
    chart = ChartSpec(
        "line",
        {
            "series": lines,
            "xlabel": "threshold on the relative difference",
            "ylabel": "rate",
            "log_x": True,
            "invert_x": True,
            "y_range": (-0.03, 1.03),
            "marker_x": configured if isinstance(configured, (int, float)) else None,
            "legend": True,
        },
    )
    return chart, note


def build_sensitivity_view(record: SensitivityRecord, *, created: datetime) -> SensitivityView:
    """The view of a sensitivity record, with the two charts' data."""
    deltas = list(record.deltas)
    blocks = [
        SweepRow(b.block, b.cases, list(b.caught), b.smallest_always, b.smallest_half, b.smallest_any)
        for b in record.blocks
    ]
    thresholds = threshold_rows(record)
    detection, detection_overlap = _detection_chart(deltas, blocks)
    sweep, threshold_overlap = _threshold_chart(thresholds, record.settings.get("threshold"))
    return SensitivityView(
        header=_header(record, "sensitivity", _sensitivity_summary(record), created),
        checker=_checker_rows(record),
        harness=_harness(record),
        deltas=deltas,
        blocks=blocks,
        exercised=exercised_text(record),
        detection_chart=detection,
        detection_overlap=detection_overlap,
        thresholds=thresholds,
        threshold_chart=sweep,
        threshold_overlap=threshold_overlap,
        safe_meaning=SAFE_MEANING,
        safe=[t.threshold for t in thresholds if t.safe],
        bare_safe=[t.threshold for t in thresholds if t.bare_safe],
        mutants=record.mutants,
        cases=record.cases,
        seconds=record.seconds,
        error=record.error,
    )
