"""Check any hand-written layer, in this process, on Hypothesis-drawn cases of its gufunc signature.

Two conventions are understood:

- layer style (CS231n): ``forward(*arrays) -> (out, cache)`` and ``backward(dout, cache) -> grads``, the
  gradient itself for one input, else a tuple in the inputs' order;
- loss style (CS224n's ``gradcheck_naive``): a scalar output ``()``, ``backward=None`` and
  ``forward(*arrays) -> (loss, grads)``.

Each drawn :class:`~gradharness.model.signature.SignatureCase` is checked for the contract first (what the
callables return, the shapes, no side effects on ``dout`` or the inputs, no gradient sharing memory with them),
then for agreement with the centred differences of J = sum(dout * out) (the loss itself in loss style), with
non-differentiable points found from J's own values and set aside, then for the same gradients from a second
call and (layer style) zero gradients from a zero ``dout``. The first failing property of a case is its
finding; Hypothesis shrinks to the smallest case that fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as seeded
from hypothesis.errors import HypothesisException

from gradharness.check.arrays import CostsOf, KinksOf, check_arrays, loop_costs_of
from gradharness.check.finite_diff import Perturbations
from gradharness.check.kinks import kinks_from_costs
from gradharness.model.signature import LayerSignature, SignatureCase, parse_signature
from strategies.signature import signature_cases

__all__ = ["LayerCheck", "assert_layer", "check_case", "check_layer"]

_EPS = float(np.finfo(np.float64).eps)
_SHOWN = 120  # longer exception texts are cut: a failure stays one paragraph


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


class _Finding(Exception):
    """One case breaks one property; ``message`` says how."""

    def __init__(self, prop: str, message: str) -> None:
        super().__init__(f"{prop}: {message}")
        self.prop, self.message = prop, message


@dataclass(frozen=True)
class _Layer:
    """The callables under check and how their gradients are named."""

    forward: Callable[..., Any]
    backward: Callable[..., Any] | None
    signature: LayerSignature
    names: tuple[str, ...]
    threshold: float

    @property
    def gradients(self) -> tuple[str, ...]:
        return tuple("d" + name for name in self.names)

    @property
    def label(self) -> str:
        """The layer as messages name it: its forward and backward (a loss: its one function)."""
        names = [_name(f) for f in (self.forward, self.backward) if f is not None]
        return " / ".join(names)


def _name(function: Callable[..., Any]) -> str:
    return str(getattr(function, "__qualname__", None) or repr(function))[:80]


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

    Raises ValueError (one line) for bad arguments, e.g. ``backward=None`` with a non-scalar output.
    Example: ``assert check_layer(relu_forward, relu_backward, signature="(N,D)->(N,D)").passed``.
    """
    layer = _layer(forward, backward, _parsed(signature), threshold, names)
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
) -> LayerCheck:
    """Every property of :func:`check_layer` on one given case (e.g. one with inputs at a layer's kinks).

    ``case.signature`` is the layer's; the result has ``examples=1`` and ``case`` set when it fails.
    """
    if not isinstance(case, SignatureCase):
        raise TypeError(f"case must be a SignatureCase, got {type(case).__name__}")
    layer = _layer(forward, backward, case.signature, threshold, names)
    try:
        kinks = _check_case(layer, case)
    except _Finding as finding:
        return LayerCheck(False, 1, _paragraph(layer, finding, case, "given case", shrunk=False), case, 0)
    return LayerCheck(True, 1, None, None, kinks)


# --- arguments ----------------------------------------------------------------------------------------------


def _layer(
    forward: object, backward: object, signature: LayerSignature, threshold: object, names: Sequence[str] | None
) -> _Layer:
    """The checked arguments as one _Layer (a one-line TypeError or ValueError otherwise)."""
    if backward is None and not signature.is_loss:
        raise ValueError(
            f"backward=None is the loss style (forward returns (loss, grads)), which needs the scalar output '()'; "
            f"signature {str(signature)!r} has output {signature.output}: pass the backward"
        )
    return _Layer(
        _callable("forward", forward),
        None if backward is None else _callable("backward", backward),
        signature,
        _names(names, signature),
        _threshold(threshold),
    )


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
        return tuple(str(index) for index in range(count))
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
    finding: _Finding | None = None
    case: SignatureCase | None = None


