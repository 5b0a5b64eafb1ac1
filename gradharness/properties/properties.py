"""The properties checked on every generated case, one function each.

Each raises :class:`PropertyFailure` (a distinct subclass per property, so
Hypothesis shrinks each distinct bug on its own) and returns the diagnosis of
a case that passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from gradharness.check.checker import GradientCheckResult, gradient_check, gradient_check_n
from gradharness.check.error_model import sigmoid_saturates
from gradharness.check.finite_diff import cost_of
from gradharness.check.scalar import step_1d
from gradharness.check.verdict import Verdict
from gradharness.errors import describe_exception, raised_by_user_code
from gradharness.model.case import NetworkCase
from gradharness.model.keys import matching_key
from gradharness.model.parameters import GRADIENT_NAMES, Gradients, Parameters, parameter_shapes, unchanged
from gradharness.properties.failures import (
    Derivative1DFailure,
    ForwardCostFailure,
    GradientAgreementFailure,
    GradientShapeFailure,
    Property,
    PropertyFailure,
    SideEffectFailure,
)
from gradharness.properties.reference import ReferenceAudit
from gradharness.records.status import FailureKind
from gradharness.settings import CheckOptions


@dataclass(frozen=True)
class NetworkFunctions:
    """The forward and backward pass under test; ``builtin`` allows the batched numerical gradient."""

    forward: Callable
    backward: Callable
    forward_name: str = "forward_propagation_n"
    backward_name: str = "backward_propagation_n"
    builtin: bool = False


@dataclass(frozen=True)
class CaseOutcome:
    """What one passing case showed: which properties ran, and the checker's verdict; ``precision``: the
    precision the code was judged at, for targets that judge float32 code at its own (None: float64 only)."""

    properties: tuple[Enum, ...]  # Property members, or a target's own
    verdict: Verdict
    precision: str | None = None


def _call(function_name: str, function: Callable, *args: object, failure: type[PropertyFailure], case: NetworkCase):
    try:
        return function(*args)
    except PropertyFailure:
        raise
    except BaseException as exc:  # the user's code may raise anything; it is a finding, not our crash
        if not raised_by_user_code(exc):
            raise
        raise failure(describe_exception(function_name, exc), FailureKind.CRASHED, case) from None


def _value_type(value: object) -> str:
    try:
        return f"{type(value).__name__} of {np.asarray(value).dtype.name}"
    except (TypeError, ValueError):
        return type(value).__name__


def normalise_gradients(returned: object, case: NetworkCase, backward_name: str) -> Gradients:
    """dW1 ... db3 from what backward returned (keys in either case), shapes checked."""
    if not isinstance(returned, Mapping):
        raise GradientShapeFailure(
            f"{backward_name} returned {type(returned).__name__}, expected a dict of gradients",
            FailureKind.MALFORMED,
            case,
        )
    shapes = parameter_shapes(case.sizes)
    gradients: Gradients = {}
    for name in GRADIENT_NAMES:
        key = matching_key(returned, name)
        value = returned[key] if key is not None else None
        if value is None:
            keys = ", ".join(sorted(map(str, returned))) or "none"
            raise GradientShapeFailure(
                f"{backward_name} returned no {name} (keys: {keys})", FailureKind.MALFORMED, case
            )
        gradients[name] = gradient_array(
            name, value, shapes[name[1:]], failure=GradientShapeFailure, case=case,
            expected=f"(the shape of {name[1:]}) for {case.describe()}",
        )  # fmt: skip
    return gradients


def gradient_array(
    name: str,
    value: object,
    shape: tuple[int, ...],
    *,
    failure: type[PropertyFailure],
    case: Any,
    expected: str,
    single: bool = False,
) -> np.ndarray:
    """A returned gradient as a float64 array of ``shape``; raise ``failure`` (MALFORMED) for anything else.

    Real numbers only (a complex, boolean or string array is never converted), and not single precision unless
    ``single`` (targets that judge float32 code at its own precision, :mod:`gradharness.check.precision`):
    ``expected`` says, after the shape, what the shape is of (``(the shape of W1) for sizes 4-5-3-1, m=3``).
    """
    try:
        given = np.asarray(value).dtype
        if given.kind not in "iuf":  # complex, bool, str, object: np.float64 would drop or parse them
            raise TypeError(given.name)
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise failure(
            f"{name} is {_value_type(value)}, not an array of real numbers", FailureKind.MALFORMED, case
        ) from None
    if array.shape != shape:
        raise failure(f"{name} has shape {array.shape}, expected {shape} {expected}", FailureKind.MALFORMED, case)
    if given.kind == "f" and given.itemsize < (4 if single else 8):
        # Single precision rounds each entry by ~6e-8 relative: an error the seed's
        # threshold of 1e-7 cannot resolve, so it is caught here instead.
        raise failure(
            f"{name} is {given.name}: gradients of float64 parameters must be float64 "
            f"({given.name} keeps about {np.finfo(given).precision} digits)",
            FailureKind.MALFORMED,
            case,
        )
    return array


def _forward_cost(
    functions: NetworkFunctions,
    forward: Callable,
    case: NetworkCase,
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
) -> tuple[float, object]:
    """The cost and cache ``forward`` returns; a non-finite cost only where the sigmoid saturates."""
    returned = _call(functions.forward_name, forward, X, Y, parameters, failure=ForwardCostFailure, case=case)
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        raise ForwardCostFailure(
            f"{functions.forward_name} returned {type(returned).__name__}, expected (cost, cache)",
            FailureKind.MALFORMED,
            case,
        )
    try:
        cost = cost_of(returned[0])
    except (TypeError, ValueError) as exc:
        raise ForwardCostFailure(f"{functions.forward_name}: {exc}", FailureKind.MALFORMED, case) from None
    if not math.isfinite(cost) and not sigmoid_saturates(case.X, case.parameters):
        raise ForwardCostFailure(
            f"{functions.forward_name} returned cost {cost} for {case.describe()}, where the cost is finite",
            FailureKind.NONFINITE,
            case,
        )
    return cost, returned[1]


def _check_unchanged(case: NetworkCase, X: np.ndarray, Y: np.ndarray, parameters: Parameters) -> None:
    """Raise SideEffectFailure if forward/backward modified the copies of the case they were given."""
    for label, before, after in (("X", case.X, X), ("Y", case.Y, Y)):
        if not unchanged(before, after):
            raise SideEffectFailure(
                f"{label} was modified in place during forward/backward", FailureKind.SIDE_EFFECT, case
            )
    for name, before in case.parameters.items():
        if not unchanged(before, parameters.get(name)):
            raise SideEffectFailure(
                f"parameter {name} was modified in place during forward/backward", FailureKind.SIDE_EFFECT, case
            )


def _check_finite(gradients: Gradients, case: NetworkCase) -> None:
    """Raise GradientAgreementFailure naming the first NaN or inf entry of the gradients."""
    for name, value in gradients.items():
        if not np.all(np.isfinite(value)):
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
            raise GradientAgreementFailure(
                f"{name}{list(index)} is {value[index]} for {case.describe()}", FailureKind.NONFINITE, case
            )


def _check_agreement(
    functions: NetworkFunctions,
    forward: Callable | None,
    case: NetworkCase,
    gradients: Gradients,
    options: CheckOptions,
    checker: Callable | None,
) -> GradientCheckResult:
    """The checker's result on the gradients (numerical side from ``forward``, None: the built-in network)."""
    try:
        result = (checker or gradient_check_n)(
            case.copy_parameters(),
            gradients,
            case.X,
            case.Y,
            options.epsilon,
            threshold=options.threshold,
            forward=forward,
        )
    except PropertyFailure:  # the forward's cost at a perturbed point is not the network's
        raise
    except BaseException as exc:  # the user's forward, called on perturbed parameters
        if not raised_by_user_code(exc):
            raise
        raise GradientAgreementFailure(
            describe_exception(functions.forward_name, exc) + " on perturbed parameters", FailureKind.CRASHED, case
        ) from None
    if not result.passed:
        raise GradientAgreementFailure(
            f"{', '.join(result.wrong_blocks)} wrong for {case.describe()}: {result.reason}",
            FailureKind.WRONG,
            case,
            result,
        )
    return result


