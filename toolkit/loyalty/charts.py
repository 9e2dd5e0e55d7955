"""Loyalty figures: repeat curve, gaps, cross-penetration, staff dependency."""

from __future__ import annotations

import numpy as np
import pandas as pd

from collections.abc import Mapping, Sequence
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator
from toolkit.core.figures import A4_TEXT_WIDTH_IN, PALETTE, new_figure
from toolkit.core.fmt import fmt_int, fmt_pct, is_number
from toolkit.core.plot import MIN_FONT, ALL_LINES, SUPPRESSED_COLOUR, t, wrap, display_name, pct_formatter, set_title, legend_below, draw_no_data, num_array


def _scope_order(scopes) -> list:
    s = list(dict.fromkeys(scopes))
    return ([ALL_LINES] if ALL_LINES in s else []) + [x for x in s if x != ALL_LINES]


def repeat_curve_chart(
    curve: pd.DataFrame,
    loyalty_visits: Mapping | None = None,
    language: str = "ru",
    line_names: Mapping | None = None,
    scopes: Sequence[str] | None = None,
    min_eligible: int = 1,
    title: str | None = None,
) -> Figure:
    """P(return after visit n) per scope (all lines and each business line) with its Wilson
    band; the loyalty visit of a scope is marked with a star and a dotted vertical line.

    ``curve``: ``toolkit.loyalty.repeat.repeat_curve`` (``scope``, ``visit_number``, ``eligible``,
    ``p_return``, ``ci_lo``, ``ci_hi``); ``loyalty_visits``: ``{scope: k or None}``;
    points with fewer than ``min_eligible`` eligible customers are not drawn.
    """
    fig, ax = new_figure(height_in=3.2)
    c = curve.copy() if curve is not None else pd.DataFrame()
    if len(c):
        c = c[(c["eligible"] >= min_eligible) & c["p_return"].notna()]
    if not len(c):
        draw_no_data(ax, language)
        return fig
    order = list(scopes) if scopes else _scope_order(c["scope"])
    kv = dict(loyalty_visits or {})
    for i, scope in enumerate(order):
        g = c[c["scope"] == scope].sort_values("visit_number")
        if not len(g):
            continue
        colour = PALETTE[i % len(PALETTE)]
        x = g["visit_number"].to_numpy(dtype=float)
        ax.fill_between(x, g["ci_lo"].to_numpy(float), g["ci_hi"].to_numpy(float), color=colour, alpha=0.15, lw=0)
        k = kv.get(scope)
        label = display_name(line_names, scope, language)
        hit = g[g["visit_number"] == int(k)] if is_number(k) else g.iloc[0:0]
        if len(hit):
            label += f" ({t('loyalty_visit', language)}: {int(k)})"  # in the legend: annotations would hide the curves
        ax.plot(x, g["p_return"].to_numpy(float), "-o", ms=3, color=colour, lw=1.8 if scope == ALL_LINES else 1.2,
                label=wrap(label, 48))
        if len(hit):
            pk = float(hit["p_return"].iloc[0])
            ax.axvline(int(k), color=colour, ls=":", lw=1)
            ax.plot([int(k)], [pk], marker="*", ms=11, color=colour, mec="black", mew=0.5, zorder=5)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(pct_formatter(language))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("visit_n", language))
    ax.set_ylabel(t("p_return", language))
    set_title(ax, title or t("repeat_title", language))
    legend_below(ax, ncol=2)
    return fig


