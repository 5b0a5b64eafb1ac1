"""The properties of the ``layers`` target: each backward (and each loss) on one drawn call of its layer.

A backward ``g`` agrees with the numerical gradient of ``sum(dout * f(inputs))`` for the layer's forward ``f``
(the reference's, once the file's own forward is shown to return the reference's output; dropout's reference is
the file's own mask, read from its output), on the cache the file's forward makes. A loss's gradient agrees with
the numerical gradient of the reference loss. The contract, as torch's ``gradcheck`` asks of a backward: called
again on the same cache it gives the same gradients, it leaves ``dout``, the cache's inputs and the forward's
arrays unchanged, a zero ``dout`` gives zero gradients, and no gradient is a view of ``dout`` or of an input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from functools import partial

import numpy as np

from gradharness.check.arrays import check_arrays, loop_costs_of
from gradharness.check.finite_diff import epsilon_vector
from gradharness.check.precision import (
    DOUBLE,
    gradient_allowance,
    judged_at,
    precision_of,
    term_sizes,
    threshold_at,
    unit_roundoff,
)
from gradharness.check.program import arrays_in
from gradharness.check.switches import switch_kinks
from gradharness.model.layer_case import LayerCase
from gradharness.model.layer_table import BACKWARD_OF, LAYERS, Layer
from gradharness.properties.properties import CaseOutcome, gradient_array
from gradharness.records.status import FailureKind
from gradharness.settings import CheckOptions
from gradharness.targets.contract import no_views, same_gradients, zero_gradients
from gradharness.targets.findings import (
    FAILURES,
    UNIT_ROUNDOFF,
    agreement_held,
    called,
    close,
    fail,
    finite,
    pair,
    register_failures,
    returned_array,
    returned_gradients,
    unchanged_inputs,
)
from gradharness.targets.target import TargetFunctions


def _members() -> dict[str, str]:
    members = {}
    for layer in LAYERS.values():
        for name in layer.backwards or (layer.forward,):
            if layer.loss:
                agrees = f"{name} returns the reference loss and a dx that agrees with its numerical gradient"
            else:
                agrees = f"{name} agrees with the numerical gradient of sum(dout * {layer.call_text()}[0])"
            members[name.upper()] = agrees
            what = "the same gradients" if not layer.loss else "the same loss and dx"
            leaves = f"dout and {', '.join(layer.inputs)}" if not layer.loss else ", ".join((*layer.inputs, "y"))
            contract = f"{name} called twice gives {what}, leaves {leaves} unchanged"
            if not layer.loss:
                contract += ", gives zeros for a zero dout"
            members[f"{name.upper()}_CONTRACT"] = f"{contract} and returns no view of its inputs"
    return members


LayerProperty = Enum("LayerProperty", _members(), module=__name__)  # type: ignore[misc]
"""What the ``layers`` target asserts: for each backward (each loss) its agreement and its contract."""

register_failures(LayerProperty)


def properties_of(function: str) -> tuple[Enum, Enum]:
    """The agreement and contract properties of one checked function (a backward or a loss)."""
    return LayerProperty[function.upper()], LayerProperty[f"{function.upper()}_CONTRACT"]


def check_layer_case(fns: TargetFunctions, function: str, case: LayerCase, options: CheckOptions) -> CaseOutcome:
    """One backward (or loss) on one case: its forward, its gradients, their agreement, then the contract."""
    layer = BACKWARD_OF[function]
    if layer.loss:
        return _check_loss(fns, layer, case, options)
    agrees, contract = properties_of(function)
    arguments = layer.arguments(case)
    returned = called(agrees, case, layer.forward, fns.functions[layer.forward], *arguments)
    out, cache = pair(agrees, case, layer.forward, returned, "(out, cache)")
    output = _forward_output(agrees, layer, case, out)
    dout = np.array(case.arrays["dout"], copy=True)
    backward = fns.functions[function]
    returned_grads = called(agrees, case, function, backward, dout, cache)
    gradients = _gradients(agrees, layer, case, function, returned_grads)
    precision = precision_of([out, *arrays_in(returned_grads)])
    finite(agrees, gradients, case)
    result = _agreement(agrees, layer, case, gradients, output, options, precision)
    given = {"dout": dout, **{name: arguments[i] for i, name in enumerate(layer.inputs)}}
    pristine = {"dout": case.arrays["dout"], **{name: case.arrays[name] for name in layer.inputs}}
    unchanged_inputs(contract, case, given, pristine, f"{layer.forward} or {function}")
    again = called(contract, case, function, backward, np.array(case.arrays["dout"], copy=True), cache)
    again_gradients = _gradients(contract, layer, case, function, again)
    same_gradients(contract, case, f"{function} called again on the same cache", gradients, again_gradients)
    zero = called(contract, case, function, backward, np.zeros_like(case.arrays["dout"]), cache)
    zero_gradients(contract, case, function, _gradients(contract, layer, case, function, zero))
    dout_again = np.array(case.arrays["dout"], copy=True)
    no_views(contract, case, function, backward, (dout_again, cache), arguments, layer.gradients)
    return CaseOutcome((agrees, contract), result.verdict, precision)


def _forward_output(prop: Enum, layer: Layer, case: LayerCase, out: object) -> Callable[[Mapping], np.ndarray]:
    """The forward's output checked against the reference's; the output as a function of the inputs (for the
    numerical gradient): the reference's, or for dropout the file's own mask applied to the moved x."""
    if not layer.random:
        expected = np.asarray(layer.output(case), dtype=np.float64)
        returned_array(prop, case, layer.forward, out, expected, f"{layer.call_text()}'s out", single=True)
        return lambda inputs: np.asarray(layer.output(case, inputs))
    x = np.asarray(case.arrays["x"], dtype=np.float64)
    p = float(case.params["dropout_param"]["p"])
    array = gradient_array(
        "out", out, x.shape, failure=FAILURES[prop], case=case, expected=f"(the shape of x) for {case.describe()}",
        single=True,
    )  # fmt: skip
    kept = array != 0.0
    scale = float(np.max(np.abs(x), initial=1.0)) / p
    wrong = kept & (np.abs(array - x / p) > 256 * unit_roundoff(precision_of([out])) * scale)
    if np.any(wrong):
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        message = (
            f"{layer.forward} returns {array[index]:.6g} at {list(index)} where x / p is "
            f"{x[index] / p:.6g} (p = {p} keeps an entry and scales it by 1 / p, or drops it to 0)"
        )
        raise fail(prop, message, FailureKind.WRONG, case)
    mask = kept / p
    return lambda inputs: np.asarray(inputs["x"]) * mask


def _gradients(prop: Enum, layer: Layer, case: LayerCase, function: str, returned: object) -> dict[str, np.ndarray]:
    """What a backward returned: one array (dx) or a tuple in the forward's inputs' order, each of its shape."""
    shapes = {shown: np.shape(case.arrays[name]) for name, shown in zip(layer.inputs, layer.gradients, strict=True)}
    return returned_gradients(prop, case, function, returned, shapes, single=True)


def _agreement(
    agrees: Enum,
    layer: Layer,
    case: LayerCase,
    gradients: Mapping[str, np.ndarray],
    output: Callable,
    options: CheckOptions,
    precision: str,
):
    """The gradients against the numerical gradient of the float64 reference (the file's code judged at
    ``precision``: float32 code to float32's threshold and rounding); WRONG raised when they disagree."""
    point = {name: np.array(case.arrays[name], dtype=np.float64, copy=True) for name in layer.inputs}
    weights = np.asarray(case.arrays["dout"], dtype=np.float64) if not layer.loss else np.ones(())

    def J(arrays: Mapping[str, np.ndarray]) -> float:
        return float(np.sum(weights * output(arrays)))

    switches = layer.switches
    kinks = switch_kinks(partial(switches, case), point) if switches is not None else None
    width = point["x"].size + np.size(weights) + 16
    result = check_arrays(
        point, dict(zip(layer.inputs, gradients.values(), strict=True)), loop_costs_of(J, point),
        roundoff=_roundoff(layer, case, point, weights, output), kinks=kinks, gradient_names=layer.gradients,
        epsilon=options.epsilon, threshold=threshold_at(options.threshold, precision),
        gradient_error=gradient_allowance(gradients, precision, width, _terms(precision, output, point, weights)),
    )  # fmt: skip
    return agreement_held(agrees, case, result, judged_at(precision, options.threshold))


def _terms(precision: str, output: Callable, point: Mapping[str, np.ndarray], weights: np.ndarray) -> np.ndarray | None:
    """For single precision code, the size of the terms each gradient entry sums (from the reference's outputs
    at each entry moved both ways); None at float64."""
    if precision == DOUBLE:
        return None
    sizes = []
    for name, value in point.items():
        steps = epsilon_vector(value, None)
        sides: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        for index, step in enumerate(steps):
            for side, sign in zip(sides, (1.0, -1.0), strict=True):
                moved = {key: array.copy() for key, array in point.items()}
                moved[name].reshape(-1)[index] += sign * step
                side.append(np.asarray(output(moved), dtype=np.float64))
        sizes.append(term_sizes(weights, np.stack(sides[0]), np.stack(sides[1]), steps))
    return np.concatenate(sizes)


def _roundoff(
    layer: Layer, case: LayerCase, point: Mapping[str, np.ndarray], weights: np.ndarray, output: Callable
) -> float:
    """A bound on the rounding error of sum(dout * f(inputs)): each term's, through the widest sum the layer
    takes (at most every entry of x), and the outer sum's."""
    out = np.abs(np.asarray(output(point), dtype=np.float64))
    scale = max(1.0, *(float(np.max(np.abs(value), initial=0.0)) for value in point.values()))
    if layer.name in ("affine", "affine_relu", "conv"):
        magnitude = np.abs(np.asarray(layer.output(case, {k: np.abs(v) for k, v in point.items()})))
    else:
        magnitude = out + scale
    width = point["x"].size + np.size(weights) + 16
    return float(4 * width * UNIT_ROUNDOFF * np.sum(np.abs(weights) * (out + magnitude)))


def _check_loss(fns: TargetFunctions, layer: Layer, case: LayerCase, options: CheckOptions) -> CaseOutcome:
    agrees, contract = properties_of(layer.forward)
    arguments = layer.arguments(case)
    function = fns.functions[layer.forward]
    returned = called(agrees, case, layer.forward, function, *arguments)
    loss, dx = pair(agrees, case, layer.forward, returned, "(loss, dx)")
    expected = float(layer.output(case))
    value = np.asarray(loss, dtype=np.float64) if np.asarray(loss).dtype.kind in "iuf" else None
    precision = precision_of([loss, *arrays_in(dx)])  # a float32 dx with a Python float loss: float32 code
    roundoff = unit_roundoff(precision)
    if value is None or value.size != 1 or not close(value.reshape(()), np.asarray(expected), abs(expected), roundoff):
        shown = f"{float(value.reshape(-1)[0]):.6g}" if value is not None and value.size == 1 else repr(loss)[:60]
        message = f"{layer.forward} returns loss {shown} where the reference's is {expected:.6g}"
        raise fail(agrees, message, FailureKind.WRONG, case)
    gradients = _gradients(agrees, layer, case, layer.forward, dx)
    finite(agrees, gradients, case)
    result = _agreement(agrees, layer, case, gradients, lambda inputs: layer.output(case, inputs), options, precision)
    given = {name: arguments[i] for i, name in enumerate((*layer.inputs, *layer.others))}
    pristine = {name: case.arrays[name] for name in given}
    unchanged_inputs(contract, case, given, pristine, layer.forward)
    again = pair(
        contract,
        case,
        layer.forward,
        called(contract, case, layer.forward, function, *layer.arguments(case)),
        "(loss, dx)",
    )
    again_gradients = _gradients(contract, layer, case, layer.forward, again[1])
    same_gradients(contract, case, f"{layer.forward} called again", gradients, again_gradients)
    return CaseOutcome((agrees, contract), result.verdict, precision)
