"""What every target's checks share: one failure type per property, and the checks of what a file's function returns.

Each property of a target raises its own :class:`~gradharness.properties.failures.PropertyFailure` subclass (so
Hypothesis shrinks each distinct bug on its own), made once by :func:`register_failures`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any

import numpy as np

from gradharness.check.finite_diff import Perturbations, PerturbedCosts
from gradharness.check.precision import DOUBLE, SINGLE, precision_of, unit_roundoff
from gradharness.check.result import GradientCheckResult
from gradharness.errors import describe_exception, raised_by_user_code
from gradharness.model.parameters import unchanged
from gradharness.properties.failures import PropertyFailure
from gradharness.properties.properties import gradient_array
from gradharness.records.status import FailureKind

UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2

FAILURES: dict[Enum, type[PropertyFailure]] = {}
"""One exception type per property, so Hypothesis shrinks each distinct bug on its own."""


def register_failures(properties: type[Enum]) -> None:
    """One exception type for each of ``properties`` (the deep target's, or those of its other parts' modules),
    raised by the helpers here for it."""
    FAILURES.update(
        {
            prop: type(f"{prop.name.title().replace('_', '')}Failure", (PropertyFailure,), {"prop": prop})
            for prop in properties
        }
    )


def fail(prop: Enum, message: str, kind: FailureKind, case: Any, check: GradientCheckResult | None = None):
    """``prop``'s failure (to raise) on ``case``, with the gradient check that found it when there is one."""
    return FAILURES[prop](message, kind, case, check)


def called(prop: Enum, case: Any, name: str, function: Callable, *arguments: Any) -> Any:
    """``function(*arguments)``; whatever the user's code raises is ``prop``'s failure (CRASHED)."""
    try:
        return function(*arguments)
    except PropertyFailure:
        raise
    except BaseException as exc:  # the user's code may raise anything; it is a finding, not our crash
        if not raised_by_user_code(exc):
            raise
        raise fail(prop, describe_exception(name, exc), FailureKind.CRASHED, case) from None


def pair(prop: Enum, case: Any, name: str, returned: object, what: str) -> tuple[Any, Any]:
    """The two items of what ``name`` returned (``what`` says which, e.g. ``(AL, caches)``); MALFORMED otherwise."""
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        raise fail(prop, f"{name} returned {type(returned).__name__}, expected {what}", FailureKind.MALFORMED, case)
    return returned[0], returned[1]


def close(value: np.ndarray, expected: np.ndarray, scale: float, roundoff: float = UNIT_ROUNDOFF) -> bool:
    """Whether two correct computations could give these (a few hundred ulps of the values' scale; ``roundoff``:
    the unit roundoff of the coarser one, float32's for single precision code)."""
    tolerance = 256 * roundoff * max(scale, 1.0)
    return value.shape == expected.shape and bool(np.all(np.abs(value - expected) <= tolerance))


def returned_array(
    prop: Enum, case: Any, name: str, value: object, expected: np.ndarray, what: str, *, single: bool = False
):
    """A forward's returned array checked against the reference's ``expected`` (shape and values; with ``single``
    a float32 array is held to float32's rounding, else it is MALFORMED)."""
    array = gradient_array(
        name, value, expected.shape, failure=FAILURES[prop], case=case, expected=f"for {case.describe()}",
        single=single,
    )  # fmt: skip
    scale = float(np.max(np.abs(expected), initial=0.0))
    precision = precision_of([value]) if single else DOUBLE
    if not close(array, expected, scale, unit_roundoff(precision)):
        worst = np.unravel_index(int(np.argmax(np.abs(array - expected))), expected.shape)
        message = (
            f"{name} returns {array[worst]:.10g} at {list(map(int, worst))} where {what} is {expected[worst]:.10g}"
        )
        if single and precision == DOUBLE and close(array, expected, scale, unit_roundoff(SINGLE)):
            message += " (within float32's rounding: code that computes in float32 should return float32 arrays)"
        raise fail(prop, message, FailureKind.WRONG, case)
    return array


def unchanged_inputs(prop: Enum, case: Any, given: Mapping[str, Any], pristine: Mapping[str, Any], during: str) -> None:
    for label, before in pristine.items():
        if not unchanged(before, given[label]):
            message = f"{label} was modified in place during {during}"
            raise fail(prop, message, FailureKind.SIDE_EFFECT, case)


def finite(prop: Enum, gradients: Mapping[str, np.ndarray], case: Any) -> None:
    for name, value in gradients.items():
        if not np.all(np.isfinite(value)):
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
            message = f"{name}{list(index)} is {value[index]} for {case.describe()}"
            raise fail(prop, message, FailureKind.NONFINITE, case)


def scaled(costs: PerturbedCosts, groups: Sequence[Perturbations], factors: Mapping[str, float]) -> PerturbedCosts:
    """The costs of the blocks in ``factors`` times their factor (the others as they are)."""
    out = []
    for group, (plus, minus) in zip(groups, costs, strict=True):
        factor = factors.get(group.block, 1.0)
        out.append((plus * factor, minus * factor) if factor != 1.0 else (plus, minus))
    return out


def returned_gradients(
    prop: Enum,
    case: Any,
    function: str,
    returned: object,
    shapes: Mapping[str, tuple[int, ...]],
    *,
    single: bool = False,
) -> dict[str, np.ndarray]:
    """What a backward returned, by gradient name: one array (for one gradient) or a tuple in the order of
    ``shapes`` (each gradient's name and the shape of the input it belongs to); MALFORMED otherwise (float32
    too, unless ``single``: the target judges single precision code at its own precision)."""
    names = list(shapes)
    values: Sequence[object]
    if len(names) == 1 and isinstance(returned, (tuple, list)) and len(returned) == 1:
        message = f"{function} returned a {type(returned).__name__} of 1 item; a backward of one input returns {names[0]} itself"
        raise fail(prop, message, FailureKind.MALFORMED, case)
    if len(names) == 1:
        values = [returned]
    elif isinstance(returned, (tuple, list)) and len(returned) == len(names):
        values = list(returned)
    else:
        got = (
            f"a {type(returned).__name__} of {len(returned)} items"
            if isinstance(returned, (tuple, list))
            else type(returned).__name__
        )
        message = f"{function} returned {got}, expected ({', '.join(names)})"
        raise fail(prop, message, FailureKind.MALFORMED, case)
    return {
        name: gradient_array(
            name, value, shape, failure=FAILURES[prop], case=case,
            expected=f"(the shape of {name[1:]}) for {case.describe()}", single=single,
        )
        for (name, shape), value in zip(shapes.items(), values, strict=True)
    }  # fmt: skip


def agreement_held(prop: Enum, case: Any, result: GradientCheckResult, judged: str = "") -> GradientCheckResult:
    """``result`` when its gradients agree; else ``prop``'s WRONG failure naming the wrong blocks and the case
    (``judged``: what the message adds, e.g. the precision single precision code was judged at)."""
    if not result.passed:
        message = f"{', '.join(result.wrong_blocks)} wrong for {case.describe()}: {result.reason}{judged}"
        raise fail(prop, message, FailureKind.WRONG, case, result)
    return result