def gap_chart(
    gaps: pd.DataFrame,
    language: str = "ru",
    line_names: Mapping | None = None,
    scopes: Sequence[str] | None = None,
    min_gaps: int = 1,
    title: str | None = None,
) -> Figure:
    """Days between visits by visit number: the median gap before visit n with its
    interquartile band (25th-75th percentile), per scope.

    ``gaps``: ``toolkit.loyalty.repeat.gap_intervals`` (``scope``, ``visit_number``, ``gaps``,
    ``gap_q25``, ``gap_median``, ``gap_q75``).
    """
    fig, ax = new_figure(height_in=3.0)
    g0 = gaps.copy() if gaps is not None else pd.DataFrame()
    if len(g0):
        g0 = g0[(g0["gaps"] >= min_gaps) & g0["gap_median"].notna()]
    if not len(g0):
        draw_no_data(ax, language)
        return fig
    order = list(scopes) if scopes else _scope_order(g0["scope"])
    for i, scope in enumerate(order):
        g = g0[g0["scope"] == scope].sort_values("visit_number")
        if not len(g):
            continue
        colour = PALETTE[i % len(PALETTE)]
        x = g["visit_number"].to_numpy(float)
        ax.fill_between(x, g["gap_q25"].to_numpy(float), g["gap_q75"].to_numpy(float), color=colour, alpha=0.15, lw=0)
        ax.plot(x, g["gap_median"].to_numpy(float), "-o", ms=3, color=colour, label=wrap(display_name(line_names, scope, language), 28))
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_int(v, language)))
    ax.set_xlabel(t("visit_n", language))
    ax.set_ylabel(t("gap_days", language))
    set_title(ax, title or t("gap_title", language))
    legend_below(ax, ncol=2)
    return fig


def cross_frame(cross) -> pd.DataFrame:
    """metrics ``cross_penetration`` (``{from: {to: share or None}}``) or the
    ``cross_penetration`` table as (from_line, to_line, share_also, base, suppressed)."""
    if isinstance(cross, Mapping):
        rows = [
            {"from_line": a, "to_line": b, "share_also": v, "base": None,
             "suppressed": None if is_number(v) else "suppressed"}
            for a, d in cross.items() if isinstance(d, Mapping) for b, v in d.items()
        ]
        return pd.DataFrame(rows, columns=["from_line", "to_line", "share_also", "base", "suppressed"])
    c = cross.copy()
    for col in ("base", "suppressed"):
        if col not in c.columns:
            c[col] = None
    return c


def cross_penetration_chart(
    cross, language: str = "ru", line_names: Mapping | None = None, title: str | None = None
) -> Figure:
    """Heatmap of cross-penetration: row = the line whose customers are the base, column =
    the other line, cell = share of the base who also bought it. Suppressed cells (base below
    ``min_segment_size``) are grey, hatched and labelled "hidden", never 0.

    ``cross``: ``toolkit.loyalty.repeat.cross_penetration`` (``from_line``, ``to_line``, ``base``,
    ``share_also``, ``suppressed``) or metrics ``cross_penetration``.
    """
    c = cross_frame(cross) if cross is not None else pd.DataFrame()
    fig, ax = new_figure(height_in=3.0)
    if not len(c):
        draw_no_data(ax, language)
        return fig
    if "by" in c.columns:
        c = c[c["by"].isna()]
    lines = list(dict.fromkeys(list(c["from_line"]) + list(c["to_line"])))
    n = len(lines)
    idx = {x: i for i, x in enumerate(lines)}
    z = np.full((n, n), np.nan)
    hidden = np.zeros((n, n), dtype=bool)
    base = {}
    for r in c.itertuples(index=False):
        i, j = idx[r.from_line], idx[r.to_line]
        if is_number(r.share_also) and not (isinstance(r.suppressed, str) and r.suppressed):
            z[i, j] = float(r.share_also)
        else:
            hidden[i, j] = True
        if is_number(r.base):
            base[r.from_line] = int(r.base)
    fig.set_size_inches(A4_TEXT_WIDTH_IN, 1.4 + 0.5 * n)
    vmax = max(0.05, float(np.nanmax(z)) if np.isfinite(z).any() else 1.0)
    im = ax.imshow(np.ma.masked_invalid(z), cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
    for i in range(n):
        for j in range(n):
            if i == j:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor="none"))
                ax.text(j, i, "—", ha="center", va="center", fontsize=MIN_FONT + 1, color="#7f7f7f")
            elif hidden[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=SUPPRESSED_COLOUR, edgecolor="white",
                                       hatch="///", lw=0))
                ax.text(j, i, t("suppressed", language), ha="center", va="center", fontsize=MIN_FONT, color="#404040")
            elif np.isfinite(z[i, j]):
                colour = "white" if z[i, j] > 0.6 * vmax else "black"
                ax.text(j, i, fmt_pct(z[i, j], language, 1), ha="center", va="center", fontsize=MIN_FONT + 0.5, color=colour)
    rows = [wrap(display_name(line_names, x, language), 22, 2) + (f"\n(n={fmt_int(base[x], language)})" if x in base else "")
            for x in lines]
    ax.set_yticks(range(n), rows)
    ax.set_xticks(range(n), [wrap(display_name(line_names, x, language), max(8, int(60 / max(n, 1))), 3) for x in lines])
    ax.set_ylabel(t("cross_from", language))
    ax.set_xlabel(t("cross_to", language))
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.grid(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.02, format=pct_formatter(language))
    cb.ax.tick_params(labelsize=MIN_FONT)
    set_title(ax, title or t("cross_title", language))
    return fig


