"""The entries a check names."""

from __future__ import annotations

import numpy as np

from gradharness.check.entries import worst_entries
from gradharness.check.verdict import Verdict
from gradharness.model.parameters import LayerSizes, entry_name

SIZES = LayerSizes(4, 5, 3, 1)


def test_the_all_passed_shortcut_names_what_the_general_path_names():
    rng = np.random.default_rng(1)
    grad = rng.normal(size=47)
    approx = grad * (1 + 1e-9 * rng.normal(size=47))
    approx[[5, 9]] = grad[[5, 9]]  # no difference at all: never named first
    status, allowances = np.zeros(47, dtype=np.int8), np.zeros(47)
    quick = worst_entries(SIZES, grad, approx, status, allowances, 1e-7, 5, all_passed=True)
    full = worst_entries(SIZES, grad, approx, status, allowances, 1e-7, 5)
    assert quick == full and len(quick) == 5
    assert all(e.status is Verdict.PASS for e in quick)
    score = [abs(e.backprop - e.numerical) / e.allowance for e in quick]
    assert score == sorted(score, reverse=True)


def test_wrong_entries_come_first_and_screened_ones_never():
    grad = np.ones(47)
    approx = np.ones(47)
    approx[[2, 30, 40]] = [1.5, 3.0, 1.1]
    status = np.zeros(47, dtype=np.int8)
    status[[2, 40]] = Verdict.WRONG.rank
    considered = np.ones(47, dtype=bool)
    considered[40] = False  # a screened block
    named = worst_entries(SIZES, grad, approx, status, np.zeros(47), 1e-7, 5, considered)
    assert [e.name for e in named] == [entry_name(SIZES, 2, "d")] == ["dW1[0, 2]"]
    assert named[0].status is Verdict.WRONG and named[0].backprop == 1.0 and named[0].numerical == 1.5
