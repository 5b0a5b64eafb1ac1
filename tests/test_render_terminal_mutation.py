"""The mutate campaign as the terminal shows it."""

from __future__ import annotations

import io
import re

from rich.console import Console

from gradharness.render.terminal_mutation import render_mutate
from tests.report_support import mutate_record


def _printed(show_all: bool) -> str:
    buffer = io.StringIO()
    render_mutate(Console(file=buffer, width=160, color_system=None), mutate_record(), show_all=show_all)
    return buffer.getvalue()


def _labels(text: str) -> dict[str, str]:
    """The status word printed before each mutant id."""
    return dict(
        (m.group(2), m.group(1))
        for m in re.finditer(r"^(SURVIVED|equivalent candidate|killed|crashed|timed out) (\S+)", text, re.M)
    )


def test_by_default_only_survivors_and_equivalent_candidates_are_listed():
    assert _labels(_printed(False)) == {
        "relu_mask_comparison-1": "SURVIVED",
        "float32_downcast-1": "equivalent candidate",
    }


def test_all_labels_each_mutant_with_its_own_status():
    assert _labels(_printed(True)) == {
        "scale_gradient-1": "killed",
        "lost_keepdims-1": "crashed",
        "relu_mask_comparison-1": "SURVIVED",
        "float32_downcast-1": "equivalent candidate",
        "hostile-1": "killed",
    }
