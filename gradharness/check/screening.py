"""Directional screening: k random probes per parameter block instead of one perturbation per entry.

For a random direction u of one block (W1, b1, ..., b3), backprop predicts the
directional derivative ``u . grad``; the forward pass measures it as
``(J(theta + h u) - J(theta - h u)) / (2 h)``: two forward calls per probe,
whatever the size of the block. With k probes per block the seed's measure is
applied to the two k-vectors of projections,

    difference = ||U grad - D|| / (||U grad|| + ||D||),

which estimates the block's own difference without the heavy tail of a single
probe (one random direction can be nearly orthogonal to the gradient or to the
bug). Probes are per block, so a wrong bias gradient is not diluted among
thousands of weight entries.

The probes settle a block only when it passes: PASS when the difference is
within the threshold. Anything else is left unsettled (``verdict`` None) for the
full coordinate-wise check of that block, which localises the wrong entries:
a disagreement (IMPRECISE too: one within the probes' own numerical error, the
round-off of J divided by h plus how much D moves when h doubles, could hide an
error that the full check, with its smaller noise, calls wrong), and any probe
that moves a ReLU input across its kink or gives a non-finite cost.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from gradharness.check.error_model import CostFormula, cost_roundoff
from gradharness.check.finite_diff import DEFAULT_EPSILON, ForwardN, directional_loop
from gradharness.check.perturbed import BasePass, base_pass, directional_passes
from gradharness.check.result import seed_difference
from gradharness.check.verdict import NOISE_SAFETY, Verdict, block_verdict
from gradharness.model.parameters import PARAMETER_NAMES, Parameters

DEFAULT_PROBES = 4
"""Random probes per block: one is not enough to separate a correct gradient from a wrong one; four are."""
SCREEN_MIN_ENTRIES = 64
"""Blocks of at most this many entries get the full check directly: it is cheap there, and exact."""
DEFAULT_SEED = 0
"""Seed of the random directions, so a check is reproducible."""


@dataclass(frozen=True)
class BlockScreen:
    """What the probes showed for one block.

    ``verdict`` is PASS or IMPRECISE when the probes settle the block, None when
    the full check must decide (``reason`` says why).
    """

    name: str
    verdict: Verdict | None
    difference: float
    noise: float
    reason: str
    backprop: np.ndarray = field(repr=False, compare=False)
    numerical: np.ndarray = field(repr=False, compare=False)
    kinks: int = 0

    @property
    def probes(self) -> int:
        """Number of probes."""
        return int(self.backprop.size)


def directions(parameters: Parameters, probes: int, seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
    """``probes`` standard normal directions per block, rows of a (probes, block size) array (read-only)."""
    if isinstance(probes, bool) or not isinstance(probes, (int, np.integer)) or probes < 1:
        raise ValueError(f"probes={probes!r} must be a whole number >= 1")
    sizes = tuple(int(np.size(parameters[name])) for name in PARAMETER_NAMES)
    return {name: U for name, (U, _) in zip(PARAMETER_NAMES, _directions(sizes, int(probes), seed), strict=True)}


@lru_cache(maxsize=16)
def _directions(sizes: tuple[int, ...], probes: int, seed: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per block: the directions and each one's largest |entry| (the same seed gives the same directions)."""
    rng = np.random.default_rng(seed)
    out = []
    for size in sizes:
        U = rng.standard_normal((probes, size))
        largest = np.max(np.abs(U), axis=1)
        for array in (U, largest):
            array.flags.writeable = False
        out.append((U, largest))
    return tuple(out)


def probe_steps(
    theta: np.ndarray, U: np.ndarray, epsilon: float | None, largest: np.ndarray | None = None
) -> np.ndarray:
    """Step h_k along each direction: no entry moves more than its coordinate-wise step would.

    The step of the block is ``epsilon``, or the default cbrt(machine eps) * max(1, max |theta_i|).
    ``largest``: max |U_k| per direction, if known.
    """
    step = epsilon if epsilon is not None else DEFAULT_EPSILON * max(1.0, float(np.max(np.abs(theta), initial=0.0)))
    largest = np.max(np.abs(U), axis=1) if largest is None else largest
    return step / np.where(largest > 0, largest, 1.0)


