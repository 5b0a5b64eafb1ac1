"""Which entries the coordinate-wise comparison sets aside."""

from __future__ import annotations

import numpy as np
import pytest

from gradharness.check.exclusions import exclusions
from gradharness.check.layout import block_layout
from gradharness.model.parameters import LayerSizes

SIZES = LayerSizes(4, 5, 3, 1)  # W1 0-19, b1 20-24, W2 25-39, b2 40-42, W3 43-45, b3 46
P = 47


def test_nothing_set_aside_is_clean_and_shared_read_only():
    masks = exclusions(np.ones(P), np.zeros(P, dtype=bool), {}, block_layout(SIZES))
    assert masks.clean and masks.considered is None
    assert not masks.excluded.any() and not masks.flagged.any()
    assert exclusions(np.ones(P), np.zeros(P, dtype=bool), {}, block_layout(SIZES)).excluded is masks.excluded
    with pytest.raises(ValueError):
        masks.excluded[0] = True


def test_kinks_and_saturation_are_set_aside_saturation_first():
    gradapprox = np.ones(P)
    gradapprox[[3, 30]] = [np.inf, np.nan]
    kink = np.zeros(P, dtype=bool)
    kink[[3, 7]] = True  # entry 3 is both: it counts as saturated
    masks = exclusions(gradapprox, kink, {}, block_layout(SIZES))
    assert not masks.clean and masks.considered is None
    assert np.flatnonzero(masks.saturated).tolist() == [3, 30]
    assert np.flatnonzero(masks.kink).tolist() == [7]
    assert np.flatnonzero(masks.excluded).tolist() == [3, 7, 30]


def test_screened_blocks_are_not_considered_nor_saturated():
    gradapprox = np.ones(P)
    gradapprox[25:40] = np.nan  # W2 was settled by its probes: no coordinate-wise values
    masks = exclusions(gradapprox, np.zeros(P, dtype=bool), {"W2": object()}, block_layout(SIZES))
    assert masks.clean  # nothing at a kink or saturated
    assert np.flatnonzero(~masks.considered).tolist() == list(range(25, 40))
    assert not masks.saturated.any()
    assert np.array_equal(masks.excluded, ~masks.considered)
