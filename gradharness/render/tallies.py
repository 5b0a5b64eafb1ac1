"""What every renderer says the same way: case counts, property statuses, blocks a case did not exercise, cases."""

from __future__ import annotations

from typing import Any

from gradharness.batch.rubric import DEFAULT_RUBRIC, Rubric, score, score_label
from gradharness.check.verdict import Verdict
from gradharness.model.parameters import LayerSizes, block_slices
from gradharness.properties.failures import Property
from gradharness.records.check import CheckRecord, FailureRecord, GradientRecord, LikelyCause, PropertyStatus

NOT_EXERCISED = "not exercised"
"""A block's label when its gradient is exactly zero on the case: backprop and numerical 0, nothing compared."""

STATUS_LABEL = {
    PropertyStatus.PASSED: "passed",
    PropertyStatus.FAILED: "failed",
    PropertyStatus.NOT_RUN: "not run",
    PropertyStatus.STOPPED: "stopped after the failure",
}


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 example', '2 examples'."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def _property_examples(record: CheckRecord, prop: Property) -> int | None:
    return next((p.examples for p in record.properties if p.name == prop.name), None)


def case_counts(record: CheckRecord) -> str:
    """'110 generated cases (10 networks, 100 1-D points)': the record's total, split by Hypothesis test."""
    # Every drawn network case runs FORWARD_COST first, so its count is the network test's cases.
    networks = _property_examples(record, Property.FORWARD_COST)
    points = _property_examples(record, Property.DERIVATIVE_1D)
    total = plural(record.examples, "generated case")
    if networks is None or points is None:
        return total
    return f"{total} ({plural(networks, 'network')}, {plural(points, '1-D point')})"


def checked_cases(record: CheckRecord) -> int:
    """Generated cases whose gradient check held (the cases ``record.diagnoses`` counts verdicts of)."""
    return sum(record.diagnoses.values())


def unexercised_blocks(failure: FailureRecord) -> set[str]:
    """Blocks that passed without being exercised: the numerical gradient is exactly 0 on every checked entry.

    A WRONG block is never one of them (backprop non-zero where the true gradient is 0 is a bug), nor
    a kink, saturated or imprecise block, whose verdict says more. Records written before blocks
    carried ``exercised`` count a block whose backprop and numerical gradient are 0 on every entry.
    """
    check = failure.gradient_check
    if check is None:
        return set()
    passed = [block for block in check.blocks if block.verdict is Verdict.PASS]
    out = {block.name for block in passed if not block.exercised}
    slices = _block_slices(failure, check)
    for block in passed:
        part = slices.get(block.name[1:] if block.name.startswith("d") else block.name)
        if part is not None and all(g == 0 for g in check.grad[part]) and all(a == 0 for a in check.gradapprox[part]):
            out.add(block.name)
    return out


def _block_slices(failure: FailureRecord, check: GradientRecord) -> dict[str, slice]:
    """Each parameter's entries in the record's flat gradients ({} where the case or the lengths do not fit)."""
    if failure.case is None or "sizes" not in failure.case:
        return {}
    try:
        slices = block_slices(LayerSizes(*failure.case["sizes"]))
    except (TypeError, ValueError):
        return {}
    total = max((s.stop for s in slices.values()), default=0)
    return slices if len(check.grad) == len(check.gradapprox) == total else {}


def case_text(case: dict[str, Any] | None, point: list[float] | None) -> str:
    """'sizes 4-5-3-1 (n0-n1-n2-n3), m=3' for a network case, 'x=..., theta=...' for a 1-D point ('' for neither)."""
    if case is not None and "sizes" in case:
        return f"sizes {'-'.join(str(n) for n in case['sizes'])} (n0-n1-n2-n3), m={case.get('m')}"
    if point is not None and len(point) == 2:
        return f"x={point[0]!r}, theta={point[1]!r}"
    return ""


def first_case_text(failure: FailureRecord) -> str:
    """One line on the first failing case as drawn, before shrinking ('' when there is none to show)."""
    first = failure.first_case
    if first is None:
        return ""
    if first.case == failure.case and first.point == failure.point:
        return "the same case (nothing smaller failed)"
    text = case_text(first.case, first.point)
    if first.wrong_blocks:
        text += f"; wrong: {', '.join(first.wrong_blocks)}"
    if first.difference is not None:
        text += f"; difference {first.difference:.3g}"
    return text


def cause_text(cause: LikelyCause) -> str:
    """One line on a likely cause: ``dW2 is 2 x the true gradient (as if "dW2 = ..."; operator scale_gradient; line 68)``."""
    details = []
    if cause.as_if:
        details.append(f'as if "{cause.as_if}"')
    if cause.operator:
        details.append(f"operator {cause.operator}")
    if cause.where and cause.variable:
        details.append(f"{cause.variable} is computed at {cause.where}")
    if cause.tried > 1:
        details.append(f"holds on {cause.cases} of {plural(cause.tried, 'case')} tried")
    return f"{cause.description} ({'; '.join(details)})" if details else cause.description


def score_line(record: CheckRecord, rubric: Rubric = DEFAULT_RUBRIC) -> str:
    """``score: 4 of 10 points (rubric: default)``."""
    points = score(record, rubric)
    return f"score: {score_label(points.points)} of {score_label(points.max_points)} points (rubric: {rubric.source})"
