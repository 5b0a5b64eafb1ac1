"""Check any hand-written layer, in this process, on Hypothesis-drawn cases of its gufunc signature.

Two conventions are understood:

- layer style (CS231n): ``forward(*arrays) -> (out, cache)`` and ``backward(dout, cache) -> grads``, the
  gradient itself for one input, else a tuple in the inputs' order;
- loss style (CS224n's ``gradcheck_naive``): a scalar output ``()``, ``backward=None`` and
  ``forward(*arrays) -> (loss, grads)``.

Each drawn :class:`~gradharness.model.signature.SignatureCase` is judged by the ``signature`` target's
properties (:mod:`gradharness.targets.signature.properties`, the same check ``gradharness check --signature``
runs on a file's functions): the gradients agree with the centred differences of J = sum(dout * out) (the loss
itself in loss style), with non-differentiable points found from J's own values and set aside; then the
contract: no side effects on ``dout`` or the inputs, the same gradients from a second call, (layer style) zero
gradients from a zero ``dout`` and no gradient sharing memory with ``dout`` or an input. The first failing
property of a case is its finding; Hypothesis shrinks to the smallest case that fails.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as seeded
from hypothesis.errors import HypothesisException, InvalidArgument

from gradharness.check.precision import PRECISIONS
from gradharness.model.signature import LayerSignature, SignatureCase, parse_signature
from gradharness.properties.failures import PropertyFailure
from gradharness.settings import CheckOptions
from gradharness.targets.signature.functions import SignedLayer, positional_names
from gradharness.targets.signature.properties import judge_case, part_properties, signature_properties
from gradharness.targets.target import TargetFunctions
from strategies.signature import signature_cases

__all__ = ["LayerCheck", "assert_layer", "check_case", "check_layer"]


@dataclass(frozen=True, eq=False)
class LayerCheck:
    """The outcome of :func:`check_layer`.

    ``failure`` is one paragraph (the property, the wrong gradients, the smallest failing case) or None;
    ``case`` that smallest failing case; ``examples`` the cases run up to the first failure (all of them
    when none fails); ``kinks`` the gradient entries set aside as non-differentiable over those cases.
    """

    passed: bool
    examples: int
    failure: str | None
    case: SignatureCase | None
    kinks: int


@dataclass(frozen=True)
class _Layer:
    """The callables under check, as the signature target's properties call them."""

    signed: SignedLayer
    functions: TargetFunctions
    part: str
    properties: tuple[Enum, Enum]
    options: CheckOptions

    @property
    def label(self) -> str:
        """The layer as messages name it: its forward and backward (a loss: its one function)."""
        names = self.functions.functions
        return " / ".join(names)


def check_layer(
    forward: Callable[..., Any],
    backward: Callable[..., Any] | None = None,
    *,
    signature: str | LayerSignature,
    seed: int = 0,
    max_examples: int = 100,
    threshold: float = 1e-7,
    max_size: int = 5,
    names: Sequence[str] | None = None,
    dtype: str | type | np.dtype = "float64",
) -> LayerCheck:
    """Check a layer's gradients on up to ``max_examples`` cases drawn for ``signature``.

    - ``forward``, ``backward``: the layer (layer style), or ``forward`` alone returning ``(loss, grads)``
      with ``backward=None`` for a scalar output (loss style); see the module docstring.
    - ``signature``: gufunc notation such as ``"(N,D),(D)->(N,D)"`` (one output; ``()`` is a scalar).
    - ``seed=0``: the draws are the same for the same seed; ``max_examples=100``: cases drawn at most.
    - ``threshold=1e-7``: the relative difference a gradient block may have; ``max_size=5``: the largest size
      of a named dim.
    - ``names=None``: each input's name (``("x", "w", "b")`` reports ``dx``, ``dw``, ``db``); by default
      ``d0``, ``d1``, ... by position.
    - ``dtype="float64"``: the dtype the layer is given its inputs and ``dout`` in; ``"float32"`` judges it at
      float32 (as a layer that casts to float32 itself is): the threshold scaled to 2.3e-3 for 1e-7, the numerical
      side from float64 copies of the inputs (:mod:`gradharness.check.precision`).

    Raises ValueError (one line) for bad arguments, e.g. ``backward=None`` with a non-scalar output.
    Example: ``assert check_layer(relu_forward, relu_backward, signature="(N,D)->(N,D)").passed``.
    """
    layer = _layer(forward, backward, _parsed(signature), threshold, names, dtype)
    return _run(
        layer, _whole("seed", seed, None), _whole("max_examples", max_examples, 1), _whole("max_size", max_size, 1)
    )


