"""A backward's contract, as torch's ``gradcheck`` asks of one: the checks of the ``layers`` and ``signature`` targets.

Called again on the same cache, a backward gives the same gradients; a zero ``dout`` gives zero gradients; no
gradient shares memory with ``dout`` or with an input the caller still holds (the caller's later change would move
it). Each check raises the property's failure for the first entry that breaks it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any

import numpy as np

from gradharness.check.program import arrays_in
from gradharness.records.status import FailureKind
from gradharness.targets.findings import called, fail


def same_gradients(
    prop: Enum, case: Any, how: str, first: Mapping[str, np.ndarray], again: Mapping[str, np.ndarray]
) -> None:
    """``again`` (the gradients of the second call, ``how`` says which) equal ``first``, NaN for NaN."""
    for name, value in first.items():
        other = again[name]
        if not np.array_equal(value, other, equal_nan=True):
            differs = ~((value == other) | (np.isnan(value) & np.isnan(other)))
            index = tuple(int(i) for i in np.argwhere(differs)[0])
            message = f"{how} gives {name}{list(index)} = {other[index]:.6g}, first {value[index]:.6g}"
            raise fail(prop, message, FailureKind.WRONG, case)


def zero_gradients(prop: Enum, case: Any, function: str, gradients: Mapping[str, np.ndarray]) -> None:
    """The gradients a zero ``dout`` gave are all exactly zero."""
    for name, value in gradients.items():
        if np.any(value != 0.0):
            index = tuple(int(i) for i in np.argwhere(value != 0.0)[0])
            message = f"{function} gives {name}{list(index)} = {value[index]:.6g} for a zero dout"
            raise fail(prop, message, FailureKind.WRONG, case)


def no_views(
    prop: Enum,
    case: Any,
    function: str,
    backward: Callable[..., Any],
    arguments: Sequence[Any],
    inputs: Sequence[Any],
    gradients: Sequence[str],
) -> None:
    """No gradient ``backward(*arguments)`` returns shares memory with its first argument (``dout``) or with
    ``inputs`` (the arrays the caller gave the forward). A file's function in the evaluator is asked there, where
    the arrays are (its ``views``); a function of this process is called and looked at."""
    views = getattr(backward, "views", None)
    if callable(views):
        found = called(prop, case, function, views, *arguments)
    else:
        returned = called(prop, case, function, backward, *arguments)
        items = [returned] if len(gradients) == 1 else list(returned)
        found = []
        for index, item in enumerate(items):
            if not isinstance(item, np.ndarray):
                continue
            if np.shares_memory(item, arguments[0]):
                found.append((index, "dout"))
            elif any(np.shares_memory(item, array) for array in arrays_in(list(inputs))):
                found.append((index, "an input in the cache"))
    for index, what in found:
        if 0 <= index < len(gradients):
            message = f"{function}'s {gradients[index]} is a view of {what}: the caller's later change moves it"
            raise fail(prop, message, FailureKind.SIDE_EFFECT, case)
