"""The batch summary page: the class overview (tables and a bar chart of the class statistics), then a row per file.

The view model holds the counts as numbers and the labels in words (a property's description,
never its internal name); the template formats them. The chart is matplotlib's SVG, inlined.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from gradharness.batch.overview import class_statistics
from gradharness.properties.failures import Property
from gradharness.records.batch import BatchSummary, CauseCount, ClassStatistics
from gradharness.records.verdict import RunVerdict
from gradharness.render.html import charts

VERDICT_LABEL = {RunVerdict.PASS.value: "pass", RunVerdict.FAIL.value: "fail", RunVerdict.ERROR.value: "not checked"}
_VERDICT_COLOUR = {
    RunVerdict.PASS.value: "#2a9d5c",
    RunVerdict.FAIL.value: "#c0392b",
    RunVerdict.ERROR.value: "#b58900",
}


@dataclass(frozen=True)
class CountRow:
    """One line of an overview table: what, how many files, and a detail (e.g. the operator that found it)."""

    label: str
    files: int
    detail: str = ""
    colour: str | None = None  # its bar's colour in the chart (default: the chart's)


@dataclass(frozen=True)
class CountTable:
    """One overview table (``ident`` is its HTML id); ``empty`` is said when it has no rows."""

    ident: str
    title: str
    heading: str
    rows: list[CountRow]
    empty: str
    chart: bool = True  # drawn in the overview's bar chart too


@dataclass(frozen=True)
class RubricLine:
    """A property the rubric gives points to."""

    description: str
    points: float


@dataclass(frozen=True)
class SummaryView:
    """Everything the summary page shows above the rows (the rows are the summary's own)."""

    statistics: ClassStatistics
    tables: list[CountTable]
    rubric: list[RubricLine]
    chart: Markup | None


def property_label(name: str) -> str:
    """A property in words: its description (the name itself for a property this gradharness does not know)."""
    return Property[name].value if name in Property.__members__ else name


def _cause_detail(cause: CauseCount) -> str:
    if cause.operator:
        return f"operator {cause.operator}"
    return f"closed-form fit: {cause.fit}" if cause.fit else ""


def _tables(statistics: ClassStatistics) -> list[CountTable]:
    causes = [CountRow(c.description, c.files, _cause_detail(c)) for c in statistics.likely_causes]
    if statistics.unexplained:
        causes.append(CountRow("a wrong gradient no likely cause explains", statistics.unexplained))
    verdicts = statistics.verdicts.items()
    return [
        CountTable(
            "by-verdict", "Verdict", "verdict",
            [CountRow(VERDICT_LABEL.get(v, v), n, colour=_VERDICT_COLOUR.get(v)) for v, n in verdicts if n], "no files",
        ),
        CountTable(
            "by-score", "Score", f"points of {statistics.max_score:g}",
            [CountRow(points, n) for points, n in statistics.scores.items()], "no files", chart=False,
        ),
        CountTable(
            "by-block", "Wrong block", "gradient block",
            [CountRow(block, n) for block, n in statistics.wrong_blocks.items()], "no file has a wrong gradient block",
        ),
        CountTable("by-cause", "Likely cause", "likely cause", causes, "no likely cause found"),
        CountTable(
            "by-property", "Failed property", "property",
            [CountRow(property_label(name), n) for name, n in statistics.failed_properties.items()],
            "no property failed",
        ),
    ]  # fmt: skip


def _chart(tables: list[CountTable]) -> Markup | None:
    panels = [
        charts.CountPanel(
            table.title, [row.label for row in table.rows], [row.files for row in table.rows],
            [row.colour or "#6c8ebf" for row in table.rows] if any(row.colour for row in table.rows) else None,
        )
        for table in tables
        if table.chart and table.rows
    ]  # fmt: skip
    # matplotlib's SVG writer escapes the text it draws; the result is trusted markup.
    return Markup(charts.count_bars(panels, xlabel="files")) if panels else None


def build_summary_view(summary: BatchSummary) -> SummaryView:
    """The overview of ``summary`` (its statistics, or, in a summary written before they were kept, from its rows)."""
    statistics = summary.statistics or class_statistics(
        summary.rows, max((row.max_score for row in summary.rows), default=0.0)
    )
    tables = _tables(statistics)
    rubric = [RubricLine(property_label(name), points) for name, points in summary.rubric.items() if points > 0]
    return SummaryView(statistics, tables, rubric, _chart(tables))
