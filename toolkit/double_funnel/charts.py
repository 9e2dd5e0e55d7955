"""Double-funnel figures: the two-brand flow, scenarios, the profit formula's what-if."""

from __future__ import annotations

import numpy as np
import pandas as pd

from collections.abc import Mapping
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.ticker import FuncFormatter
from toolkit.core.figures import PALETTE, new_figure
from toolkit.core.fmt import fmt_int, fmt_pct, fmt_range, is_number
from toolkit.core.words import has_word, word
from toolkit.core.plot import MIN_FONT, SUPPRESSED_COLOUR, t, wrap, display_name, pct_formatter, set_title, draw_no_data, as_records, num_array, unit_scale, currency_label, fmt_compact


def headline_scenario(double_funnel: Mapping, capture_rate: float | None = None) -> dict | None:
    """The scenario quoted in text and diagram: the one nearest ``capture_rate``, by default
    the median capture rate of the grid (as ``toolkit.double_funnel.nontarget`` does)."""
    sc = [s for s in (double_funnel or {}).get("scenarios") or [] if is_number(s.get("capture_rate"))]
    if not sc:
        return None
    rates = [float(s["capture_rate"]) for s in sc]
    target = float(np.median(rates)) if capture_rate is None else float(capture_rate)
    return sc[int(np.argmin([abs(r - target) for r in rates]))]


def _box(ax, x, y, w, h, text, colour, text_colour="white", size=8.0):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=colour,
                                edgecolor="none"))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, color=text_colour, linespacing=1.2)


def _arrow(ax, a, b, width, colour, text=None, text_xy=None, rad=0.0):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, lw=width, color=colour,
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=2, shrinkB=2))
    if text:
        x, y = text_xy or ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        ax.text(x, y, text, ha="center", va="center", fontsize=MIN_FONT, color="#262626",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})


def double_funnel_chart(
    double_funnel: Mapping,
    language: str = "ru",
    brand_names: Mapping | None = None,
    capture_rate: float | None = None,
    currency: str = "RUB",
    title: str | None = None,
) -> Figure:
    """The double-funnel diagram: the premium brand's leads split into target and non-target
    (priced out; share with its interval); the non-target flow either leaks to competitors or,
    at the scenario capture rate, is caught by the budget brand, where it becomes deals and
    revenue a year. Arrow widths follow the flows.

    ``double_funnel``: metrics ``double_funnel`` (``premium_brand``, ``budget_brand``,
    ``premium_leads``, ``nontarget_share``, ``nontarget_share_ci``,
    ``nontarget_conversion_now``, ``budget_conversion``, ``scenarios``, optional
    ``premium_leads_per_year``, ``target_conversion_now``); ``capture_rate``: the scenario
    shown (default: the median capture rate).
    """
    d = dict(double_funnel or {})
    fig, ax = new_figure(height_in=3.6)
    if not d or "skipped" in d or not is_number(d.get("nontarget_share")):
        draw_no_data(ax, language)
        return fig
    fig.set_layout_engine("none")
    ax.set_position([0, 0, 1, 0.9])
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    ax.set_axis_off()
    L = lambda k: t(k, language)  # noqa: E731
    prem = display_name(brand_names, d.get("premium_brand", "premium"), language)
    bud = display_name(brand_names, d.get("budget_brand", "budget"), language)
    share = float(d["nontarget_share"])
    ci = d.get("nontarget_share_ci") or [None, None]
    per_year = d.get("premium_leads_per_year")
    leads = per_year if is_number(per_year) else d.get("premium_leads")
    unit = f"{L('df_leads')} {L('df_per_year')}" if is_number(per_year) else L("df_leads")
    sc = headline_scenario(d, capture_rate) or {}
    c = sc.get("capture_rate")
    # boxes
    _box(ax, 0.1, 2.3, 2.2, 1.4, f"{wrap(prem, 20, 2)}\n{fmt_int(leads, language)} {unit}", PALETTE[0])
    tgt = f"{L('df_target')}: {fmt_pct(1 - share, language, 0)}"
    if is_number(d.get("target_conversion_now")):
        tgt += f"\n{L('df_conv_now')}: {fmt_pct(d['target_conversion_now'], language, 0)}"
    _box(ax, 3.4, 4.1, 2.6, 1.3, tgt, PALETTE[5])
    nt = f"{L('df_nontarget')}: {fmt_pct(share, language, 0)}"
    if is_number(ci[0]) and is_number(ci[1]):
        nt += f"\n[{fmt_range(ci[0], ci[1], language, 0, nobreak=False)}]"
    if is_number(d.get("nontarget_conversion_now")):
        nt += f"\n{L('df_conv_now')}: {fmt_pct(d['nontarget_conversion_now'], language, 0)}"
    _box(ax, 3.4, 0.6, 2.6, 1.5, nt, PALETTE[1])
    lost_share = (1 - c) if is_number(c) else None
    cap = f"{wrap(bud, 22, 2)}\n{L('df_capture')}: {fmt_pct(c, language, 0)}"
    if is_number(sc.get("leads")):
        cap += f"\n≈ {fmt_int(sc['leads'], language)} {L('df_leads')}, {fmt_int(sc.get('deals'), language)} {L('df_deals')}"
    if is_number(sc.get("revenue")):
        cap += f"\n≈ {fmt_int(sc['revenue'], language)} {currency_label(currency, language)} {L('df_per_year')}"
    _box(ax, 7.0, 2.1, 2.9, 1.9, cap, PALETTE[2], size=7.5)
    lost = f"{L('df_lost')}\n{fmt_pct(lost_share, language, 0)} {L('df_of_nontarget')}"
    _box(ax, 7.0, 0.1, 2.9, 1.0, lost, SUPPRESSED_COLOUR, text_colour="black")
    # arrows: widths follow the flows (at least 1 pt)
    wmax = 9.0
    _arrow(ax, (2.3, 3.3), (3.4, 4.6), max(1.0, wmax * (1 - share)), PALETTE[5], rad=-0.15)
    _arrow(ax, (2.3, 2.7), (3.4, 1.4), max(1.0, wmax * share), PALETTE[1], rad=0.15)
    if is_number(c):
        _arrow(ax, (6.0, 1.6), (7.0, 2.8), max(1.0, wmax * share * c), PALETTE[2], rad=-0.1)
        _arrow(ax, (6.0, 1.0), (7.0, 0.6), max(1.0, wmax * share * (1 - c)), "#a5a5a5", rad=0.1)
    if is_number(d.get("budget_conversion")):
        ax.text(8.45, 4.25, f"{L('df_conv_now')} {bud}: {fmt_pct(d['budget_conversion'], language, 0)}",
                ha="center", va="bottom", fontsize=MIN_FONT, color="#262626")
    fig.suptitle(title or L("df_title"), fontsize=10, fontweight="bold", y=0.98)
    return fig