def staff_frame(staff) -> pd.DataFrame:
    """metrics ``staff_dependency`` (``{line: {...}}``) or the ``staff_dependency`` table as one frame."""
    if isinstance(staff, Mapping):
        return pd.DataFrame([{"business_line": k, **(v or {})} for k, v in staff.items() if isinstance(v, Mapping)])
    return staff.copy()


def staff_dependency_chart(
    staff, language: str = "ru", line_names: Mapping | None = None, title: str | None = None
) -> Figure:
    """Per business line: the share of its repeat customers attached to one staff member
    (more than half of their visits with them) and to the line's top staff member, with
    Wilson whiskers. A line with too few repeat customers is shown as hidden.

    ``staff``: ``toolkit.loyalty.repeat.staff_dependency`` or metrics ``staff_dependency``.
    """
    s = staff_frame(staff) if staff is not None else pd.DataFrame()
    fig, ax = new_figure(height_in=1.1 + 0.6 * max(len(s), 1))
    if not len(s):
        draw_no_data(ax, language)
        return fig
    y = np.arange(len(s))
    h = 0.36
    series = [("attached_share", PALETTE[5], "attached_any", -h / 2),
              ("top_staff_share_of_repeat_customers", PALETTE[1], "attached_top", h / 2)]
    for col, colour, lab, dy in series:
        v = num_array(s[col]) if col in s.columns else np.full(len(s), np.nan)
        ax.barh(y + dy, np.nan_to_num(v), height=h, color=colour, label=t(lab, language))
        lo_c, hi_c = f"{col}_ci_lo", f"{col}_ci_hi"
        if lo_c in s.columns and hi_c in s.columns:
            lo, hi = num_array(s[lo_c]), num_array(s[hi_c])
            ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(v)
            ax.errorbar(v[ok], (y + dy)[ok], xerr=[v[ok] - lo[ok], hi[ok] - v[ok]], fmt="none", ecolor="#404040",
                        elinewidth=0.8, capsize=2)
            right = np.where(np.isfinite(hi), hi, v)
        else:
            right = v
        for yi, (val, r) in enumerate(zip(v, right)):
            if np.isfinite(val):
                ax.text(r + 0.01, yi + dy, fmt_pct(val, language, 0), va="center", fontsize=MIN_FONT)
    supp = s["suppressed"] if "suppressed" in s.columns else pd.Series([None] * len(s))
    for yi, why in enumerate(supp):
        if isinstance(why, str) and why:
            ax.text(0.01, yi, t("suppressed_small", language), va="center", fontsize=MIN_FONT, color="#404040")
    rep = s["repeat_customers"] if "repeat_customers" in s.columns else pd.Series([None] * len(s))
    labels = [wrap(display_name(line_names, line, language), 22, 2) + (f"\n(n={fmt_int(n, language)})" if is_number(n) else "")
              for line, n in zip(s["business_line"], rep)]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_formatter(pct_formatter(language))
    ax.set_xlabel(t("repeat_share", language))
    set_title(ax, title or t("staff_title", language))
    legend_below(ax, ncol=2)
    ax.grid(axis="y", visible=False)
    return fig


# --------------------------------------------------------------------------- double funnel