def screen_block(
    name: str,
    grad: np.ndarray,
    U: np.ndarray,
    h: np.ndarray,
    measure: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    roundoff: float,
    *,
    threshold: float,
    noise_safety: float = NOISE_SAFETY,
) -> BlockScreen:
    """Screen one block.

    - ``grad``: backprop's gradient of the block (flat); ``U``: the directions (k, size); ``h``: steps (k,).
    - ``measure(deltas)``: J(theta + delta_k) - J(theta - delta_k) and kink flags, for rows delta_k.
    - ``roundoff``: the error model's bound on the rounding error of J.
    """
    label = "d" + name
    backprop = U @ grad
    if not np.all(np.isfinite(backprop)):
        return BlockScreen(label, None, float("inf"), float("nan"), "non-finite gradient", backprop, backprop)
    change, kink = measure(U * h[:, None])
    numerical = change / (2 * h)
    if kink.any():
        reason = f"{int(kink.sum())} of {len(h)} probes cross a ReLU kink"
        return BlockScreen(label, None, float("nan"), float("nan"), reason, backprop, numerical, int(kink.sum()))
    if not np.all(np.isfinite(numerical)):
        return BlockScreen(label, None, float("nan"), float("nan"), "non-finite cost", backprop, numerical)
    mismatch = float(np.linalg.norm(backprop - numerical))
    difference = seed_difference(mismatch, float(np.linalg.norm(backprop)), float(np.linalg.norm(numerical)))

    def probes_error() -> float:
        # round-off of J over each step, plus how far each probe moves when its step doubles
        doubled_change, doubled_kink = measure(U * (2 * h)[:, None])
        moved = np.abs(doubled_change / (4 * h) - numerical)
        moved = np.where(np.isfinite(moved) & ~doubled_kink, moved, np.inf)
        return float(np.linalg.norm(roundoff / h + moved))

    verdict, noise = block_verdict(difference, mismatch, threshold, probes_error, noise_safety)
    if verdict is Verdict.PASS:
        return BlockScreen(label, verdict, difference, noise, "probes agree", backprop, numerical)
    if verdict is Verdict.IMPRECISE:
        # Not settled: four projections within their own noise could hide an error just over the threshold
        # that the entry-by-entry check, with its smaller noise, calls wrong.
        reason = "within the probes' numerical error"
        return BlockScreen(label, None, difference, noise, reason, backprop, numerical)
    return BlockScreen(label, None, difference, noise, "probes disagree", backprop, numerical)


def screen_blocks(
    parameters: Parameters,
    grad: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    base: BasePass,
    roundoff: float,
    *,
    names: Collection[str],
    forward: ForwardN | None = None,
    epsilon: float | None = None,
    threshold: float,
    noise_safety: float = NOISE_SAFETY,
    probes: int = DEFAULT_PROBES,
    seed: int = DEFAULT_SEED,
) -> dict[str, BlockScreen]:
    """Screen the blocks ``names`` (e.g. ``["W1", "W2"]``) of a flat backprop gradient ``grad``.

    ``forward`` None evaluates the probes with the built-in network's batched passes;
    a user's forward is called twice per probe (four times for a block that needs
    the step-doubling estimate). Kink flags always come from the built-in network
    at the same parameters, as in the full check.
    """
    directions(parameters, probes, seed)  # validates probes
    sizes = tuple(int(np.size(parameters[name])) for name in PARAMETER_NAMES)
    U_all = dict(zip(PARAMETER_NAMES, _directions(sizes, int(probes), seed), strict=True))
    offsets = np.cumsum([0] + [np.size(parameters[n]) for n in PARAMETER_NAMES])
    out = {}
    for index, name in enumerate(PARAMETER_NAMES):
        if name not in names:
            continue
        theta = np.asarray(parameters[name], dtype=np.float64).reshape(-1)
        U, largest = U_all[name]
        h = probe_steps(theta, U, epsilon, largest)

        def measure(deltas: np.ndarray, name: str = name) -> tuple[np.ndarray, np.ndarray]:
            change, kink = directional_passes(base, name, deltas)
            if forward is not None:
                with np.errstate(all="ignore"):
                    change = directional_loop(forward, X, Y, parameters, name, deltas)
            return change, kink

        block_grad = grad[offsets[index] : offsets[index + 1]]
        out[name] = screen_block(
            name, block_grad, U, h, measure, roundoff, threshold=threshold, noise_safety=noise_safety
        )
    return out


def screen_network(
    parameters: Parameters,
    gradients: Mapping[str, object],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    epsilon: float | None = None,
    threshold: float = 1e-7,
    probes: int = DEFAULT_PROBES,
    seed: int = DEFAULT_SEED,
) -> dict[str, BlockScreen]:
    """Screen every block of backprop's ``gradients`` (dW1 ... db3) with the built-in network's batched probes.

    The directional counterpart of :func:`gradharness.check.checker.gradient_check_n`: a verdict per
    block from ``probes`` random directions each (a block left unsettled, ``verdict`` None,
    needs the full check to name its wrong entries).
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    grad = np.concatenate([np.asarray(gradients["d" + name], dtype=np.float64).reshape(-1) for name in PARAMETER_NAMES])
    base = base_pass(X, Y, parameters)
    roundoff = cost_roundoff(X, Y, parameters, CostFormula.STABLE, base=base)
    return screen_blocks(
        parameters, grad, X, Y, base, roundoff, names=PARAMETER_NAMES, epsilon=epsilon,
        threshold=threshold, noise_safety=NOISE_SAFETY, probes=probes, seed=seed,
    )  # fmt: skip
