"""A check as Gradescope's autograder ``results.json``: one test per property, scored by the rubric.

The fields are those of Gradescope's autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/, "Output format"): at the top,
``score``, ``execution_time`` (seconds), ``output``, the output formats and ``tests``; per test,
``name``, ``score``, ``max_score``, ``status`` (``"passed"`` or ``"failed"``) and ``output``.
Every output format is ``"text"``: Gradescope's default for the top-level output renders HTML,
and these texts hold what the checked code printed or raised.
"""

from __future__ import annotations

from typing import Any

from gradharness.batch.rubric import DEFAULT_RUBRIC, Rubric, score
from gradharness.records.check import CheckRecord
from gradharness.render.feedback import property_text, record_text

TEXT = "text"


def gradescope_results(record: CheckRecord, rubric: Rubric = DEFAULT_RUBRIC) -> dict[str, Any]:
    """Gradescope's ``results.json`` for one check (plain JSON data).

    A test per property the record has or the rubric gives points to (:func:`gradharness.batch.rubric.score`);
    its ``status`` is ``passed`` when the property was shown to hold, whatever it is worth; the
    top-level ``score`` is the sum of the tests' scores.
    """
    points = score(record, rubric)
    tests = [
        {
            "name": part.description,
            "score": part.points,
            "max_score": part.max_points,
            "status": "passed" if part.held else "failed",
            "output": property_text(record, part),
        }
        for part in points.parts
    ]
    return {
        "score": points.points,
        "execution_time": round(record.seconds),
        "output": record_text(record, points, rubric),
        "output_format": TEXT,
        "test_output_format": TEXT,
        "test_name_format": TEXT,
        "tests": tests,
        "extra_data": {
            "verdict": record.verdict.value,
            "max_score": points.max_points,
            "rubric": rubric.points_for(record),
        },
    }