def assert_layer(forward: Callable[..., Any], backward: Callable[..., Any] | None = None, **options: Any) -> LayerCheck:
    """:func:`check_layer` with the same arguments, raising AssertionError with its failure paragraph."""
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    result = check_layer(forward, backward, **options)
    if not result.passed:
        raise AssertionError(result.failure)
    return result


def check_case(
    forward: Callable[..., Any],
    backward: Callable[..., Any] | None = None,
    *,
    case: SignatureCase,
    threshold: float = 1e-7,
    names: Sequence[str] | None = None,
    dtype: str | type | np.dtype = "float64",
) -> LayerCheck:
    """Every property of :func:`check_layer` on one given case (e.g. one with inputs at a layer's kinks).

    ``case.signature`` is the layer's; the result has ``examples=1`` and ``case`` set when it fails.
    """
    if not isinstance(case, SignatureCase):
        raise TypeError(f"case must be a SignatureCase, got {type(case).__name__}")
    layer = _layer(forward, backward, case.signature, threshold, names, dtype)
    try:
        kinks = _kinks(layer, case)
    except PropertyFailure as finding:
        return LayerCheck(False, 1, _paragraph(layer, finding, case, "given case", shrunk=False), case, 0)
    return LayerCheck(True, 1, None, None, kinks)


# --- arguments ----------------------------------------------------------------------------------------------


def _function_name(function: Callable[..., Any], fallback: str) -> str:
    """A callable's own name when it is an identifier (not ``<lambda>``), else ``fallback``."""
    name = re.sub(r"\W", "_", str(getattr(function, "__name__", "") or ""))
    return name if name.isidentifier() and name != "_lambda_" else fallback


def _dtype(value: object) -> str:
    try:
        name = np.dtype(value).name  # type: ignore[call-overload]
    except TypeError:
        name = repr(value)
    if name not in PRECISIONS:
        raise ValueError(f"dtype={value!r}: the precisions judged are {' and '.join(PRECISIONS)}")
    return name


def _layer(
    forward: object,
    backward: object,
    signature: LayerSignature,
    threshold: object,
    names: Sequence[str] | None,
    dtype: object = "float64",
) -> _Layer:
    """The checked arguments as one _Layer (a one-line TypeError or ValueError otherwise)."""
    if backward is None and not signature.is_loss:
        raise ValueError(
            f"backward=None is the loss style (forward returns (loss, grads)), which needs the scalar output '()'; "
            f"signature {str(signature)!r} has output {signature.output}: pass the backward"
        )
    forward = _callable("forward", forward)
    inputs = _names(names, signature)
    _takes(forward, len(signature.inputs), signature)
    options = CheckOptions(threshold=_threshold(threshold))
    if backward is None:
        name = _function_name(forward, "loss_function")
        signed = SignedLayer(name, signature, inputs, dtype=_dtype(dtype))
        functions = {name: forward}
        part = name
    else:
        backward = _callable("backward", backward)
        forward_name = _function_name(forward, "layer_forward")
        backward_name = _function_name(backward, "layer_backward")
        if backward_name == forward_name:
            forward_name, backward_name = "layer_forward", "layer_backward"
        layer_name = forward_name.removesuffix("_forward")
        signed = SignedLayer(layer_name, signature, inputs, forward_name, backward_name, _dtype(dtype))
        functions = {forward_name: forward, backward_name: backward}
        part = backward_name
    properties = part_properties(signature_properties([signed]), part)
    return _Layer(signed, TargetFunctions.in_process(functions, [part]), part, properties, options)


