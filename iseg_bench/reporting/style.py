"""How every table and figure writes a number and draws a method: one place, so that a value reads the
same in Markdown, LaTeX and HTML, and a method keeps its colour, marker and line in every figure."""

from __future__ import annotations

import math

import numpy as np

DASH = "–"  # a value that does not exist (no sample, not measured)

# matplotlib's tab10 colours, in its order: ten clearly different colours, then the same ones dashed
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
MARKERS = "osD^vP*Xh<"
SVG_DASHES = ("", "7 3")  # solid for the first ten series, dashed for the next ten


def number(value: float | int | None, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals, an integer as it is, and a dash where there is no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}f}"


def series_style(index: int) -> tuple[str, str, str]:
    """(colour, marker, matplotlib line style) of the ``index``-th method of a figure."""
    return PALETTE[index % len(PALETTE)], MARKERS[index % len(MARKERS)], "-" if index < len(PALETTE) else "--"


def series_styles(n: int) -> list[tuple[str, str, str]]:
    return [series_style(i) for i in range(n)]


def svg_series(index: int) -> tuple[str, str]:
    """(stroke colour, stroke-dasharray) of the ``index``-th method in an inline SVG: the figures' style."""
    return PALETTE[index % len(PALETTE)], SVG_DASHES[(index // len(PALETTE)) % len(SVG_DASHES)]
