"""The verdict of each block, and of the entries in the blocks that fail."""

from __future__ import annotations

import numpy as np
import pytest

from gradharness.check.blocks import block_sums, judge_blocks
from gradharness.check.exclusions import exclusions
from gradharness.check.layout import block_layout, flat_gradient
from gradharness.check.numerical import numerical_side
from gradharness.check.verdict import Verdict
from gradharness.model import network
from gradharness.model.case import seed_test_case

OPTIONS = dict(epsilon=None, forward=None, method="auto", numerical=None, screen=None, probes=4, threshold=1e-7)


def test_block_sums_are_the_squared_norms_per_block():
    rng = np.random.default_rng(0)
    grad, approx = rng.normal(size=10), rng.normal(size=10)
    excluded = np.zeros(10, dtype=bool)
    excluded[[1, 8]] = True
    grad[9] = np.nan
    starts = np.array([0, 4, 7])
    sums = block_sums(grad, approx, excluded, starts)
    for (ok, mismatch2, grad2, approx2), block in zip(sums, (slice(0, 4), slice(4, 7), slice(7, 10)), strict=True):
        keep = ~excluded[block]
        g, a = grad[block][keep], approx[block][keep]
        assert ok == bool(np.all(np.isfinite(grad[block])))
        if ok:
            assert mismatch2 == pytest.approx(np.sum((g - a) ** 2), rel=1e-12)
            assert (grad2, approx2) == pytest.approx((np.sum(g**2), np.sum(a**2)), rel=1e-12)
    assert [column[0] for column in sums] == [True, True, False]


def judged(gradients):
    case = seed_test_case()
    layout = block_layout(case.sizes)
    grad = flat_gradient(gradients, layout)
    side = numerical_side(case.parameters, grad, case.X, case.Y, layout, **OPTIONS)
    masks = exclusions(side.gradapprox, side.kink, side.screened, layout)
    return judge_blocks(grad, side, masks, layout, 1e-7), layout


def gradients(backward=network.backward_propagation_n):
    case = seed_test_case()
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    return backward(case.X, case.Y, cache)


def test_correct_blocks_pass_with_no_entry_marked():
    verdicts, layout = judged(gradients())
    assert [b.name for b in verdicts.blocks] == list(layout.gradient_names)
    assert all(b.verdict is Verdict.PASS and np.isnan(b.noise) for b in verdicts.blocks)
    assert verdicts.verdict is Verdict.PASS and not verdicts.status.any() and not verdicts.allowances.any()


def test_a_wrong_block_marks_its_wrong_entries_and_only_those():
    wrong = dict(gradients())
    wrong["dW3"] = wrong["dW3"].copy()
    largest = int(np.argmax(np.abs(wrong["dW3"])))
    wrong["dW3"].flat[largest] *= 1.01
    verdicts, layout = judged(wrong)
    assert verdicts.verdict is Verdict.WRONG
    assert [b.name for b in verdicts.blocks if b.verdict is Verdict.WRONG] == ["dW3"]
    dW3 = layout.slice_of("W3")
    assert np.flatnonzero(verdicts.status == Verdict.WRONG.rank).tolist() == [dW3.start + largest]
    assert (verdicts.allowances[dW3] > 0).all() and not verdicts.allowances[: dW3.start].any()


def test_a_non_finite_gradient_is_wrong_whatever_the_numerics():
    bad = dict(gradients())
    bad["db1"] = np.full((5, 1), np.inf)
    verdicts, _ = judged(bad)
    block = next(b for b in verdicts.blocks if b.name == "db1")
    assert block.verdict is Verdict.WRONG and block.difference == float("inf")
