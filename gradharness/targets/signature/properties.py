"""The properties of the ``signature`` target: a user's layer on one drawn call of its gufunc signature.

For a layer ``NAME`` (layer style): ``NAME_forward`` returns ``(out, cache)`` with ``out`` of the signature's output
shape, and ``NAME_backward(dout, cache)`` agrees with the numerical gradient of ``J = sum(dout * out)``, computed
from the file's own forward at perturbed inputs (there is no reference), with its non-differentiable points found
from J's own values and set aside as kinks (:mod:`gradharness.check.kinks`). The contract
(:mod:`gradharness.targets.contract`): the inputs and ``dout`` unchanged, the same gradients from a second call on
the same cache, zeros for a zero ``dout``, no gradient a view of ``dout`` or of an input. A scalar output may be a
loss function ``NAME(inputs) -> (loss, grads)`` (loss style): its gradients agree with the numerical gradient of
the loss, and a second call gives the same loss and gradients.

The same check runs on a file's functions in the evaluator (the judge's stand-ins; every perturbed point of one
case in one round trip) and on a library user's callables in this process (:func:`gradharness.check_layer`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum

import numpy as np

from gradharness.check.arrays import CostsOf, KinksOf, check_arrays
from gradharness.check.checker import GradientCheckResult
from gradharness.check.finite_diff import Perturbations, PerturbedCosts, epsilon_vector
from gradharness.check.kinks import kinks_from_costs
from gradharness.check.precision import (
    DOUBLE,
    coarsest,
    gradient_allowance,
    judged_at,
    precision_of,
    step_at,
    term_sizes,
    threshold_at,
    unit_roundoff,
)
from gradharness.check.program import Call, Output, Varied, arrays_in
from gradharness.model.signature import SignatureCase
from gradharness.properties.properties import CaseOutcome
from gradharness.records.status import FailureKind
from gradharness.settings import CheckOptions
from gradharness.targets.contract import no_views, same_gradients, zero_gradients
from gradharness.targets.findings import (
    agreement_held,
    called,
    fail,
    finite,
    pair,
    register_failures,
    returned_gradients,
    unchanged_inputs,
)
from gradharness.targets.signature.functions import SignedLayer
from gradharness.targets.target import TargetFunctions

_ENUMS: dict[tuple[tuple[str, str], ...], type[Enum]] = {}


def _descriptions(layer: SignedLayer, part: str) -> dict[str, str]:
    inputs = ", ".join(layer.inputs)
    if part == layer.backward:
        agrees = (
            f"{layer.backward} agrees with the numerical gradient of sum(dout * {layer.forward}({inputs})[0]), "
            f"signature {layer.signature}"
        )
        contract = (
            f"{layer.backward} called twice gives the same gradients, leaves dout and {inputs} unchanged, gives "
            "zeros for a zero dout and returns no view of its inputs"
        )
    else:
        agrees = (
            f"{part} returns gradients that agree with the numerical gradient of its loss, signature {layer.signature}"
        )
        contract = f"{part} called twice gives the same loss and gradients and leaves {inputs} unchanged"
    return {part.upper(): agrees, f"{part.upper()}_CONTRACT": contract}


def signature_properties(layers: Sequence[SignedLayer]) -> type[Enum]:
    """What the target asserts for these layers: for each part (a backward, a loss function) ``PART`` (agreement)
    and ``PART_CONTRACT``, described with the layer's signature (one enum for the same layers)."""
    members = {
        name: text for layer in layers for part in layer.parts() for name, text in _descriptions(layer, part).items()
    }
    key = tuple(members.items())
    if key not in _ENUMS:
        properties = Enum("SignatureProperty", members, module=__name__)  # type: ignore[misc]
        register_failures(properties)
        _ENUMS[key] = properties
    return _ENUMS[key]


