"""Where clients are lost: the lead funnel by brand and the ranked barriers."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import fmt_int, fmt_money_short, fmt_pct, fmt_signed, is_number
from toolkit.core.words import word
from toolkit.core.run_folder import RunFolder
from toolkit.core.vocabulary import actions_for
from toolkit.report.common import (
    Names,
    evidence_word,
    figure_ref,
    impact_range,
    is_skipped,
    metrics_part,
    not_available,
    one_line,
    quoted,
    w,
)
from toolkit.report.inputs import MAX_BARRIER_DETAILS, MAX_BARRIERS_TABLE


def funnel_section(metrics: Mapping, run: RunFolder, names: Names, language: str, conf: float) -> dict:
    f, na = metrics_part(metrics, "funnel", language)
    brands = {b: v for b, v in (f or {}).items() if isinstance(v, Mapping) and "stages" in v}
    if f is not None and not brands:
        na = not_available(next((v.get("skipped") for v in f.values() if is_skipped(v)), None), language)
    out = {"available": bool(brands), "na": na, "figure": figure_ref(run, "funnel"), "rows": [], "bottlenecks": []}
    for brand, v in brands.items():
        stage_names = v.get("stage_names") or [names.funnel.get(s, s) for s in v["stages"]]
        counts = v.get("counts") or []
        conv = v.get("conversion") or []
        for j in range(len(stage_names) - 1):
            out["rows"].append({
                "brand": names.brand(brand) if j == 0 else "",
                "transition": f"{stage_names[j]} → {stage_names[j + 1]}",
                "entered": fmt_int(counts[j] if j < len(counts) else None, language),
                "moved": fmt_int(counts[j + 1] if j + 1 < len(counts) else None, language),
                "conversion": fmt_pct(conv[j] if j < len(conv) else None, language, 0),
            })
        bn = v.get("bottleneck")
        if isinstance(bn, Mapping) and bn.get("from"):
            idx = {s: k for k, s in enumerate(v["stages"])}
            a = stage_names[idx[bn["from"]]] if bn["from"] in idx else names.code(bn["from"])
            b = stage_names[idx[bn["to"]]] if bn.get("to") in idx else names.code(bn.get("to"))
            ref_group = bn.get("reference_group")
            values = {"brand": names.brand(brand), "a": a, "b": b, "conv": fmt_pct(bn.get("conversion"), language, 0),
                      "ref": fmt_pct(bn.get("reference"), language, 0), "lost": fmt_int(bn.get("lost_leads"), language),
                      "n": bn.get("lost_leads") or 0}
            if bn.get("basis") == "largest_drop" or ref_group == brand or not is_number(bn.get("reference")):
                out["bottlenecks"].append(w(language, "funnel.largest_drop", **values))
            elif ref_group and ref_group != "benchmark":
                out["bottlenecks"].append(w(language, "funnel.against_brand", other=names.brand(ref_group), **values))
            else:
                out["bottlenecks"].append(w(language, "funnel.against_benchmark", **values))
        ttl = v.get("traffic_to_lead")
        if isinstance(ttl, Mapping) and is_number(ttl.get("rate")):
            out["bottlenecks"].append(w(language, "funnel.traffic", brand=names.brand(brand),
                                        sessions=fmt_int(ttl.get("sessions"), language), n=ttl.get("leads") or 0,
                                        leads=fmt_int(ttl.get("leads"), language),
                                        rate=fmt_pct(ttl["rate"], language, 1)))
    return out


def barrier_actions(b: Mapping, library: Mapping | None, language: str) -> list[str]:
    """The barrier's actions from the case's industry library (else those the barriers step saved)."""
    acts = actions_for(b.get("code"), library, language) if library else []
    if not acts:
        acts = [one_line(a) for a in (b.get("actions") or []) if one_line(a)]
    return [one_line(a) for a in acts if one_line(a)]


def barriers_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str, conf: float,
                     library: Mapping | None = None) -> dict:
    bars, na = metrics_part(metrics, "barriers", language)
    bars = [b for b in (bars or []) if isinstance(b, Mapping)]
    out = {"available": bool(bars), "na": na, "figure": figure_ref(run, "barriers"), "rows": [], "details": [],
           "text": "", "action_of": {}}
    if not bars:
        return out
    for i, b in enumerate(bars[:MAX_BARRIERS_TABLE], start=1):
        impact = impact_range(b.get("annual_impact"), currency, language)
        out["rows"].append({
            "rank": str(i),
            "label": names.code(b.get("code"), b.get("label")),
            "stage": names.stage(b.get("stage")),
            "share": fmt_pct(b.get("share"), language, 0),
            "severity": fmt_signed(b.get("severity"), language, 1),
            "impact": impact or w(language, "money.not_measured_short"),
            "evidence": evidence_word(b.get("evidence"), language),
        })
    for b in bars:
        acts = barrier_actions(b, library, language)
        if acts:
            out["action_of"][str(b.get("code"))] = acts[0]
    for i, b in enumerate(bars[:MAX_BARRIER_DETAILS], start=1):
        out["details"].append({
            "title": f"{i}. {names.code(b.get('code'), b.get('label'))} ({names.stage(b.get('stage'))})",
            "quotes": [quoted(one_line(q), language) for q in (b.get("quotes") or [])[:2] if one_line(q)],
            "actions": barrier_actions(b, library, language)[:3],
        })
    with_money = [b for b in bars if isinstance(b.get("annual_impact"), Mapping)]
    out["text"] = w(language, "barriers.text", n=len(bars), measured=fmt_int(len(with_money), language),
                    total=fmt_int(len(bars), language))
    at_risk = barrier_money_text(metrics, names, language, currency)
    if at_risk:
        out["text"] += " " + at_risk
    return out


def barrier_money_text(metrics: Mapping, names: Names, language: str, currency: str) -> str:
    """The money basis of the barriers (metrics.json's ``barrier_impact``, ``toolkit.barriers.impact``):
    the annual revenue at risk at the stages where barriers were named, what fixing them is expected
    to win back with its range and recoverable-fraction assumption, the sensitivity to that fraction,
    and the stages not measured in money (catalog ``money.barriers.*``)."""
    bi = metrics.get("barrier_impact")
    money = metrics.get("money") if isinstance(metrics.get("money"), Mapping) else {}
    if not isinstance(bi, Mapping) or not isinstance(bi.get("sum_of_impacts"), Mapping):
        return ""
    risk = bi.get("revenue_at_risk_named_stages") or bi.get("revenue_at_risk") or {}
    total = bi["sum_of_impacts"]
    fraction = next((a.get("value") for a in bi.get("assumptions") or [] if str(a.get("key", "")).endswith("recoverable_fraction")), None)
    annual = money.get("annual_revenue")
    parts = [word("money.barriers.at_risk", language,
                  at_risk=fmt_money_short(risk.get("estimate"), currency, language),
                  at_risk_share=fmt_pct(risk.get("estimate") / annual, language, 0) if is_number(annual) and annual
                  and is_number(risk.get("estimate")) else "—",
                  impact=fmt_money_short(total.get("estimate"), currency, language),
                  low=fmt_money_short(total.get("low"), currency, language),
                  high=fmt_money_short(total.get("high"), currency, language),
                  fraction=fmt_pct(fraction, language, 0))]
    for row in bi.get("sensitivity") or []:
        if is_number(row.get("recoverable_fraction")) and row.get("recoverable_fraction") != fraction:
            parts.append(word("money.barriers.sensitivity", language,
                              fraction=fmt_pct(row["recoverable_fraction"], language, 0),
                              impact=fmt_money_short(row.get("annual_impact"), currency, language)))
    if bi.get("not_measured"):
        parts.append(word("money.barriers.not_measured", language,
                          stages=", ".join(names.stage(x) for x in bi["not_measured"])))
    return " ".join(parts)

