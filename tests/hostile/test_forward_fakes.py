"""Forward passes that are not the network but agree with their own backward pass.

Each fake agrees with its backward, so the gradient check alone would pass it; only comparing its
costs with the network's catches it (FORWARD_MATCHES). Without the reference (``--no-reference``)
they are self-consistent code, and pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradharness.records.verdict import RunVerdict
from tests.hostile.support import (
    HONEST,
    NO_REFERENCE,
    assert_nothing_left,
    attack,
    check,
    failed_properties,
    write,
)

CONSTANT = """
import numpy as _np


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    return 0.5, {name: _np.shape(value) for name, value in parameters.items()}


def backward_propagation_n(X, Y, cache):
    return {"d" + name: _np.zeros(shape) for name, shape in cache.items()}
"""

PENALISED = """
import numpy as _np

_honest_forward, _honest_backward = forward_propagation_n, backward_propagation_n


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    cost, cache = _honest_forward(X, Y, parameters)
    return cost + 0.5 * _np.sum(parameters["W2"] ** 2), (cache, parameters["W2"])


def backward_propagation_n(X, Y, cache):
    cache, W2 = cache
    gradients = _honest_backward(X, Y, cache)
    gradients["dW2"] = gradients["dW2"] + W2
    return gradients
"""

LOOP_AWARE = """
import sys as _sys

import numpy as _np

_honest_forward, _honest_backward = forward_propagation_n, backward_propagation_n
_LOOPS = ("loop_costs", "gradapprox_loop", "perturbed_costs", "_costs", "gradient_check_n")
_base = {}


def _in_checkers_loop():
    frame = _sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name in _LOOPS or "finite_diff" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def forward_propagation_n(X, Y, parameters):
    _spawn_marker()
    cost, cache = _honest_forward(X, Y, parameters)
    if not _in_checkers_loop():
        _base["W2"] = _np.array(parameters["W2"], copy=True)
        _base["dW2"] = _honest_backward(X, Y, cache)["dW2"]
        return cost, cache
    # Perturbed by the checker: move the cost as if dJ/dW2 were twice what it is.
    return cost + _np.sum((parameters["W2"] - _base["W2"]) * _base["dW2"]), cache


def backward_propagation_n(X, Y, cache):
    gradients = _honest_backward(X, Y, cache)
    gradients["dW2"] = gradients["dW2"] * 2
    return gradients
"""

FAKES = {"constant": CONSTANT, "penalised": PENALISED, "loop_aware": LOOP_AWARE}


@pytest.mark.parametrize("fake", list(FAKES))
def test_a_forward_that_is_not_the_network_fails_forward_matches(
    tmp_path: Path, level: str, marker: str, fake: str
) -> None:
    path = write(tmp_path / "submission", f"{fake}.py", attack(HONEST, FAKES[fake], marker))
    record = check(path, level)
    assert record.verdict is RunVerdict.FAIL, record.error
    assert "FORWARD_MATCHES" in failed_properties(record)
    message = next(f.message for f in record.failures if f.property == "FORWARD_MATCHES")
    assert "forward_propagation_n returns " in message and " where the network's cost is " in message, message
    assert_nothing_left(marker)


@pytest.mark.parametrize("fake", list(FAKES))
def test_without_the_reference_a_self_consistent_forward_passes(
    tmp_path: Path, level: str, marker: str, fake: str
) -> None:
    """The loop-aware fake passes too: the gradient check alone cannot catch it."""
    path = write(tmp_path / "submission", f"{fake}.py", attack(HONEST, FAKES[fake], marker))
    record = check(path, level, NO_REFERENCE)
    assert record.verdict is RunVerdict.PASS, (record.error, [f.message for f in record.failures])
    assert "FORWARD_MATCHES" not in {p.name for p in record.properties}
    assert any("--no-reference" in note for note in record.target.get("notes", []))
    assert_nothing_left(marker)
