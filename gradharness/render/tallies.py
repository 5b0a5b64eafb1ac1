"""What every renderer says the same way: case counts, property statuses, blocks a case did not exercise."""

from __future__ import annotations

from gradharness.check.verdict import Verdict
from gradharness.model.parameters import LayerSizes, block_slices
from gradharness.properties.failures import Property
from gradharness.records.check import CheckRecord, FailureRecord, PropertyStatus

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
    """Blocks (not wrong) whose every entry is exactly 0 in both backprop and the numerical gradient."""
    check = failure.gradient_check
    if check is None or failure.case is None or "sizes" not in failure.case:
        return set()
    try:
        slices = block_slices(LayerSizes(*failure.case["sizes"]))
    except (TypeError, ValueError):
        return set()
    if len(check.grad) != len(check.gradapprox) or len(check.grad) != max((s.stop for s in slices.values()), default=0):
        return set()
    out = set()
    for block in check.blocks:
        part = slices.get(block.name[1:] if block.name.startswith("d") else block.name)
        if part is None or block.verdict is Verdict.WRONG:
            continue
        if all(g == 0 for g in check.grad[part]) and all(a == 0 for a in check.gradapprox[part]):
            out.add(block.name)
    return out
