"""The whole-gradient difference and the one-line reason."""

from __future__ import annotations

import numpy as np
import pytest

from gradharness.check.blocks import block_sums
from gradharness.check.result import BlockResult, EntryReport, relative_difference
from gradharness.check.summary import overall_difference, reason
from gradharness.check.verdict import Verdict


def test_overall_difference_from_block_sums_is_the_seeds_measure():
    rng = np.random.default_rng(2)
    grad, approx = rng.normal(size=20), rng.normal(size=20)
    sums = block_sums(grad, approx, None, np.array([0, 5, 12]))
    quick = overall_difference(grad, approx, sums, None, (), every_entry_checked=True)
    slow = overall_difference(grad, approx, sums, None, (), every_entry_checked=False)
    assert quick == pytest.approx(slow, rel=1e-12) and quick == pytest.approx(relative_difference(grad, approx))


def test_overall_difference_counts_non_finite_numerical_values_as_zero():
    grad, approx = np.array([1.0, 2.0]), np.array([1.0, np.nan])
    sums = block_sums(grad, approx, None, np.array([0]))
    gap, grad_norm, approx_norm = 2.0, np.sqrt(5.0), 1.0  # the NaN counts as 0
    expected = gap / (grad_norm + approx_norm)
    assert overall_difference(grad, approx, sums, None, (), every_entry_checked=False) == pytest.approx(expected)
    assert overall_difference(np.array([np.inf, 0]), approx, sums, None, (), every_entry_checked=False) == np.inf


def block(name, verdict, difference=0.5, noise=0.1, kinks=0, saturated=0):
    return BlockResult(name, difference, verdict, 3, kinks, saturated, noise)


@pytest.mark.parametrize(
    ("verdict", "blocks", "expected"),
    [
        (Verdict.PASS, [block("dW1", Verdict.PASS, 1e-9)], "every block agrees (largest block difference 1e-09"),
        (Verdict.WRONG, [block("dW1", Verdict.PASS), block("db1", Verdict.WRONG)], "disagrees with the numerical gradient in db1 (difference 0.5); e.g. dW2[0, 1]"),
        (Verdict.IMPRECISE, [block("dW3", Verdict.IMPRECISE)], "dW3 0.5 (numerical error ~0.1), but within"),
        (Verdict.SATURATED, [block("dW1", Verdict.SATURATED, saturated=2), block("db1", Verdict.PASS, saturated=1)], "not finite in 3 perturbed passes"),
        (Verdict.KINK, [block("dW1", Verdict.KINK, kinks=4)], "only at 4 entries whose perturbation crosses a ReLU kink"),
    ],
)  # fmt: skip
def test_reasons_name_the_blocks_responsible(verdict, blocks, expected):
    named = (EntryReport("dW2[0, 1]", 1.0, 2.0, 0.0, Verdict.WRONG),)
    assert expected in reason(verdict, blocks, named, 1e-7, None)