def part_properties(properties: type[Enum], part: str) -> tuple[Enum, Enum]:
    """The agreement and contract properties of one part."""
    return properties[part.upper()], properties[f"{part.upper()}_CONTRACT"]


def judge_case(
    fns: TargetFunctions,
    layer: SignedLayer,
    part: str,
    properties: tuple[Enum, Enum],
    case: SignatureCase,
    options: CheckOptions,
) -> tuple[CaseOutcome, GradientCheckResult]:
    """Every property of ``part`` (``properties``: its agreement and contract) on one case, in order: the outcome
    and the gradient check (a PropertyFailure for the first property that fails)."""
    if part != layer.backward:
        return _judge_loss(fns, layer, part, properties, case, options)
    agrees, contract = properties
    arrays = _given(layer, case.arrays)
    returned = called(agrees, case, layer.forward, fns.functions[layer.forward], *arrays)
    out, cache = pair(agrees, case, layer.forward, returned, "(out, cache)")
    output = _output(agrees, case, layer.forward, out, "out")
    dout = _given(layer, [case.dout])[0]
    backward = fns.functions[layer.backward]
    raw = called(agrees, case, layer.backward, backward, dout, cache)
    gradients = _gradients(agrees, layer, case, layer.backward, raw)
    precision = coarsest(layer.dtype, precision_of([out, *arrays_in(raw)]))
    finite(agrees, gradients, case)
    result = _agreement(fns, agrees, layer, layer.forward, case, gradients, (out, output), options, precision)
    given = {"dout": dout, **dict(zip(_labels(layer), arrays, strict=True))}
    pristine = dict(zip(["dout", *_labels(layer)], _given(layer, [case.dout, *case.arrays]), strict=True))
    unchanged_inputs(contract, case, given, pristine, f"{layer.forward} or {layer.backward}")
    again = called(contract, case, layer.backward, backward, _given(layer, [case.dout])[0], cache)
    how = f"{layer.backward} called again on the same cache"
    same_gradients(contract, case, how, gradients, _gradients(contract, layer, case, layer.backward, again))
    zero = called(contract, case, layer.backward, backward, np.zeros_like(dout), cache)
    zero_gradients(contract, case, layer.backward, _gradients(contract, layer, case, layer.backward, zero))
    views = (_given(layer, [case.dout])[0], cache)
    no_views(contract, case, layer.backward, backward, views, arrays, layer.gradients)
    return CaseOutcome((agrees, contract), result.verdict, precision), result


def check_signature_case(
    fns: TargetFunctions,
    layer: SignedLayer,
    part: str,
    properties: tuple[Enum, Enum],
    case: SignatureCase,
    options: CheckOptions,
) -> CaseOutcome:
    """:func:`judge_case`'s outcome, as a property test's check returns it."""
    return judge_case(fns, layer, part, properties, case, options)[0]


def _judge_loss(
    fns: TargetFunctions,
    layer: SignedLayer,
    part: str,
    properties: tuple[Enum, Enum],
    case: SignatureCase,
    options: CheckOptions,
) -> tuple[CaseOutcome, GradientCheckResult]:
    agrees, contract = properties
    arrays = _given(layer, case.arrays)
    function = fns.functions[part]
    loss, returned = pair(agrees, case, part, called(agrees, case, part, function, *arrays), "(loss, grads)")
    first_loss = _output(agrees, case, part, loss, "loss")
    gradients = _gradients(agrees, layer, case, part, returned)
    precision = coarsest(layer.dtype, precision_of([loss, *arrays_in(returned)]))
    finite(agrees, gradients, case)
    result = _agreement(fns, agrees, layer, part, case, gradients, (loss, first_loss), options, precision)
    given, pristine = (
        dict(zip(_labels(layer), arrays, strict=True)),
        dict(zip(_labels(layer), _given(layer, case.arrays), strict=True)),
    )
    unchanged_inputs(contract, case, given, pristine, part)
    loss_again, again = pair(
        contract, case, part, called(contract, case, part, function, *_given(layer, case.arrays)), "(loss, grads)"
    )
    same_gradients(
        contract,
        case,
        f"{part} called again",
        {"loss": first_loss},
        {"loss": _output(contract, case, part, loss_again, "loss")},
    )
    same_gradients(contract, case, f"{part} called again", gradients, _gradients(contract, layer, case, part, again))
    return CaseOutcome((agrees, contract), result.verdict, precision), result


