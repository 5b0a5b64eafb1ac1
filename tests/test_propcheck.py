"""The Hypothesis driver on the built-in networks: every property passes, a bug shrinks, a seed repeats."""

from __future__ import annotations

import pytest

from gradharness.model import network
from gradharness.properties.properties import NetworkFunctions
from gradharness.properties.runner import RunFindings, run_properties
from gradharness.records.check import PropertyStatus
from gradharness.settings import RunSettings, StrategyOptions

BUILTIN = NetworkFunctions(network.forward_propagation_n, network.backward_propagation_n, builtin=True)
BUGGY = NetworkFunctions(network.forward_propagation_n, network.backward_propagation_n_buggy, builtin=True)
ONE_D = (network.forward_propagation, network.backward_propagation)


def test_correct_network_passes_every_property():
    findings = run_properties(BUILTIN, ONE_D, RunSettings(seed=3, max_examples=50))
    assert findings.failures == []
    assert {p.status for p in findings.properties} == {PropertyStatus.PASSED}
    assert all(p.examples == 50 for p in findings.properties)
    assert sum(findings.diagnoses.values()) == 100  # 50 network cases + 50 1-D points


BUGGY_RUN = RunSettings(seed=5, max_examples=100)


@pytest.fixture(scope="module")
def buggy_findings() -> RunFindings:
    return run_properties(BUGGY, None, BUGGY_RUN)


def test_buggy_network_shrinks_to_the_smallest_network_and_names_both_blocks(buggy_findings: RunFindings):
    findings = buggy_findings
    assert len(findings.failures) == 1
    failure = findings.failures[0]
    assert failure.property == "GRADIENT_AGREES"
    assert failure.case["sizes"] == [1, 1, 1, 1] and failure.case["m"] == 1
    assert set(findings.wrong_blocks) == {"dW2", "db1"}
    statuses = {p.name: p.status for p in findings.properties}
    # FORWARD_COST held on every case it saw, but the failure ended the drawing before 100 cases
    assert statuses["GRADIENT_AGREES"] is PropertyStatus.FAILED and statuses["FORWARD_COST"] is PropertyStatus.STOPPED
    assert findings.examples < BUGGY_RUN.max_examples


def test_strategy_options_reach_the_cases():
    seen = []

    def spy_forward(X, Y, parameters):
        seen.append((X.shape, Y.shape))
        return network.forward_propagation_n(X, Y, parameters)

    functions = NetworkFunctions(spy_forward, network.backward_propagation_n)
    options = StrategyOptions(n0=4, n3=1, batch_size=3)
    run_properties(functions, None, RunSettings(seed=1, max_examples=5, strategy=options))
    assert seen and all(x == (4, 3) and y == (1, 3) for x, y in seen)


@pytest.mark.slow
def test_same_seed_same_result(buggy_findings: RunFindings):
    again = run_properties(BUGGY, None, BUGGY_RUN)
    assert buggy_findings.failures == again.failures
