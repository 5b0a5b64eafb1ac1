"""What the checks of a target's whole network share (the L-layer model, the regularisation exercise's parts): the
inputs its functions must leave alone, and the verdict on its backward's agreement with the numerical gradient."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

import numpy as np

from gradharness.check.result import GradientCheckResult
from gradharness.errors import describe_exception, raised_by_user_code
from gradharness.properties.failures import PropertyFailure
from gradharness.records.status import FailureKind
from gradharness.targets.findings import agreement_held, fail


def inputs_given(
    case: Any, X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The arrays the file's functions were given (X, Y and each parameter, by label), and the case's own."""
    given = {"X": X, "Y": Y, **{f"parameter {k}": parameters.get(k) for k in case.parameters}}
    pristine = {"X": case.X, "Y": case.Y, **{f"parameter {k}": v for k, v in case.parameters.items()}}
    return given, pristine


def agreed(
    prop: Enum,
    function: str,
    case: Any,
    check: Callable[[], GradientCheckResult],
    hint: Callable[[GradientCheckResult], str] | None = None,
) -> GradientCheckResult:
    """``check()``'s result when the backward agrees with the numerical gradient; else raise ``prop``: CRASHED when
    the user's ``function`` raised at a perturbed point, WRONG (with ``hint``'s words after the reason) when the
    gradients disagree."""
    try:
        result = check()
    except PropertyFailure:
        raise
    except BaseException as exc:  # the user's functions, called on perturbed parameters
        if not raised_by_user_code(exc):
            raise
        message = describe_exception(function, exc) + " on perturbed parameters"
        raise fail(prop, message, FailureKind.CRASHED, case) from None
    return agreement_held(prop, case, result, hint(result) if hint is not None and not result.passed else "")
