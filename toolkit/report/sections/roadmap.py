"""The action roadmap: action, owner (a role), effort (S/M/L), horizon, KPI now -> target, annual
impact on the money basis, evidence.

Where the actions come from: the top barriers (the library's first action for the case's
industry), the double funnel (only when material), the loyalty triggers up to the loyalty
visit, staff dependency (a specialist holding at least ``STAFF_RISK`` of a line's repeat
clients), cross-selling to the right audience (the strongest link and its best age/gender
group), RFM win-back of the at-risk segments.

Order (``report.roadmap.rule`` says it in words): quick wins first, then by annual impact
(largest first; actions without a money estimate after), then evidence (strong, partial, none).
KPI targets follow stated rules (``report.roadmap.kpi_rule``): a barrier's share halved, the
return after the first visit closing a quarter of its gap to the plateau, the top specialist's
share of repeat clients down to ``STAFF_RISK``, the cross-selling share up by 5 points.
"""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import fmt_pct, is_number, ordinal
from toolkit.report.common import (
    Names,
    evidence_word,
    impact_estimate,
    impact_range,
    metrics_part,
    scenario_impact,
    w,
)
from toolkit.report.inputs import MAX_ROADMAP_BARRIERS
from toolkit.report.sections.brands import headline_scenario

STAFF_RISK = 0.30
CROSS_STEP = 0.05
WINBACK_SEGMENTS = ("at_risk", "cannot_lose")
EVIDENCE_RANK = {"strong": 0, "partial": 1, "none": 2}
EFFORT = {"barrier": "M", "double_funnel": "L", "loyalty": "S", "staff": "M", "cross": "S", "winback": "S"}


def _item(language: str, source: str, action: str, kpi: str, now, target, impact, evidence: str, order: int,
          pct: bool = True) -> dict:
    effort = EFFORT[source]
    fmt = (lambda v: fmt_pct(v, language, 0)) if pct else str
    return {"source": source, "action": action, "owner": w(language, f"roadmap.owner.{source}"), "effort": effort,
            "horizon": w(language, "roadmap.quick" if effort == "S" else "roadmap.medium"),
            "kpi": w(language, "roadmap.kpi", name=kpi, now=fmt(now) if is_number(now) else w(language, "roadmap.to_measure"),
                     target=fmt(target) if is_number(target) else w(language, "roadmap.to_set")),
            "money": impact_estimate(impact), "impact": impact,
            "evidence": evidence, "order": order}


def roadmap_items(metrics: Mapping, ctx: Mapping, names: Names, language: str, currency: str) -> list[dict]:
    items = []
    bars, _ = metrics_part(metrics, "barriers", language)
    for pos, b in enumerate([b for b in (bars or []) if isinstance(b, Mapping)][:MAX_ROADMAP_BARRIERS]):
        label = names.code(b.get("code"), b.get("label"))
        action = ctx["barriers"]["action_of"].get(str(b.get("code"))) or w(language, "roadmap.barrier_find", barrier=label)
        share = b.get("share")
        items.append(_item(language, "barrier", action, w(language, "roadmap.kpi_barrier", barrier=label), share,
                           share / 2 if is_number(share) else None, b.get("annual_impact"), str(b.get("evidence") or "none"), pos))
    d, _ = metrics_part(metrics, "double_funnel", language)
    if d is not None and is_number(d.get("nontarget_share")) and d.get("merge_brands") is not True \
            and d.get("material") is not False:
        sc = headline_scenario(d)
        items.append(_item(language, "double_funnel",
                           w(language, "roadmap.double_funnel", premium=names.brand(d.get("premium_brand")),
                             budget=names.brand(d.get("budget_brand"))),
                           w(language, "roadmap.kpi_capture", budget=names.brand(d.get("budget_brand"))), 0.0,
                           sc.get("capture_rate") if sc else None, scenario_impact(sc), "partial", 0))
    loy, _ = metrics_part(metrics, "loyalty", language)
    ov = loy.get("overall") if isinstance(loy, Mapping) else None
    if isinstance(ov, Mapping) and is_number(ov.get("loyalty_visit")):
        k = int(ov["loyalty_visit"])
        p = ov.get("p_return") or {}
        p1, pk = p.get("1"), p.get(str(k))
        target = p1 + (pk - p1) / 4 if is_number(p1) and is_number(pk) and pk > p1 else None
        items.append(_item(language, "loyalty", w(language, "roadmap.loyalty", visit=ordinal(k, language, genitive=True)),
                           w(language, "roadmap.kpi_return"), p1, target, None, "strong", 0))
    sd, _ = metrics_part(metrics, "staff_dependency", language)
    for pos, (line, v) in enumerate(sorted(((l, v) for l, v in (sd or {}).items() if isinstance(v, Mapping)
                                            and not v.get("suppressed")
                                            and is_number(v.get("top_staff_share_of_repeat_customers"))
                                            and v["top_staff_share_of_repeat_customers"] >= STAFF_RISK),
                                           key=lambda x: -x[1]["top_staff_share_of_repeat_customers"])):
        items.append(_item(language, "staff", w(language, "roadmap.staff", line=names.line(line)),
                           w(language, "roadmap.kpi_staff", line=names.line(line)),
                           v["top_staff_share_of_repeat_customers"], STAFF_RISK, None, "strong", pos))
    best = ctx["loyalty"]["cross"].get("best") or {}
    if best:
        cp = metrics.get("cross_penetration") or {}
        now = None
        for a, dd in cp.items() if isinstance(cp, Mapping) else []:
            if names.line(a) == best["from_line"] and isinstance(dd, Mapping):
                now = next((x for b_, x in dd.items() if names.line(b_) == best["to_line"]), None)
        items.append(_item(language, "cross", w(language, "roadmap.cross", **best)
                           + (" " + best["audience"] if best.get("audience") else ""),
                           w(language, "roadmap.kpi_cross", **best), now, now + CROSS_STEP if is_number(now) else None,
                           None, "partial", 0))
    seg, _ = metrics_part(metrics, "segments", language)
    rfm = seg.get("rfm") if isinstance(seg, Mapping) and isinstance(seg.get("rfm"), Mapping) else {}
    risk = [(s, rfm[s]) for s in WINBACK_SEGMENTS if isinstance(rfm.get(s), Mapping) and rfm[s].get("customers")]
    if risk:
        share = sum(v.get("revenue_share") or 0 for _, v in risk)
        items.append(_item(language, "winback", w(language, "roadmap.winback", share=fmt_pct(share, language, 0)),
                           w(language, "roadmap.kpi_winback"), None, None, None, "strong", 0))
    items.sort(key=lambda it: (it["effort"] != "S", it["money"] is None, -(it["money"] or 0.0),
                               EVIDENCE_RANK.get(it["evidence"], 3), it["order"]))
    return [{"priority": str(n), "action": it["action"], "owner": it["owner"], "effort": it["effort"],
             "horizon": it["horizon"], "kpi": it["kpi"],
             "impact": impact_range(it["impact"], currency, language) or w(language, "money.not_measured_short"),
             "evidence": evidence_word(it["evidence"], language), "source": it["source"]}
            for n, it in enumerate(items, start=1)]


def roadmap_section(metrics: Mapping, ctx: Mapping, names: Names, language: str, currency: str) -> dict:
    rows = roadmap_items(metrics, ctx, names, language, currency)
    return {"available": bool(rows), "rows": rows, "rule": w(language, "roadmap.rule"),
            "kpi_rule": w(language, "roadmap.kpi_rule"),
            "na": "" if rows else w(language, "not_available", reason=w(language, "roadmap.none"))}
