"""The verdict of each gradient block, and of each entry in the blocks that are not PASS.

A block is compared over its checked entries (not at a kink, not saturated, not
screened) with the seed's difference; :func:`gradharness.check.verdict.block_verdict`
decides. A block that passes only because entries were set aside is KINK or
SATURATED when the set-aside entries would push it over the threshold. In a WRONG or
IMPRECISE block, each entry out of line by more than its own allowance gets that verdict.
Whatever the verdict, a block whose numerical gradient is exactly 0 on every checked entry
is marked not ``exercised``: the cost does not depend on it on this case.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import numpy as np

from gradharness.check.exclusions import Exclusions
from gradharness.check.layout import BlockLayout
from gradharness.check.numerical import NumericalSide
from gradharness.check.result import BlockResult, relative_difference, seed_difference
from gradharness.check.screening import BlockScreen
from gradharness.check.step_error import EntryErrors
from gradharness.check.verdict import NOISE_SAFETY, Verdict, block_verdict, worst

BlockSums = list[list[float]]
"""Per block: [all of grad finite, ||grad - gradapprox||^2, ||grad||^2, ||gradapprox||^2] over its checked entries."""


class BlockVerdicts(NamedTuple):
    """The blocks' results, and per entry its verdict rank and error allowance (0 where not estimated)."""

    blocks: tuple[BlockResult, ...]
    sums: BlockSums
    status: np.ndarray
    allowances: np.ndarray

    @property
    def verdict(self) -> Verdict:
        """The worst block verdict."""
        return worst([block.verdict for block in self.blocks])


@np.errstate(all="ignore")  # a non-finite or huge gradient gives non-finite sums, judged by the caller
def block_sums(grad: np.ndarray, gradapprox: np.ndarray, excluded: np.ndarray | None, starts: np.ndarray) -> BlockSums:
    """:data:`BlockSums` of each block starting at ``starts``; ``excluded`` None: every entry is checked."""
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


def judge_blocks(
    grad: np.ndarray, side: NumericalSide, masks: Exclusions, layout: BlockLayout, threshold: float
) -> BlockVerdicts:
    """Every block's verdict: the probes' where they settled it, else the coordinate-wise comparison's."""
    checked_only = not (masks.clean and masks.considered is None)
    sums = block_sums(grad, side.gradapprox, masks.excluded if checked_only else None, layout.starts)
    status = np.zeros(grad.size, dtype=np.int8)
    allowances = np.zeros(grad.size)
    counts = _exclusion_counts(masks, layout, status)
    exercised = _exercised(side.gradapprox, masks.excluded if checked_only else None, layout.starts)
    screened, gradapprox, excluded = side.screened, side.gradapprox, masks.excluded
    blocks = []
    for name, label, block, column, (any_excluded, kinks, saturated), depends in zip(
        layout.names, layout.gradient_names, layout.slices, sums, counts, exercised, strict=True
    ):
        if name in screened:
            blocks.append(_screened_result(screened[name], block))
            continue
        finite, mismatch2, grad2, approx2 = column
        if finite:
            mismatch = math.sqrt(mismatch2)
            difference = seed_difference(mismatch, math.sqrt(grad2), math.sqrt(approx2))
            error = partial(_checked_error, side.error, block, excluded)  # asked for only above the threshold
            verdict, noise = block_verdict(difference, mismatch, threshold, error)
        else:  # a non-finite gradient is wrong, whatever the numerical side
            verdict, difference, noise = Verdict.WRONG, math.inf, math.nan
        if any_excluded and verdict is Verdict.PASS:
            verdict = _excluded_verdict(grad[block], gradapprox[block], masks.saturated[block], threshold)
        elif verdict is not Verdict.PASS:  # WRONG or IMPRECISE: which entries are out of line?
            allowances[block] = side.error.of(block)
            _mark_entries(
                grad[block], gradapprox[block], excluded[block], allowances[block], verdict, threshold, status[block]
            )
        entries = block.stop - block.start
        blocks.append(BlockResult(label, difference, verdict, entries, kinks, saturated, noise, exercised=depends))
    return BlockVerdicts(tuple(blocks), sums, status, allowances)


def _exercised(gradapprox: np.ndarray, excluded: np.ndarray | None, starts: np.ndarray) -> list[bool]:
    """Per block: whether any checked entry's numerical gradient is non-zero (the cost depends on the block)."""
    moved = gradapprox != 0  # NaN counts as moved: only an exact 0 says the cost did not change
    if excluded is not None:
        moved &= ~excluded
    return np.logical_or.reduceat(moved, starts).tolist()


def _exclusion_counts(masks: Exclusions, layout: BlockLayout, status: np.ndarray) -> list[tuple[bool, int, int]]:
    """Per block: whether any entry is at a kink or saturated, how many at a kink, how many saturated.

    Marks those entries KINK and SATURATED in ``status``.
    """
    if masks.clean:
        return [(False, 0, 0)] * len(layout.slices)
    status[masks.kink] = Verdict.KINK.rank
    status[masks.saturated] = Verdict.SATURATED.rank
    starts = layout.starts
    return list(
        zip(
            np.logical_or.reduceat(masks.flagged, starts).tolist(),
            np.add.reduceat(masks.kink, starts).tolist(),
            np.add.reduceat(masks.saturated, starts).tolist(),
            strict=True,
        )
    )


def _screened_result(outcome: BlockScreen, block: slice) -> BlockResult:
    """The result of a block the probes settled."""
    if outcome.verdict is None:
        raise ValueError(f"block {outcome.name} was not settled by its probes ({outcome.reason})")
    entries = block.stop - block.start
    exercised = bool(np.any(outcome.numerical != 0))  # a probe's directional derivative: 0 on every probe, no signal
    return BlockResult(
        outcome.name, outcome.difference, outcome.verdict, entries, 0, 0, outcome.noise, "screened", exercised
    )


def _checked_error(error: EntryErrors, block: slice, excluded: np.ndarray) -> float:
    """Norm of the numerical error over the block's checked entries (``excluded``: over the whole vector)."""
    return float(np.linalg.norm(error.of(block)[~excluded[block]]))


def _excluded_verdict(grad: np.ndarray, gradapprox: np.ndarray, saturated: np.ndarray, threshold: float) -> Verdict:
    """A block that passes over its checked entries: KINK or SATURATED if the set-aside ones would fail it."""
    with np.errstate(all="ignore"):
        if relative_difference(grad, np.nan_to_num(gradapprox)) <= threshold:
            return Verdict.PASS
    return Verdict.SATURATED if saturated.any() else Verdict.KINK


def _mark_entries(
    grad: np.ndarray,
    gradapprox: np.ndarray,
    excluded: np.ndarray,
    allowances: np.ndarray,
    verdict: Verdict,
    threshold: float,
    status: np.ndarray,
) -> None:
    """Give ``verdict`` to the block's checked entries that are out of line (in ``status``, a view of the block).

    A WRONG block always has a WRONG entry: its largest disagreement, if none exceeds its own allowance.
    """
    size = np.abs(grad) + np.abs(gradapprox)
    off = np.abs(grad - gradapprox)
    off = np.where(np.isfinite(off), off, np.inf)
    bad = (off > NOISE_SAFETY * allowances + threshold * size) & ~excluded
    status[bad] = verdict.rank
    if verdict is Verdict.WRONG and not bad.any():
        status[np.argmax(np.where(excluded, -1, off))] = verdict.rank
