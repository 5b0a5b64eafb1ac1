"""What a check says as a whole: the seed's difference over every entry, and the one-line reason."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from operator import itemgetter

import numpy as np

from gradharness.check.blocks import BlockSums
from gradharness.check.result import BlockResult, EntryReport, seed_difference
from gradharness.check.screening import BlockScreen
from gradharness.check.verdict import Verdict


def overall_difference(
    grad: np.ndarray,
    gradapprox: np.ndarray,
    sums: BlockSums,
    considered: np.ndarray | None,
    screened: Collection[BlockScreen],
    *,
    every_entry_checked: bool,
) -> float:
    """The seed's difference over the whole gradient (non-finite numerical values count as 0).

    ``every_entry_checked``: no entry was set aside, so the blocks' ``sums`` add up to it.
    A screened block contributes its probes' estimates: E|u . w|^2 = ||w||^2 for a standard normal u.
    """
    if every_entry_checked and all(map(itemgetter(0), sums)):
        return _difference_of_sums(sums)
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
    return float(seed_difference(np.sqrt(mismatch2), np.sqrt(grad2), np.sqrt(approx2)))


def _difference_of_sums(sums: BlockSums) -> float:
    """The seed's difference over all blocks, from their sums of squares (every entry checked and finite)."""
    _, mismatch2, grad2, approx2 = map(sum, zip(*sums, strict=True))
    return seed_difference(math.sqrt(mismatch2), math.sqrt(grad2), math.sqrt(approx2))


def reason(
    verdict: Verdict,
    blocks: Sequence[BlockResult],
    named: Sequence[EntryReport],
    threshold: float,
    epsilon: float | None,
) -> str:
    """Why the check gave ``verdict``, naming the blocks (and the first named entry) responsible."""
    if verdict is Verdict.PASS:
        checked = max([b.difference for b in blocks], default=0.0)
        return f"every block agrees (largest block difference {checked:.3g} <= threshold {threshold:g})"
    if verdict is Verdict.WRONG:
        wrong = [b for b in blocks if b.verdict is Verdict.WRONG]
        parts = ", ".join(f"{b.name} (difference {b.difference:.3g})" for b in wrong)
        first = f"; e.g. {named[0]}" if named else ""
        return f"backprop disagrees with the numerical gradient in {parts}{first}"
    if verdict is Verdict.IMPRECISE:
        step = "the default epsilon" if epsilon is None else f"epsilon {epsilon:g}"
        loose = [b for b in blocks if b.verdict is Verdict.IMPRECISE]
        parts = ", ".join(f"{b.name} {b.difference:.3g} (numerical error ~{b.noise:.2g})" for b in loose)
        return (
            f"difference above threshold {threshold:g} in {parts}, but within the estimated numerical error "
            f"of centred differences at {step} (round-off in the cost, or a gradient too small to resolve)"
        )
    if verdict is Verdict.SATURATED:
        count = sum(b.saturated for b in blocks)
        return f"the cost is not finite in {count} perturbed passes (sigmoid saturated); the rest agree"
    count = sum(b.kinks for b in blocks)  # KINK
    return f"disagreement only at {count} entries whose perturbation crosses a ReLU kink; the rest agree"
