"""Honest counts: cases are drawn cases (never shrink steps), stopped properties say so, totals add up."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from rich.console import Console

from gradharness.check.checker import gradient_check_n
from gradharness.judge.checks import check_builtin
from gradharness.model import network
from gradharness.model.case import seed_test_case
from gradharness.properties.properties import NetworkFunctions, Property
from gradharness.properties.runner import gradient_record, run_properties
from gradharness.records.check import CheckRecord, FailureRecord, PropertyStatus
from gradharness.records.serialise import to_json
from gradharness.records.status import FailureKind
from gradharness.render.html import render_report
from gradharness.render.tallies import unexercised_blocks
from gradharness.render.terminal import render_record
from gradharness.settings import RunSettings
from tests.report_support import parse, seed_case_record

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ONE_D = (network.forward_propagation, network.backward_propagation)


def _text(record: CheckRecord) -> str:
    buffer = io.StringIO()
    render_record(Console(file=buffer, width=400, color_system=None, highlight=False, soft_wrap=True), record)
    return buffer.getvalue()


def _examples(record: CheckRecord, prop: Property) -> int:
    return next(p.examples for p in record.properties if p.name == prop.name)


@pytest.fixture(scope="module")
def counted_buggy():
    """A backprop with the exercise's bugs from m = 3 up, under a spy that counts every backward call.

    From m = 3 up, so that the first drawn case is not already the smallest failing one and
    shrinking has steps to take.
    """
    calls: list[int] = []

    def backward(X, Y, cache):
        calls.append(X.shape[1])
        if X.shape[1] >= 3:
            return network.backward_propagation_n_buggy(X, Y, cache)
        return network.backward_propagation_n(X, Y, cache)

    functions = NetworkFunctions(network.forward_propagation_n, backward, builtin=True)
    findings = run_properties(functions, ONE_D, RunSettings(seed=0, max_examples=100))
    return findings, len(calls)


@pytest.fixture(scope="module")
def buggy() -> CheckRecord:
    return check_builtin(network.backward_propagation_n_buggy, "buggy", RunSettings(seed=0, max_examples=100))


@pytest.fixture(scope="module")
def correct() -> CheckRecord:
    return check_builtin(network.backward_propagation_n, "correct", RunSettings(seed=0, max_examples=20))


# 1. found after N generated cases; wrong blocks counted on drawn failing cases, not shrink steps


def test_wrong_blocks_count_drawn_failing_cases_not_shrink_steps(counted_buggy):
    findings, backward_calls = counted_buggy
    networks = next(p.examples for p in findings.properties if p.name == Property.FORWARD_COST.name)
    assert backward_calls > networks  # shrinking ran more cases than were drawn
    assert set(findings.wrong_blocks) == {"dW2", "db1"}
    assert all(1 <= count <= networks for count in findings.wrong_blocks.values())
    (failure,) = findings.failures
    assert 1 <= failure.examples_before <= networks


@pytest.mark.slow
def test_wrong_blocks_say_what_they_count_in_terminal_html_and_json(buggy):
    text = _text(buggy)
    (failure,) = [f for f in buggy.failures if f.property == Property.GRADIENT_AGREES.name]
    found = "found after 1 generated case" if failure.examples_before == 1 else "found after {n} generated cases"
    found = found.format(n=failure.examples_before)
    assert found in text
    counts = ", ".join(f"{name} ({count})" for name, count in buggy.wrong_blocks.items())
    assert f"wrong blocks, in how many failing generated cases (shrink steps not counted): {counts}" in text
    document = parse(render_report(buggy, created=NOW))
    assert document.by_id("wrong-blocks").rows() == [[name, str(count)] for name, count in buggy.wrong_blocks.items()]
    assert "failing generated cases" in document.by_id("wrong-blocks").text()
    assert found in document.by_id("failure-1").text()
    assert to_json(buggy)["wrong_blocks"] == buggy.wrong_blocks


# 2. a property cut short by another's failure says so


def test_a_property_stopped_by_another_failure_is_stopped_not_passed(buggy):
    statuses = {p.name: p.status for p in buggy.properties}
    assert statuses[Property.GRADIENT_AGREES.name] is PropertyStatus.FAILED
    assert statuses[Property.FORWARD_COST.name] is PropertyStatus.STOPPED
    assert statuses[Property.DERIVATIVE_1D.name] is PropertyStatus.PASSED  # its own test ran every case
    assert _examples(buggy, Property.FORWARD_COST) < 100
    text = _text(buggy)
    stopped = _examples(buggy, Property.FORWARD_COST)
    assert f"{Property.FORWARD_COST.value} (stopped after the failure: held on {stopped} examples)" in text
    assert f"{Property.FORWARD_COST.value} (passed" not in text
    rows = parse(render_report(buggy, created=NOW)).by_id("properties").rows()
    assert [Property.FORWARD_COST.value, "stopped after the failure", str(stopped)] in rows
    assert {p["status"] for p in to_json(buggy)["properties"]} == {"stopped", "failed", "passed"}


def test_a_correct_run_has_nothing_stopped(correct):
    assert {p.status for p in correct.properties} == {PropertyStatus.PASSED}
    assert "stopped" not in _text(correct)


# 3. the totals add up


def test_a_passing_run_counts_every_case_once(correct):
    networks, points = _examples(correct, Property.FORWARD_COST), _examples(correct, Property.DERIVATIVE_1D)
    assert networks == points == 20
    assert correct.examples == networks + points == sum(correct.diagnoses.values())
    assert "40 generated cases (20 networks, 20 1-D points)" in _text(correct)
    document = parse(render_report(correct, created=NOW))
    summary = " ".join(document.find_all("p", **{"class": "muted"})[0].text().split())
    assert "40 generated cases (20 networks, 20 1-D points)" in summary
    assert f"Verdicts of the 40 generated cases whose gradient check held: {correct.diagnoses['pass']} pass" in summary


def test_a_failing_run_counts_the_passing_cases_among_the_drawn(buggy):
    networks, points = _examples(buggy, Property.FORWARD_COST), _examples(buggy, Property.DERIVATIVE_1D)
    assert buggy.examples == networks + points
    failing = max(buggy.wrong_blocks.values())  # every drawn failing case has both bugs' blocks wrong or one
    assert sum(buggy.diagnoses.values()) <= buggy.examples - failing
    assert f"{buggy.examples} generated cases ({networks} networks, {points} 1-D points)" in _text(buggy)


# 4. one example, not "1 examples"


def test_singular_counts():
    record = check_builtin(network.backward_propagation_n, "correct", RunSettings(seed=0, max_examples=1))
    text = _text(record)
    assert "(1 example)" in text and "1 examples" not in text
    failing = seed_case_record()
    assert failing.failures[0].examples_before == 1
    assert "found after 1 generated case" in _text(failing) and "1 generated cases" not in _text(failing)
    html = render_report(failing, created=NOW)
    assert "found after 1 generated case " in html or "found after 1 generated case\n" in html


# 5. a block with an exactly zero gradient on the reported case is "not exercised"


def _zero_input_failure() -> CheckRecord:
    """The buggy backprop on the exercise's case with X = 0: dW1 = dZ1 X.T is 0, and so is its numerical value."""
    case = seed_test_case()
    parameters = case.copy_parameters()
    parameters["b1"] = np.abs(parameters["b1"]) + 1.0  # every first-layer unit alive, so db1 is exercised
    case = replace(case, X=np.zeros_like(case.X), parameters=parameters)
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    gradients = network.backward_propagation_n_buggy(case.X, case.Y, cache)
    result = gradient_check_n(case.parameters, gradients, case.X, case.Y, method="loop")
    failure = FailureRecord(
        Property.GRADIENT_AGREES.name, FailureKind.WRONG, "db1 wrong", 1, case.to_json(), None, gradient_record(result)
    )
    return replace(seed_case_record(), failures=[failure], wrong_blocks={name: 1 for name in result.wrong_blocks})


