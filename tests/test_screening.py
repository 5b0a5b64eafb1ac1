"""Directional screening: no false failure on correct code, the seed's bugs caught, wrong entries localised."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from gradharness.check.checker import gradient_check_n
from gradharness.check.error_model import CostFormula, cost_roundoff
from gradharness.check.perturbed import base_pass
from gradharness.check.screening import SCREEN_MIN_ENTRIES, directions, screen_blocks
from gradharness.check.verdict import NOISE_SAFETY, Verdict
from gradharness.model import network
from gradharness.model.case import NetworkCase
from gradharness.model.parameters import PARAMETER_NAMES, LayerSizes, gradients_to_vector, parameter_shapes
from strategies import network_cases


def random_case(sizes: tuple[int, int, int, int], m: int, seed: int = 0) -> NetworkCase:
    rng = np.random.default_rng(seed)
    layer = LayerSizes(*sizes)
    parameters = {name: rng.normal(size=shape) / np.sqrt(shape[1]) for name, shape in parameter_shapes(layer).items()}
    return NetworkCase(layer, rng.normal(size=(sizes[0], m)), (rng.random((sizes[3], m)) < 0.5) * 1.0, parameters)


def gradients_of(case: NetworkCase, backward=network.backward_propagation_n):
    with np.errstate(all="ignore"):
        _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
        return backward(case.X, case.Y, cache)


def screen_all(case: NetworkCase, grads, forward=None, threshold: float = 1e-7, probes: int = 4):
    """Screen every block, however small (the checker only screens blocks above SCREEN_MIN_ENTRIES)."""
    formula = CostFormula.STABLE if forward is None else CostFormula.SEED
    with np.errstate(all="ignore"):
        roundoff = cost_roundoff(case.X, case.Y, case.parameters, formula)
        return screen_blocks(
            case.parameters, gradients_to_vector(grads).reshape(-1), case.X, case.Y,
            base_pass(case.X, case.Y, case.parameters), roundoff, names=PARAMETER_NAMES, forward=forward,
            threshold=threshold, noise_safety=NOISE_SAFETY, probes=probes,
        )  # fmt: skip


def user_forward(X, Y, parameters):
    return network.forward_propagation_n(X, Y, parameters)


# --- no false failure ------------------------------------------------------------------------


@settings(max_examples=100)
@given(network_cases(max_units=8))
def test_correct_code_is_never_failed_by_the_screen(case):
    for outcome in screen_all(case, gradients_of(case)).values():
        # The screen only settles PASS; anything else goes to the full check.
        assert outcome.verdict in (Verdict.PASS, None)
    result = gradient_check_n(case.parameters, gradients_of(case), case.X, case.Y, screen=True)
    assert result.passed, result.summary()


@settings(max_examples=60)
@given(network_cases(adversarial=True, max_units=8))
def test_correct_code_passes_screened_checks_on_adversarial_draws(case):
    with np.errstate(all="ignore"):
        cost, _ = network.forward_propagation_n(case.X, case.Y, case.parameters)
        result = gradient_check_n(case.parameters, gradients_of(case), case.X, case.Y, screen=True)
    assert result.passed, result.summary()


@pytest.mark.parametrize("method", ["batched", "loop"])
def test_correct_code_with_a_huge_output_sensitivity_passes(method: str) -> None:
    # A step of cbrt(eps) * max(1, |W3|) would move Z3 by ~4.8 here, where the symmetric logistic loss
    # makes the centred differences at h and 2h agree with each other but not with the derivative.
    parameters = {
        "W1": np.array([[91.2]]), "b1": np.zeros((1, 1)), "W2": np.array([[89.5]]), "b2": np.zeros((1, 1)),
        "W3": np.array([[1e-8]]), "b3": np.zeros((1, 1)),
    }  # fmt: skip
    X, Y = np.array([[98.8]]), np.array([[0.0]])
    with np.errstate(all="ignore"):
        _, cache = network.forward_propagation_n(X, Y, parameters)
        gradients = network.backward_propagation_n(X, Y, cache)
        forward = None if method == "batched" else (lambda X, Y, p: network.forward_propagation_n(X, Y, p))
        result = gradient_check_n(parameters, gradients, X, Y, method=method, forward=forward)
    assert result.passed, result.summary()


@pytest.mark.parametrize("seed", range(5))
def test_correct_code_is_settled_by_the_probes(seed):
    case = random_case((30, 20, 10, 2), 16, seed=seed)
    outcomes = screen_all(case, gradients_of(case))
    assert all(o.verdict is Verdict.PASS for o in outcomes.values()), {n: o.reason for n, o in outcomes.items()}
    looped = screen_all(case, gradients_of(case), forward=user_forward)
    assert all(o.verdict is Verdict.PASS for o in looped.values()), {n: o.reason for n, o in looped.items()}


# --- bugs are caught and localised ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_the_seed_bugs_are_not_passed_by_the_screen(seed):
    case = random_case((12, 10, 8, 1), 6, seed=seed)
    outcomes = screen_all(case, gradients_of(case, network.backward_propagation_n_buggy))
    assert outcomes["W2"].verdict is None and outcomes["b1"].verdict is None
    assert all(outcomes[n].verdict is Verdict.PASS for n in ("W1", "b2", "W3", "b3"))


@pytest.mark.parametrize("forward", [None, user_forward], ids=["built-in", "user forward"])
def test_the_seed_bugs_are_named_through_the_screened_check(forward):
    case = random_case((12, 10, 8, 1), 6, seed=1)
    result = gradient_check_n(
        case.parameters, gradients_of(case, network.backward_propagation_n_buggy), case.X, case.Y,
        forward=forward, screen=True,
    )  # fmt: skip
    assert set(result.wrong_blocks) == {"dW2", "db1"}
    assert result.block("dW2").mode == "full"  # localised by the full check of the block
    assert result.block("dW1").mode == "screened" and result.block("dW1").verdict is Verdict.PASS
    assert result.block("db1").mode == "full"  # 10 entries: too small to screen
    assert all(e.name.startswith(("dW2[", "db1[")) for e in result.worst_entries if e.status is Verdict.WRONG)


@pytest.mark.parametrize("forward", [None, user_forward], ids=["built-in", "user forward"])
def test_one_wrong_entry_is_localised(forward):
    case = random_case((12, 10, 8, 1), 6, seed=4)
    grads = dict(gradients_of(case))
    grads["dW1"] = grads["dW1"].copy()
    grads["dW1"][3, 5] += 0.05 * np.abs(grads["dW1"]).max()
    result = gradient_check_n(case.parameters, grads, case.X, case.Y, forward=forward, screen=True)
    assert result.wrong_blocks == ("dW1",)
    assert result.worst_entries[0].name == "dW1[3, 5]"
    wrong = [i for i, s in enumerate(result.entry_status) if s is Verdict.WRONG]
    assert wrong == [3 * 12 + 5]
    assert result.block("dW2").mode == "screened"


# --- what screening reports and costs ---------------------------------------------------------


def test_user_forward_is_screened_by_default_and_saves_calls():
    case = random_case((12, 10, 8, 1), 6, seed=2)
    calls = []

    def counting_forward(X, Y, parameters):
        calls.append(1)
        return network.forward_propagation_n(X, Y, parameters)

    grads = gradients_of(case)
    screened = gradient_check_n(case.parameters, grads, case.X, case.Y, forward=counting_forward)
    screened_calls = len(calls)
    calls.clear()
    full = gradient_check_n(case.parameters, grads, case.X, case.Y, forward=counting_forward, screen=False)
    assert screened.passed and full.passed
    assert [b.mode for b in screened.blocks] == ["screened", "full", "screened", "full", "full", "full"]
    assert all(b.mode == "full" for b in full.blocks)
    assert screened_calls < len(calls) / 2
    assert np.isnan(screened.gradapprox[: 12 * 10]).all()  # W1 was never perturbed entry by entry
    assert screened.difference == pytest.approx(full.difference, rel=0.5, abs=1e-9)


def test_builtin_checks_and_small_blocks_stay_full_by_default():
    case = random_case((12, 10, 8, 1), 6, seed=2)
    assert all(b.mode == "full" for b in gradient_check_n(case.parameters, gradients_of(case), case.X, case.Y).blocks)
    small = random_case((4, 5, 3, 1), 3)
    result = gradient_check_n(small.parameters, gradients_of(small), small.X, small.Y, forward=user_forward)
    assert all(b.mode == "full" for b in result.blocks)  # every block has at most SCREEN_MIN_ENTRIES entries
    assert max(b.entries for b in result.blocks) <= SCREEN_MIN_ENTRIES


def test_directions_are_reproducible_and_validated():
    case = random_case((3, 2, 2, 1), 2)
    first, second = directions(case.parameters, 4), directions(case.parameters, 4)
    assert all(np.array_equal(first[n], second[n]) and first[n].shape == (4, case.parameters[n].size) for n in first)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="probes"):
            directions(case.parameters, bad)


SMALL_ERRORS = [("block", 3e-7), ("block", 1e-6), ("entry", 1e-4), ("entry", 1e-2)]


def _with_error(gradients, block: str, kind: str, delta: float):
    """The gradients with one block scaled by (1 + delta), or its largest entry alone."""
    wrong = dict(gradients)
    values = np.array(gradients[block], dtype=np.float64)
    if kind == "block":
        values = values * (1 + delta)
    else:
        values[np.unravel_index(np.argmax(np.abs(values)), values.shape)] *= 1 + delta
    wrong[block] = values
    return wrong


@pytest.mark.slow
def test_screening_catches_what_the_entry_by_entry_check_catches_on_drawn_cases():
    # The default user-file path screens blocks above SCREEN_MIN_ENTRIES: the probes settle a correct block
    # (mode "screened") but never a block with a small error, which goes to the entry-by-entry check.
    compared = []
    settled = []

    @settings(max_examples=12, deadline=None, database=None)
    @given(network_cases(min_units=9, max_units=10, max_batch=4))
    def check(case):
        grads = gradients_of(case)
        for block in ("dW1", "dW2", "dW3"):
            if grads[block].size <= SCREEN_MIN_ENTRIES or not np.any(grads[block]):
                continue
            correct = gradient_check_n(case.parameters, grads, case.X, case.Y, forward=user_forward)
            settled.append(correct.block(block[1:]).mode)
            for kind, delta in SMALL_ERRORS:
                wrong = _with_error(grads, block, kind, delta)
                full, screened = (
                    gradient_check_n(case.parameters, wrong, case.X, case.Y, forward=user_forward, screen=screen)
                    for screen in (False, True)
                )
                assert (screened.verdict is Verdict.WRONG) == (full.verdict is Verdict.WRONG), (block, kind, delta)
                compared.append(screened.block(block[1:]).mode)

    with np.errstate(all="ignore"):
        check()
    assert len(compared) >= 40 and set(compared) == {"full"}
    assert settled.count("screened") >= 0.8 * len(settled)


def test_the_screening_bench_plants_and_counts_errors_both_ways():
    from gradharness.bench.screening import RATIOS, compare

    counts = compare(15, 9, 20)
    assert all(counts[(kind, ratio, "planted")] > 0 for kind in ("block", "entry") for ratio in RATIOS)
    for kind in ("block", "entry"):
        for ratio in RATIOS:
            for mode in ("entry by entry", "screened"):
                assert counts[(kind, ratio, mode)] <= counts[(kind, ratio, "planted")]
    # A block scaled as a whole shows the same relative difference in any projection: caught alike.
    assert all(counts[("block", r, "screened")] == counts[("block", r, "entry by entry")] for r in RATIOS)
