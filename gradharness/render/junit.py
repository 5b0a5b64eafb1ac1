"""Checks as JUnit XML for CI systems: one ``testsuite`` per file, one ``testcase`` per property.

A property that failed has a ``failure`` (its first line as ``message``, its kind as ``type``, the
whole finding as text); one that was not run, or that the file lacks the functions for, is
``skipped``; a file that could not be checked is one testcase with an ``error``. Each suite's
``properties`` hold the seed, the verdict, the score and how to reproduce the check. Built with
ElementTree (never string concatenation); the user's text is escaped by
:func:`gradharness.render.safe_text.shown`, so nothing XML 1.0 forbids is written.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gradharness.batch.rubric import DEFAULT_RUBRIC, PropertyScore, Rubric, score, score_label
from gradharness.records.check import CheckRecord, PropertyStatus
from gradharness.records.verdict import RunVerdict
from gradharness.render.feedback import first_line, property_text
from gradharness.render.safe_text import MESSAGE_BYTES, shown

_NOT_XML = re.compile("[\ufffe\uffff]")  # the two characters XML 1.0 forbids that shown() leaves as they are


def _text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", shown(text, MESSAGE_BYTES, keep_newlines=True))


def _classname(name: str) -> str:
    """``gradharness.Gradient_Checking_ipynb``: a dotted class name CI tools group the testcases by."""
    return "gradharness." + (re.sub(r"\W+", "_", Path(name).name).strip("_") or "file")


def _timestamp(created: str | None) -> str | None:
    """The record's time in UTC as JUnit writes it, ``2026-01-01T12:00:00`` (no zone); None when there is none."""
    try:
        moment = datetime.fromisoformat(created) if created else None
    except ValueError:
        return None
    if moment is None:
        return None
    return (moment.astimezone(UTC) if moment.tzinfo else moment).strftime("%Y-%m-%dT%H:%M:%S")


def _testcase(suite: ET.Element, record: CheckRecord, part: PropertyScore, classname: str) -> str:
    """Add the property's testcase; return what it counts as: passed, failures or skipped."""
    case = ET.SubElement(suite, "testcase", name=_text(part.description), classname=classname)
    if part.held:
        return "passed"
    text = property_text(record, part)
    if part.status is PropertyStatus.FAILED:
        kind = next((f.kind.value for f in record.failures if f.property == part.name), "failed")
        ET.SubElement(case, "failure", message=_text(first_line(text)), type=kind).text = _text(text)
        return "failures"
    ET.SubElement(case, "skipped", message=_text(first_line(text)))
    return "skipped"


def _suite(record: CheckRecord, name: str, rubric: Rubric) -> ET.Element:
    points = score(record, rubric)
    suite = ET.Element("testsuite", name=_text(name), time=f"{record.seconds:.3f}")
    timestamp = _timestamp(record.created)
    if timestamp:
        suite.set("timestamp", timestamp)
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("verdict", record.verdict.value),
        ("seed", record.settings.get("seed")),
        ("score", score_label(points.points)),
        ("max_score", score_label(points.max_points)),
        ("reproduce", record.reproduce),
    ):
        if value is not None:
            ET.SubElement(properties, "property", name=key, value=_text(str(value)))
    classname = _classname(name)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if record.verdict is RunVerdict.ERROR:
        case = ET.SubElement(suite, "testcase", name="the file can be checked", classname=classname)
        error = _text(record.error or "the file could not be checked")
        ET.SubElement(case, "error", message=_text(first_line(error)), type="error").text = error
        counts.update(tests=1, errors=1)
    else:
        for part in points.parts:
            outcome = _testcase(suite, record, part, classname)
            counts["tests"] += 1
            if outcome != "passed":
                counts[outcome] += 1
    notes = [f"note: {note}" for note in record.target.get("notes") or []]
    if notes:
        ET.SubElement(suite, "system-out").text = _text("\n".join(notes))
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def junit_xml(
    records: Sequence[CheckRecord], names: Sequence[str] | None = None, rubric: Rubric = DEFAULT_RUBRIC
) -> str:
    """JUnit XML of one or many checks: a ``testsuites`` with a ``testsuite`` per record.

    * ``names``: each suite's name (default: each record's path), e.g. a batch's paths below its folder.
    * ``rubric``: the points per property of the score each suite's properties carry.
    """
    names = list(names) if names is not None else [str(r.target.get("path", "")) for r in records]
    root = ET.Element("testsuites", name="gradharness")
    suites = [_suite(record, name, rubric) for record, name in zip(records, names, strict=True)]
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in suites)))
    root.set("time", f"{sum(r.seconds for r in records):.3f}")
    root.extend(suites)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