def _given(layer: SignedLayer, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Fresh copies of drawn arrays in the dtype the layer is given its inputs in (float32 for a float32 layer)."""
    return [np.array(array, dtype=layer.dtype, copy=True) for array in arrays]


def _labels(layer: SignedLayer) -> list[str]:
    """The inputs as messages name them: ``x``, or ``input 0`` for an input named by its position."""
    return [f"input {name}" if name.isdigit() else name for name in layer.inputs]


def _output(prop: Enum, case: SignatureCase, function: str, value: object, what: str) -> np.ndarray:
    """The forward's ``out`` (a loss function's ``loss``): real numbers of the signature's output shape."""
    try:
        kind = np.asarray(value).dtype.kind
    except (TypeError, ValueError):
        kind = "O"
    if kind not in "iuf":
        message = f"{function}'s {what} is {type(value).__name__}, not an array of real numbers"
        raise fail(prop, message, FailureKind.MALFORMED, case)
    array = np.array(value, dtype=np.float64)
    if array.shape != case.dout.shape:
        message = f"{function}'s {what} has shape {array.shape}, the signature's {case.signature} is {case.dout.shape}"
        raise fail(prop, message, FailureKind.MALFORMED, case)
    return array


def _gradients(
    prop: Enum, layer: SignedLayer, case: SignatureCase, function: str, returned: object
) -> dict[str, np.ndarray]:
    shapes = {name: array.shape for name, array in zip(layer.gradients, case.arrays, strict=True)}
    return returned_gradients(prop, case, function, returned, shapes, single=True)


def _agreement(
    fns: TargetFunctions,
    agrees: Enum,
    layer: SignedLayer,
    function: str,
    case: SignatureCase,
    gradients: Mapping[str, np.ndarray],
    output: tuple[object, np.ndarray],
    options: CheckOptions,
    precision: str,
) -> GradientCheckResult:
    """The gradients against the centred differences of J = sum(dout * function(inputs)[0]), the file's own, at the
    drawn point's float64 copies (``output``: what it returned at the inputs it was given, as returned and as
    float64). The code is judged at ``precision``; the numerical side at the precision of the function's output
    at float64 inputs (float32 code that casts them: a larger step, float32's round-off)."""
    point = dict(zip(layer.inputs, case.copy_arrays(), strict=True))
    costs = _costs(fns, layer, function, case)
    returned, base = output
    if layer.dtype != DOUBLE:  # the output at the float64 copies the numerical side moves
        returned = _first_item(agrees, case, fns, function)
        base = _output(agrees, case, function, returned, "output")
    numerical = precision_of([returned])
    J0 = float(np.sum(case.dout * base))
    largest = max(array.size for array in case.arrays)
    roundoff = _roundoff(numerical, float(np.sum(np.abs(case.dout * base))), largest)
    result = check_arrays(
        point, dict(zip(layer.inputs, gradients.values(), strict=True)), costs, roundoff=roundoff,
        kinks=_kinks_of(costs, point, J0, roundoff), gradient_names=layer.gradients,
        epsilon=step_at(options.epsilon, numerical), threshold=threshold_at(options.threshold, precision),
        gradient_error=gradient_allowance(
            gradients, precision, largest + case.dout.size + 16, _terms(fns, layer, function, case, precision)
        ),
    )  # fmt: skip
    return agreement_held(agrees, case, result, judged_at(precision, options.threshold))