def scenario_revenue_chart(
    scenarios,
    language: str = "ru",
    currency: str = "RUB",
    title: str | None = None,
) -> Figure:
    """Revenue a year by capture rate (point estimate, line) with its range (band from
    ``revenue_low`` to ``revenue_high``); each point labelled with its revenue and deals.

    ``scenarios``: metrics ``double_funnel.scenarios`` or ``DoubleFunnelResult.scenarios``
    (``capture_rate``, ``revenue``, optional ``revenue_low``, ``revenue_high``, ``deals``).
    """
    s = as_records(scenarios)
    fig, ax = new_figure(height_in=3.0)
    if not len(s) or "revenue" not in s.columns:
        draw_no_data(ax, language)
        return fig
    s = s.sort_values("capture_rate", kind="stable")
    x = num_array(s["capture_rate"])
    rev = num_array(s["revenue"])
    lo = num_array(s["revenue_low"]) if "revenue_low" in s.columns else np.full(len(s), np.nan)
    hi = num_array(s["revenue_high"]) if "revenue_high" in s.columns else np.full(len(s), np.nan)
    scale, unit = unit_scale(np.r_[rev, hi], language)
    if np.isfinite(lo).any() and np.isfinite(hi).any():
        ax.fill_between(x, lo / scale, hi / scale, color=PALETTE[2], alpha=0.18, lw=0, label=t("scen_band", language))
    ax.plot(x, rev / scale, "-o", color=PALETTE[2], ms=4, label=t("revenue", language))
    deals = num_array(s["deals"]) if "deals" in s.columns else np.full(len(s), np.nan)
    for xi, r, dl in zip(x, rev, deals):
        if np.isfinite(r):
            lab = fmt_compact(r / scale, language)
            if np.isfinite(dl):
                lab += f"\n{fmt_int(dl, language)} {t('df_deals', language)}"
            ax.annotate(lab, (xi, r / scale), xytext=(0, 6), textcoords="offset points", ha="center", va="bottom",
                        fontsize=MIN_FONT)
    ax.xaxis.set_major_formatter(pct_formatter(language))
    ax.set_xticks(x)
    ax.margins(x=0.08)
    ax.set_xlabel(t("scen_x", language))
    top = np.nanmax(np.r_[rev, hi]) / scale if np.isfinite(np.r_[rev, hi]).any() else 1.0
    ax.set_ylim(0, top * 1.25)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_compact(v, language)))
    ax.set_ylabel(f"{t('revenue', language)}, {unit + ' ' if unit else ''}{currency_label(currency, language)}")
    set_title(ax, title or t("scen_title", language))
    ax.legend(loc="upper left", frameon=True)
    return fig


