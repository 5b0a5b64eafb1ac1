"""Shrinking that stays informative: blocks the case does not exercise say so, the first failing case as
drawn is kept beside the shrunk one, and shrinking stops once the failing case is small without changing
what a check finds."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from rich.console import Console

from gradharness.check.checker import GradientCheckResult, gradient_check_n
from gradharness.check.verdict import Verdict
from gradharness.model import network
from gradharness.model.case import NetworkCase, seed_test_case
from gradharness.model.parameters import LayerSizes
from gradharness.properties import runner
from gradharness.properties.failures import GradientAgreementFailure
from gradharness.properties.properties import NetworkFunctions, Property, check_network_case
from gradharness.properties.runner import gradient_record, run_properties
from gradharness.properties.shrinking import ShrinkBudget
from gradharness.records.check import BlockRecord, CheckRecord, DrawnFailure, FailureRecord
from gradharness.records.serialise import decode, to_json
from gradharness.records.status import FailureKind
from gradharness.render.html import render_report
from gradharness.render.tallies import first_case_text, unexercised_blocks
from gradharness.render.terminal import render_record
from gradharness.settings import CheckOptions, RunSettings
from tests.report_support import parse, seed_case_record

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
BLOCKS = ("dW1", "db1", "dW2", "db2", "dW3", "db3")


def _text(record: CheckRecord) -> str:
    buffer = io.StringIO()
    render_record(Console(file=buffer, width=400, color_system=None, highlight=False, soft_wrap=True), record)
    return buffer.getvalue()


def _block_lines(record: CheckRecord) -> dict[str, str]:
    return {line.split()[0]: line for line in _text(record).splitlines() if line.strip().startswith(("dW", "db"))}


def _zero_input(case: NetworkCase) -> NetworkCase:
    """``case`` with X = 0 and every first-layer unit alive: the cost does not depend on W1 at all."""
    parameters = case.copy_parameters()
    parameters["b1"] = np.abs(parameters["b1"]) + 1.0
    return replace(case, X=np.zeros_like(case.X), parameters=parameters)


def _check(case: NetworkCase, backward=network.backward_propagation_n, **options) -> GradientCheckResult:
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    return gradient_check_n(case.parameters, backward(case.X, case.Y, cache), case.X, case.Y, **options)


def _wide_case() -> NetworkCase:
    """A 9-8-3-1 network, m=3: W1 has 72 entries, enough for the directional probes."""
    rng = np.random.default_rng(3)
    sizes = LayerSizes(9, 8, 3, 1)
    parameters = {
        "W1": rng.normal(size=(8, 9)),
        "b1": rng.normal(size=(8, 1)),
        "W2": rng.normal(size=(3, 8)),
        "b2": rng.normal(size=(3, 1)),
        "W3": rng.normal(size=(1, 3)),
        "b3": rng.normal(size=(1, 1)),
    }
    return NetworkCase(sizes, rng.normal(size=(9, 3)), np.array([[1.0, 0.0, 1.0]]), parameters)


# 1. "not exercised": the numerical gradient is exactly 0 on every checked entry


@pytest.mark.parametrize("method", ["loop", "batched"])
def test_a_block_the_cost_does_not_depend_on_is_not_exercised(method):
    result = _check(_zero_input(seed_test_case()), method=method)
    assert {b.name: b.exercised for b in result.blocks} == {name: name != "dW1" for name in BLOCKS}
    assert result.block("dW1").verdict is Verdict.PASS and result.block("dW1").difference == 0.0


def test_every_block_of_an_ordinary_case_is_exercised():
    result = _check(seed_test_case(), method="loop")
    assert all(b.exercised for b in result.blocks)


def test_screened_blocks_are_exercised_when_a_probe_moves_the_cost():
    wide = _wide_case()
    result = _check(wide, screen=True)
    assert result.block("dW1").mode == "screened" and result.block("dW1").exercised
    zero = _check(_zero_input(wide), screen=True)
    assert zero.block("dW1").mode == "screened" and zero.block("dW1").verdict is Verdict.PASS
    assert not zero.block("dW1").exercised
    assert zero.block("dW2").exercised  # A1 = relu(b1) is not zero: the cost still depends on W2


def _nonzero_dW1(X, Y, cache):
    """Backprop that is right except for dW1, which is non-zero where the true gradient is 0 (X = 0)."""
    gradients = dict(network.backward_propagation_n(X, Y, cache))
    gradients["dW1"] = np.ones_like(gradients["dW1"])
    return gradients


def _record_of(case: NetworkCase, result: GradientCheckResult) -> CheckRecord:
    failure = FailureRecord(
        Property.GRADIENT_AGREES.name, FailureKind.WRONG, "wrong", 1, case.to_json(), None, gradient_record(result)
    )
    return replace(seed_case_record(), failures=[failure], wrong_blocks={name: 1 for name in result.wrong_blocks})


def test_a_wrong_block_is_never_shown_as_not_exercised():
    case = _zero_input(seed_test_case())
    result = _check(case, _nonzero_dW1, method="loop")
    dW1 = result.block("dW1")
    assert dW1.verdict is Verdict.WRONG and not dW1.exercised  # the flag is a fact; WRONG stays WRONG
    record = _record_of(case, result)
    assert unexercised_blocks(record.failures[0]) == set()
    assert "wrong" in _block_lines(record)["dW1"] and "not exercised" not in _block_lines(record)["dW1"]
    rows = {row[0]: row for row in parse(render_report(record, created=NOW)).by_id("blocks-1").rows()}
    assert rows["dW1"][2] == "wrong"
    assert to_json(record)["failures"][0]["gradient_check"]["blocks"][0]["exercised"] is False


def test_the_flag_decides_not_exercised_in_the_terminal_html_and_json():
    record = seed_case_record()
    failure = record.failures[0]
    check = failure.gradient_check
    assert check is not None
    passing = next(b for b in check.blocks if b.verdict is Verdict.PASS)
    blocks = [replace(b, exercised=False) if b is passing else b for b in check.blocks]
    record = replace(record, failures=[replace(failure, gradient_check=replace(check, blocks=blocks))])
    assert unexercised_blocks(record.failures[0]) == {passing.name}
    assert "not exercised" in _block_lines(record)[passing.name]
    rows = {row[0]: row for row in parse(render_report(record, created=NOW)).by_id("blocks-1").rows()}
    assert rows[passing.name][2] == "not exercised"
    assert [b["exercised"] for b in to_json(record)["failures"][0]["gradient_check"]["blocks"]] == [
        b is not passing for b in check.blocks
    ]


def test_records_without_the_new_fields_still_load():
    block = to_json(BlockRecord("dW1", 0.0, Verdict.PASS, 3, 0, 0))
    del block["exercised"]
    assert decode(BlockRecord, block).exercised is True
    failure = to_json(seed_case_record().failures[0])
    del failure["first_case"]
    assert decode(FailureRecord, failure).first_case is None


def test_the_first_case_round_trips_through_json():
    drawn = DrawnFailure("db1 wrong", seed_test_case().to_json(), None, 0.25, ["db1", "dW2"])
    failure = replace(seed_case_record().failures[0], first_case=drawn)
    assert decode(FailureRecord, to_json(failure)) == failure


# 2. the first failing case as drawn


def _bug_on_large_inputs(X, Y, cache):
    """dW1 doubled, but only with two or more examples and an input beyond 1.5: shrinking has work to do."""
    gradients = dict(network.backward_propagation_n(X, Y, cache))
    if X.shape[1] >= 2 and np.abs(X).max() > 1.5:
        gradients["dW1"] = 2 * gradients["dW1"]
    return gradients


def _spied(backward, seen: list[np.ndarray]):
    def spy(X, Y, cache):
        seen.append(X.copy())
        return backward(X, Y, cache)

    return spy


@pytest.fixture(scope="module")
def late_bug():
    """A run on the bug above: every X the backward saw, in order, and what the run found."""
    seen: list[np.ndarray] = []
    functions = NetworkFunctions(network.forward_propagation_n, _spied(_bug_on_large_inputs, seen), builtin=True)
    return run_properties(functions, None, RunSettings(seed=0, max_examples=100)), seen


def test_the_first_failing_generated_case_is_kept_as_drawn(late_bug):
    findings, seen = late_bug
    (failure,) = findings.failures
    first = failure.first_case
    assert first is not None and first.case is not None
    drawn = NetworkCase.from_json(first.case)
    # Generation comes before shrinking: the first failing case is the backward's call number examples_before.
    assert np.array_equal(seen[failure.examples_before - 1], drawn.X)
    assert first.wrong_blocks == ["dW1"] and first.difference is not None and first.difference > 1e-7
    with pytest.raises(GradientAgreementFailure) as caught:
        check_network_case(
            NetworkFunctions(network.forward_propagation_n, _bug_on_large_inputs, True), drawn, CheckOptions()
        )
    assert caught.value.check is not None and list(caught.value.check.wrong_blocks) == first.wrong_blocks
    assert first.case != failure.case  # shrinking found a smaller case
    assert (
        failure.case is not None
        and sum(failure.case["sizes"]) + failure.case["m"] <= sum(drawn.sizes.as_tuple()) + drawn.m
    )


def test_a_failure_first_seen_while_shrinking_has_no_first_case():
    tally = runner._Tally(max_examples=10)
    tally.calls += [runner._Call(()) for _ in range(4)]  # begin() tags calls for a running Hypothesis test
    failure = GradientAgreementFailure("wrong", FailureKind.WRONG, seed_test_case())
    tally.note_failure(3, failure)
    tally.note_failure(1, failure)  # later failures of the same kind do not replace the first
    tally.drawn_calls = {0, 1, 2}
    assert tally.first_case(failure) is None
    tally.drawn_calls = {0, 1, 2, 3}
    kept = tally.first_case(failure)
    assert kept is not None and kept.case == seed_test_case().to_json() and kept.wrong_blocks == []


def test_the_first_case_is_shown_beside_the_shrunk_one():
    record = seed_case_record()
    failure = record.failures[0]
    first = DrawnFailure("db1, dW2 wrong", _wide_case().to_json(), None, 0.271, ["db1", "dW2"])
    record = replace(record, failures=[replace(failure, first_case=first)])
    line = "first failing case as drawn: sizes 9-8-3-1 (n0-n1-n2-n3), m=3; wrong: db1, dW2; difference 0.271"
    assert line in _text(record)
    section = " ".join(parse(render_report(record, created=NOW)).by_id("failure-1").text().split())
    assert "smallest failing case: sizes 4-5-3-1 (n0-n1-n2-n3), m=3" in section
    assert line in section


def test_a_first_case_that_is_the_shrunk_one_says_so():
    failure = seed_case_record().failures[0]
    same = replace(failure, first_case=DrawnFailure("db1 wrong", failure.case, None, 0.3, ["db1"]))
    assert first_case_text(same) == "the same case (nothing smaller failed)"
    assert first_case_text(failure) == ""
    point = FailureRecord(Property.DERIVATIVE_1D.name, FailureKind.WRONG, "wrong", 2, None, [0.5, 2.0])
    drawn_point = replace(point, first_case=DrawnFailure("wrong", None, [3.0, -1.5]))
    assert first_case_text(drawn_point) == "x=3.0, theta=-1.5"


# 3. the shrink budget changes how far a failure shrinks, never what a check finds


@pytest.mark.slow
def test_the_budget_shrinks_less_and_finds_the_same(monkeypatch, late_bug):
    budgeted, budgeted_calls = late_bug
    monkeypatch.setattr(
        runner, "DEFAULT_SHRINK_BUDGET", ShrinkBudget(shrinks=10_000, small_shrinks=10_000, seconds=3600)
    )
    seen: list[np.ndarray] = []
    functions = NetworkFunctions(network.forward_propagation_n, _spied(_bug_on_large_inputs, seen), builtin=True)
    full = run_properties(functions, None, RunSettings(seed=0, max_examples=100))
    assert len(budgeted_calls) < len(seen)
    assert [p.status for p in budgeted.properties] == [p.status for p in full.properties]
    assert (budgeted.examples, budgeted.wrong_blocks, budgeted.diagnoses) == (
        full.examples,
        full.wrong_blocks,
        full.diagnoses,
    )
    (shrunk,), (fully_shrunk,) = budgeted.failures, full.failures
    assert (shrunk.property, shrunk.kind, shrunk.examples_before) == (
        fully_shrunk.property,
        fully_shrunk.kind,
        fully_shrunk.examples_before,
    )
    assert shrunk.first_case == fully_shrunk.first_case
    assert shrunk.gradient_check is not None and [
        b.name for b in shrunk.gradient_check.blocks if b.verdict is Verdict.WRONG
    ] == ["dW1"]
