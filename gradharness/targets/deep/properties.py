"""The properties of the ``deep`` target, one check per case: the L-layer model, and each building block on its own.

The model is checked as the exercise's network is: its cost is the course's, its gradients have their shapes, it
leaves its inputs alone, and ``L_model_backward`` agrees with the numerical gradient of the file's own
``compute_cost(L_model_forward(X, parameters)[0], Y)`` (dW1 ... dbL and dA0, through the evaluator); dA1 ...
dA(L-1) agree with the numerical gradient of the reference network's cost as a function of that layer's activation.
A building block's backward ``g`` agrees with the numerical gradient of ``sum(dout * f(inputs))`` for the block's
forward ``f`` (the reference's), on the cache the file's own forward makes when the file has one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from functools import partial
from typing import Any

import numpy as np

from gradharness.check.arrays import check_arrays, loop_costs_of
from gradharness.check.finite_diff import Perturbations, PerturbedCosts, cost_of
from gradharness.check.program import Call, Output, Varied
from gradharness.check.result import GradientCheckResult
from gradharness.check.switches import switch_kinks
from gradharness.check.verdict import NOISE_SAFETY, Verdict
from gradharness.model import deep
from gradharness.model.keys import matching_key
from gradharness.properties.properties import CaseOutcome, gradient_array
from gradharness.properties.reference import cost_hint
from gradharness.records.status import FailureKind
from gradharness.settings import CheckOptions
from gradharness.targets.findings import (
    FAILURES,
    UNIT_ROUNDOFF,
    agreement_held,
    called,
    fail,
    finite,
    pair,
    register_failures,
    returned_array,
    returned_gradients,
    scaled,
    unchanged_inputs,
)
from gradharness.targets.model_checks import agreed, inputs_given
from gradharness.targets.target import TargetFunctions


class DeepProperty(Enum):
    """What the ``deep`` target asserts."""

    MODEL_COST = "L_model_forward returns (AL, caches) and compute_cost a finite scalar cost"
    MODEL_MATCHES = "L_model_forward returns the network's AL, and compute_cost the course's cross-entropy"
    MODEL_SHAPES = "L_model_backward returns dW1 ... dbL and dA0 ... dA(L-1), each with its shape, in float64"
    MODEL_UNCHANGED = "L_model_forward, compute_cost and L_model_backward leave X, Y and the parameters unchanged"
    MODEL_AGREES = (
        "L_model_backward agrees with the numerical gradient of compute_cost(L_model_forward(X, parameters)[0], Y)"
    )
    LINEAR_BACKWARD = "linear_backward agrees with the numerical gradient of sum(dZ * (W A_prev + b))"
    RELU_BACKWARD = "relu_backward agrees with the numerical gradient of sum(dA * relu(Z))"
    SIGMOID_BACKWARD = "sigmoid_backward agrees with the numerical gradient of sum(dA * sigmoid(Z))"
    LINEAR_ACTIVATION_BACKWARD = (
        "linear_activation_backward agrees with the numerical gradient of sum(dA * g(W A_prev + b)), g relu or sigmoid"
    )


MODEL_ORDER = (
    DeepProperty.MODEL_COST,
    DeepProperty.MODEL_MATCHES,
    DeepProperty.MODEL_SHAPES,
    DeepProperty.MODEL_UNCHANGED,
    DeepProperty.MODEL_AGREES,
)
"""The model's properties in the order a case checks them."""

register_failures(DeepProperty)


# -- the L-layer model --------------------------------------------------------------------------------------


def _model_costs(
    fns: TargetFunctions,
    case: deep.DeepCase,
    parameters: dict[str, np.ndarray],
    groups: Sequence[Perturbations],
    audited: bool,
) -> PerturbedCosts:
    """The costs at perturbed points, in one round trip for the blocks the file's functions reach (W1 ... bL and
    X) and by the reference for the hidden activations A1 ... A(L-1). ``audited``: each of the file's costs is
    compared with the course's at the same point (a forward right at the drawn point only cannot pass)."""
    X, Y = case.X, case.Y
    program: list[Call] = [Call("L_model_forward", (X, parameters))]
    if "compute_cost" in fns.functions:
        program.append(Call("compute_cost", (Output(0, 0), Y)))
        result = Output(1)
    else:
        result = Output(0, 0)
    remote = [g for g in groups if not g.block.startswith("A")]
    varied = [Varied(*(_varied_argument(g.block)), np.asarray(g.indices), np.asarray(g.steps)) for g in remote]
    answered = iter(fns.programs(program, varied, result) if varied else [])
    files = {
        g.block: (_as_costs(plus, Y), _as_costs(minus, Y)) for g, (plus, minus) in zip(remote, answered, strict=True)
    }
    if audited and remote:
        _audit(case, remote, files)
    hidden = len(remote) < len(groups)
    activations = deep.L_model_forward(X, case.copy_parameters())[1] if hidden else []
    out: PerturbedCosts = []
    for group in groups:
        if group.block in files:
            out.append(files[group.block])
            continue
        layer = int(group.block[1:])
        A = activations[layer][0][0]  # the input of layer l + 1 (its linear cache's A_prev)
        out.append(_activation_costs(layer, A, case, group))
    return out