def profit_whatif_chart(
    whatif,
    language: str = "ru",
    currency: str = "RUB",
    improvement: float | None = None,
    brand: str | None = None,
    title: str | None = None,
) -> Figure:
    """What-if of the profit formula (traffic x conversion x average check x purchases per
    customer): the change in revenue when each lever improves by its step, largest first.
    Because the formula is a product, every single lever moved by the same step gives the same
    change; a row moving several levers together (``factor`` ``"a+b"``) shows their compound.

    ``whatif``: ``toolkit.double_funnel.profit.what_if`` (``factor``, ``improvement``, ``revenue_change``;
    rows of ``business_line == "all"`` of ``brand`` are drawn, default brand ``all`` or the
    first) or metrics ``profit.brands[brand].all.what_if`` (``{factor: revenue_change}``, with
    ``improvement`` the step).
    """
    if isinstance(whatif, Mapping):
        w = pd.DataFrame({"factor": list(whatif), "revenue_change": list(whatif.values())})
        w["improvement"] = improvement
    else:
        w = as_records(whatif)
        if len(w) and "business_line" in w.columns:
            w = w[w["business_line"] == "all"]
        if len(w) and "brand" in w.columns:
            pick = brand if brand is not None else ("all" if (w["brand"] == "all").any() else w["brand"].iloc[0])
            w = w[w["brand"] == pick]
        if "revenue_change" not in w.columns and "profit_delta" in w.columns:
            w = w.rename(columns={"profit_delta": "revenue_change"})
        if "factor" not in w.columns and "lever" in w.columns:
            w = w.rename(columns={"lever": "factor"})
    fig, ax = new_figure(height_in=1.0 + 0.4 * max(len(w), 1))
    if not len(w) or "revenue_change" not in w.columns:
        draw_no_data(ax, language)
        return fig
    w = w.assign(_d=num_array(w["revenue_change"])).sort_values("_d", ascending=False, kind="stable")
    labels = []
    together = "все вместе" if language == "ru" else "together"
    for r in w.to_dict("records"):
        parts = str(r.get("factor")).split("+")
        names = [word(f"lever.{f}", language) if has_word(f"lever.{f}", language) else f for f in parts]
        lab = r.get("label") or (names[0] if len(names) == 1 else f"{' + '.join(names)} ({together})")
        if is_number(r.get("improvement")):
            x = float(r["improvement"])
            lab = f"{lab}: {'+' if x >= 0 else '−'}{fmt_pct(abs(x), language, 0)}"
        labels.append(wrap(lab, 30, 3))
    d = w["_d"].to_numpy(float)
    scale, unit = unit_scale(d, language)
    y = np.arange(len(w))
    ax.barh(y, np.nan_to_num(d) / scale, height=0.6, color=[PALETTE[2] if v >= 0 else PALETTE[1] for v in np.nan_to_num(d)])
    span = float(np.nanmax(np.abs(d)) / scale) if np.isfinite(d).any() else 1.0
    for yi, v in zip(y, d):
        if np.isfinite(v):
            ax.text(v / scale + (0.02 if v >= 0 else -0.02) * span, yi, fmt_compact(v / scale, language),
                    va="center", ha="left" if v >= 0 else "right", fontsize=MIN_FONT)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    lo = min(0.0, float(np.nanmin(d)) / scale) if np.isfinite(d).any() else 0.0
    ax.set_xlim(lo * 1.25, span * 1.25)
    ax.axvline(0, color="#7f7f7f", lw=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_compact(v, language)))
    ax.set_xlabel(f"{t('profit_x', language)}, {unit + ' ' if unit else ''}{currency_label(currency, language)}")
    set_title(ax, title or t("profit_title", language))
    ax.grid(axis="y", visible=False)
    return fig