def check_network_case(
    functions: NetworkFunctions, case: NetworkCase, options: CheckOptions, *, checker: Callable | None = None
) -> CaseOutcome:
    """Run every network property on one case; raise PropertyFailure on the first that fails.

    ``checker`` replaces :func:`gradient_check_n` (same call), e.g. with one that reuses a
    precomputed numerical gradient, or a checker under test.
    """
    X, Y = case.X.copy(), case.Y.copy()
    parameters = case.copy_parameters()
    ran = [Property.FORWARD_COST]
    forward: Callable = functions.forward
    if options.reference and not functions.builtin:
        ran.append(Property.FORWARD_MATCHES)
        forward = ReferenceAudit(functions.forward, functions.forward_name, case)
    cost, cache = _forward_cost(functions, forward, case, X, Y, parameters)

    ran.append(Property.GRADIENT_SHAPES)
    returned = _call(functions.backward_name, functions.backward, X, Y, cache, failure=GradientShapeFailure, case=case)
    gradients = normalise_gradients(returned, case, functions.backward_name)

    ran.append(Property.NO_SIDE_EFFECTS)
    _check_unchanged(case, X, Y, parameters)

    ran.append(Property.GRADIENT_AGREES)
    _check_finite(gradients, case)
    if not math.isfinite(cost):  # saturated: the numerical gradient of an infinite cost says nothing
        return CaseOutcome(tuple(ran), Verdict.SATURATED)
    result = _check_agreement(functions, None if functions.builtin else forward, case, gradients, options, checker)
    return CaseOutcome(tuple(ran), result.verdict)


