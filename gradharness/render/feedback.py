"""A check's outcome per property in plain text: what the exports (Gradescope, JUnit) tell a student or a CI log.

Every line that holds the user's text (messages, notes, the error) is escaped and capped by
:func:`gradharness.render.safe_text.shown`; newlines between lines are kept.
"""

from __future__ import annotations

from gradharness.batch.rubric import PropertyScore, Rubric, Score, score_label
from gradharness.records.check import CheckRecord, FailureRecord, PropertyStatus
from gradharness.records.verdict import RunVerdict
from gradharness.render.safe_text import MESSAGE_BYTES, shown
from gradharness.render.tallies import cause_text, failure_case_text, plural

NOT_IN_FILE = "not checked: the file does not have the functions this property needs"
NOT_RUN = "not run: no generated case got as far as this property (an earlier property failed on every case)"


def _line(text: str) -> str:
    return shown(text, MESSAGE_BYTES, keep_newlines=True)


def failure_text(failure: FailureRecord) -> str:
    """A failure: its message, the smallest failing case, its likely causes and the gradient check's difference."""
    lines = [_line(failure.message)]
    case = failure_case_text(failure)
    if case:
        lines.append(f"smallest failing case: {case}")
    lines += [f"likely cause: {_line(cause_text(cause))}" for cause in failure.likely_causes]
    check = failure.gradient_check
    if check is not None:
        lines.append(f"difference {check.difference:.3g} (threshold {check.threshold:g})")
    return "\n".join(lines)


def property_text(record: CheckRecord, part: PropertyScore) -> str:
    """What one property's part of a check says: held on how many cases, why it failed, or why it was not checked."""
    if record.verdict is RunVerdict.ERROR:
        return f"not checked: {_line(record.error or 'the file could not be checked')}"
    if part.status is None:
        return NOT_IN_FILE
    cases = plural(part.examples, "generated case")
    if part.status is PropertyStatus.PASSED:
        return f"held on {cases}"
    if part.status is PropertyStatus.STOPPED:
        return f"held on {cases}; the drawing stopped at another property's failure" if part.examples else NOT_RUN
    if part.status is PropertyStatus.NOT_RUN:
        return NOT_RUN
    failures = [failure_text(f) for f in record.failures if f.property == part.name]
    return "\n\n".join(failures) or "failed"


def first_line(text: str) -> str:
    """The first non-empty line of ``text`` (for a one-line message attribute)."""
    return next((line for line in text.splitlines() if line.strip()), text)


def record_text(record: CheckRecord, points: Score, rubric: Rubric) -> str:
    """The whole check in a few lines: verdict, file and score; the error; the notes; how to reproduce it."""
    lines = [
        f"{record.verdict.value.upper()} {_line(str(record.target.get('path', '')))}: score "
        f"{score_label(points.points)} of {score_label(points.max_points)} points (rubric: {_line(rubric.source)})"
    ]
    if record.error:
        lines.append(_line(record.error))
    lines += [f"note: {_line(str(note))}" for note in record.target.get("notes") or []]
    if record.reproduce:
        lines.append(f"reproduce: {_line(record.reproduce)}")
    return "\n".join(lines)