def _run(layer: _Layer, seed: int, max_examples: int, max_size: int) -> LayerCheck:
    tally = _Tally()

    def body(case: SignatureCase) -> None:
        if not tally.failed:
            tally.examples += 1
        try:
            kinks = _check_case(layer, case)
        except _Finding as finding:
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
    test = seeded(seed)(options(given(signature_cases(layer.signature, max_size=max_size))(body)))
    try:
        test()
    except _Finding:
        pass  # Hypothesis replays the smallest failing case last: the tally holds it
    except HypothesisException:
        if tally.finding is None:  # a problem of the run itself, not of the layer
            raise
    if tally.finding is None or tally.case is None:
        return LayerCheck(True, tally.examples, None, None, tally.kinks)
    where = f"seed {seed}, example {tally.examples}"
    failure = _paragraph(layer, tally.finding, tally.case, where)
    return LayerCheck(False, tally.examples, failure, tally.case, tally.kinks)


def _paragraph(layer: _Layer, finding: _Finding, case: SignatureCase, where: str, shrunk: bool = True) -> str:
    """The failure as one paragraph: the property, what broke it, the case."""
    return (
        f"{layer.label} fails the {finding.prop} check ({where}): {finding.message}. "
        f"{'Smallest failing case' if shrunk else 'Case'}: {case.describe()}."
    )


# --- one case -----------------------------------------------------------------------------------------------


def _check_case(layer: _Layer, case: SignatureCase) -> int:
    """Every property on one case, in order; the kinks set aside, or a _Finding for the first that fails."""
    if layer.backward is None:
        return _check_loss(layer, case)
    backward = layer.backward
    arrays = case.copy_arrays()
    out, cache = _pair(_called("forward", layer.forward, *arrays), "forward", "(out, cache)")
    _output(out, case)
    _unchanged("forward", layer, arrays, case)
    dout = case.dout.copy()
    returned = _called("backward", backward, dout, cache)
    gradients = _gradients(layer, case, returned, "backward")
    _unchanged("backward", layer, arrays, case)
    if not np.array_equal(dout, case.dout):
        raise _Finding("side effect", "backward changed dout")
    _no_views(layer, returned, [("dout", dout), *_named_inputs(layer, arrays)], "backward")
    kinks = _agreement(
        layer, case, gradients, lambda *inputs: _pair(layer.forward(*inputs), "forward", "(out, cache)")[0]
    )
    again = _gradients(layer, case, _called("backward", backward, case.dout.copy(), cache), "backward")
    _same(layer, gradients, again, "backward called again on the same cache")
    zero = _gradients(layer, case, _called("backward", backward, np.zeros_like(case.dout), cache), "backward")
    for name, gradient in zip(layer.gradients, zero, strict=True):
        if np.any(gradient != 0):
            index = tuple(int(i) for i in np.argwhere(gradient != 0)[0])
            shown = f"{name}{list(index)} = {gradient[index]:.6g}"
            raise _Finding("zero dout", f"backward with dout all zero gives {shown}, not 0")
    return kinks


def _check_loss(layer: _Layer, case: SignatureCase) -> int:
    arrays = case.copy_arrays()
    loss, returned = _pair(_called("forward", layer.forward, *arrays), "forward", "(loss, grads)")
    _output(loss, case)
    gradients = _gradients(layer, case, returned, "forward")
    _unchanged("forward", layer, arrays, case)
    _no_views(layer, returned, _named_inputs(layer, arrays), "forward")
    kinks = _agreement(
        layer, case, gradients, lambda *inputs: _pair(layer.forward(*inputs), "forward", "(loss, grads)")[0]
    )
    again = _pair(_called("forward", layer.forward, *case.copy_arrays()), "forward", "(loss, grads)")[1]
    _same(layer, gradients, _gradients(layer, case, again, "forward"), "forward called again on the same inputs")
    return kinks


def _called(what: str, function: Callable[..., Any], *arguments: Any) -> Any:
    """The call's value; an exception of the caller's code is this case's finding."""
    try:
        return function(*arguments)
    except _Finding:
        raise
    except Exception as error:  # the layer's own code: any exception is what it does on this case
        text = str(error).replace("\n", " ")
        text = text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
        raise _Finding("runs", f"{what} raised {type(error).__name__}: {text}") from None


def _kind(value: object) -> str:
    """What a value is, for a message: ``an array of shape (2, 3)``, ``a tuple of 3 items``, ``None``."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return "None" if value is None else f"a {type(value).__name__}"


def _pair(returned: object, what: str, expected: str) -> tuple[Any, Any]:
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        raise _Finding("convention", f"{what} returned {_kind(returned)}, expected the pair {expected}")
    return returned[0], returned[1]


def _real(value: object) -> np.ndarray | None:
    """``value`` as an array of real numbers, or None."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return None
    return array if array.dtype.kind in "iuf" else None


def _output(out: object, case: SignatureCase) -> None:
    expected = case.dout.shape
    array = _real(out)
    if array is None:
        raise _Finding("output shape", f"forward's output is {_kind(out)}, not an array of real numbers")
    if array.shape != expected:
        raise _Finding("output shape", f"forward's output has shape {array.shape}, the signature's is {expected}")


