"""Segmentation figures: RFM segments and persona profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from collections.abc import Mapping
from matplotlib.figure import Figure
from toolkit.core.figures import A4_TEXT_WIDTH_IN, PALETTE, new_figure
from toolkit.core.fmt import fmt_int, fmt_num, fmt_pct, is_number
from toolkit.segmentation.rfm import SEGMENTS, segment_name
from toolkit.core.plot import MIN_FONT, ALL_LINES, t, wrap, pct_formatter, set_title, legend_below, draw_no_data, as_records, num_array


def rfm_segments_chart(segments, language: str = "ru", title: str | None = None) -> Figure:
    """RFM segment sizes and revenue shares: two bars per segment (share of customers, share of
    net revenue), best segments on top. Segments flagged ``small`` (fewer customers than
    ``min_segment_size``) are pooled into one "other" row.

    ``segments``: ``toolkit.segmentation.rfm.segment_table`` (columns ``segment``, ``customers``,
    ``customer_share``, ``revenue_share``, ``small``, ``scope``:
    only ``all_lines`` is drawn when several scopes are given) or metrics ``segments.rfm``
    (``{segment: {customers, revenue_share, customer_share, small}}``).
    """
    if isinstance(segments, Mapping):
        df = pd.DataFrame([{"segment": k, **(v or {})} for k, v in segments.items()])
    else:
        df = segments.copy()
    if "scope" in df.columns and df["scope"].nunique() > 1:
        df = df[df["scope"] == ALL_LINES]
    fig, ax = new_figure(height_in=3.2)
    if df.empty:
        draw_no_data(ax, language)
        return fig
    df["customers"] = num_array(df.get("customers", np.nan))
    if "customer_share" not in df.columns or df["customer_share"].isna().all():
        total = np.nansum(df["customers"])
        df["customer_share"] = df["customers"] / total if total > 0 else np.nan
    df["customer_share"] = num_array(df["customer_share"])
    df["revenue_share"] = num_array(df.get("revenue_share", np.nan))
    name_col = "name"
    df[name_col] = [segment_name(s, language) if s in SEGMENTS else str(s) for s in df["segment"]]
    small = df["small"].fillna(False).astype(bool) if "small" in df.columns else pd.Series(False, index=df.index)
    shown = df[~small & (df["customers"] > 0)]
    if small.any() and df.loc[small, "customers"].sum() > 0:
        other = pd.DataFrame(
            {
                name_col: [t("small_segments", language)],
                "customers": [df.loc[small, "customers"].sum()],
                "customer_share": [df.loc[small, "customer_share"].sum()],
                "revenue_share": [df.loc[small, "revenue_share"].sum(min_count=1)],
            }
        )
        shown = pd.concat([shown, other], ignore_index=True)
    n = len(shown)
    fig.set_size_inches(A4_TEXT_WIDTH_IN, 0.9 + 0.34 * n)
    y = np.arange(n)
    h = 0.38
    ax.barh(y - h / 2, shown["customer_share"], height=h, color=PALETTE[5], label=t("customers", language))
    ax.barh(y + h / 2, shown["revenue_share"].fillna(0), height=h, color=PALETTE[1], label=t("revenue", language))
    for yi, (c, r) in enumerate(zip(shown["customer_share"], shown["revenue_share"])):
        ax.text(c, yi - h / 2, " " + fmt_pct(c, language, 0), va="center", fontsize=MIN_FONT)
        ax.text(r if is_number(r) else 0, yi + h / 2, " " + fmt_pct(r, language, 0), va="center", fontsize=MIN_FONT)
    labels = [f"{wrap(nm, 26)}\n(n={fmt_int(c, language)})" for nm, c in zip(shown[name_col], shown["customers"])]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    top = np.nanmax(np.r_[shown["customer_share"].to_numpy(float), shown["revenue_share"].to_numpy(float), 0.05])
    ax.set_xlim(0, top * 1.18)
    ax.xaxis.set_major_formatter(pct_formatter(language))
    ax.set_xlabel(t("share_pct", language))
    set_title(ax, title or t("rfm_title", language))
    legend_below(ax, ncol=2)
    ax.grid(axis="y", visible=False)
    return fig


def persona_profile_chart(
    profile: pd.DataFrame,
    personas=None,
    language: str = "ru",
    value: str = "mean_z",
    title: str | None = None,
) -> Figure:
    """Heatmap of the personas' standardised importances: personas in rows, choice factors in
    columns, cell = mean z of the persona (0 = the sample mean; +1 = one SD above it).

    ``profile``: ``PersonaResult.profile`` (``persona``, ``factor_id``, ``name`` (factor display
    name), ``mean_z``, optional ``order``); ``personas``: ``PersonaResult.personas`` or metrics
    ``segments.personas`` (``persona``/``id``, ``name``, ``share``) for the row labels.
    """
    fig, ax = new_figure(height_in=3.0)
    if profile is None or not len(profile):
        draw_no_data(ax, language)
        return fig
    p = profile.copy()
    if "name" not in p.columns:
        p["name"] = p["factor_id"]
    if "order" not in p.columns:
        p["order"] = p["factor_id"].map({f: i for i, f in enumerate(dict.fromkeys(p["factor_id"]))})
    factors = p.drop_duplicates("factor_id").sort_values("order", kind="stable")
    persona_ids = sorted(p["persona"].astype(str).unique(), key=lambda s: (len(s), s))
    grid = p.pivot_table(index="persona", columns="factor_id", values=value, aggfunc="first")
    grid = grid.reindex(index=persona_ids, columns=list(factors["factor_id"]))
    meta = {}
    if personas is not None:
        pr = as_records(personas)
        key = "persona" if "persona" in pr.columns else "id"
        if key in pr.columns:
            meta = {str(r[key]): r for r in pr.to_dict("records")}
    row_labels = []
    for pid in persona_ids:
        m = meta.get(pid, {})
        nm = m.get("name")
        share = m.get("share")
        lab = f"{pid}: {nm}" if nm else pid
        lab = wrap(lab, 26, 2)
        if is_number(share):
            lab += f" ({fmt_pct(share, language, 0)})"
        row_labels.append(lab)
    z = grid.to_numpy(dtype=float)
    vmax = max(0.5, float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0)
    nrow, ncol = z.shape
    fig.set_size_inches(A4_TEXT_WIDTH_IN, 1.3 + 0.45 * nrow)
    im = ax.imshow(z, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    for i in range(nrow):
        for j in range(ncol):
            v = z[i, j]
            if np.isfinite(v):
                colour = "white" if abs(v) > 0.6 * vmax else "black"
                ax.text(j, i, fmt_num(v, language, 1), ha="center", va="center", fontsize=MIN_FONT, color=colour)
    if ncol > 6:  # many factors: slanted labels instead of words broken into syllables
        ax.set_xticks(range(ncol), [wrap(n, 18, 2) for n in factors["name"]], fontsize=MIN_FONT,
                      rotation=35, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(range(ncol), [wrap(n, max(8, int(60 / max(ncol, 1))), 3) for n in factors["name"]],
                      fontsize=MIN_FONT)
    ax.set_yticks(range(nrow), row_labels, fontsize=MIN_FONT + 0.5)
    ax.grid(False)
    ax.tick_params(axis="x", length=0)
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.02)
    cb.set_label(t("z_label", language), fontsize=MIN_FONT)
    cb.ax.tick_params(labelsize=MIN_FONT)
    set_title(ax, title or t("persona_title", language))
    return fig


# --------------------------------------------------------------------------- journey


