"""Shared drawing helpers of the report's figures: labels, wrapping, number formatters,
legends, the common colours. Each step package draws its own figures with these
(``<step>/charts.py``); every figure is a ``matplotlib.figure.Figure`` built with
:func:`toolkit.core.figures.new_figure` (no pyplot state, no backend switching).

Legibility rule: figures are drawn at the report's text width (``A4_TEXT_WIDTH_IN``) and
inserted at that width, so a font size here is the printed size; no text is smaller than
``MIN_FONT`` (7 pt). Privacy rule: cells, rows or segments the analysis suppressed (fewer
than ``min_segment_size`` customers) are drawn as suppressed, never as 0.
"""
from __future__ import annotations

import hashlib
import math
import re
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from toolkit.core.figures import A4_TEXT_WIDTH_IN, EVIDENCE_COLOURS, PALETTE, new_figure
from toolkit.core.words import word
from toolkit.core.fmt import CURRENCY_RU, fmt_int, fmt_num, fmt_pct, fmt_range, is_number

MIN_FONT = 7.0  # pt, at print size
ALL_LINES = "all_lines"
SUPPRESSED_COLOUR = "#d9d9d9"
HEADER_COLOUR = PALETTE[0]
LABEL_COLOUR = "#deeaf6"

def t(key: str, language: str = "ru") -> str:
    """The figure label ``key`` in ``language`` (word catalog ``chart.<key>``)."""
    return word(f"chart.{key}", language)


def wrap(text, width: int, max_lines: int | None = None) -> str:
    """Wrap ``text`` to ``width`` characters; cut to ``max_lines`` lines with an ellipsis."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    lines = textwrap.wrap(str(text), width=max(4, width), break_long_words=True, break_on_hyphens=True)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, width - 1)].rstrip() + "…"
    return "\n".join(lines)


def display_name(names: Mapping | None, key, language: str = "ru") -> str:
    if key == ALL_LINES:
        return (names or {}).get(key, t("all_lines", language))
    return str((names or {}).get(key, key))


def pct_formatter(language: str, digits: int = 0) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: fmt_pct(v, language, digits))


def set_title(ax, text: str) -> None:
    """Axes title, wrapped to the figure width (bold 10 pt: about 60 characters a line)."""
    ax.set_title(wrap(text, 60, 2))


def legend_below(ax, ncol: int = 2, handles=None) -> None:
    """Legend under the axes (never over the data)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    else:
        labels = [h.get_label() for h in handles]
    if handles:
        ax.figure.legend(handles, labels, loc="outside lower center", ncol=max(1, ncol), frameon=False)


def draw_no_data(ax, language: str) -> None:
    ax.text(0.5, 0.5, t("no_data", language), ha="center", va="center", fontsize=9, color="#7f7f7f", transform=ax.transAxes)
    ax.set_axis_off()


def as_records(x) -> pd.DataFrame:
    """A list of dicts (metrics.json) or a DataFrame as a DataFrame."""
    if isinstance(x, pd.DataFrame):
        return x.copy()
    return pd.DataFrame(list(x or []))


def num_array(s) -> np.ndarray:
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype=float)


def unit_scale(values: np.ndarray, language: str) -> tuple[float, str]:
    """Divide money by 1e6 or 1e3 for axes when the numbers are large."""
    finite = values[np.isfinite(values)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    if top >= 1e6:
        return 1e6, t("millions", language)
    if top >= 1e4:
        return 1e3, t("thousands", language)
    return 1.0, ""


def currency_label(currency: str, language: str) -> str:
    return CURRENCY_RU.get(currency, currency) if language == "ru" else currency


def fmt_compact(v: float, language: str, digits: int = 1) -> str:
    return fmt_num(v, language, digits) if abs(v) < 100 else fmt_int(v, language)


# --------------------------------------------------------------------------- segments


