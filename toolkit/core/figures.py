"""One figure theme for the whole report: readable at A4 width, Cyrillic labels,
deterministic PNGs.

Figures are built as ``matplotlib.figure.Figure`` objects (no pyplot state, no
backend switching at import) and saved with ``save_figure``, which strips the
metadata that would make two runs' PNGs differ.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from toolkit.core.run_folder import atomic_path

FONT = "DejaVu Sans"  # has Cyrillic; ships with matplotlib, so it is always there
A4_TEXT_WIDTH_IN = 6.3  # 16 cm text width of an A4 page with 2.5 cm margins
DPI = 200
PALETTE = ["#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6", "#bf9000", "#a5a5a5"]
EVIDENCE_COLOURS = {"strong": "#c6e0b4", "partial": "#fff2cc", "none": "#f2f2f2"}


def apply_theme() -> None:
    """Seaborn's theme, then our font: set_theme resets fonts, so the Cyrillic-capable
    font must be set after it."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper", palette=PALETTE)
    mpl.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [FONT],
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "figure.dpi": 100,
            "savefig.dpi": DPI,
            "axes.titleweight": "bold",
            "svg.hashsalt": "cjm",
        }
    )


def new_figure(height_in: float = 3.2, width_in: float = A4_TEXT_WIDTH_IN, ncols: int = 1, nrows: int = 1):
    """A figure sized for the report's text width, with its axes."""
    apply_theme()
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    axes = fig.subplots(nrows, ncols)
    return fig, axes


TICK_PROBLEMS_KEY = "cjm-tick-problems"  # PNG text chunk read by the report's release gate


def tick_label_problems(fig: Figure) -> list[str]:
    """Tick labels that fall outside the figure or overlap another tick label of the same axis
    (measured on the drawn figure): ``["<axes title>: x tick '2025' overlaps '2026'", ...]``."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    out = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        name = ax.get_title() or ax.get_label() or "axes"
        if not ax.axison:
            continue
        for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if not axis.get_visible():
                continue
            lo, hi = sorted(axis.get_view_interval())
            tol = (hi - lo) * 1e-6
            shown = [(t.label1.get_text(), t.label1.get_window_extent(renderer)) for t in axis.get_major_ticks()
                     if t.label1.get_visible() and t.label1.get_text() and lo - tol <= t.get_loc() <= hi + tol]
            for text, bb in shown:
                if bb.x0 < -1 or bb.y0 < -1 or bb.x1 > width + 1 or bb.y1 > height + 1:
                    out.append(f"{name}: {axis_name} tick '{text}' outside the figure")
            for (ta, a), (tb, b) in zip(shown, shown[1:]):
                w = min(a.x1, b.x1) - max(a.x0, b.x0)
                h = min(a.y1, b.y1) - max(a.y0, b.y0)
                if w > 1 and h > 1:
                    out.append(f"{name}: {axis_name} tick '{ta}' overlaps '{tb}'")
    return out


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save as PNG without a timestamp or software tag, so the bytes are reproducible; the
    tick-label problems of the figure (:func:`tick_label_problems`) ride along as a PNG text chunk."""
    path = Path(path)
    problems = json.dumps(tick_label_problems(fig), ensure_ascii=False)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None, TICK_PROBLEMS_KEY: problems},
                    facecolor="white")
    return path
