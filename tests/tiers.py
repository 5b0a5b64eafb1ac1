"""The two tiers of the suite: ``-m "not slow"`` is the quick loop, the whole suite (CI) runs everything."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest


def quick_first(values: Sequence[Any], quick: int) -> list[Any]:
    """A test's parameters: the first ``quick`` run in the quick tier too, the rest only in the whole suite.

    A tuple is one set of arguments (for a parametrize of several names).
    """
    return [
        value
        if index < quick
        else pytest.param(*(value if isinstance(value, tuple) else (value,)), marks=pytest.mark.slow)
        for index, value in enumerate(values)
    ]
