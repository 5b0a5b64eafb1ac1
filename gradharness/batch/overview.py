"""The class overview of a batch: how many files have each verdict, wrong block, likely cause, failed property, score.

Computed from the summary rows alone, so a summary read back gives the same statistics.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

from gradharness.batch.rubric import score_label
from gradharness.model.parameters import GRADIENT_NAMES
from gradharness.properties.failures import Property
from gradharness.records.batch import CauseCount, ClassStatistics, RowCause, SummaryRow
from gradharness.records.verdict import RunVerdict


def _ordered(names: set[str], order: list[str]) -> list[str]:
    rank = {name: i for i, name in enumerate(order)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def class_statistics(rows: Sequence[SummaryRow], max_score: float) -> ClassStatistics:
    """The class overview of a batch's rows: files per verdict, wrong block, likely cause, failed property and score."""
    verdicts = {verdict.value: sum(1 for row in rows if row.verdict is verdict) for verdict in RunVerdict}
    blocks = Counter(block for row in rows for block in row.wrong_blocks)
    properties = Counter(name for row in rows for name in row.failed_properties)
    causes: Counter[tuple[str, str]] = Counter(key for row in rows for key in {c.key for c in row.likely_causes})
    named: dict[tuple[str, str], RowCause] = {}
    for row in rows:
        for cause in row.likely_causes:
            named.setdefault(cause.key, cause)
    by_cause = [
        CauseCount(key[1], *_found_by(named[key]), files)
        for key, files in sorted(causes.items(), key=lambda item: (-item[1], item[0][1], item[0][0]))
    ]
    scores = Counter(row.score for row in rows)
    return ClassStatistics(
        files=len(rows),
        verdicts=verdicts,
        wrong_blocks={block: blocks[block] for block in _ordered(set(blocks), list(GRADIENT_NAMES))},
        likely_causes=by_cause,
        unexplained=sum(1 for row in rows if set(row.wrong_blocks) - {"dtheta"} and not row.likely_causes),
        failed_properties={name: properties[name] for name in _ordered(set(properties), list(Property.__members__))},
        scores={score_label(points): scores[points] for points in sorted(scores, reverse=True)},
        mean_score=round(statistics.fmean(row.score for row in rows), 3) if rows else None,
        max_score=max_score,
    )


def _found_by(cause: RowCause) -> tuple[str | None, str | None]:
    """The operator, or else the fit, that a group of causes shares (the other None)."""
    return (cause.operator, None) if cause.operator else (None, cause.fit)
