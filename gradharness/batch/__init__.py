"""Batch grading: check many files in parallel, one report per file, one summary table.

``discover`` expands paths, folders and globs; ``run_batch`` checks the files on any
``concurrent.futures.Executor``; ``write_batch`` writes ``reports/`` and
``summary.json``, ``.csv`` and ``.html``.
"""

from __future__ import annotations

from gradharness.batch.discover import BatchInputs, discover, is_batch
from gradharness.batch.runner import check_one, run_batch
from gradharness.batch.summary import BatchSummary, SummaryRow, summarise, write_batch

__all__ = [
    "BatchInputs",
    "BatchSummary",
    "SummaryRow",
    "check_one",
    "discover",
    "is_batch",
    "run_batch",
    "summarise",
    "write_batch",
]
