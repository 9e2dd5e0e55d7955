"""Barrier figures: the ranked barriers with their evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from collections.abc import Mapping, Sequence
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from toolkit.core.figures import PALETTE, new_figure
from toolkit.core.fmt import fmt_pct
from toolkit.core.plot import MIN_FONT, t, wrap, pct_formatter, set_title, legend_below, draw_no_data, as_records, num_array


def barrier_frame(barriers) -> pd.DataFrame:
    """metrics ``barriers`` (list of dicts with ``ci: [lo, hi]``) or ``barrier_table`` as one
    frame with ``ci_lo``/``ci_hi``; only the overall segment of a barrier table."""
    b = as_records(barriers)
    if not len(b):
        return b
    if "segment_type" in b.columns:
        b = b[b["segment_type"] == "overall"]
    if "ci" in b.columns and "ci_lo" not in b.columns:
        b["ci_lo"] = [c[0] if isinstance(c, (list, tuple, np.ndarray)) and len(c) == 2 else None for c in b["ci"]]
        b["ci_hi"] = [c[1] if isinstance(c, (list, tuple, np.ndarray)) and len(c) == 2 else None for c in b["ci"]]
    if "label" not in b.columns:
        b["label"] = b["code"]
    if "rank" not in b.columns:
        b["rank"] = np.arange(1, len(b) + 1)
    return b.sort_values("rank", kind="stable").reset_index(drop=True)


def barriers_chart(
    barriers,
    language: str = "ru",
    top_n: int = 10,
    stage_names: Mapping | None = None,
    stage_order: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """The top ``top_n`` barriers in priority order: horizontal bars of the share of
    interviewed respondents naming each, with Wilson-interval whiskers, coloured by journey
    stage (legend), the share written beside each bar.

    ``barriers``: ``toolkit.barriers.ranking.barrier_table`` (overall rows are used) or metrics
    ``barriers``; ``stage_names``: ``{stage id: name}``; ``stage_order``: stage ids in order
    (for the colours; default: ``stage_order`` column or first appearance).
    """
    b = barrier_frame(barriers).head(top_n)
    fig, ax = new_figure(height_in=1.0 + 0.33 * max(len(b), 1))
    if not len(b):
        draw_no_data(ax, language)
        return fig
    if stage_order is None:
        if "stage_order" in b.columns:
            stage_order = list(b.drop_duplicates("stage").sort_values("stage_order")["stage"])
        else:
            stage_order = list(dict.fromkeys(b["stage"]))
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(stage_order)}
    names = dict(stage_names or {})
    if "stage_name" in b.columns:
        for s, nm in zip(b["stage"], b["stage_name"]):
            names.setdefault(s, nm)
    y = np.arange(len(b))
    share = num_array(b["share"])
    lo = num_array(b["ci_lo"])
    hi = num_array(b["ci_hi"])
    ax.barh(y, np.nan_to_num(share), height=0.6, color=[colour.get(s, PALETTE[-1]) for s in b["stage"]])
    ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(share)
    ax.errorbar(share[ok], y[ok], xerr=[share[ok] - lo[ok], hi[ok] - share[ok]], fmt="none", ecolor="#404040",
                elinewidth=0.8, capsize=2)
    right = np.where(np.isfinite(hi), hi, share)
    for yi, (s, r) in enumerate(zip(share, right)):
        ax.text((r if np.isfinite(r) else 0) + 0.01, yi, fmt_pct(s, language, 0), va="center", fontsize=MIN_FONT)
    ax.set_yticks(y, [wrap(f"{int(r)}. {lab}", 34, 2) for r, lab in zip(b["rank"], b["label"])])
    ax.invert_yaxis()
    xmax = float(np.nanmax(np.r_[right[np.isfinite(right)], 0.1]))
    ax.set_xlim(0, min(1.0, xmax * 1.15 + 0.05))
    ax.xaxis.set_major_formatter(pct_formatter(language))
    ax.set_xlabel(t("barrier_share", language))
    present = [s for s in stage_order if s in set(b["stage"])]
    legend_below(ax, ncol=min(3, len(present)),
                  handles=[Patch(color=colour[s], label=wrap(names.get(s, s), 30)) for s in present])
    set_title(ax, title or t("barriers_title", language))
    ax.grid(axis="y", visible=False)
    return fig


# --------------------------------------------------------------------------- loyalty


