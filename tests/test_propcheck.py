from __future__ import annotations

from gradharness.model import network
from gradharness.properties.properties import NetworkFunctions
from gradharness.properties.runner import run_properties
from gradharness.settings import RunSettings, StrategyOptions

BUILTIN = NetworkFunctions(network.forward_propagation_n, network.backward_propagation_n, builtin=True)
BUGGY = NetworkFunctions(network.forward_propagation_n, network.backward_propagation_n_buggy, builtin=True)
ONE_D = (network.forward_propagation, network.backward_propagation)


def test_correct_network_passes_every_property():
    findings = run_properties(BUILTIN, ONE_D, RunSettings(seed=3, max_examples=50))
    assert findings.failures == []
    assert {p.status for p in findings.properties} == {"passed"}
    assert all(p.examples == 50 for p in findings.properties)
    assert sum(findings.diagnoses.values()) == 100  # 50 network cases + 50 1-D points


def test_buggy_network_shrinks_to_the_smallest_network_and_names_both_blocks():
    findings = run_properties(BUGGY, None, RunSettings(seed=5, max_examples=100))
    assert len(findings.failures) == 1
    failure = findings.failures[0]
    assert failure.property == "GRADIENT_AGREES"
    assert failure.case["sizes"] == [1, 1, 1, 1] and failure.case["m"] == 1
    assert set(findings.wrong_blocks) == {"dW2", "db1"}
    statuses = {p.name: p.status for p in findings.properties}
    assert statuses["GRADIENT_AGREES"] == "failed" and statuses["FORWARD_COST"] == "passed"


def test_strategy_options_reach_the_cases():
    seen = []

    def spy_forward(X, Y, parameters):
        seen.append((X.shape, Y.shape))
        return network.forward_propagation_n(X, Y, parameters)

    functions = NetworkFunctions(spy_forward, network.backward_propagation_n)
    options = StrategyOptions(n0=4, n3=1, batch_size=3)
    run_properties(functions, None, RunSettings(seed=1, max_examples=5, strategy=options))
    assert seen and all(x == (4, 3) and y == (1, 3) for x, y in seen)


def test_same_seed_same_result():
    first = run_properties(BUGGY, None, RunSettings(seed=11, max_examples=30))
    again = run_properties(BUGGY, None, RunSettings(seed=11, max_examples=30))
    assert first.failures == again.failures
