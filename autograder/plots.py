"""Histograms of an assignment's scores, as SVG and PNG, for the HTML report.

Drawn on matplotlib's Agg canvas (no display, no pyplot state shared between figures) and
written so that the same grades give the same bytes: SVG ids come from a fixed salt and no date
is stamped, so a report kept beside the gradebook changes only when a grade does.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Up to this many points a histogram has one bar per whole point; above it, this many equal bins.
MAX_BARS = 20
REPRODUCIBLE = {"svg.hashsalt": "autograder", "svg.fonttype": "path"}


def bins(scores: list[float], maximum: float) -> tuple[list[float], list[int]]:
    """The edges and counts of a histogram of ``scores`` from 0 to ``maximum``.

    Up to MAX_BARS points, each whole score has its own bar centred on it (a 6-point quiz has
    seven bars, 0 to 6), so "how many scored 4" is read off directly; a half point falls in the
    bar above it. Above MAX_BARS points, MAX_BARS equal bins, the maximum in the last one. A score
    outside 0..maximum (a manual grade above the points) counts in the nearest bar."""
    whole = math.ceil(maximum)
    if whole <= MAX_BARS:
        edges = np.arange(whole + 2) - 0.5
    else:
        edges = np.linspace(0, maximum, MAX_BARS + 1)
    counts, _ = np.histogram(np.clip(scores, 0, edges[-1]), bins=edges)
    return [float(e) for e in edges], [int(c) for c in counts]


def histogram(scores: list[float], maximum: float, title: str) -> Figure:
    """A histogram of scores; bar ``i`` is the SVG group ``bar-i``, so a test can read its height."""
    edges, counts = bins(scores, maximum)
    figure = Figure(figsize=(5, 2.6))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    bars = axes.bar(edges[:-1], counts, width=np.diff(edges), align="edge", edgecolor="white")
    for index, bar in enumerate(bars):
        bar.set_gid(f"bar-{index}")
    axes.set(title=title, xlabel="points", ylabel="students", xlim=(edges[0], edges[-1]))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    return figure


def save(figure: Figure, stem: Path) -> None:
    """``stem``.svg and ``stem``.png, the same bytes for the same figure."""
    with matplotlib.rc_context(REPRODUCIBLE):
        figure.savefig(stem.with_suffix(".svg"), metadata={"Date": None})
        figure.savefig(stem.with_suffix(".png"), dpi=100)
