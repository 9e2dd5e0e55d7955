"""The two brands: non-target share, the double funnel and its scenarios, keep or merge; a plain
"not material: do not build it" when the incremental revenue is below the case's materiality."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import fmt_int, fmt_money, fmt_pct, is_number
from toolkit.core.run_folder import RunFolder
from toolkit.double_funnel.charts import headline_scenario
from toolkit.report.common import Names, figure_ref, impact_range, metrics_part, not_available, scenario_impact, w


def _deals(scenario: Mapping):
    """A scenario's deals on the money basis: the deals a year over today's conversion of the same
    leads (``incremental_deals``), or the gross deals in a run that predates it."""
    x = scenario.get("incremental_deals")
    return x if is_number(x) else scenario.get("deals")


def double_funnel_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str, conf: float) -> dict:
    d, na = metrics_part(metrics, "double_funnel", language)
    ok = d is not None and is_number(d.get("nontarget_share"))
    if d is not None and not ok:
        na = not_available("skip.nontarget_unmeasured", language)
    out = {"available": ok, "na": na, "figure": figure_ref(run, "double_funnel"), "facts": [], "rows": [], "recommendation": "",
           "material": None}
    if not ok:
        return out
    P, B = names.brand(d.get("premium_brand")), names.brand(d.get("budget_brand"))
    out["facts"].append(w(language, "brands.nontarget", premium=P, share=fmt_pct(d["nontarget_share"], language, 0)))
    if is_number(d.get("nontarget_conversion_now")):
        tgt = d.get("target_conversion_now")
        key = "brands.conversion_now_vs" if is_number(tgt) else "brands.conversion_now"
        out["facts"].append(w(language, key, now=fmt_pct(d["nontarget_conversion_now"], language, 0),
                              target=fmt_pct(tgt, language, 0)))
    if is_number(d.get("budget_conversion")):
        out["facts"].append(w(language, "brands.budget", budget=B, conv=fmt_pct(d["budget_conversion"], language, 0),
                              check=fmt_money(d.get("budget_avg_check"), currency, language)))
    for s in d.get("scenarios") or []:
        imp = scenario_impact(s)
        out["rows"].append({
            "capture": fmt_pct(s.get("capture_rate"), language, 0),
            "leads": fmt_int(s.get("leads"), language),
            "deals": fmt_int(_deals(s), language),
            "revenue": impact_range(imp, currency, language) or w(language, "money.not_measured_short"),
        })
    sc = headline_scenario(d)
    imp = impact_range(scenario_impact(sc), currency, language)
    material = d.get("material")
    out["material"] = material
    parts = []
    if imp:
        parts.append(w(language, "brands.headline", budget=B, capture=fmt_pct(sc.get("capture_rate"), language, 0),
                       deals=fmt_int(_deals(sc), language), n=round(_deals(sc) or 0), impact=imp))
    if material is False:
        parts.append(w(language, "brands.not_material", budget=B))
    elif d.get("merge_brands") is True:
        parts.append(w(language, "brands.merge"))
    else:
        parts.append(w(language, "brands.keep", budget=B))
    out["recommendation"] = " ".join(parts)
    return out