def test_a_block_with_zero_gradient_on_the_case_is_not_exercised():
    record = _zero_input_failure()
    failure = record.failures[0]
    assert unexercised_blocks(failure) == {"dW1"}
    table = {line.split()[0]: line for line in _text(record).splitlines() if line.strip().startswith(("dW", "db"))}
    assert "not exercised" in table["dW1"] and "pass" not in table["dW1"]
    assert "not exercised" not in table["dW3"]
    rows = {row[0]: row for row in parse(render_report(record, created=NOW)).by_id("blocks-1").rows()}
    assert rows["dW1"][2] == "not exercised"
    assert rows["dW3"][2] == "pass" and rows["db1"][2] == "wrong"


def test_a_nonzero_block_is_not_marked_not_exercised():
    failure = seed_case_record().failures[0]
    assert unexercised_blocks(failure) == set()
    assert unexercised_blocks(replace(failure, gradient_check=None)) == set()


# 1-D points are checked several to a Hypothesis call: counts are of points


@pytest.mark.parametrize(("max_examples", "per_call"), [(100, 10), (15, 5), (7, 7), (13, 1), (1, 1)])
def test_points_per_call_divide_the_cases_exactly(max_examples, per_call):
    from gradharness.properties.runner import points_per_call

    assert points_per_call(max_examples) == per_call


def test_1d_counts_are_points_not_calls():
    findings = run_properties(None, ONE_D, RunSettings(seed=0, max_examples=15))
    assert findings.examples == 15 and sum(findings.diagnoses.values()) == 15
    (record,) = findings.properties
    assert record.examples == 15 and record.status is PropertyStatus.PASSED


def test_a_1d_failure_counts_the_points_up_to_the_failing_one():
    def backward(x, theta):
        return x if abs(x) < 9.0 else 2 * x  # wrong only far from 0: rarely the first point drawn

    findings = run_properties(None, (network.forward_propagation, backward), RunSettings(seed=0, max_examples=100))
    (failure,) = findings.failures
    assert failure.point is not None and abs(failure.point[0]) >= 9.0
    assert 1 <= failure.examples_before <= findings.examples
    # The points before the first failing one held; a failing point has no verdict of its own.
    assert failure.examples_before - 1 <= findings.diagnoses.get("pass", 0) < findings.examples