def _wrong_1d_cost(J: float, x: float, theta: float) -> str | None:
    """Why J is not forward_propagation(x, theta) = theta * x (None: it is, to round-off)."""
    expected = theta * x
    if math.isfinite(J) and abs(J - expected) <= 1e-12 * max(1.0, abs(expected)):
        return None
    return f"forward_propagation({x!r}, {theta!r}) = {J!r}, expected theta * x = {expected!r}"


def _audited_1d(forward: Callable, x: float) -> Callable:
    """``forward`` with each cost the checker asks for compared with theta * x (the perturbed points too)."""

    def audited(x_: float, theta: float) -> float:
        J = cost_of(forward(x_, theta))
        wrong = _wrong_1d_cost(J, x, theta)
        if wrong is not None:
            raise Derivative1DFailure(wrong, FailureKind.WRONG, point=(x, theta))
        return J

    return audited


def prefetch_1d(forward: Callable, points: Sequence[tuple[float, float]], options: CheckOptions) -> None:
    """Ask a forward with a ``prefetch`` method (the evaluator's stand-in), in one round trip, for every call
    :func:`check_1d_point` makes on each point in turn: J at theta and at theta +- the step, then the backward."""
    prefetch = getattr(forward, "prefetch", None)
    if not callable(prefetch):
        return
    calls = []
    for x, theta in points:
        step = step_1d(theta, options.epsilon)
        calls.append((x, theta, (theta, theta + step, theta - step)))
    prefetch(calls)


def check_1d_point(forward: Callable, backward: Callable, x: float, theta: float, options: CheckOptions) -> Verdict:
    """The 1-D property at one point: forward is theta * x and backward its derivative."""
    try:
        J = cost_of(forward(x, theta))
    except BaseException as exc:  # user code
        if not raised_by_user_code(exc):
            raise
        raise Derivative1DFailure(
            describe_exception("forward_propagation", exc), FailureKind.CRASHED, point=(x, theta)
        ) from None
    wrong = _wrong_1d_cost(J, x, theta)
    if wrong is not None:
        raise Derivative1DFailure(wrong, FailureKind.WRONG, point=(x, theta))
    try:
        result = gradient_check(
            x, theta, options.epsilon, threshold=options.threshold, forward=_audited_1d(forward, x), backward=backward
        )
    except PropertyFailure:
        raise
    except BaseException as exc:  # user code
        if not raised_by_user_code(exc):
            raise
        raise Derivative1DFailure(
            describe_exception("backward_propagation", exc), FailureKind.CRASHED, point=(x, theta)
        ) from None
    if not result.passed:
        raise Derivative1DFailure(
            f"at x={x!r}, theta={theta!r}: {result.reason}", FailureKind.WRONG, check=result, point=(x, theta)
        )
    return result.verdict
