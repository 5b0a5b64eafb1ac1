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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from gradharness import network
from gradharness.error_model import CostFormula, cost_roundoff
from gradharness.numerical import cost_of, epsilon_vector, gradapprox_loop
from gradharness.parameters import (
    GRADIENT_NAMES,
    LayerSizes,
    Parameters,
    block_slices,
    dictionary_to_vector,
    entry_name,
    parameter_shapes,
)
from gradharness.perturbed import UNIT_ROUNDOFF, perturbed_passes
from gradharness.verdict import Verdict, worst

DEFAULT_THRESHOLD = 1e-7
SEED_EPSILON = 1e-7
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


def _validate_gradients(gradients: Mapping[str, object], sizes: LayerSizes) -> np.ndarray:
    shapes = parameter_shapes(sizes)
    pieces = []
    for name in GRADIENT_NAMES:
        if name not in gradients:
            raise ValueError(f"gradient {name} is missing (got keys {', '.join(sorted(map(str, gradients)))})")
        value = np.asarray(gradients[name])
        if value.shape != shapes[name[1:]]:
            raise ValueError(f"gradient {name} has shape {value.shape}, expected {shapes[name[1:]]}")
        pieces.append(value.astype(np.float64).reshape(-1))
    return np.concatenate(pieces)


def _judge_block(
    name: str,
    grad: np.ndarray,
    gradapprox: np.ndarray,
    excluded: np.ndarray,
    threshold: float,
    noise: Callable[[], np.ndarray],
) -> tuple[Verdict, float, float]:
    """Verdict, difference over the checked entries, and noise norm (NaN if not needed)."""
    if not np.all(np.isfinite(grad)):
        return Verdict.WRONG, float("inf"), float("nan")
    checked = ~excluded
    difference = relative_difference(grad[checked], gradapprox[checked])
    if difference <= threshold:
        return Verdict.PASS, difference, float("nan")
    mismatch = float(np.linalg.norm(grad[checked] - gradapprox[checked]))
    allowance = float(np.linalg.norm(noise()[checked]))
    if mismatch <= NOISE_SAFETY * allowance:
        return Verdict.IMPRECISE, difference, allowance
    return Verdict.WRONG, difference, allowance


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
) -> GradientCheckResult:
    """Check backprop gradients of the 3-layer network against centred differences.

    - ``epsilon``: fixed step, or None (default) for cbrt(machine eps) * max(1, |theta_i|);
      the seed's setting is 1e-7.
    - ``threshold``: the seed's 1e-7 on the relative difference.
    - ``forward``: the forward pass whose numerical gradient is the reference
      (default: the built-in :func:`gradharness.network.forward_propagation_n`).
    - ``method``: "batched" (all perturbed passes at once; built-in forward only),
      "loop" (one call per perturbation, the seed's way) or "auto".
    """
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold={threshold!r} must be a positive finite number")
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    sizes = LayerSizes.of(parameters)
    grad = _validate_gradients(gradients, sizes)
    theta = dictionary_to_vector(parameters)[0].reshape(-1)
    steps = epsilon_vector(theta, epsilon)
    builtin = forward is None or forward is network.forward_propagation_n
    if method == "auto":
        method = "batched" if builtin else "loop"
    if method not in ("batched", "loop"):
        raise ValueError(f"method={method!r}; valid methods are 'auto', 'batched', 'loop'")
    if method == "batched" and not builtin:
        raise ValueError("method='batched' evaluates the built-in network; a custom forward needs method='loop'")
    forward_n = network.forward_propagation_n if forward is None else forward

    reference = perturbed_passes(X, Y, parameters, steps)
    with np.errstate(all="ignore"):
        if method == "batched":
            gradapprox = reference.gradapprox
            roundoff = cost_roundoff(X, Y, parameters, CostFormula.STABLE)
        else:
            gradapprox = gradapprox_loop(forward_n, X, Y, parameters, steps)
            roundoff = cost_roundoff(X, Y, parameters, CostFormula.SEED)
            J0 = cost_of(forward_n(X, Y, {k: np.array(v, dtype=np.float64) for k, v in parameters.items()}))
            roundoff = max(roundoff, 8 * UNIT_ROUNDOFF * abs(J0)) if np.isfinite(J0) else float("inf")

    saturated = ~np.isfinite(gradapprox)
    kink = reference.kink & ~saturated
    excluded = kink | saturated
    second: dict[str, np.ndarray] = {}

    def noise_for(block: slice) -> Callable[[], np.ndarray]:
        def compute() -> np.ndarray:
            # Round-off model plus how much the estimate moves when the step doubles
            # (truncation and any round-off the model misses).
            if "gradapprox" not in second:
                doubled = perturbed_passes(X, Y, parameters, 2 * steps)
                second["kink"] = doubled.kink
                second["gradapprox"] = doubled.gradapprox if method == "batched" else np.full(theta.size, np.nan)
            if method == "loop" and np.isnan(second["gradapprox"][block]).any():
                with np.errstate(all="ignore"):
                    values = gradapprox_loop(forward_n, X, Y, parameters, 2 * steps, np.arange(block.start, block.stop))
                second["gradapprox"][block] = values[block]
            moved = np.abs(second["gradapprox"][block] - gradapprox[block])
            moved = np.where(np.isfinite(moved), moved, np.inf)
            moved = np.where(second["kink"][block], np.inf, moved)
            return roundoff / steps[block] + moved

        return compute

    blocks = []
    status = np.full(theta.size, Verdict.PASS, dtype=object)
    status[kink] = Verdict.KINK
    status[saturated] = Verdict.SATURATED
    allowances = np.zeros(theta.size)
    for name, block in block_slices(sizes).items():
        verdict, difference, noise = _judge_block(
            "d" + name, grad[block], gradapprox[block], excluded[block], threshold, noise_for(block)
        )
        if verdict is Verdict.PASS and excluded[block].any():
            with np.errstate(all="ignore"):
                if relative_difference(grad[block], np.nan_to_num(gradapprox[block])) > threshold:
                    verdict = Verdict.SATURATED if saturated[block].any() else Verdict.KINK
        if verdict in (Verdict.WRONG, Verdict.IMPRECISE):
            allowances[block] = noise_for(block)()
            size = np.abs(grad[block]) + np.abs(gradapprox[block])
            off = np.abs(grad[block] - gradapprox[block])
            off = np.where(np.isfinite(off), off, np.inf)
            bad = (off > NOISE_SAFETY * allowances[block] + threshold * size) & ~excluded[block]
            status[block][bad] = verdict
            if verdict is Verdict.WRONG and not bad.any():
                status[block][np.argmax(np.where(excluded[block], -1, off))] = Verdict.WRONG
        blocks.append(
            BlockResult(
                name="d" + name,
                difference=difference,
                verdict=verdict,
                entries=block.stop - block.start,
                kinks=int(kink[block].sum()),
                saturated=int(saturated[block].sum()),
                noise=noise,
            )
        )

    overall = worst([b.verdict for b in blocks])
    named = _worst_entries(sizes, grad, gradapprox, status, allowances, threshold, max_named)
    return GradientCheckResult(
        difference=relative_difference(grad, np.nan_to_num(gradapprox, nan=0.0, posinf=0.0, neginf=0.0))
        if np.all(np.isfinite(grad))
        else float("inf"),
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
        entry_status=tuple(status),
    )


def _worst_entries(
    sizes: LayerSizes,
    grad: np.ndarray,
    gradapprox: np.ndarray,
    status: np.ndarray,
    allowances: np.ndarray,
    threshold: float,
    count: int,
) -> tuple[EntryReport, ...]:
    with np.errstate(all="ignore"):
        off = np.abs(grad - gradapprox)
        off = np.where(np.isfinite(off), off, np.inf)
        scale = NOISE_SAFETY * allowances + threshold * (np.abs(grad) + np.abs(np.nan_to_num(gradapprox))) + 1e-300
        score = off / scale
    wrong = np.array([s is Verdict.WRONG for s in status])
    order = np.lexsort((-score, ~wrong))
    picked = [i for i in order if wrong[i]] or [i for i in order if off[i] > 0]
    return tuple(
        EntryReport(
            name=entry_name(sizes, int(i), prefix="d"),
            backprop=float(grad[i]),
            numerical=float(gradapprox[i]),
            allowance=float(
                NOISE_SAFETY * allowances[i] + threshold * (abs(grad[i]) + abs(np.nan_to_num(gradapprox[i])))
            ),
            status=status[i],
        )
        for i in picked[:count]
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
