"""What a gradient check returns: plain frozen records, and the seed's relative difference they report."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradharness.check.verdict import Verdict
from gradharness.model.parameters import LayerSizes


def seed_difference(mismatch: float, grad_norm: float, approx_norm: float) -> float:
    """The seed's ||grad - gradapprox|| / (||grad|| + ||gradapprox||) from those three norms, with 0/0 = 0."""
    return 0.0 if mismatch == 0.0 else mismatch / (grad_norm + approx_norm)


def relative_difference(grad: np.ndarray, gradapprox: np.ndarray) -> float:
    """The seed's ||grad - gradapprox|| / (||grad|| + ||gradapprox||), with 0/0 = 0 and NaN kept out."""
    grad = np.asarray(grad, dtype=np.float64).reshape(-1)
    gradapprox = np.asarray(gradapprox, dtype=np.float64).reshape(-1)
    if grad.size == 0:
        return 0.0
    if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(gradapprox))):
        return float("inf")
    norms = (np.linalg.norm(grad - gradapprox), np.linalg.norm(grad), np.linalg.norm(gradapprox))
    return seed_difference(*map(float, norms))


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
    # False when the numerical gradient is exactly 0 on every checked entry (every probe, when screened): the
    # cost does not depend on the block on this case, so agreeing with it showed nothing. A fact, not a verdict:
    # a WRONG block can be unexercised (backprop non-zero where the true gradient is 0).
    exercised: bool = True


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
    shapes: tuple[tuple[int, ...], ...] = ()  # each block's shape, in the order of ``blocks``
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
        """The block called ``name`` (``dW1`` or ``W1``; ``dx`` or ``x``, also for an array named ``dout``)."""
        for wanted in (name, "d" + name):
            for candidate in self.blocks:
                if candidate.name == wanted:
                    return candidate
        raise KeyError(f"no block {name!r}; blocks are {', '.join(b.name for b in self.blocks)}")

    def summary(self) -> str:
        """One line: verdict, difference and reason."""
        return f"{self.verdict.value}: difference {self.difference:.3g} ({self.reason})"
