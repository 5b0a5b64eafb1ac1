"""Charts for reports, drawn by matplotlib's SVG backend and returned as SVG text to inline.

No pyplot and no global backend switch: each chart is a Figure on its own SVG canvas, so
drawing is free of global state. Text stays text (``svg.fonttype: none``): the browser
draws it with a local sans-serif font, and nothing is fetched. Every chart gets its own
``svg.hashsalt`` so the ids of several inlined SVGs never collide.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from gradharness.render.html.viewmodels import HeatBlock

_SERIAL = count(1)
FLOOR = 1e-16  # relative errors below this are drawn as this (0 on a log scale)


def _svg(figure) -> str:
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    salt = f"gh{next(_SERIAL)}"
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inline SVG in HTML has none
    # matplotlib names groups figure_1, axes_1, ... in every chart; only ids something refers to
    # (clip paths, markers: salted, so unique per chart) are kept, so a page never repeats an id.
    referenced = set(re.findall(r"#([\w.\-]+)", text))
    return re.sub(r'\sid="([^"]+)"', lambda m: m.group(0) if m.group(1) in referenced else "", text)


def _figure(width: float, height: float):
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"font.family": "sans-serif", "font.size": 9}):
        return Figure(figsize=(width, height), layout="constrained")


def heatmap(blocks: Sequence[HeatBlock]) -> str:
    """Per-entry relative error |grad - gradapprox| / (|grad| + |gradapprox|) of each block, log colour scale.

    Cells are annotated with their value when a block is small; grey cells had no finite
    numerical gradient; ``k`` marks an entry set aside at a ReLU kink.
    """
    import matplotlib
    import numpy as np
    from matplotlib.colors import LogNorm

    with matplotlib.rc_context({"font.family": "sans-serif", "font.size": 9}):
        widths = [max(block.cols, 1) for block in blocks]
        tallest = max(block.rows for block in blocks)
        figure = _figure(min(2.2 + 0.55 * sum(widths) + 0.6 * len(blocks), 9.5), min(1.6 + 0.42 * tallest, 7.0))
        axes = figure.subplots(1, len(blocks), squeeze=False, width_ratios=widths)[0]
        norm = LogNorm(vmin=FLOOR, vmax=1.0)
        cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#bbbbbb")
        image = None
        for ax, block in zip(axes, blocks, strict=True):
            raw = np.array([[np.nan if v is None else v for v in row] for row in block.error], dtype=float)
            values = np.where(np.isnan(raw), np.nan, np.maximum(raw, FLOOR))
            # Vector cells (not an embedded bitmap): crisp in print, nothing but SVG paths.
            image = ax.pcolormesh(np.ma.masked_invalid(values), cmap=cmap, norm=norm, edgecolors="white", linewidth=0.5)
            ax.set_aspect("equal")
            ax.invert_yaxis()
            ax.set_title(f"{block.name} ({block.rows}\u00d7{block.cols})")
            ax.set_xticks([c + 0.5 for c in range(block.cols)], [str(c) for c in range(block.cols)])
            ax.set_yticks([r + 0.5 for r in range(block.rows)], [str(r) for r in range(block.rows)])
            ax.tick_params(length=0)
            if block.rows * block.cols <= 48:
                for (r, c), value in np.ndenumerate(raw):
                    if math.isnan(value):
                        label = "n/a"
                    else:
                        label = "0" if value == 0 else f"{value:.1e}".replace("e-0", "e-")
                    if block.status[r][c] == "kink":
                        label += " k"
                    dark = math.isnan(value) or value < 1e-6
                    ax.text(
                        c + 0.5,
                        r + 0.5,
                        label,
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if dark else "black",
                    )
        colorbar = figure.colorbar(image, ax=list(axes), shrink=0.9, label="relative error (log)")
        if colorbar.solids is not None:
            colorbar.solids.set_rasterized(False)  # vector, not an embedded bitmap
            colorbar.solids.set_edgecolor("face")  # no seams between the bands
        return _svg(figure)


_MARKERS = ["o", "s", "^", "v", "D", "x", "+"]
_DASHES = ["-", "--", "-.", ":"]


@dataclass(frozen=True)
class Series:
    """One line of a line chart."""

    label: str
    x: list[float]
    y: list[float | None]


def line_chart(
    series: Sequence[Series],
    *,
    xlabel: str,
    ylabel: str,
    log_x: bool = False,
    log_y: bool = False,
    y_range: tuple[float, float] | None = None,
    invert_x: bool = False,
    marker_x: float | None = None,
    legend: bool | None = None,
) -> str:
    """A line chart with one line per series (None values are gaps); a legend when ``legend`` (default: 2+ series)."""
    import matplotlib

    with matplotlib.rc_context({"font.family": "sans-serif", "font.size": 9}):
        figure = _figure(6.4, 3.4)
        ax = figure.subplots()
        for number, line in enumerate(series):
            y = [math.nan if v is None else v for v in line.y]
            # Curves often coincide (every block caught from the same delta): distinct markers and
            # dashes keep each one visible.
            ax.plot(
                line.x, y, label=line.label, linewidth=1.4, markersize=4 + (number % 3),
                marker=_MARKERS[number % len(_MARKERS)], linestyle=_DASHES[number % len(_DASHES)], fillstyle="none",
            )  # fmt: skip
        if log_x:
            ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        if y_range is not None:
            ax.set_ylim(*y_range)
        if invert_x:
            ax.invert_xaxis()
        if marker_x is not None:
            ax.axvline(marker_x, color="#888888", linestyle="--", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, linewidth=0.4, alpha=0.6)
        if legend or (legend is None and len(series) > 1):
            figure.legend(fontsize=8, frameon=False, loc="outside right upper")
        return _svg(figure)


_BAR_COLOURS = ["#2a9d5c", "#6c8ebf", "#b58900", "#c0392b", "#9e9e9e"]


def stacked_bars(labels: Sequence[str], stacks: dict[str, Sequence[int]], *, xlabel: str) -> str:
    """Horizontal stacked bars, one per label (e.g. an operator's mutants by status)."""
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context({"font.family": "sans-serif", "font.size": 9}):
        figure = _figure(6.4, 0.9 + 0.24 * len(labels))
        ax = figure.subplots()
        positions = list(range(len(labels)))
        left = [0] * len(labels)
        for (name, values), colour in zip(stacks.items(), _BAR_COLOURS, strict=False):
            if not any(values):
                continue
            ax.barh(positions, values, left=left, color=colour, label=name, height=0.7)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(positions, list(labels))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.grid(True, axis="x", linewidth=0.4, alpha=0.6)
        figure.legend(fontsize=8, frameon=False, loc="outside upper center", ncol=5)
        return _svg(figure)


@dataclass(frozen=True)
class CountPanel:
    """One panel of :func:`count_bars`: a bar per label, its count written at its end."""

    title: str
    labels: list[str]
    counts: list[int]
    colours: list[str] | None = None  # one per label; default: one colour for every bar


_LABEL_WIDTH = 44  # characters per line of a bar's label before it wraps


def count_bars(panels: Sequence[CountPanel], *, xlabel: str) -> str:
    """Horizontal bars of counts (e.g. files per verdict, per wrong block), one titled panel per group.

    The panels share the x axis, so bars of different panels compare; long labels wrap. Labels
    are plain text (a ``$`` is never read as mathtext).
    """
    import textwrap

    import matplotlib
    from matplotlib.ticker import MaxNLocator

    shown_panels = [panel for panel in panels if panel.labels]
    if not shown_panels:
        raise ValueError("count_bars needs at least one panel with a bar")
    wrapped = [[textwrap.fill(label, _LABEL_WIDTH) for label in panel.labels] for panel in shown_panels]
    lines = [sum(label.count("\n") + 1 for label in labels) for labels in wrapped]
    with matplotlib.rc_context({"font.family": "sans-serif", "font.size": 9}):
        figure = _figure(7.2, min(0.5 + sum(0.45 + 0.22 * n for n in lines), 14.0))
        axes = figure.subplots(len(shown_panels), 1, sharex=True, squeeze=False, height_ratios=[1 + n for n in lines])
        largest = max(max(panel.counts) for panel in shown_panels)
        for ax, panel, labels in zip(axes[:, 0], shown_panels, wrapped, strict=True):
            positions = list(range(len(labels)))
            colours = panel.colours or [_BAR_COLOURS[1]] * len(labels)
            ax.barh(positions, panel.counts, color=colours, height=0.7)
            for position, value in zip(positions, panel.counts, strict=True):
                ax.text(value + largest * 0.01, position, str(value), va="center", fontsize=8, parse_math=False)
            ax.set_yticks(positions, labels, parse_math=False)
            ax.invert_yaxis()
            ax.set_title(panel.title, loc="left", fontsize=9, fontweight="bold", parse_math=False)
            ax.grid(True, axis="x", linewidth=0.4, alpha=0.6)
            ax.set_xlim(0, largest * 1.12 + 0.5)
        axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[-1, 0].set_xlabel(xlabel)
        return _svg(figure)
