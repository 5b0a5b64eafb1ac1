"""The benchmark's pieces: the seed loop it times is the exercise's, and a quick run prints its table."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from gradharness.bench import speed as bench
from gradharness.model import network
from gradharness.model.case import seed_test_case


def test_the_timed_seed_loop_is_the_exercise():
    case = seed_test_case()
    _, cache = network.forward_propagation_n(case.X, case.Y, case.parameters)
    buggy = network.backward_propagation_n_buggy(case.X, case.Y, cache)
    difference = bench.seed_gradient_check_n(case.parameters, buggy, case.X, case.Y)
    assert difference == pytest.approx(0.2850931567761623, rel=1e-12)  # the exercise's printed value


def test_bench_cases_are_the_exercise_and_random_networks():
    assert bench.bench_case((4, 5, 3, 1), 3).parameters["W1"][0, 0] == seed_test_case().parameters["W1"][0, 0]
    big = bench.bench_case((7, 6, 5, 2), 4)
    assert big.X.shape == (7, 4) and big.parameters["W2"].shape == (5, 6)


def test_structured_floor_counts_the_row_updates():
    # 784-128-64-1, m = 64: layer 1 dominates, 2 passes x (n2 m + n3 n2 m) multiply-adds per entry.
    flops = bench.structured_flops((784, 128, 64, 1), 64)
    assert flops == pytest.approx(2 * 2 * 128 * 785 * (64 * 64 + 64 * 64), rel=0.01)
    assert bench.structured_flops((1, 1, 1, 1), 1) > 0


def test_report_says_when_torch_is_missing():
    row = bench.Row("4-5-3-1, m=3", 47, 1.8e-3, 1e-4, 2e-4, None, None, 1e-7, 1e5)
    text = bench.report([row], {"drawing only": 900.0}, None)
    assert "torch not installed" in text
    assert "18x" in text and "drawing only" in text


@pytest.mark.slow
def test_quick_run_prints_every_column(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # as if the bench extra were not installed
    with np.errstate(all="ignore"):
        bench.main(["--quick", "--cases", "3"])
    out = capsys.readouterr().out
    assert "torch not installed" in out
    for text in ("4-5-3-1, m=3", "seed loop", "directional", "full vs seed", "gradharness full", "peak memory"):
        assert text in out
    assert "user-file check, cases/s: in-process" in out
    assert "batch check, files/min: pool of 2" in out and "1 pass, 2 fail, 0 error; best of 1 round;" in out
    assert "verdicts the same both ways" in out


def test_unknown_size_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--sizes", "huge", "--cases", "0"])
    assert exit_info.value.code == 2
    assert "unknown sizes huge" in capsys.readouterr().err
