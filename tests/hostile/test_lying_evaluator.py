"""An evaluator is the user's own process: replies that lie about what was asked never make a PASS."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.support import BUGGY, check, write

HIDE_THE_NETWORK = """
import sys as _sys
_evaluator = _sys.modules.get("__main__")
_send = _evaluator.write_frame
def _lying_send(stream, reply):
    if isinstance(reply, dict) and "network" in reply:
        reply.update(network=False, not_checked=[], notes=[])
    return _send(stream, reply)
_evaluator.write_frame = _lying_send
"""

INFINITE_BASE_COST = """
import sys as _sys, hashlib as _hashlib
_evaluator = _sys.modules.get("__main__")
_changed = _evaluator._changed
_evaluator._changed = lambda inputs, pristine: _changed(inputs, pristine) or {"tick": 0}
_seen = set()
_honest = forward_propagation_n
def forward_propagation_n(X, Y, parameters):
    key = _hashlib.sha1(b"".join(np.asarray(parameters[k]).tobytes() for k in sorted(parameters))).hexdigest()
    cost, cache = _honest(X, Y, parameters)
    if key in _seen:
        return float("inf"), cache  # the checker's own call at the drawn parameters
    _seen.add(key)
    return cost, cache
"""

NAN_AT_THE_PERTURBED_POINTS_1D = """
_last = []
_H = float(np.cbrt(np.finfo(np.float64).eps))
def backward_propagation(x, theta):
    return 2 * x  # wrong: dJ/dtheta is x
def forward_propagation(x, theta):
    if _last and _last[0][0] == x:
        t0 = _last[0][1]
        h = _H * max(1.0, abs(t0))
        if any(abs(abs(theta - t0) - k * h) <= 1e-6 * h for k in (1, 2)):
            return float("nan")  # the centred difference would look "saturated"
    _last[:] = [(x, theta)]
    return theta * x
"""


def test_an_evaluator_that_denies_the_network_pair_is_an_error(tmp_path: Path, level: str) -> None:
    record = check(write(tmp_path, "hides.py", BUGGY + HIDE_THE_NETWORK), level)
    assert record.verdict.value == "error", record.verdict
    assert "says there is no forward_propagation_n and backward_propagation_n" in (record.error or "")


def test_a_base_cost_that_turns_infinite_on_the_checkers_call_never_passes(tmp_path: Path, level: str) -> None:
    record = check(write(tmp_path, "infinite.py", BUGGY + INFINITE_BASE_COST), level)
    assert record.verdict.value == "fail", record.error


def test_nan_costs_at_the_1d_checkers_points_never_pass(tmp_path: Path, level: str) -> None:
    record = check(write(tmp_path, "nan_1d.py", BUGGY + NAN_AT_THE_PERTURBED_POINTS_1D), level)
    assert record.verdict.value == "fail"
    assert any(f.property == "DERIVATIVE_1D" for f in record.failures), [f.message for f in record.failures]