def _gradients(layer: _Layer, case: SignatureCase, returned: object, what: str) -> tuple[np.ndarray, ...]:
    """The returned gradients as float64 copies, each checked for its input's shape."""
    count = len(case.arrays)
    if count == 1:
        items: Sequence[object] = [returned]
    elif isinstance(returned, (tuple, list)) and len(returned) == count:
        items = returned
    else:
        wanted = f"a tuple of {count} gradients ({', '.join(layer.gradients)})"
        raise _Finding("convention", f"{what} returned {_kind(returned)} for the gradients, expected {wanted}")
    gradients = []
    for name, item, array in zip(layer.gradients, items, case.arrays, strict=True):
        value = _real(item)
        if value is None:
            raise _Finding("gradient shape", f"{what}'s {name} is {_kind(item)}, not an array of real numbers")
        if value.shape != array.shape:
            hint = " (one input: return the gradient itself, not a tuple)" if isinstance(item, (tuple, list)) else ""
            raise _Finding("gradient shape", f"{what}'s {name} has shape {value.shape}, expected {array.shape}{hint}")
        gradients.append(np.array(value, dtype=np.float64, copy=True))
    return tuple(gradients)


def _named_inputs(layer: _Layer, arrays: Sequence[np.ndarray]) -> list[tuple[str, np.ndarray]]:
    return [(f"input {name}", array) for name, array in zip(layer.names, arrays, strict=True)]


def _unchanged(what: str, layer: _Layer, arrays: Sequence[np.ndarray], case: SignatureCase) -> None:
    for name, given_array, drawn in zip(layer.names, arrays, case.arrays, strict=True):
        if given_array.shape != drawn.shape or not np.array_equal(given_array, drawn):
            raise _Finding("side effect", f"{what} changed its input {name}")


def _no_views(layer: _Layer, returned: object, held: Sequence[tuple[str, np.ndarray]], what: str) -> None:
    """No gradient shares memory with an array the caller still holds (a later change would move it)."""
    items = [returned] if len(layer.names) == 1 else list(cast(Sequence[object], returned))  # checked a tuple
    for name, item in zip(layer.gradients, items, strict=True):
        if not isinstance(item, np.ndarray):
            continue
        for owner, array in held:
            if np.shares_memory(item, array):
                raise _Finding(
                    "view", f"{what}'s {name} shares memory with {owner}: the caller's later change moves it"
                )


def _same(layer: _Layer, first: Sequence[np.ndarray], again: Sequence[np.ndarray], how: str) -> None:
    for name, one, two in zip(layer.gradients, first, again, strict=True):
        if not np.array_equal(one, two, equal_nan=True):
            index = tuple(int(i) for i in np.argwhere(~((one == two) | (np.isnan(one) & np.isnan(two))))[0])
            raise _Finding("repeatable", f"{how} gives {name}{list(index)} = {two[index]:.6g}, first {one[index]:.6g}")


# --- agreement with the numerical gradient ------------------------------------------------------------------


def _agreement(layer: _Layer, case: SignatureCase, gradients: Sequence[np.ndarray], output: Callable[..., Any]) -> int:
    """Check the gradients against J = sum(dout * output); the entries set aside as kinks."""
    point = dict(zip(layer.names, case.copy_arrays(), strict=True))
    dout = case.dout

    def J(arrays: dict[str, np.ndarray]) -> float:
        value = _called("forward", output, *(arrays[name] for name in layer.names))
        real = _real(value)
        if real is None or real.shape != dout.shape:
            raise _Finding("output shape", f"forward's output at a perturbed point is {_kind(value)}")
        return float(np.sum(dout * real.astype(np.float64)))

    out = np.asarray(_real(output(*case.copy_arrays())), dtype=np.float64)
    largest = max(array.size for array in case.arrays)
    roundoff = 64 * _EPS * (float(np.sum(np.abs(dout * out))) + 1.0) * (largest + 8)
    costs = loop_costs_of(J, point)
    result = check_arrays(
        point,
        dict(zip(layer.names, gradients, strict=True)),
        costs,
        roundoff=roundoff,
        kinks=_kinks_of(costs, point, J(point), roundoff),
        gradient_names=layer.gradients,
        threshold=layer.threshold,
    )
    if not result.passed:
        raise _Finding("gradient", f"{', '.join(result.wrong_blocks)} wrong ({result.reason})")
    return sum(block.kinks for block in result.blocks)


def _kinks_of(costs: CostsOf, point: dict[str, np.ndarray], J0: float, roundoff: float) -> KinksOf:
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
