"""Names in either letter case: one rule for every dictionary the user's code makes or reads."""

from __future__ import annotations

import pytest

from gradharness.model.keys import KeyCaseDict, matching_key


@pytest.mark.parametrize(
    ("keys", "name", "expected"),
    [
        ({"dW1": 0}, "dW1", "dW1"),
        ({"dw1": 0}, "dW1", "dw1"),
        ({"DW1": 0, "dW1": 1}, "dW1", "dW1"),  # the exact name wins over a case-folded one
        ({"dW2": 0, 1: 2}, "dW1", None),
        ({}, "W1", None),
        (["w1", "b1"], "W1", "w1"),
    ],
)
def test_matching_key(keys, name: str, expected) -> None:
    assert matching_key(keys, name) == expected


def test_key_case_dict_keeps_its_own_keys_and_finds_the_others() -> None:
    d = KeyCaseDict({"dw1": 1, 3: "three"})
    assert d["dW1"] == 1 and d[3] == "three" and "DW1" in d and 3 in d and "dW2" not in d
    assert list(d) == ["dw1", 3]
    with pytest.raises(KeyError):
        d[4]
