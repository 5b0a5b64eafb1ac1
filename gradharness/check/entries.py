"""The entries a check names: the ones most out of line, with backprop's and the numerical value."""

from __future__ import annotations

import numpy as np

from gradharness.check.layout import BlockLayout, block_layout
from gradharness.check.result import EntryReport
from gradharness.check.verdict import BY_RANK, NOISE_SAFETY, Verdict
from gradharness.model.parameters import LayerSizes


def worst_entries(
    layout: BlockLayout | LayerSizes,
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

    Each is scored by its disagreement over what it is allowed (``NOISE_SAFETY`` times its
    numerical error allowance, plus the threshold relative to its size). ``status`` holds
    Verdict ranks; entries outside ``considered`` (screened blocks) are skipped.
    ``all_passed``: every entry was checked, finite and PASS (no allowances), as the caller knows.
    ``layout`` names the entries (``dW2[1, 3]``); the exercise network's sizes stand for its layout.
    """
    if isinstance(layout, LayerSizes):
        layout = block_layout(layout)
    if all_passed:
        picked, allowed = _most_different(grad, gradapprox, threshold, count)
        verdicts = [Verdict.PASS] * len(picked)
    else:
        picked, allowed = _most_out_of_line(grad, gradapprox, status, allowances, threshold, count, considered)
        verdicts = list(map(BY_RANK.__getitem__, status[picked].tolist()))
    return tuple(
        map(
            EntryReport,
            [layout.entry_name(index) for index in picked.tolist()],
            grad[picked].tolist(),
            gradapprox[picked].tolist(),
            allowed[picked].tolist(),
            verdicts,
        )
    )


def _most_different(
    grad: np.ndarray, gradapprox: np.ndarray, threshold: float, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_most_out_of_line` when every entry is finite and PASS: the same order, without its guards."""
    off = np.abs(grad - gradapprox)
    allowed = np.abs(grad)
    allowed += np.abs(gradapprox)
    allowed *= threshold
    if np.count_nonzero(off) == off.size:  # every entry differs (the usual case): no gathers
        score = off / (allowed + 1e-300)
        np.negative(score, out=score)
        return score.argsort(kind="stable")[:count], allowed
    candidates = off.nonzero()[0]
    score = off[candidates]
    score /= allowed[candidates] + 1e-300
    np.negative(score, out=score)
    return candidates[score.argsort(kind="stable")[:count]], allowed


def _most_out_of_line(
    grad: np.ndarray,
    gradapprox: np.ndarray,
    status: np.ndarray,
    allowances: np.ndarray,
    threshold: float,
    count: int,
    considered: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``count`` highest-scoring candidates, and every entry's allowed disagreement."""
    with np.errstate(all="ignore"):
        off = np.abs(grad - gradapprox)
        off = np.where(np.isfinite(off), off, np.inf)
        size = np.abs(gradapprox)  # as np.nan_to_num: NaN counts 0, inf the largest float
        size = np.where(np.isnan(size), 0.0, np.minimum(size, np.finfo(np.float64).max))
        allowed = NOISE_SAFETY * allowances + threshold * (np.abs(grad) + size)
        score = off / (allowed + 1e-300)
    wrong = status == Verdict.WRONG.rank
    candidates = np.flatnonzero(wrong) if wrong.any() else np.flatnonzero(off > 0)
    if considered is not None:
        candidates = candidates[considered[candidates]]
    return candidates[np.argsort(-score[candidates], kind="stable")][:count], allowed