def _terms(
    fns: TargetFunctions, layer: SignedLayer, function: str, case: SignatureCase, precision: str
) -> np.ndarray | None:
    """For single precision code, the size of the terms each gradient entry sums: the file's outputs at each entry
    moved both ways, in one program (None at float64)."""
    if precision == DOUBLE:
        return None
    program = [Call(function, case.copy_arrays())]
    steps = [epsilon_vector(array, None) for array in case.arrays]
    varied = [
        Varied(i, None, np.arange(array.size), step)
        for i, (array, step) in enumerate(zip(case.arrays, steps, strict=True))
    ]
    answered = fns.programs(program, varied, Output(0, 0))
    sizes = []
    for (plus, minus), step in zip(answered, steps, strict=True):
        if plus.shape[1:] != case.dout.shape or minus.shape != plus.shape:
            sizes.append(np.zeros(len(step)))  # the agreement's own check finds a misshapen output
        else:
            sizes.append(term_sizes(case.dout, plus, minus, step))
    return np.concatenate(sizes)


def _roundoff(precision: str, magnitude: float, largest: int) -> float:
    """A bound on the rounding error of J = sum(dout * out), of size ``magnitude``, its outputs at ``precision``.

    At float64, every term as if through a sum over the widest input, with room to spare (it stays far below any
    threshold). At float32 it is what decides how large a disagreement above the threshold is excused, so it is
    kept to a few roundings of each term, summed as random-signed errors (sqrt of the width)."""
    u = unit_roundoff(precision)
    if precision == DOUBLE:
        return float(256 * u * (magnitude + 1.0) * (largest + 8))
    return float(8 * u * (magnitude + 1.0) * np.sqrt(largest + 8))


def _first_item(prop: Enum, case: SignatureCase, fns: TargetFunctions, function: str) -> object:
    """The first item of what the function returns at fresh float64 copies of the drawn inputs."""
    returned = called(prop, case, function, fns.functions[function], *case.copy_arrays())
    return pair(prop, case, function, returned, "a pair")[0]


def _weighted(dout: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """J = sum(dout * out) for each stacked output (NaN where an output is not the signature's shape)."""
    if outputs.shape[1:] != dout.shape:
        return np.full(len(outputs), np.nan)
    return np.sum(dout * outputs, axis=tuple(range(1, outputs.ndim)))


def _costs(fns: TargetFunctions, layer: SignedLayer, function: str, case: SignatureCase) -> CostsOf:
    """J at perturbed inputs: the file's function run at every point of a group in one program."""
    positions = {name: index for index, name in enumerate(layer.inputs)}
    program = [Call(function, case.copy_arrays())]

    def costs(groups: Sequence[Perturbations]) -> PerturbedCosts:
        varied = [Varied(positions[g.block], None, np.asarray(g.indices), np.asarray(g.steps)) for g in groups]
        answered = fns.programs(program, varied, Output(0, 0)) if varied else []
        return [(_weighted(case.dout, plus), _weighted(case.dout, minus)) for plus, minus in answered]

    return costs


def _kinks_of(costs: CostsOf, point: Mapping[str, np.ndarray], J0: float, roundoff: float) -> KinksOf:
    """Black-box kinks: J at one and two steps either side of every entry (:mod:`gradharness.check.kinks`)."""
    sizes = [array.size for array in point.values()]
    starts = np.cumsum([0, *sizes])

    def costs_at(steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        groups = [
            Perturbations(name, indices=np.arange(size), steps=steps[start : start + size])
            for name, size, start in zip(point, sizes, starts, strict=False)
        ]
        answered = costs(groups)
        plus = np.concatenate([np.asarray(pair[0], dtype=np.float64) for pair in answered])
        minus = np.concatenate([np.asarray(pair[1], dtype=np.float64) for pair in answered])
        return plus, minus

    return lambda steps: kinks_from_costs(costs_at, int(starts[-1]), steps, J0, roundoff)
