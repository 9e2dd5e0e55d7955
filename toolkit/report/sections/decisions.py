"""The Decisions page: 3-5 decisions a director can act on, each with its annual incremental
impact on the money basis (or "not measured"), how sure we are, and where the report supports it.

Which decisions, in this order (each only when its evidence is in the run):

1. the double funnel, when the non-target flow is material (``double_funnel.material`` is not
   False) and the brands are kept separate: route price-sensitive premium leads to the budget
   brand; impact = the headline scenario's annual incremental revenue;
2. the loyalty threshold with its trigger plan (the overall loyalty visit);
3. the one or two barriers with the largest measured annual impact (or, with no money, the
   first by evidence): remove them with the library's first action;
4. staff dependency, when one specialist holds at least ``STAFF_RISK`` of a line's repeat clients;
5. cross-selling along the strongest link between lines.

At most ``MAX_DECISIONS``; at least the ones the data support (a run without any has the
"not available" line).
"""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import fmt_days, fmt_money_short, fmt_num, fmt_pct, is_number, ordinal
from toolkit.core.words import has_word, word
from toolkit.report.common import (
    Names,
    evidence_word,
    fmt_date,
    impact_estimate,
    impact_range,
    metrics_part,
    not_available,
    one_line,
    scenario_impact,
    w,
)
from toolkit.report.sections.brands import headline_scenario

MAX_DECISIONS = 5
STAFF_RISK = 0.30


def _decision(language: str, text: str, impact: str | None, sure: str, section: str, money: float | None = None) -> dict:
    return {
        "text": text,
        "impact": impact or w(language, "money.not_measured"),
        "sure": sure,
        "see": "",
        "section": section,
        "money": money,
    }


def decisions(metrics: Mapping, ctx: Mapping, names: Names, language: str, currency: str) -> list[dict]:
    out: list[dict] = []
    d, _ = metrics_part(metrics, "double_funnel", language)
    if d is not None and is_number(d.get("nontarget_share")) and d.get("material") is not False \
            and d.get("merge_brands") is not True:
        sc = headline_scenario(d)
        imp = scenario_impact(sc)
        ci = d.get("nontarget_share_ci") or [None, None]
        width = (ci[1] - ci[0]) if is_number(ci[0]) and is_number(ci[1]) else None
        out.append(_decision(
            language,
            w(language, "decisions.double_funnel", premium=names.brand(d.get("premium_brand")),
              budget=names.brand(d.get("budget_brand")), share=fmt_pct(d["nontarget_share"], language, 0)),
            impact_range(imp, currency, language),
            evidence_word("strong" if width is not None and width <= 0.1 else "partial", language),
            "double_funnel", impact_estimate(imp)))
    loy, _ = metrics_part(metrics, "loyalty", language)
    overall = loy.get("overall") if isinstance(loy, Mapping) else None
    if isinstance(overall, Mapping) and is_number(overall.get("loyalty_visit")):
        k = int(overall["loyalty_visit"])
        gap = (overall.get("median_gap_days") or {}).get("2")
        p1 = (overall.get("p_return") or {}).get("1")
        pk = (overall.get("p_return") or {}).get(str(k))
        sure = overall.get("loyalty_visit_confident")
        out.append(_decision(
            language,
            w(language, "decisions.loyalty", k=k, visit=ordinal(k, language, genitive=True),
              p1=fmt_pct(p1, language, 0), pk=fmt_pct(pk, language, 0),
              gap=fmt_days(gap, language) if is_number(gap) else w(language, "decisions.gap_unknown")),
            impact_range(_roadmap_impact(metrics, "loyalty"), currency, language),
            evidence_word("partial" if sure is False else "strong", language), "loyalty"))
    bars, _ = metrics_part(metrics, "barriers", language)
    bars = [b for b in (bars or []) if isinstance(b, Mapping)]
    money_bars = [b for b in bars if impact_estimate(b.get("annual_impact")) is not None]
    picked = sorted(money_bars, key=lambda b: -impact_estimate(b.get("annual_impact")))[:2] or bars[:1]
    for b in picked:
        action = ctx["barriers"]["action_of"].get(str(b.get("code")))
        out.append(_decision(
            language,
            w(language, "decisions.barrier", barrier=names.code(b.get("code"), b.get("label")),
              stage=names.stage(b.get("stage")), action=_lower_first(action, language) if action
              else w(language, "decisions.barrier_no_action")),
            impact_range(b.get("annual_impact"), currency, language),
            evidence_word(b.get("evidence"), language), "barriers", impact_estimate(b.get("annual_impact"))))
    sd, _ = metrics_part(metrics, "staff_dependency", language)
    risky = [(line, v) for line, v in (sd or {}).items() if isinstance(v, Mapping) and not v.get("suppressed")
             and is_number(v.get("top_staff_share_of_repeat_customers"))
             and v["top_staff_share_of_repeat_customers"] >= STAFF_RISK]
    if risky:
        line, v = max(risky, key=lambda x: (x[1]["top_staff_share_of_repeat_customers"], x[0]))
        out.append(_decision(
            language,
            w(language, "decisions.staff", line=names.line(line),
              share=fmt_pct(v["top_staff_share_of_repeat_customers"], language, 0)),
            None, evidence_word("strong", language), "loyalty"))
    cross = ctx["loyalty"]["cross"].get("best")
    if cross and len(out) < MAX_DECISIONS:
        out.append(_decision(language, w(language, "decisions.cross", **cross), None,
                             evidence_word("partial", language), "loyalty"))
    out = out[:MAX_DECISIONS]
    for i, x in enumerate(out, start=1):
        x["n"] = str(i)
    return out


def _roadmap_impact(metrics: Mapping, source: str):
    for r in metrics.get("roadmap") or []:
        if isinstance(r, Mapping) and r.get("source") == source and isinstance(r.get("annual_impact"), Mapping):
            return r["annual_impact"]
    return None


def _lower_first(text: str, language: str) -> str:
    text = one_line(text).rstrip(".")
    if not text:
        return text
    second = text[1:2]
    return text if second.isupper() else text[0].lower() + text[1:]


def decisions_section(metrics: Mapping, ctx: Mapping, names: Names, language: str, currency: str,
                      pages: Mapping[str, int] | None = None) -> dict:
    items = decisions(metrics, ctx, names, language, currency)
    for x in items:
        title = w(language, f"heading.{x['section']}")
        page = (pages or {}).get(title)
        x["see"] = (w(language, "decisions.see_page", section=title, page=page) if page
                    else w(language, "decisions.see", section=title))
    money = metrics.get("money") if isinstance(metrics.get("money"), Mapping) else {}
    period = money.get("period") if isinstance(money.get("period"), Mapping) else {}
    if has_word("money.basis_sentence", language) and period.get("start") and is_number(money.get("annual_revenue")):
        key = "money.basis_sentence_annualised" if period.get("annualised") else "money.basis_sentence"
        basis = word(key, language, currency=currency, start=fmt_date(period["start"], language),
                     end=fmt_date(period.get("end"), language), months=fmt_num(period.get("months"), language, 1),
                     annual_revenue=fmt_money_short(money["annual_revenue"], currency, language))
    else:
        basis = w(language, "decisions.basis", currency=currency)
    return {"available": bool(items), "list": items, "basis": basis,
            "na": "" if items else not_available("skip.no_result", language)}
