"""Numerical gradient checking, right in both directions.

The seed's measure is kept as is:
    difference = ||grad - gradapprox|| / (||grad|| + ||gradapprox||)
but a difference above the threshold is only blamed on the gradient when the
numerics cannot explain it:

* entries whose perturbation crosses a ReLU kink are set aside (``kink``);
* entries whose perturbed cost is not finite are set aside (``saturated``);
* a block whose remaining disagreement is within the estimated numerical error
  of the centred difference (round-off model + a second step size) is
  ``imprecise``, not wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial

import numpy as np

from gradharness.check.error_model import CostFormula, cost_roundoff
from gradharness.check.finite_diff import DEFAULT_EPSILON, cost_of, epsilon_vector, gradapprox_loop
from gradharness.check.perturbed import UNIT_ROUNDOFF, BasePass, base_pass, perturbed_passes
from gradharness.check.screening import DEFAULT_PROBES, SCREEN_MIN_ENTRIES, BlockScreen, screen_blocks
from gradharness.check.verdict import Verdict
from gradharness.model import network
from gradharness.model.parameters import (
    GRADIENT_NAMES,
    PARAMETER_NAMES,
    LayerSizes,
    Parameters,
    block_slices,
    dictionary_to_vector,
    parameter_shapes,
)
from gradharness.settings import DEFAULT_THRESHOLD

# A disagreement up to this many times the estimated numerical error is not evidence of a bug.
NOISE_SAFETY = 3.0


def relative_difference(grad: np.ndarray, gradapprox: np.ndarray) -> float:
    """The seed's ||grad - gradapprox|| / (||grad|| + ||gradapprox||), with 0/0 = 0 and NaN kept out."""
    grad = np.asarray(grad, dtype=np.float64).reshape(-1)
    gradapprox = np.asarray(gradapprox, dtype=np.float64).reshape(-1)
    if grad.size == 0:
        return 0.0
    if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(gradapprox))):
        return float("inf")
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    if numerator == 0.0:
        return 0.0
    return float(numerator / denominator)


@dataclass(frozen=True)
class EntryReport:
    """One gradient entry: backprop against the numerical value."""

    name: str
    backprop: float
    numerical: float
    allowance: float
    status: Verdict

    @property
    def abs_error(self) -> float:
        """|backprop - numerical| (inf when either is not finite)."""
        if not (np.isfinite(self.backprop) and np.isfinite(self.numerical)):
            return float("inf")
        return abs(self.backprop - self.numerical)

    def __str__(self) -> str:
        return f"{self.name}: backprop {self.backprop:.6g}, numerical {self.numerical:.6g}"


@dataclass(frozen=True)
class BlockResult:
    """The seed's difference restricted to one gradient block, and its verdict."""

    name: str
    difference: float
    verdict: Verdict
    entries: int
    kinks: int
    saturated: int
    noise: float
    mode: str = "full"  # "full": every entry perturbed; "screened": settled by random directional probes