def _audit(
    case: deep.DeepCase, groups: Sequence[Perturbations], costs: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    """Raise MODEL_MATCHES at the first perturbed point where the file's cost is not the course's (the course's
    costs at every parameter's perturbed points from one batch of reference passes)."""
    names = list(case.parameters)
    sizes = [int(np.size(case.parameters[name])) for name in names]
    starts = dict(zip(names, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))
    steps = np.full(sum(sizes), 1e-6)  # the entries no group moves are not read
    for group in groups:
        if group.block in starts:
            steps[starts[group.block] + np.asarray(group.indices)] = group.steps
    every = deep.perturbed_costs(case.X, case.Y, case.parameters, steps) if set(starts) & set(costs) else None
    tolerance = 2.0 * NOISE_SAFETY * deep.cost_roundoff(case.X, case.Y, case.parameters)
    for group in groups:
        assert group.indices is not None and group.steps is not None
        if group.block == "X":
            expected = deep.activation_costs(0, case.X, case.parameters, case.Y, group.indices, group.steps)
        else:
            assert every is not None
            at = starts[group.block] + np.asarray(group.indices)
            expected = (every[0][at], every[1][at])
        _compare_costs(case, group, costs[group.block], expected, tolerance)


def _compare_costs(case: deep.DeepCase, group: Perturbations, costs: tuple, expected: tuple, tolerance: float) -> None:
    assert group.indices is not None and group.steps is not None
    for side, (got, want) in zip(("+", "-"), zip(costs, expected, strict=True), strict=True):
        off = ~(np.abs(got - want) <= tolerance + 64 * UNIT_ROUNDOFF * np.abs(want))
        if np.any(off & np.isfinite(want)):
            k = int(np.flatnonzero(off & np.isfinite(want))[0])
            index = np.unravel_index(
                int(group.indices[k]), np.shape(case.X if group.block == "X" else case.parameters[group.block])
            )
            where = f"{group.block}[{', '.join(map(str, index))}] {side} {group.steps[k]:.3g}"
            message = (
                f"compute_cost(L_model_forward(X, parameters)[0], Y) returns {got[k]:.6g} at {where} where the "
                f"course's cost is {want[k]:.6g} for {case.describe()}"
            )
            raise fail(DeepProperty.MODEL_MATCHES, message, FailureKind.WRONG, case)


def _varied_argument(block: str) -> tuple[int, str | None]:
    """Where a block sits in L_model_forward(X, parameters): X itself, or parameters[block]."""
    return (0, None) if block == "X" else (1, block)


def _as_costs(results: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Costs from the program's results: the costs, or the reference's cost of each AL (no compute_cost)."""
    if results.ndim == 1:
        return results
    with np.errstate(all="ignore"):
        return np.array([deep.compute_cost(AL, Y) if np.all(np.isfinite(AL)) else np.nan for AL in results])


def _activation_costs(layer: int, A: np.ndarray, case: deep.DeepCase, group: Perturbations) -> tuple:
    assert group.indices is not None and group.steps is not None
    return deep.activation_costs(layer, A, case.parameters, case.Y, group.indices, group.steps)


def model_gradients(returned: object, case: deep.DeepCase) -> dict[str, np.ndarray]:
    """dW1 ... dbL and dA0 ... dA(L-1) from what L_model_backward returned (keys in either case), shapes checked."""
    prop = DeepProperty.MODEL_SHAPES
    if not isinstance(returned, Mapping):
        message = f"L_model_backward returned {type(returned).__name__}, expected a dict of gradients"
        raise fail(prop, message, FailureKind.MALFORMED, case)
    shapes = deep.parameter_shapes(case.sizes)
    expected = {f"d{name}": shape for name, shape in shapes.items()}
    for layer in range(case.sizes.L):
        expected[f"dA{layer}"] = (case.sizes.dims[layer], case.m)
    gradients = {}
    for name, shape in expected.items():
        key = matching_key(returned, name)
        if key is None or returned[key] is None:
            keys = ", ".join(sorted(map(str, returned))) or "none"
            raise fail(prop, f"L_model_backward returned no {name} (keys: {keys})", FailureKind.MALFORMED, case)
        of = f"(the shape of {name[1:]}) for {case.describe()}"
        gradients[name] = gradient_array(name, returned[key], shape, failure=FAILURES[prop], case=case, expected=of)
    return gradients


def _model_forward(fns: TargetFunctions, case: deep.DeepCase, X, Y, parameters, options: CheckOptions, ran: list):
    """AL, caches and the cost, from the file's forward (and compute_cost, else the course's), checked."""
    cost_prop = DeepProperty.MODEL_COST
    returned = called(cost_prop, case, "L_model_forward", fns.functions["L_model_forward"], X, parameters)
    AL, caches = pair(cost_prop, case, "L_model_forward", returned, "(AL, caches)")
    reference_AL, _ = deep.L_model_forward(case.X, case.copy_parameters())
    AL = gradient_array(
        "AL", AL, reference_AL.shape, failure=FAILURES[cost_prop], case=case, expected=f"for {case.describe()}"
    )
    if "compute_cost" in fns.functions:
        returned_cost = called(cost_prop, case, "compute_cost", fns.functions["compute_cost"], AL, Y)
    else:
        returned_cost = deep.compute_cost(AL, Y)
    try:
        cost = cost_of(returned_cost)
    except (TypeError, ValueError) as exc:
        raise fail(
            cost_prop, f"compute_cost: {str(exc).replace('forward', 'compute_cost')}", FailureKind.MALFORMED, case
        ) from None
    saturated = not np.all((reference_AL > 0) & (reference_AL < 1))
    if not math.isfinite(cost) and not saturated:
        message = f"compute_cost returned {cost} for {case.describe()}, where the cost is finite"
        raise fail(cost_prop, message, FailureKind.NONFINITE, case)
    if options.reference:
        ran.append(DeepProperty.MODEL_MATCHES)
        _model_matches(case, AL, reference_AL, cost, saturated)
    return AL, caches, cost


def _model_matches(case: deep.DeepCase, AL: np.ndarray, reference_AL: np.ndarray, cost: float, saturated: bool) -> None:
    prop = DeepProperty.MODEL_MATCHES
    returned_array(prop, case, "L_model_forward", AL, reference_AL, "the network's AL")
    if saturated:
        return
    expected = deep.compute_cost(reference_AL, case.Y)
    tolerance = 2.0 * NOISE_SAFETY * deep.cost_roundoff(case.X, case.Y, case.parameters) + 64 * UNIT_ROUNDOFF * abs(
        expected
    )
    if not abs(cost - expected) <= tolerance:
        outputs = case.sizes.dims[-1]
        message = f"compute_cost returns {cost:.6g} where the course's cost is {expected:.6g}{cost_hint(cost, expected, case.m, outputs)}"
        raise fail(prop, message, FailureKind.WRONG, case)


def check_model_case(fns: TargetFunctions, case: deep.DeepCase, options: CheckOptions) -> CaseOutcome:
    """Every property of the L-layer model on one case; raise the first that fails."""
    X, Y = case.X.copy(), case.Y.copy()
    parameters = case.copy_parameters()
    ran: list[Enum] = [DeepProperty.MODEL_COST]
    AL, caches, cost = _model_forward(fns, case, X, Y, parameters, options, ran)

    ran.append(DeepProperty.MODEL_SHAPES)
    backward = fns.functions["L_model_backward"]
    returned = called(DeepProperty.MODEL_SHAPES, case, "L_model_backward", backward, AL, Y, caches)
    gradients = model_gradients(returned, case)

    ran.append(DeepProperty.MODEL_UNCHANGED)
    given, pristine = inputs_given(case, X, Y, parameters)
    unchanged_inputs(
        DeepProperty.MODEL_UNCHANGED, case, given, pristine, "L_model_forward, compute_cost or L_model_backward"
    )

    ran.append(DeepProperty.MODEL_AGREES)
    finite(DeepProperty.MODEL_AGREES, gradients, case)
    if not math.isfinite(cost):
        return CaseOutcome(tuple(ran), Verdict.SATURATED)
    result = _model_agreement(fns, case, gradients, options)
    return CaseOutcome(tuple(ran), result.verdict)


def _model_agreement(
    fns: TargetFunctions, case: deep.DeepCase, gradients: Mapping[str, np.ndarray], options: CheckOptions
) -> GradientCheckResult:
    L = case.sizes.L
    activations = deep.L_model_forward(case.X, case.copy_parameters())[1]
    point: dict[str, np.ndarray] = dict(case.copy_parameters())
    point["X"] = case.X.copy()
    hidden = {f"A{layer}": np.array(activations[layer][0][0], copy=True) for layer in range(1, L)}
    point.update(hidden)
    names = [f"d{name}" for name in case.parameters] + [f"dA{layer}" for layer in range(L)]
    backprop = {name: gradients[shown] for name, shown in zip(point, names, strict=True)}
    roundoff = deep.cost_roundoff(case.X, case.Y, case.parameters)

    def kinks(steps: np.ndarray) -> np.ndarray:
        sizes = [value.size for value in point.values()]
        parts = dict(zip(point, np.split(steps, np.cumsum(sizes)[:-1]), strict=True))
        count = sum(sizes[: len(case.parameters)])
        flags = [deep.kink_flags(case.X, case.Y, case.parameters, steps[:count])]
        for layer in range(L):
            name = "X" if layer == 0 else f"A{layer}"
            flags.append(deep.activation_kink_flags(layer, point[name], case.parameters, parts[name]))
        return np.concatenate(flags)

    # The course's dA{l} are gradients of the loss summed over the examples, m times the cost's (its dW and db
    # carry the 1/m): they are compared with m times the cost's numerical gradient.
    per_example = {name: float(case.m) for name in point if name not in case.parameters}

    def costs(groups: Sequence[Perturbations]) -> PerturbedCosts:
        return scaled(_model_costs(fns, case, case.copy_parameters(), groups, options.reference), groups, per_example)

    check = partial(
        check_arrays, point, backprop, costs, roundoff=case.m * roundoff, kinks=kinks, gradient_names=names,
        epsilon=options.epsilon, threshold=options.threshold,
    )  # fmt: skip
    return agreed(DeepProperty.MODEL_AGREES, "L_model_forward", case, check)


# -- the building blocks ------------------------------------------------------------------------------------

BLOCK_PROPERTY = {
    "linear_backward": DeepProperty.LINEAR_BACKWARD,
    "relu_backward": DeepProperty.RELU_BACKWARD,
    "sigmoid_backward": DeepProperty.SIGMOID_BACKWARD,
    "linear_activation_backward": DeepProperty.LINEAR_ACTIVATION_BACKWARD,
}

_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda Z: np.maximum(Z, 0.0),
    "sigmoid": lambda Z: 1.0 / (1.0 + np.exp(-Z)),
}


def _block_forward(case: deep.BlockCase) -> tuple[tuple[str, ...], Callable[[Mapping[str, np.ndarray]], np.ndarray]]:
    """The inputs a block's backward differentiates, and the reference forward of the block as a function of them."""
    if case.function == "linear_backward":
        return ("A_prev", "W", "b"), lambda a: a["W"] @ a["A_prev"] + a["b"]
    if case.function in ("relu_backward", "sigmoid_backward"):
        g = _ACTIVATIONS[case.function.removesuffix("_backward")]
        return ("Z",), lambda a: g(a["Z"])
    g = _ACTIVATIONS[str(case.activation)]
    return ("A_prev", "W", "b"), lambda a: g(a["W"] @ a["A_prev"] + a["b"])


def _block_cache(prop: DeepProperty, fns: TargetFunctions, case: deep.BlockCase) -> tuple[Any, dict[str, np.ndarray]]:
    """The cache the backward is given: the one the file's own forward makes (checked against the reference),
    else the course's; and the judge's arrays in it (copies of the case's), for the side-effect check."""
    a = {name: np.array(value, copy=True) for name, value in case.arrays.items()}
    Z = a["W"] @ a["A_prev"] + a["b"] if "W" in a else a["Z"]
    arguments: tuple[Any, ...]
    course: Any
    if case.function == "linear_backward":
        forward, arguments, course = "linear_forward", (a["A_prev"], a["W"], a["b"]), (a["A_prev"], a["W"], a["b"])
        expected, what = Z, "W A_prev + b"
    elif case.function in ("relu_backward", "sigmoid_backward"):
        name = case.function.removesuffix("_backward")
        forward, arguments, course = name, (a["Z"],), a["Z"]
        expected, what = _ACTIVATIONS[name](Z), f"{name}(Z)"
    else:
        activation = str(case.activation)
        forward, arguments = "linear_activation_forward", (a["A_prev"], a["W"], a["b"], activation)
        course = ((a["A_prev"], a["W"], a["b"]), Z)
        expected, what = _ACTIVATIONS[activation](Z), f"{activation}(W A_prev + b)"
    inputs = {k: v for k, v in a.items() if not k.startswith("d")}
    if forward not in fns.functions:
        return course, inputs
    returned = called(prop, case, forward, fns.functions[forward], *arguments)
    if isinstance(returned, (tuple, list)) and len(returned) == 2:
        output, cache = returned
    else:  # a forward that makes no cache (the exercise's relu): the course's cache, on its output's inputs
        output, cache = returned, course
    returned_array(prop, case, forward, output, expected, what)
    return cache, inputs


def check_block_case(fns: TargetFunctions, case: deep.BlockCase, options: CheckOptions) -> CaseOutcome:
    """A building block's backward on one case: returns, side effects, and agreement; raise if one fails."""
    prop = BLOCK_PROPERTY[case.function]
    names, forward = _block_forward(case)
    upstream = "dZ" if case.function == "linear_backward" else "dA"
    dout = np.array(case.arrays[upstream], copy=True)
    cache, inputs = _block_cache(prop, fns, case)
    arguments: tuple[Any, ...] = (dout, cache)
    if case.function == "linear_activation_backward":
        arguments += (case.activation,)
    returned = called(prop, case, case.function, fns.functions[case.function], *arguments)
    shown = tuple(f"d{name}" for name in names)
    gradients = _block_gradients(prop, case, returned, names, shown)
    pristine = {upstream: case.arrays[upstream], **{f"{k} in the cache": case.arrays[k] for k in inputs}}
    given = {upstream: dout, **{f"{k} in the cache": v for k, v in inputs.items()}}
    unchanged_inputs(prop, case, given, pristine, case.function)
    finite(prop, gradients, case)
    point = {name: np.array(case.arrays[name], dtype=np.float64, copy=True) for name in names}
    weights = case.arrays[upstream]

    def J(arrays: Mapping[str, np.ndarray]) -> float:
        return float(np.sum(weights * forward(arrays)))

    # The course's dW and db are averaged over the m examples, its dA_prev and dZ are not.
    m = float(weights.shape[-1])
    averaged: dict[str, float] = {name: 1.0 / m for name in ("W", "b") if name in point}
    summed = loop_costs_of(J, point)

    def costs(groups: Sequence[Perturbations]) -> PerturbedCosts:
        return scaled(summed(groups), groups, averaged)

    result = check_arrays(
        point, dict(zip(names, gradients.values(), strict=True)), costs,
        roundoff=_block_roundoff(point, weights, forward), kinks=_relu_kinks(case, point, names),
        gradient_names=shown, epsilon=options.epsilon, threshold=options.threshold,
    )  # fmt: skip
    return CaseOutcome((prop,), agreement_held(prop, case, result).verdict)


def _block_gradients(
    prop: DeepProperty, case: deep.BlockCase, returned: object, names: tuple[str, ...], shown: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """What a block's backward returned: one array (dZ) or a tuple (dA_prev, dW, db), each with its input's shape."""
    shapes = {gradient: np.shape(case.arrays[name]) for name, gradient in zip(names, shown, strict=True)}
    return returned_gradients(prop, case, case.function, returned, shapes)


def _block_roundoff(point: Mapping[str, np.ndarray], weights: np.ndarray, forward: Callable) -> float:
    """A bound on the rounding error of sum(dout * f(inputs)): the matrix product's and the sum's, per term."""
    magnitude = {name: np.abs(value) for name, value in point.items()}
    if "W" in magnitude:
        terms = magnitude["W"] @ magnitude["A_prev"] + magnitude["b"]
        k = point["W"].shape[1] + 1
    else:
        terms = np.abs(forward(point))
        k = 1
    width = weights.size + k + 8  # the products, the activation, and the sum's own additions
    return float(width * UNIT_ROUNDOFF * np.sum(np.abs(weights) * (terms + np.abs(forward(point)))))


def _relu_kinks(case: deep.BlockCase, point: Mapping[str, np.ndarray], names: tuple[str, ...]):
    """For a block with a ReLU, the entries whose perturbation moves some Z across (or onto) zero."""
    if case.function != "relu_backward" and case.activation != "relu":
        return None

    def Z(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        return arrays["Z"] if "Z" in arrays else arrays["W"] @ arrays["A_prev"] + arrays["b"]

    return switch_kinks(Z, {name: point[name] for name in names})