def _takes(forward: Callable[..., Any], count: int, signature: LayerSignature) -> None:
    """A ValueError when ``forward`` cannot be called with the signature's ``count`` inputs (a signature that
    leaves one out is the caller's mistake, not the layer's)."""
    try:
        inspect.signature(forward).bind(*range(count))
    except TypeError as error:
        raise ValueError(f"forward cannot take the {count} inputs of {str(signature)!r}: {error}") from None
    except ValueError:  # a callable without a signature to read (a builtin): its call will say
        pass


def _callable(what: str, value: object) -> Callable[..., Any]:
    if not callable(value):
        raise TypeError(f"{what} must be callable, got {type(value).__name__}")
    return value


def _parsed(signature: object) -> LayerSignature:
    if isinstance(signature, LayerSignature):
        return signature
    if not isinstance(signature, str):
        raise TypeError(f"signature must be text such as '(N,D),(D)->(N,D)', got {type(signature).__name__}")
    return parse_signature(signature)


def _threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"threshold={value!r} must be a positive finite number")
    return float(value)


def _whole(name: str, value: object, low: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (low is not None and value < low):
        raise ValueError(f"{name}={value!r} must be a whole number" + (f" >= {low}" if low is not None else ""))
    return int(value)


def _names(names: Sequence[str] | None, signature: LayerSignature) -> tuple[str, ...]:
    count = len(signature.inputs)
    if names is None:
        return positional_names(count)
    given_names = (names,) if isinstance(names, str) else tuple(names)
    if len(given_names) != count:
        raise ValueError(f"names={names!r} has {len(given_names)} names for the {count} inputs of {str(signature)!r}")
    bad = [name for name in given_names if not (isinstance(name, str) and name.isidentifier())]
    if bad:
        raise ValueError(f"names: {bad[0]!r} is not an identifier")
    if len(set(given_names)) != count:
        raise ValueError(f"names={names!r} repeat")
    return given_names


# --- the Hypothesis run -------------------------------------------------------------------------------------


@dataclass
class _Tally:
    """What the run saw up to its first failure, and the last finding (the shrunk one, when Hypothesis ends)."""

    examples: int = 0
    kinks: int = 0
    failed: bool = False
    finding: PropertyFailure | None = None
    case: SignatureCase | None = None


def _kinks(layer: _Layer, case: SignatureCase) -> int:
    """Every property on one case: the gradient entries set aside as kinks (a PropertyFailure for the first
    property that fails)."""
    _, result = judge_case(layer.functions, layer.signed, layer.part, layer.properties, case, layer.options)
    return sum(block.kinks for block in result.blocks)


def _run(layer: _Layer, seed: int, max_examples: int, max_size: int) -> LayerCheck:
    tally = _Tally()

    def body(case: SignatureCase) -> None:
        if not tally.failed:
            tally.examples += 1
        try:
            kinks = _kinks(layer, case)
        except PropertyFailure as finding:
            tally.failed, tally.finding, tally.case = True, finding, case
            raise
        if not tally.failed:
            tally.kinks += kinks

    options = settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,  # the seed below fixes the draws
        report_multiple_bugs=False,  # one finding: the smallest case of the first property that fails
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    try:
        strategy = signature_cases(layer.signed.signature, max_size=max_size)
    except InvalidArgument as error:  # a case too large to draw: the caller's max_size
        raise ValueError(str(error)) from None
    test = seeded(seed)(options(given(strategy)(body)))
    try:
        test()
    except PropertyFailure:
        pass  # Hypothesis replays the smallest failing case last: the tally holds it
    except HypothesisException:
        if tally.finding is None:  # a problem of the run itself, not of the layer
            raise
    if tally.finding is None or tally.case is None:
        return LayerCheck(True, tally.examples, None, None, tally.kinks)
    where = f"seed {seed}, example {tally.examples}"
    failure = _paragraph(layer, tally.finding, tally.case, where)
    return LayerCheck(False, tally.examples, failure, tally.case, tally.kinks)


def _paragraph(layer: _Layer, finding: PropertyFailure, case: SignatureCase, where: str, shrunk: bool = True) -> str:
    """The failure as one paragraph: the property, what broke it, the case."""
    which = "contract" if finding.prop is layer.properties[1] else "gradient"
    return (
        f"{layer.label} fails the {which} check ({where}): {finding.message}. "
        f"{'Smallest failing case' if shrunk else 'Case'}: {case.describe()}."
    )