@dataclass(frozen=True)
class GradientCheckResult:
    """Outcome of one gradient check; ``passed`` is False only for a WRONG verdict."""

    difference: float
    verdict: Verdict
    reason: str
    epsilon: float | None
    threshold: float
    method: str
    blocks: tuple[BlockResult, ...]
    worst_entries: tuple[EntryReport, ...]
    sizes: LayerSizes | None = None
    grad: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    gradapprox: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    entry_status: tuple[Verdict, ...] = field(default=(), repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True unless the gradient was found wrong."""
        return not self.verdict.is_failure

    @property
    def wrong_blocks(self) -> tuple[str, ...]:
        """Names of the blocks judged wrong, e.g. ('dW2', 'db1')."""
        return tuple(b.name for b in self.blocks if b.verdict is Verdict.WRONG)

    def block(self, name: str) -> BlockResult:
        """The block called ``name`` (``dW1`` or ``W1``)."""
        wanted = name if name.startswith("d") else "d" + name
        for candidate in self.blocks:
            if candidate.name == wanted:
                return candidate
        raise KeyError(f"no block {name!r}; blocks are {', '.join(b.name for b in self.blocks)}")

    def summary(self) -> str:
        """One line: verdict, difference and reason."""
        return f"{self.verdict.value}: difference {self.difference:.3g} ({self.reason})"


_FLOAT64 = np.dtype(np.float64)


def _validate_gradients(gradients: Mapping[str, object], sizes: LayerSizes) -> np.ndarray:
    pieces = []
    for name, shape in _gradient_shapes(sizes):
        if name not in gradients:
            raise ValueError(f"gradient {name} is missing (got keys {', '.join(sorted(map(str, gradients)))})")
        value = np.asarray(gradients[name])
        if value.shape != shape:
            raise ValueError(f"gradient {name} has shape {value.shape}, expected {shape}")
        pieces.append(value if value.dtype is _FLOAT64 or value.dtype == np.float64 else value.astype(np.float64))
    return np.concatenate(pieces, axis=None)  # flattened; a copy: the caller's arrays are never kept


@lru_cache(maxsize=64)
def _gradient_shapes(sizes: LayerSizes) -> tuple[tuple[str, tuple[int, int]], ...]:
    """(gradient name, expected shape) in dictionary_to_vector order."""
    shapes = parameter_shapes(sizes)
    return tuple((name, shapes[name[1:]]) for name in GRADIENT_NAMES)


@lru_cache(maxsize=64)
def _layout(sizes: LayerSizes) -> tuple[tuple[tuple[str, slice], ...], np.ndarray, dict[str, tuple[int, int]]]:
    """Blocks in order with their slices, the blocks' start offsets, and the parameter shapes."""
    slices = tuple(block_slices(sizes).items())
    return slices, np.array([s.start for _, s in slices]), parameter_shapes(sizes)


def _sizes_of(parameters: Parameters) -> LayerSizes:
    """:meth:`LayerSizes.of`, remembered per tuple of parameter shapes (it raises the same errors)."""
    try:
        shapes = tuple([parameters[name].shape for name in PARAMETER_NAMES])
    except (KeyError, AttributeError, TypeError):
        return LayerSizes.of(parameters)
    return _sizes_for(shapes) or LayerSizes.of(parameters)


@lru_cache(maxsize=256)
def _sizes_for(shapes: tuple[tuple[int, ...], ...]) -> LayerSizes | None:
    """The sizes these six shapes describe, or None when they do not fit together."""
    try:
        (n1, n0), (n2, _), (n3, _) = shapes[0], shapes[2], shapes[4]
        sizes = LayerSizes(n0, n1, n2, n3)
    except (ValueError, TypeError):
        return None
    return sizes if tuple(parameter_shapes(sizes).values()) == shapes else None


@lru_cache(maxsize=64)
def _entry_names(sizes: LayerSizes) -> tuple[str, ...]:
    """Every entry's name, for networks of up to 4096 parameters (else empty: named one by one)."""
    layout = _layout(sizes)
    total = layout[0][-1][1].stop
    return tuple(_entry_name(layout, index) for index in range(total)) if total <= 4096 else ()


@lru_cache(maxsize=4096)
def _cached_entry_name(sizes: LayerSizes, index: int) -> str:
    """:func:`_entry_name` of the layout of ``sizes``, remembered (the worst entries of repeated checks)."""
    return _entry_name(_layout(sizes), index)


def _entry_name(layout: tuple, index: int) -> str:
    """``dW2[1, 3]`` for flat entry ``index``; ``layout`` is :func:`_layout` of the sizes."""
    slices, _, shapes = layout
    for name, block in slices:
        if index < block.stop:
            row, col = divmod(index - block.start, shapes[name][1])
            return f"d{name}[{row}, {col}]"
    raise IndexError(f"entry {index} is outside the parameters")


def _block_sums(
    grad: np.ndarray, gradapprox: np.ndarray, excluded: np.ndarray | None, starts: np.ndarray
) -> list[list[float]]:
    """Per block: all of grad finite, ||grad - gradapprox||^2, ||grad||^2, ||gradapprox||^2 over checked entries.

    ``excluded`` None: every entry is checked.
    """
    with np.errstate(all="ignore"):
        g = grad if excluded is None else np.where(excluded, 0.0, grad)
        a = gradapprox if excluded is None else np.where(excluded, 0.0, gradapprox)
        terms = np.empty((3, grad.size))
        np.subtract(g, a, out=terms[0])
        terms[1] = g
        terms[2] = a
        np.multiply(terms, terms, out=terms)
        sums = np.add.reduceat(terms, starts, axis=1).T.tolist()
    finite = np.isfinite(grad)
    flags = (
        [True] * len(starts)
        if np.count_nonzero(finite) == finite.size
        else np.logical_and.reduceat(finite, starts).tolist()
    )
    return [[ok, *column] for ok, column in zip(flags, sums, strict=True)]


def _judge_block(
    sums: list[float], excluded: Callable[[], np.ndarray], threshold: float, noise: Callable[[], np.ndarray]
) -> tuple[Verdict, float, float]:
    """Verdict, difference over the checked entries, and noise norm (NaN if not needed).

    ``sums``: the block's column of :func:`_block_sums`, as floats; ``excluded`` gives the block's
    excluded entries and ``noise`` their allowances (both only asked for above the threshold).
    """
    finite, mismatch2, grad2, approx2 = sums
    if not finite:
        return Verdict.WRONG, float("inf"), float("nan")
    mismatch = math.sqrt(mismatch2)
    difference = 0.0 if mismatch == 0.0 else mismatch / (math.sqrt(grad2) + math.sqrt(approx2))
    if difference <= threshold:
        return Verdict.PASS, difference, float("nan")
    allowance = float(np.linalg.norm(noise()[~excluded()]))
    if mismatch <= NOISE_SAFETY * allowance:
        return Verdict.IMPRECISE, difference, allowance
    return Verdict.WRONG, difference, allowance


@dataclass(frozen=True)
class NumericalGradient:
    """The numerical side of a check (it depends only on the forward pass), at eps and at 2 eps."""

    epsilon: float | None
    steps: np.ndarray
    method: str
    gradapprox: np.ndarray
    kink: np.ndarray
    roundoff: float
    doubled: np.ndarray
    doubled_kink: np.ndarray


def _resolve_method(forward: Callable | None, method: str) -> tuple[str, Callable]:
    builtin = forward is None or forward is network.forward_propagation_n
    if method == "auto":
        method = "batched" if builtin else "loop"
    if method not in ("batched", "loop"):
        raise ValueError(f"method={method!r}; valid methods are 'auto', 'batched', 'loop'")
    if method == "batched" and not builtin:
        raise ValueError("method='batched' evaluates the built-in network; a custom forward needs method='loop'")
    return method, network.forward_propagation_n if forward is None else forward


def _roundoff(
    X: np.ndarray, Y: np.ndarray, parameters: Parameters, method: str, forward_n: Callable, base: BasePass
) -> float:
    """The error model's bound on the rounding error of J for the way J is evaluated."""
    with np.errstate(all="ignore"):
        if method == "batched":
            return cost_roundoff(X, Y, parameters, CostFormula.STABLE, base=base)
        roundoff = cost_roundoff(X, Y, parameters, CostFormula.SEED, base=base)
        J0 = cost_of(forward_n(X, Y, {k: np.array(v, dtype=np.float64) for k, v in parameters.items()}))
    return max(roundoff, 8 * UNIT_ROUNDOFF * abs(J0)) if np.isfinite(J0) else float("inf")


def _first_pass(
    X: np.ndarray,
    Y: np.ndarray,
    parameters: Parameters,
    steps: np.ndarray,
    method: str,
    forward_n: Callable,
    *,
    blocks: Collection[str] | None = None,
    base: BasePass | None = None,
    roundoff: float | None = None,
    lazy: bool = False,
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """gradapprox at ``steps``, the reference kink flags, and the cost's round-off (``blocks``: only those, else NaN).

    ``lazy``: leave an unknown round-off as None (it is only needed when a block is above the threshold).
    """
    base = base_pass(X, Y, parameters) if base is None else base
    reference = perturbed_passes(X, Y, parameters, steps, blocks=blocks, base=base)
    if method == "batched":
        gradapprox = reference.gradapprox
    else:
        indices = None if blocks is None else np.flatnonzero(~np.isnan(reference.gradapprox))
        with np.errstate(all="ignore"):
            gradapprox = gradapprox_loop(forward_n, X, Y, parameters, steps, indices)
    if roundoff is None and not lazy:
        roundoff = _roundoff(X, Y, parameters, method, forward_n, base)
    return gradapprox, reference.kink, roundoff


def numerical_gradient(
    parameters: Parameters,
    X: np.ndarray,
    Y: np.ndarray,
    epsilon: float | None = None,
    *,
    forward: Callable | None = None,
    method: str = "auto",
) -> NumericalGradient:
    """Everything :func:`gradient_check_n` needs from the forward pass, computed once (pass it as ``numerical``)."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    LayerSizes.of(parameters)
    theta = dictionary_to_vector(parameters)[0].reshape(-1)
    steps = epsilon_vector(theta, epsilon)
    method, forward_n = _resolve_method(forward, method)
    gradapprox, kink, roundoff = _first_pass(X, Y, parameters, steps, method, forward_n)
    doubled = perturbed_passes(X, Y, parameters, 2 * steps)
    doubled_gradapprox = doubled.gradapprox
    if method == "loop":
        with np.errstate(all="ignore"):
            doubled_gradapprox = gradapprox_loop(forward_n, X, Y, parameters, 2 * steps)
    return NumericalGradient(epsilon, steps, method, gradapprox, kink, roundoff, doubled_gradapprox, doubled.kink)


def gradient_check_n(
    parameters: Parameters,
    gradients: Mapping[str, object],
    X: np.ndarray,
    Y: np.ndarray,
    epsilon: float | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    forward: Callable | None = None,
    method: str = "auto",
    max_named: int = 5,
    numerical: NumericalGradient | None = None,
    screen: bool | None = None,
    probes: int = DEFAULT_PROBES,
) -> GradientCheckResult:
    """Check backprop gradients of the 3-layer network against centred differences.

    - ``epsilon``: fixed step, or None (default) for cbrt(machine eps) * max(1, |theta_i|);
      the seed's setting is 1e-7.
    - ``threshold``: the seed's 1e-7 on the relative difference.
    - ``forward``: the forward pass whose numerical gradient is the reference
      (default: the built-in :func:`gradharness.model.network.forward_propagation_n`).
    - ``method``: "batched" (all perturbed passes at once; built-in forward only),
      "loop" (one call per perturbation, the seed's way) or "auto".
    - ``numerical``: a precomputed :func:`numerical_gradient` of these parameters, X and Y
      (then ``epsilon``, ``forward`` and ``method`` are taken from it); the numerical side
      depends only on the forward pass, so one serves every backward pass checked on the case.
    - ``screen``: first check each block of more than 64 entries with ``probes`` random
      directional probes (2 forward calls each, see :mod:`gradharness.check.screening`), and run
      the full check only on the blocks they do not settle, which localises wrong entries.
      None (default): screen when the forward is called once per perturbation ("loop"),
      not for the built-in batched passes. ``BlockResult.mode`` says which mode gave each verdict.
    - ``probes``: random directions per screened block (default 4).
    """
    if not (_finite(threshold) and threshold > 0):
        raise ValueError(f"threshold={threshold!r} must be a positive finite number")
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    sizes = _sizes_of(parameters)
    grad = _validate_gradients(gradients, sizes)
    theta = np.concatenate([np.asarray(parameters[k], dtype=np.float64) for k in PARAMETER_NAMES], axis=None)
    second: dict[str, np.ndarray] = {}
    screened: dict[str, BlockScreen] = {}
    base = None
    if numerical is None:
        # epsilon_vector(theta, epsilon), without its conversions for the default step
        steps = DEFAULT_EPSILON * np.maximum(1.0, np.abs(theta)) if epsilon is None else epsilon_vector(theta, epsilon)
        method, forward_n = _resolve_method(forward, method)
        base = base_pass(X, Y, parameters)
        roundoff = None
        wanted = method == "loop" if screen is None else screen
        large = (
            [name for name, block in _layout(sizes)[0] if block.stop - block.start > SCREEN_MIN_ENTRIES]
            if wanted
            else []
        )
        if large:
            roundoff = _roundoff(X, Y, parameters, method, forward_n, base)
            outcomes = screen_blocks(
                parameters, grad, X, Y, base, roundoff, names=large,
                forward=forward_n if method == "loop" else None, epsilon=epsilon,
                threshold=threshold, noise_safety=NOISE_SAFETY, probes=probes,
            )  # fmt: skip
            screened = {name: outcome for name, outcome in outcomes.items() if outcome.verdict is not None}
        full = None if not screened else [name for name in PARAMETER_NAMES if name not in screened]
        gradapprox, reference_kink, roundoff = _first_pass(
            X, Y, parameters, steps, method, forward_n, blocks=full, base=base, roundoff=roundoff, lazy=True
        )
    else:
        if numerical.gradapprox.size != theta.size:
            raise ValueError(f"numerical gradient has {numerical.gradapprox.size} entries, parameters {theta.size}")
        epsilon, steps, method, forward_n = numerical.epsilon, numerical.steps, numerical.method, None
        gradapprox, reference_kink, roundoff = numerical.gradapprox, numerical.kink, numerical.roundoff
        second = {"gradapprox": numerical.doubled, "kink": numerical.doubled_kink}

    slices, starts, _ = _layout(sizes)
    considered = None  # all entries have a coordinate-wise numerical value, unless blocks were screened
    finite_approx = np.isfinite(gradapprox)
    if not screened and not np.count_nonzero(reference_kink) and np.count_nonzero(finite_approx) == theta.size:
        # every numerical value is finite and none crosses a kink: nothing is flagged
        saturated = kink = flagged = excluded = np.zeros(theta.size, dtype=bool)
    else:
        saturated = ~finite_approx
        if screened:
            considered = np.ones(theta.size, dtype=bool)
            for name in screened:
                considered[dict(slices)[name]] = False
            saturated &= considered
        kink = reference_kink & ~saturated
        flagged = kink | saturated
        excluded = flagged if considered is None else flagged | ~considered

    def noise_for(block: slice) -> Callable[[], np.ndarray]:
        def compute() -> np.ndarray:
            # Round-off model plus how much the estimate moves when the step doubles
            # (truncation and any round-off the model misses).
            if "gradapprox" not in second:
                doubled = perturbed_passes(X, Y, parameters, 2 * steps)
                second["kink"] = doubled.kink
                second["gradapprox"] = doubled.gradapprox if method == "batched" else np.full(theta.size, np.nan)
            if method == "loop" and forward_n is not None and np.isnan(second["gradapprox"][block]).any():
                with np.errstate(all="ignore"):
                    values = gradapprox_loop(forward_n, X, Y, parameters, 2 * steps, np.arange(block.start, block.stop))
                second["gradapprox"][block] = values[block]
            moved = np.abs(second["gradapprox"][block] - gradapprox[block])
            moved = np.where(np.isfinite(moved), moved, np.inf)
            moved = np.where(second["kink"][block], np.inf, moved)
            if second.get("roundoff") is None:
                second["roundoff"] = (
                    roundoff if roundoff is not None else _roundoff(X, Y, parameters, method, forward_n, base)
                )
            return second["roundoff"] / steps[block] + moved

        return compute

    blocks = []
    status = np.zeros(theta.size, dtype=np.int8)  # Verdict ranks
    allowances = np.zeros(theta.size)
    clean = not np.count_nonzero(flagged)  # no kink, no saturation
    sums = _block_sums(grad, gradapprox, None if clean and considered is None else excluded, starts)
    if not clean:
        status[kink] = _RANK[Verdict.KINK]
        status[saturated] = _RANK[Verdict.SATURATED]
        any_excluded = np.logical_or.reduceat(flagged, starts).tolist()
        kinks = np.add.reduceat(kink, starts).tolist()
        saturations = np.add.reduceat(saturated, starts).tolist()
    else:
        any_excluded = kinks = saturations = [0] * len(slices)
    worst = 0  # the largest Verdict rank among the blocks
    gradient_names = _gradient_block_names(sizes)
    for index, (name, block) in enumerate(slices):
        if name in screened:
            outcome = screened[name]
            blocks.append(
                BlockResult(
                    outcome.name, outcome.difference, outcome.verdict, block.stop - block.start, 0, 0,
                    outcome.noise, mode="screened",
                )
            )  # fmt: skip
            worst = max(worst, _RANK[blocks[-1].verdict])
            continue
        column = sums[index]
        verdict = None
        if column[0]:  # finite: _judge_block's PASS, inline (no closures for the common case)
            mismatch = math.sqrt(column[1])
            difference = 0.0 if mismatch == 0.0 else mismatch / (math.sqrt(column[2]) + math.sqrt(column[3]))
            if difference <= threshold:
                verdict, noise = _PASS, _NAN
        if verdict is None:
            verdict, difference, noise = _judge_block(
                column, partial(excluded.__getitem__, block), threshold, noise_for(block)
            )
        if verdict is _PASS and any_excluded[index]:
            with np.errstate(all="ignore"):
                if relative_difference(grad[block], np.nan_to_num(gradapprox[block])) > threshold:
                    verdict = Verdict.SATURATED if saturated[block].any() else Verdict.KINK
        if verdict is _WRONG or verdict is _IMPRECISE:
            allowances[block] = noise_for(block)()
            size = np.abs(grad[block]) + np.abs(gradapprox[block])
            off = np.abs(grad[block] - gradapprox[block])
            off = np.where(np.isfinite(off), off, np.inf)
            bad = (off > NOISE_SAFETY * allowances[block] + threshold * size) & ~excluded[block]
            status[block][bad] = _RANK[verdict]
            if verdict is Verdict.WRONG and not bad.any():
                status[block][np.argmax(np.where(excluded[block], -1, off))] = _RANK[Verdict.WRONG]
        blocks.append(
            _block_result(gradient_names[index], difference, verdict, block.stop - block.start, kinks[index],
                          saturations[index], noise)
        )  # fmt: skip
        if verdict is not _PASS:
            worst = max(worst, _RANK[verdict])

    overall = _VERDICTS[worst]
    named = _worst_entries(
        sizes, grad, gradapprox, status, allowances, threshold, max_named, considered,
        all_passed=clean and considered is None and overall is Verdict.PASS,
    )  # fmt: skip
    if clean and not screened and all(column[0] for column in sums):
        # every entry was checked: the whole difference follows from the blocks' sums
        _, mismatch2, grad2, approx2 = map(sum, zip(*sums, strict=True))
        difference = 0.0 if mismatch2 == 0.0 else math.sqrt(mismatch2) / (math.sqrt(grad2) + math.sqrt(approx2))
    else:
        difference = _overall_difference(grad, gradapprox, considered, screened.values())
    result = object.__new__(GradientCheckResult)  # as the constructor, without its per-field setattr calls
    result.__dict__.update(
        difference=difference,
        verdict=overall,
        reason=_reason(overall, blocks, named, threshold, epsilon),
        epsilon=epsilon,
        threshold=threshold,
        method=method,
        blocks=tuple(blocks),
        worst_entries=named,
        sizes=sizes,
        grad=grad,
        gradapprox=gradapprox,
        entry_status=tuple(_VERDICTS[status]) if np.count_nonzero(status) else (Verdict.PASS,) * theta.size,
    )
    return result


def _finite(value: float) -> bool:
    """np.isfinite for a scalar, without numpy's call overhead for a Python float."""
    return math.isfinite(value) if type(value) is float else bool(np.isfinite(value))


_VERDICTS = np.array(list(Verdict), dtype=object)  # by rank
_RANK = {verdict: rank for rank, verdict in enumerate(Verdict)}
_PASS, _WRONG, _IMPRECISE = Verdict.PASS, Verdict.WRONG, Verdict.IMPRECISE  # plain names: no Enum lookups in loops
_NAN = float("nan")


@lru_cache(maxsize=64)
def _gradient_block_names(sizes: LayerSizes) -> tuple[str, ...]:
    """``dW1`` ... ``db3``, in block order."""
    return tuple("d" + name for name, _ in _layout(sizes)[0])


def _block_result(
    name: str, difference: float, verdict: Verdict, entries: int, kinks: int, saturated: int, noise: float
) -> BlockResult:
    """``BlockResult(name, ..., noise)`` (mode "full") without the frozen dataclass's per-field setattr calls.

    The same object as the constructor's (equal, same hash and repr); a tiny check builds six of these per call.
    """
    result = object.__new__(BlockResult)
    result.__dict__.update(
        name=name, difference=difference, verdict=verdict, entries=entries, kinks=kinks, saturated=saturated,
        noise=noise, mode="full",
    )  # fmt: skip
    return result


def _entry_report(name: str, backprop: float, numerical: float, allowance: float, status: Verdict) -> EntryReport:
    """``EntryReport(name, backprop, numerical, allowance, status)`` without the per-field setattr calls."""
    report = object.__new__(EntryReport)
    report.__dict__.update(name=name, backprop=backprop, numerical=numerical, allowance=allowance, status=status)
    return report


def _overall_difference(
    grad: np.ndarray, gradapprox: np.ndarray, considered: np.ndarray | None, screened: Collection[BlockScreen]
) -> float:
    """The seed's difference over the whole gradient (non-finite numerical values count as 0).

    A screened block contributes its probes' estimates: E|u . w|^2 = ||w||^2 for a standard normal u.
    """
    if not np.all(np.isfinite(grad)):
        return float("inf")
    with np.errstate(all="ignore"):
        usable = np.isfinite(gradapprox) if considered is None else np.isfinite(gradapprox) & considered
        approx = np.where(usable, gradapprox, 0.0)
        gap = grad - approx if considered is None else np.where(considered, grad - approx, 0.0)
        mismatch2, grad2, approx2 = float(gap @ gap), float(grad @ grad), float(approx @ approx)
        for outcome in screened:
            mismatch2 += float(np.mean((outcome.backprop - outcome.numerical) ** 2))
            approx2 += float(np.mean(outcome.numerical**2))
    if mismatch2 == 0.0:
        return 0.0
    return float(np.sqrt(mismatch2) / (np.sqrt(grad2) + np.sqrt(approx2)))


def _worst_entries(
    sizes: LayerSizes,
    grad: np.ndarray,
    gradapprox: np.ndarray,
    status: np.ndarray,
    allowances: np.ndarray,
    threshold: float,
    count: int,
    considered: np.ndarray | None = None,
    *,
    all_passed: bool = False,
) -> tuple[EntryReport, ...]:
    """The ``count`` entries most out of line: WRONG ones first, else any that differ at all.

    ``status`` holds Verdict ranks; entries outside ``considered`` (screened blocks) are skipped.
    ``all_passed``: every entry was checked, finite and PASS (no allowances), as the caller knows.
    """
    if all_passed:
        # Every entry passed: the same scores, without the guards for non-finite values.
        off = np.abs(grad - gradapprox)
        allowed = np.abs(grad)
        allowed += np.abs(gradapprox)
        allowed *= threshold
        candidates = off.nonzero()[0]
        if candidates.size == off.size:  # every entry differs (the usual case): no gathers
            score = off / (allowed + 1e-300)
            np.negative(score, out=score)
            picked = score.argsort(kind="stable")[:count]
        else:
            score = off[candidates]
            score /= allowed[candidates] + 1e-300
            np.negative(score, out=score)
            picked = candidates[score.argsort(kind="stable")[:count]]
        everyone = _entry_names(sizes)
        names = (
            [everyone[i] for i in picked.tolist()]
            if everyone
            else [_cached_entry_name(sizes, i) for i in picked.tolist()]
        )
        return tuple(
            map(
                _entry_report,
                names,
                grad[picked].tolist(),
                gradapprox[picked].tolist(),
                allowed[picked].tolist(),
                [Verdict.PASS] * len(names),
            )
        )
    with np.errstate(all="ignore"):
        off = np.abs(grad - gradapprox)
        off = np.where(np.isfinite(off), off, np.inf)
        size = np.abs(gradapprox)  # as np.nan_to_num: NaN counts 0, inf the largest float
        size = np.where(np.isnan(size), 0.0, np.minimum(size, np.finfo(np.float64).max))
        allowed = NOISE_SAFETY * allowances + threshold * (np.abs(grad) + size)
        score = off / (allowed + 1e-300)
    wrong = status == _RANK[Verdict.WRONG]
    candidates = np.flatnonzero(wrong) if wrong.any() else np.flatnonzero(off > 0)
    if considered is not None:
        candidates = candidates[considered[candidates]]
    picked = candidates[np.argsort(-score[candidates], kind="stable")][:count]
    layout = _layout(sizes)
    return tuple(
        _entry_report(_entry_name(layout, i), g, a, allowance, _VERDICTS[code])
        for i, g, a, allowance, code in zip(
            picked.tolist(),
            grad[picked].tolist(),
            gradapprox[picked].tolist(),
            allowed[picked].tolist(),
            status[picked].tolist(),
            strict=True,
        )
    )


def _reason(
    verdict: Verdict, blocks: list[BlockResult], named: tuple[EntryReport, ...], threshold: float, epsilon: float | None
) -> str:
    step = "the default epsilon" if epsilon is None else f"epsilon {epsilon:g}"
    if verdict is Verdict.WRONG:
        wrong = [b for b in blocks if b.verdict is Verdict.WRONG]
        parts = ", ".join(f"{b.name} (difference {b.difference:.3g})" for b in wrong)
        first = f"; e.g. {named[0]}" if named else ""
        return f"backprop disagrees with the numerical gradient in {parts}{first}"
    if verdict is Verdict.IMPRECISE:
        loose = [b for b in blocks if b.verdict is Verdict.IMPRECISE]
        parts = ", ".join(f"{b.name} {b.difference:.3g} (numerical error ~{b.noise:.2g})" for b in loose)
        return (
            f"difference above threshold {threshold:g} in {parts}, but within the estimated numerical error "
            f"of centred differences at {step} (round-off in the cost, or a gradient too small to resolve)"
        )
    if verdict is Verdict.SATURATED:
        count = sum(b.saturated for b in blocks)
        return f"the cost is not finite in {count} perturbed passes (sigmoid saturated); the rest agree"
    if verdict is Verdict.KINK:
        count = sum(b.kinks for b in blocks)
        return f"disagreement only at {count} entries whose perturbation crosses a ReLU kink; the rest agree"
    checked = max((b.difference for b in blocks), default=0.0)
    return f"every block agrees (largest block difference {checked:.3g} <= threshold {threshold:g})"


def gradient_check(
    x: float,
    theta: float,
    epsilon: float | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    forward: Callable[[float, float], object] = network.forward_propagation,
    backward: Callable[[float, float], object] = network.backward_propagation,
) -> GradientCheckResult:
    """The seed's 1-D check of J(theta) = theta * x: backward against the centred difference.

    ``epsilon`` None means cbrt(machine eps) * max(1, |theta|); the seed uses 1e-7.
    """
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold={threshold!r} must be a positive finite number")
    step = float(epsilon_vector(np.array([theta], dtype=np.float64), epsilon)[0])

    def approx(h: float) -> tuple[float, float]:
        J_plus = cost_of(forward(x, theta + h))
        J_minus = cost_of(forward(x, theta - h))
        return (J_plus - J_minus) / (2.0 * h), max(abs(J_plus), abs(J_minus))

    with np.errstate(all="ignore"):
        gradapprox, scale = approx(step)
        grad = cost_of(backward(x, theta))
    difference = relative_difference(np.array([grad]), np.array([gradapprox]))
    if not np.isfinite(grad):
        verdict, noise = Verdict.WRONG, float("nan")
    elif not np.isfinite(gradapprox):
        verdict, noise = Verdict.SATURATED, float("nan")
    elif difference <= threshold:
        verdict, noise = Verdict.PASS, float("nan")
    else:
        with np.errstate(all="ignore"):
            doubled, _ = approx(2 * step)
        noise = 8 * UNIT_ROUNDOFF * scale / step + abs(doubled - gradapprox)
        verdict = Verdict.IMPRECISE if abs(grad - gradapprox) <= NOISE_SAFETY * noise else Verdict.WRONG
    entry = EntryReport("dtheta", float(grad), float(gradapprox), float("nan"), verdict)
    block = BlockResult("dtheta", difference, verdict, 1, 0, int(verdict is Verdict.SATURATED), noise)
    if verdict is Verdict.WRONG:
        reason = f"backprop disagrees with the numerical gradient: {entry}"
    elif verdict is Verdict.PASS:
        reason = f"difference {difference:.3g} <= threshold {threshold:g}"
    else:
        reason = f"{entry}; within the numerical error ({noise:.2g})"
    return GradientCheckResult(
        difference=difference,
        verdict=verdict,
        reason=reason,
        epsilon=epsilon,
        threshold=threshold,
        method="loop",
        blocks=(block,),
        worst_entries=(entry,),
        grad=np.array([grad]),
        gradapprox=np.array([gradapprox]),
        entry_status=(verdict,),
    )
