"""The sensitivity sweeps: smallest caught delta per block, and the threshold sweep."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from gradharness.mutation.evaluate import Evaluation
from gradharness.mutation.runner import Lost
from gradharness.mutation.sensitivity import DELTAS, _smallest, run_sensitivity, safe_thresholds, threshold_sweep
from gradharness.mutation.target import CheckerSpec, reference_target
from gradharness.records.mutation import ThresholdPointRecord
from gradharness.records.status import MutantStatus
from gradharness.records.verdict import RunVerdict
from gradharness.render.terminal_mutation import render_sensitivity
from gradharness.settings import CampaignSettings


@pytest.mark.parametrize(
    ("caught", "enough", "expected"),
    [
        ([1.0, 1.0, 1.0, 0.0], 1.0, 1e-3),
        ([1.0, 0.5, 1.0, 0.0], 1.0, 1e-1),  # caught again further down does not count: it must hold from there on
        ([1.0, 0.6, 0.5, 0.4], 0.5, 1e-3),
        ([0.0, 0.0, 0.0, 0.0], 0.5, None),
    ],
)
def test_smallest_delta_from_which_on_it_is_caught(caught, enough, expected) -> None:
    assert _smallest((1e-1, 1e-2, 1e-3, 1e-4), caught, enough) == expected


def _evaluation(critical, differences=None, identical=False, status=MutantStatus.SURVIVED):
    return Evaluation(status, critical=tuple(critical), differences=tuple(differences or critical), identical=identical)


def test_threshold_sweep_counts_false_failures_and_kills() -> None:
    correct = _evaluation([0.0, 0.0, 2e-9, 0.0], differences=[1e-9, 3e-6, 2e-9, 1e-12])
    mutants = [
        _evaluation([0.0, 5e-3]),  # caught below 5e-3
        _evaluation([2e-8, 0.0]),  # caught below 2e-8
        _evaluation([0.0, 0.0], identical=True),  # left out: nothing can kill it
        Lost(None, "timeout"),  # noticed at every threshold
    ]
    points, counted = threshold_sweep(correct, mutants, thresholds=(1e-2, 1e-4, 1e-8, 1e-9))
    assert counted == 3
    assert [p.kill_rate for p in points] == pytest.approx([1 / 3, 2 / 3, 1.0, 1.0])
    assert [p.false_failures for p in points] == [0.0, 0.0, 0.0, 0.25]
    assert [p.bare_false_failures for p in points] == [0.0, 0.0, 0.25, 0.5]
    assert safe_thresholds(points) == [1e-8]


def test_no_safe_threshold_when_every_one_fails_correct_code() -> None:
    assert safe_thresholds([ThresholdPointRecord(1e-7, 0.1, 1.0, 0.1, 1.0)]) == []


@pytest.mark.slow
def test_the_reference_sweep() -> None:
    record = run_sensitivity(
        reference_target(), CheckerSpec(),
        CampaignSettings(seed=0, jobs=2, operators=("scale_gradient", "float32_downcast", "relu_mask_from_pre_activation")),
    )  # fmt: skip
    assert record.verdict is RunVerdict.PASS and record.harness.passed and record.kind == "sensitivity"
    assert record.deltas == list(DELTAS) and [b.block for b in record.blocks] == [
        "dW1",
        "db1",
        "dW2",
        "db2",
        "dW3",
        "db3",
    ]
    # Default draws exercise every block on nine cases in ten, and a 1e-6 error shows on each of them.
    assert record.cases == 100
    for block in record.blocks:
        assert block.cases >= 90, block
        assert block.smallest_always is not None and block.smallest_always <= 1e-6, block
    caught = re.search(r"the seed's bugs are caught on (\d+) of 100", record.harness.message)
    assert caught is not None and int(caught.group(1)) >= 95, record.harness.message
    text = io.StringIO()
    render_sensitivity(Console(file=text, width=200, color_system=None), record)
    assert record.harness.message in text.getvalue() and "cases exercising it" in text.getvalue()
    for block in record.blocks:
        assert block.caught[0] == 1.0  # a 10% error is caught wherever it stands out of the noise
        assert block.caught[-1] == 0.0  # 1e-10 is below the threshold 1e-7 on the relative difference
        assert block.smallest_any is not None and block.smallest_any >= 1e-7
    at = {p.threshold: p for p in record.threshold_sweep}
    assert at[1e-7].false_failures == 0.0
    assert at[1e-2].kill_rate <= at[1e-7].kill_rate <= at[1e-10].kill_rate
    assert record.mutants == 12  # relu_mask_from_pre_activation's two mutants are identical everywhere: left out
