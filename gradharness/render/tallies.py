"""What every renderer says the same way: case counts, property statuses, blocks a case did not exercise, cases."""

from __future__ import annotations

import math
from typing import Any

from gradharness.batch.rubric import DEFAULT_RUBRIC, Rubric, score, score_label, unscored
from gradharness.check.verdict import Verdict
from gradharness.model.parameters import LayerSizes, block_slices, parameter_shapes
from gradharness.properties.failures import Property
from gradharness.records.check import CheckRecord, FailureRecord, LikelyCause, PropertyRecord, PropertyStatus
from gradharness.targets.signature.functions import SIGNATURE
from gradharness.targets.signature.functions import TITLE as SIGNATURE_TITLE
from gradharness.targets.specs import SPECS

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
    parts = block_parts(failure)
    for block in passed:
        part = parts.get(block.name)
        if (
            part is not None
            and all(g == 0 for g in check.grad[part[0]])
            and all(a == 0 for a in check.gradapprox[part[0]])
        ):
            out.add(block.name)
    return out


def block_parts(failure: FailureRecord) -> dict[str, tuple[slice, tuple[int, ...]]]:
    """Each block's entries in the record's flat gradients and its shape, by block name ({} where they are not
    known or the lengths do not fit): from the blocks' shapes, or for an exercise record written before blocks
    kept their shapes, from the case's sizes."""
    check = failure.gradient_check
    if check is None:
        return {}
    parts: dict[str, tuple[slice, tuple[int, ...]]] = {}
    if check.blocks and all(block.shape is not None for block in check.blocks):
        start = 0
        for block in check.blocks:
            shape = tuple(block.shape or ())
            size = math.prod(shape)
            parts[block.name] = (slice(start, start + size), shape)
            start += size
    elif failure.case is not None and "sizes" in failure.case:
        try:
            sizes = LayerSizes(*failure.case["sizes"])
        except (TypeError, ValueError):
            return {}
        shapes = parameter_shapes(sizes)
        parts = {f"d{name}": (part, shapes[name]) for name, part in block_slices(sizes).items()}
    total = max((part.stop for part, _ in parts.values()), default=0)
    return parts if len(check.grad) == len(check.gradapprox) == total else {}


def property_description(failure: FailureRecord) -> str:
    """What the failed property asserts (records written before targets name the exercise's property only)."""
    if failure.description:
        return failure.description
    return Property[failure.property].value if failure.property in Property.__members__ else failure.property


def failure_case_text(failure: FailureRecord) -> str:
    """The failing case in words: as the target described it, else from the case's data."""
    return failure.case_description or case_text(failure.case, failure.point)


def case_text(case: dict[str, Any] | None, point: list[float] | None) -> str:
    """'sizes 4-5-3-1 (n0-n1-n2-n3), m=3' for a network case, 'x=..., theta=...' for a 1-D point ('' for neither)."""
    if case is not None and "sizes" in case:
        sizes = case["sizes"]
        named = "n0-n1-n2-n3" if len(sizes) == 4 and "L" not in case else f"L={len(sizes) - 1}"
        return f"sizes {'-'.join(str(n) for n in sizes)} ({named}), m={case.get('m')}"
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
    text = first.description or case_text(first.case, first.point)
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
    line = f"score: {score_label(points.points)} of {score_label(points.max_points)} points (rubric: {rubric.source})"
    missing = unscored(record, points)
    return f"{line}; {missing}" if missing else line


def judged_precision(prop: PropertyRecord) -> str:
    """``judged at float32`` for a property of single precision code ('' otherwise: float64 is the default)."""
    return f"judged at {prop.precision}" if prop.precision not in (None, "float64") else ""


def target_title(target: str) -> str:
    """What a target is, in words (its name for a target this gradharness does not know)."""
    if target == SIGNATURE:
        return SIGNATURE_TITLE
    spec = SPECS.get(target)
    return spec.title if spec is not None else target


def target_sections(record: CheckRecord) -> list[tuple[str, list[PropertyRecord], list[FailureRecord]]]:
    """The record's properties and failures by target, in the order of the targets (the exercise first)."""
    order = {name: index for index, name in enumerate(SPECS)}
    targets = sorted(
        {p.target for p in record.properties} | {f.target for f in record.failures},
        key=lambda t: (order.get(t, len(order)), t),
    )
    return [
        (
            target,
            [p for p in record.properties if p.target == target],
            [f for f in record.failures if f.target == target],
        )
        for target in targets
    ]
