"""Batch grading: check many files in parallel, one report per file, one summary table.

``discover`` expands paths, folders and globs; ``run_batch`` checks the files on any
``concurrent.futures.Executor``; ``summarise`` collects the summary rows.
:func:`gradharness.render.batch.write_batch` writes ``reports/`` and ``summary.json``, ``.csv``, ``.html``.
"""

from __future__ import annotations

from gradharness.batch.discover import BatchInputs, discover, is_batch
from gradharness.batch.runner import check_one, run_batch
from gradharness.batch.summary import load_summary, summarise
from gradharness.records.batch import BatchSummary, SummaryRow

__all__ = [
    "BatchInputs",
    "BatchSummary",
    "SummaryRow",
    "check_one",
    "discover",
    "is_batch",
    "run_batch",
    "load_summary",
    "summarise",
]
