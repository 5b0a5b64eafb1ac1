"""What the network computed on a case is remembered by the exact case and perturbations, never by a near one."""

from __future__ import annotations

import numpy as np

from gradharness.model.case import seed_test_case
from gradharness.properties.remembered import case_digest, digest, exactly, remembered


def test_a_value_is_computed_once_per_key() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    key = ("test_remembered", 1)
    assert remembered(key, compute) == 1 and remembered(key, compute) == 1 and calls == [1]
    assert remembered(("test_remembered", 2), compute) == 2


def test_keys_tell_apart_what_differs_in_dtype_shape_value_or_order() -> None:
    steps = np.array([1e-6, 2e-6])
    assert exactly(steps) == exactly(steps.copy())
    assert exactly(steps) != exactly(steps.astype(np.float32)) and exactly(steps) != exactly(steps.reshape(2, 1))
    assert exactly(steps) != exactly(np.nextafter(steps, 1.0)) and exactly(None) is None
    assert digest("a", "b") != digest("b", "a") and digest("ab") != digest("a", "b")
    case = seed_test_case()
    moved = seed_test_case()
    moved.parameters["W3"][0, 0] = np.nextafter(moved.parameters["W3"][0, 0], 10.0)
    assert case_digest(case) == case_digest(seed_test_case()) != case_digest(moved)
