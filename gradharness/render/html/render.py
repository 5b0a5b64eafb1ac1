"""Render view models to HTML with the package's Jinja2 templates (autoescape on) and write reports.

Charts enter the templates through filters that return matplotlib's SVG as markup; every
other value is escaped by Jinja2, and every string also has its control and bidi characters
written as visible escapes (the environment's ``finalize``). The templates cap what came from the
user with the ``shown`` filter. Reports are written atomically: a temporary file in the same
folder, then a rename.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from gradharness.records.batch import BatchSummary
from gradharness.render.html import charts
from gradharness.render.html.source import MAX_READ_BYTES
from gradharness.render.html.viewmodels import CheckView, IndexView
from gradharness.render.safe_text import CODE_BYTES, MESSAGE_BYTES, cut_marker, shown

DEFAULT_FOLDER = Path("reports")
INDEX_NAME = "index.html"


def number(value: Any, spec: str = ".3g") -> str:
    """A number for a table cell: 'n/a' for missing or NaN, 'inf' for infinities."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    value = float(value)
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format(value, spec)


def percent(value: Any) -> str:
    """A fraction as a percentage ('n/a' when missing)."""
    text = number(value, ".10g")
    return text if text in ("n/a", "inf", "-inf") else f"{100 * float(value):.1f}%"


def _heatmap_svg(blocks: list) -> Markup:
    # matplotlib's SVG writer escapes the text it draws; the result is trusted markup.
    return Markup(charts.heatmap(blocks))


def _chart_svg(spec: Any) -> Markup:
    """A ChartSpec (kind 'line' or 'bars') drawn as SVG."""
    arguments = dict(spec.arguments)
    if spec.kind == "line":
        arguments["series"] = [charts.Series(label, list(x), list(y)) for label, x, y in arguments["series"]]
        return Markup(charts.line_chart(**arguments))
    if spec.kind == "bars":
        return Markup(charts.stacked_bars(**arguments))
    raise ValueError(f"unknown chart kind {spec.kind!r}")


def shown_filter(value: Any, limit_bytes: int | None = MESSAGE_BYTES, lines: bool = False) -> str:
    """The ``shown`` filter: user text escaped and capped (one line unless ``lines``); None is empty."""
    return "" if value is None else shown(str(value), limit_bytes, keep_newlines=lines)


def _finalize(value: Any) -> Any:
    # Every string a template prints: nothing that reaches a report can carry a control or bidi character.
    if isinstance(value, str) and not isinstance(value, Markup):
        return shown(value, keep_newlines=True)
    return value


@cache
def environment() -> Environment:
    """The Jinja2 environment over the templates shipped in this package, with autoescape on."""
    env = Environment(
        loader=PackageLoader("gradharness.render.html", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["num"] = number
    env.filters["heatmap_svg"] = _heatmap_svg
    env.filters["chart_svg"] = _chart_svg
    env.filters["percent"] = percent
    env.filters["shown"] = shown_filter
    env.filters["cut_marker"] = cut_marker
    env.globals["code_bytes"] = CODE_BYTES
    env.globals["read_bytes"] = MAX_READ_BYTES
    return env


def render_view(template: str, view: Any) -> str:
    """Render a report view with the named template (the view's header is also passed as ``header``)."""
    header = getattr(view, "header", None)
    return environment().get_template(template).render(view=view, header=header)


def render_check(view: CheckView) -> str:
    """HTML of a check report."""
    return render_view("check.html.j2", view)


def render_mutate(view: Any) -> str:
    """HTML of a mutate report."""
    return render_view("mutate.html.j2", view)


def render_sensitivity(view: Any) -> str:
    """HTML of a sensitivity report."""
    return render_view("sensitivity.html.j2", view)


def render_index(view: IndexView) -> str:
    """HTML of a reports folder's index."""
    return environment().get_template("index.html.j2").render(view=view)


def render_summary(summary: BatchSummary) -> str:
    """HTML of a batch's summary: the class overview, then a row per file (one self-contained page)."""
    from gradharness.render.html.summary_page import build_summary_view

    return environment().get_template("summary.html.j2").render(summary=summary, view=build_summary_view(summary))


def default_report_path(kind: str, target: str, created: datetime, folder: Path = DEFAULT_FOLDER) -> Path:
    """``reports/KIND-YYYYmmdd-HHMMSS-micro-STEM.html``: sortable, unique, safe characters only."""
    stem = Path(target.removeprefix("builtin:")).stem or "report"
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:40] or "report"
    base = f"{kind}-{created.strftime('%Y%m%d-%H%M%S-%f')}-{stem}"
    path = folder / f"{base}.html"
    serial = 2
    while path.exists():
        path = folder / f"{base}-{serial}.html"
        serial += 1
    return path
