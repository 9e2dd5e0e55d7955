"""The two-brand "double funnel" (METHOD.md §6): how much of the premium brand's lead flow is
priced out, what it converts to today, what it would bring if the budget brand kept it, and
whether the two brands should be merged.

Terms used below
----------------
premium / budget brand
    The brands with ``role: premium`` / ``role: budget`` in case.yml (at most one each).
lead, deal
    A row of the ``leads`` table and its furthest funnel stage (``toolkit.stage_mapping.funnel``). The *deal
    stage* is the last funnel stage whose journey stage is ``deal`` (the deal completed). When
    no funnel stage maps to the journey stage ``deal`` (a custom journey), the last funnel stage
    of the first journey stage that says purchase (its id or name contains deal, payment,
    purchase, order, checkout, сделка, оплата, покупка, заказ, договор: "Order placed" under
    "Payment" in a webshop funnel); failing that, the last funnel stage. A lead *reached
    the deal* when its furthest stage is the deal stage or later; *lead -> deal conversion* =
    leads that reached the deal / leads, with a Wilson interval (n = leads). Leads whose stage
    is not a declared funnel stage are left out (counted in ``leads_unknown_stage``).
lost lead
    A lead whose furthest stage is not the last funnel stage (as in ``toolkit.stage_mapping.funnel``).
recorded lost reason
    A non-blank ``lost_reason`` of a lead that did not reach the deal.
price reason
    A recorded lost reason equal to one of ``Parameters.price_lost_reasons`` after
    normalising both (:func:`normalise_reason`: lower case, ё -> е, punctuation dropped, runs
    of spaces collapsed): "Дорого!", " дорого " and "ДОРОГО" all match "Дорого". Exact match
    after normalising, not a substring, so "недорого" never matches "дорого".
price-driven persona
    A survey persona whose leading distinguishing factor is price
    (``toolkit.segmentation.personas``, column ``price_driven``).
lead -> persona link
    A lead is linked to a persona only through the CRM customer id: the survey (or the
    respondents table) must carry a ``customer_id`` column naming the respondent's CRM id, and
    the lead must carry the same ``customer_id``; the persona is the respondent's persona
    assignment (``toolkit.stage_mapping.funnel.attach_personas``). Without such a column there is **no
    link**, and the persona rule contributes nothing (said in ``notes``).

Non-target lead (rules in order of precedence; the first that applies decides)
---------------------------------------------------------------------------
1. **budget**: the lead declared a budget. Non-target when ``budget < price_floor`` of the
   premium brand, target otherwise. (No ``price_floor`` declared: the rule is not applied.)
2. **lost_reason**: no budget, the lead was lost and its lost reason is recorded. Non-target
   when it is a price reason; target when it is any other recorded reason (the lead left for
   something other than price). (No ``price_lost_reasons`` declared: not applied.)
3. **deal**: no budget and the lead reached the deal at the premium brand: target (it signed at
   the premium price, so it could pay it).
4. **persona**: none of the above, and the lead is linked to a survey persona: non-target when
   the persona is price-driven, target otherwise.
5. Otherwise the lead has **no evidence** either way: it is counted separately
   (``no_evidence``) and never guessed.

Non-target share = non-target leads / leads with evidence (rules 1-4). The point estimate
assumes the leads without evidence (mostly lost leads whose reason was left blank) have the same
mix (``nontarget_share_assumption: no_evidence_same_mix``); its interval covers that assumption
failing: from "none of them is non-target" through "they are priced out at the rate observed
among the lost leads with a recorded reason" to "the same mix", each with its Wilson interval
over all leads (:func:`nontarget_share`). As context (not a rule), the share of the
premium brand's survey respondents in a price-driven persona is reported too
(``survey_price_driven_share_premium``): respondents are clients and prospects, not leads.

"Now" conversions
-----------------
Lead -> deal conversion of non-target and of target premium leads: among the leads with
evidence, the share of each class that reached the deal (Wilson interval, n = leads of the
class). Two biases to keep in mind, both reported rather than hidden: the leads without
evidence (lost, no budget, no reason) are left out, so the target conversion is slightly
overstated; and a deal without a budget counts as target (rule 3), so where non-target leads
sign without a budget noted their conversion is understated. The same rates on the leads
classified by budget alone are given as a check (``conversion_now_budget_only``); they are
unbiased only when whether a budget is recorded does not depend on how far the lead got
(CRMs often note it only at the contract, which inflates both budget-only rates).

Scenarios: ``toolkit.double_funnel.scenarios``; the budget brand's money:
``toolkit.double_funnel.deal_money``; merge or keep separate: ``toolkit.double_funnel.merge``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit.core.config import Case, Parameters
from toolkit.core.money import Period, is_material, money_basis, money_period, money_range, sub_period
from toolkit.core.sales import SalesHistory, has_sales_history, sales_history, sales_history_for_case
from toolkit.double_funnel.deal_money import brand_sales, deal_revenue, linked_first_visits
from toolkit.double_funnel.leads import (
    deal_stage,
    is_price_reason,
    lead_outcomes,
    lead_personas,
    lead_to_deal,
    leads_per_year,
    normalise_reason,
    rate_with_ci,
)
from toolkit.double_funnel.merge import brand_penetration, merge_verdict
from toolkit.double_funnel.leak import leak_to_competitors
from toolkit.double_funnel.recommendation import recommendation, recommendation_text
from toolkit.double_funnel.scenarios import scenarios, sensitivity_table
from toolkit.segmentation.personas import brand_audience_comparison, jsonable, price_factor_id
from toolkit.stage_mapping.funnel import stage_index
from toolkit.core.stages import StageModel, stage_model
from toolkit.core.stats import wilson_interval

# re-exported: the double funnel's parts, importable from here as before the split
__all__ = [
    "brand_penetration", "brand_sales", "classify_leads", "conversions_now", "deal_revenue", "deal_stage",
    "double_funnel_analysis", "double_funnel_for_case", "double_funnel_metrics", "is_price_reason", "lead_outcomes",
    "lead_personas", "lead_to_deal", "leads_per_year", "linked_first_visits", "merge_verdict", "nontarget_share",
    "normalise_reason", "rate_with_ci", "recommendation", "recommendation_text", "scenarios", "sensitivity_table",
    "annual_leads",
]

EVIDENCE_RULES = ("budget", "lost_reason", "deal", "persona")
NO_EVIDENCE = "none"
NO_EVIDENCE_ASSUMPTION = "no_evidence_same_mix"  # the point estimate's assumption (a key for the report)


# --------------------------------------------------------------------------- classification


def classify_leads(
    leads: pd.DataFrame,
    model,
    price_floor: float | None,
    price_reasons: Sequence[str] = (),
    persona: pd.Series | None = None,
    price_driven: Sequence[str] = (),
) -> pd.DataFrame:
    """Premium leads with ``nontarget`` (boolean, NA = no evidence) and ``evidence`` (the rule
    that decided: budget, lost_reason, deal, persona, none), by the precedence in the module doc.

    ``persona``: each lead's persona (aligned with ``leads``; NA = not linked);
    ``price_driven``: the ids of the price-driven personas. Also adds ``stage_order``,
    ``reached_deal``, ``lost`` (:func:`lead_outcomes`) and ``price_reason``.
    """
    out = lead_outcomes(leads, model)
    n = len(out)
    budget = pd.to_numeric(out["budget"], errors="coerce").astype(float) if "budget" in out.columns else pd.Series(np.nan, index=out.index)
    reasons = out["lost_reason"] if "lost_reason" in out.columns else pd.Series(pd.NA, index=out.index, dtype="string")
    recorded = normalise_reason(reasons).notna().to_numpy() & ~out["reached_deal"].to_numpy()
    price = is_price_reason(reasons, price_reasons).to_numpy() & recorded
    pers = persona.reindex(out.index) if persona is not None else pd.Series(pd.NA, index=out.index, dtype="string")
    linked = pers.notna().to_numpy()
    is_pd = pers.isin(list(price_driven)).fillna(False).to_numpy(dtype=bool)

    has_budget = budget.notna().to_numpy() & (price_floor is not None)
    use_reason = ~has_budget & recorded & bool(len(price_reasons))
    use_deal = ~has_budget & ~use_reason & out["reached_deal"].to_numpy()
    use_persona = ~has_budget & ~use_reason & ~use_deal & linked
    floor = float(price_floor) if price_floor is not None else np.inf
    evidence = np.select(
        [has_budget, use_reason, use_deal, use_persona], list(EVIDENCE_RULES), default=NO_EVIDENCE
    )
    nontarget = np.select(
        [has_budget, use_reason, use_deal, use_persona],
        [budget.to_numpy() < floor, price, np.zeros(n, dtype=bool), is_pd],
        default=False,
    )
    nt = pd.array(nontarget.astype(bool), dtype="boolean")
    nt[evidence == NO_EVIDENCE] = pd.NA
    return out.assign(price_reason=price, evidence=evidence, nontarget=nt)


def nontarget_share(classified: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """Share of non-target leads (module doc): the point estimate over the leads with evidence,
    and an interval that covers both sampling and the leads whose evidence is missing.

    Returns ``{share, ci, assumption, bounds: {none, lost_rate, same_mix}, nontarget,
    with_evidence, no_evidence, leads, priced_out_rate, by_rule: {rule: {nontarget, target}}}``.
    ``assumption`` (a key): ``no_evidence_same_mix``, the point estimate's assumption that the
    leads without evidence have the mix of the leads with it. ``bounds``: the share over all
    leads if none of those leads is non-target, if they are non-target at the rate observed among
    the lost leads whose reason is recorded (``priced_out_rate``), and under the point estimate's
    assumption; ``ci`` runs from the lowest Wilson bound of these scenarios to the highest (n =
    all leads), so the interval holds whichever of them is true. Without leads lacking evidence
    it is the Wilson interval of the share."""
    ev = classified["evidence"]
    has = ev != NO_EVIDENCE
    nt = classified["nontarget"].fillna(False).astype(bool)
    k, n = int((nt & has).sum()), int(has.sum())
    unknown = int((~has).sum())
    r = rate_with_ci(k, n, confidence)
    by_rule = {
        rule: {"nontarget": int((nt & (ev == rule)).sum()), "target": int((~nt & (ev == rule)).sum())}
        for rule in EVIDENCE_RULES
    }
    reason = by_rule["lost_reason"]
    recorded = reason["nontarget"] + reason["target"]
    priced_out = reason["nontarget"] / recorded if recorded else float("nan")
    ci, bounds = list(r["ci"]), {}
    if unknown and n:
        total = n + unknown
        rates = {"none": 0.0, "lost_rate": priced_out, "same_mix": k / n}
        lows, highs = [r["ci"][0]], [r["ci"][1]]
        for name, rate in rates.items():
            if rate != rate:  # no recorded lost reason: no such scenario
                continue
            extra = rate * unknown
            bounds[name] = (k + extra) / total
            lo, hi = wilson_interval(k + extra, total, confidence)
            lows.append(lo)
            highs.append(hi)
        ci = [min(lows), max(highs)]
    return {
        "share": r["rate"],
        "ci": ci,
        "assumption": NO_EVIDENCE_ASSUMPTION,
        "bounds": bounds,
        "nontarget": k,
        "with_evidence": n,
        "no_evidence": unknown,
        "leads": int(len(classified)),
        "priced_out_rate": priced_out,
        "by_rule": by_rule,
    }


def conversions_now(classified: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """Lead -> deal conversion of non-target and target premium leads today (module doc): on
    every lead with evidence, and, as a check, on the leads classified by their budget alone."""
    def rates(sel: pd.DataFrame) -> dict[str, Any]:
        nt = sel["nontarget"].fillna(False).astype(bool)
        deal = sel["reached_deal"].astype(bool)
        return {
            "nontarget": rate_with_ci(int((deal & nt).sum()), int(nt.sum()), confidence),
            "target": rate_with_ci(int((deal & ~nt).sum()), int((~nt).sum()), confidence),
        }

    out = rates(classified[classified["evidence"] != NO_EVIDENCE])
    out["budget_only"] = rates(classified[classified["evidence"] == "budget"])
    out["basis"] = "all_evidence"
    return out


# --------------------------------------------------------------------------- the whole step


@dataclass
class DoubleFunnelResult:
    """Everything the step finds; ``metrics`` is metrics.json's ``double_funnel`` value."""

    metrics: dict[str, Any]
    leads: pd.DataFrame = field(default_factory=pd.DataFrame)  # classified premium leads
    scenarios: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)


def survey_price_driven_share(survey: pd.DataFrame | None, assignments: pd.DataFrame | None,
                              price_driven: Sequence[str], brand: str, confidence: float = 0.95) -> dict | None:
    """Context, not a rule: the share of a brand's clustered survey respondents who fall in a
    price-driven persona (``{share, ci, k, n}``; None without a survey brand column or personas).
    Respondents are the brand's clients and prospects, not its leads, so this share need not
    equal the non-target share of leads."""
    if survey is None or assignments is None or "brand" not in survey.columns or not len(assignments):
        return None
    a = assignments.merge(survey[["respondent_id", "brand"]], on="respondent_id", how="inner")
    a = a[a["brand"] == brand]
    r = rate_with_ci(int(a["persona"].isin(list(price_driven)).sum()), len(a), confidence)
    return {"share": r["rate"], "ci": r["ci"], "k": r["k"], "n": r["n"]}


def skip_reason(case: Case, leads: pd.DataFrame | None) -> str | None:
    """Why the double funnel cannot be built for this case, or None."""
    if len(case.brands) < 2:
        return "the case has one brand"
    if case.brand("premium") is None or case.brand("budget") is None:
        return "no brand has role premium and another role budget"
    if leads is None or not len(leads):
        return "no leads table in this case"
    if not len(case.funnel_stages):
        return "no funnel_stages declared in case.yml"
    if not (leads["brand"] == case.brand("premium").id).any():
        return "the premium brand has no leads"
    return None


def _headline(sc: pd.DataFrame, rates: Sequence[float]) -> dict | None:
    """The scenario quoted in the text: the median capture rate of the grid."""
    if not len(sc):
        return None
    target = float(np.median(list(rates)))
    i = int(np.argmin(np.abs(sc["capture_rate"].to_numpy() - target)))
    return sc.iloc[i].to_dict()


def double_funnel_analysis(
    case: Case,
    leads: pd.DataFrame | None,
    transactions: SalesHistory | pd.DataFrame | None = None,
    refunds: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    personas=None,
    respondents: pd.DataFrame | None = None,
    budget_revenue_per_customer: float | None = None,
    annual_revenue: float | None = None,
) -> DoubleFunnelResult:
    """The double funnel of a case (module doc).

    ``transactions``: the case's sales history (``toolkit.core.sales``; the analysis runs in its
    engine and only aggregates and the rows of lead-linked customers come back), or a
    transactions DataFrame with its ``refunds`` (a history is built for the call).
    ``personas``: a ``toolkit.segmentation.personas.PersonaResult`` (``survey_personas``) for the persona
    rule; ``respondents``/``survey``: where the respondent -> CRM customer_id link is looked
    for (a ``customer_id`` column). ``budget_revenue_per_customer`` overrides the LTV measured
    from the budget brand's transactions. ``annual_revenue``: metrics.json's
    ``money.annual_revenue`` (computed from ``transactions`` when not given), the base of the
    materiality test.
    """
    reason = skip_reason(case, leads)
    if reason:
        return DoubleFunnelResult(metrics={"skipped": reason}, notes=[reason])
    if isinstance(transactions, pd.DataFrame):
        if not len(transactions):
            transactions = None
        else:
            sales = sales_history(transactions, refunds if refunds is not None and len(refunds) else None,
                                  as_of=case.as_of, visit_definition=case.parameters.visit_definition)
            try:
                return _analysis(case, leads, sales, survey, personas, respondents, budget_revenue_per_customer,
                                 annual_revenue)
            finally:
                sales.close()
    return _analysis(case, leads, transactions, survey, personas, respondents, budget_revenue_per_customer,
                     annual_revenue)


def _analysis(case: Case, leads: pd.DataFrame, sales: SalesHistory | None, survey, personas, respondents,
              budget_revenue_per_customer, annual_revenue) -> DoubleFunnelResult:
    p: Parameters = case.parameters
    conf = p.confidence
    model: StageModel = stage_model(case)
    prem, bud = case.brand("premium"), case.brand("budget")
    notes: list[str] = []
    d_id, _, d_rule = deal_stage(model)
    if d_rule == "purchase_journey_stage":
        notes.append(f"no funnel stage maps to the journey stage 'deal': '{d_id}', the last funnel stage of the "
                     "first purchase-like journey stage, is the deal")
    elif d_rule == "last_funnel_stage":
        notes.append(f"no funnel stage maps to the journey stage 'deal': the last funnel stage '{d_id}' is the deal")
    if prem.price_floor is None:
        notes.append(f"brands[{prem.id}].price_floor is not declared: the budget rule is not applied")
    if not p.price_lost_reasons:
        notes.append("parameters.price_lost_reasons is empty: the lost-reason rule is not applied")

    pl = leads[leads["brand"] == prem.id]
    unknown = int(stage_index(pl, model).isna().sum())
    if unknown:
        notes.append(f"{unknown} premium leads have a stage that is not a funnel stage and are left out")
    pl = pl[stage_index(pl, model).notna()]

    # persona link
    assignments = getattr(personas, "assignments", None)
    table = getattr(personas, "personas", None)
    price_driven = (list(table.loc[table["price_driven"].fillna(False).astype(bool), "persona"])
                    if table is not None and len(table) else [])
    link = None
    for t in (respondents, survey):
        if t is not None and "customer_id" in t.columns and "respondent_id" in t.columns:
            link = t
            break
    if link is None:
        link = survey
    persona, note = lead_personas(pl, assignments, link)
    if note:
        notes.append(note)
    if personas is not None and not price_driven:
        notes.append("no survey persona is price-driven: linked leads only count as target evidence")

    classified = classify_leads(pl, model, prem.price_floor, p.price_lost_reasons, persona, price_driven)
    survey_pd = survey_price_driven_share(survey, assignments, price_driven, prem.id, conf)
    share = nontarget_share(classified, conf)
    now = conversions_now(classified, conf)
    period = money_period(_first_date(sales, leads), case.as_of)
    per_year, days, per_year_basis, in_period = annual_leads(pl["created_at"], period, leads["created_at"].max())
    if annual_revenue is None and sales is not None:
        annual_revenue = money_basis(sales, case.currency)["annual_revenue"]

    bl = leads[leads["brand"] == bud.id]
    bconv = lead_to_deal(bl, model, conf) if len(bl) else rate_with_ci(0, 0, conf)
    if not len(bl):
        notes.append("the budget brand has no leads: its conversion is unknown")
    bsales = brand_sales(sales, bud.id)
    money = deal_revenue(bl, model, bsales, confidence=conf)
    if bsales is None:
        notes.append("no transactions of the budget brand: its average check is unknown")
    elif money["basis"] == "all_customers_first_visit":
        notes.append("no budget-brand deal links to a customer: the check is every customer's first visit and "
                     "every deal is assumed to pay")
    rpc = budget_revenue_per_customer if budget_revenue_per_customer is not None else money["revenue_per_customer"]

    sc = scenarios(per_year, share["share"], share["ci"], bconv["rate"], bconv["ci"], money["check"],
                   money["check_ci"], p.capture_rates, money["paid_share"], money["paid_share_ci"], rpc,
                   now["nontarget"]["rate"], now["nontarget"]["ci"])
    head = _headline(sc, p.capture_rates)
    incremental = money_range(head["incremental_annual_revenue"], head["incremental_low"],
                              head["incremental_high"]) if head else None
    material = is_material(incremental["estimate"] if incremental else None, annual_revenue, p.materiality_share)
    leak = leak_to_competitors(classified, sales, p, per_year * _num(share["share"]),
                               now["nontarget"]["rate"])
    sens = sensitivity_table(per_year, share["share"], money["check"], p.capture_rates,
                             [bconv["ci"][0], bconv["rate"], bconv["ci"][1]], money["paid_share"])

    # merge or keep separate
    comparison = None
    pf = None
    if survey is not None and "brand" in survey.columns and len(case.choice_factors):
        pf = price_factor_id(case.choice_factors, p)
        try:
            comparison, _ = brand_audience_comparison(survey, case.choice_factors, prem.id, bud.id, conf)
        except Exception as e:  # a survey without importances: no comparison, said in notes
            notes.append(f"brand audiences not compared: {e}")
            comparison = None
    pen = brand_penetration(sales, prem.id, bud.id, confidence=conf)
    verdict = merge_verdict(comparison, pf, prem.id, bud.id, pen)

    summary = {
        "premium_brand": prem.id,
        "budget_brand": bud.id,
        "premium_leads": share["leads"],
        "nontarget_share": share["share"],
        "nontarget_share_ci": share["ci"],
        "nontarget_share_assumption": share["assumption"],
        "nontarget_share_bounds": share["bounds"],
        "nontarget_conversion_now": now["nontarget"]["rate"],
        "budget_conversion": bconv["rate"],
        "budget_avg_check": money["check"],
        "scenarios": [dict(r, incremental_annual_revenue=money_range(r["incremental_annual_revenue"], r["incremental_low"],
                                                                     r["incremental_high"]))
                      for r in sc.to_dict(orient="records")],
        "leak_to_competitors": leak,
        "material": material,
        "materiality_share": p.materiality_share,
        "annual_revenue": annual_revenue,
        "headline_capture_rate": head["capture_rate"] if head else None,
        "headline_incremental_annual_revenue": incremental,
        "incremental_share_of_annual_revenue": (incremental["estimate"] / annual_revenue
                                                if incremental and annual_revenue else None),
        "money_period": period.as_dict(),
        "premium_leads_in_period": in_period,
        "premium_leads_per_year_basis": per_year_basis,
        "currency": case.currency,
        "premium_name": prem.label,
        "budget_name": bud.label,
        "merge_brands": verdict["merge_brands"],
        # extras
        "nontarget_conversion_now_ci": now["nontarget"]["ci"],
        "nontarget_conversion_now_n": now["nontarget"]["n"],
        "target_conversion_now": now["target"]["rate"],
        "target_conversion_now_ci": now["target"]["ci"],
        "target_conversion_now_n": now["target"]["n"],
        "conversion_now_basis": now["basis"],
        "conversion_now_budget_only": {k: now["budget_only"][k] for k in ("nontarget", "target")},
        "budget_conversion_ci": bconv["ci"],
        "budget_leads": bconv["n"],
        "budget_avg_check_ci": money["check_ci"],
        "budget_avg_check_n": money["check_n"],
        "budget_avg_check_basis": money["basis"],
        "budget_paid_share": money["paid_share"],
        "budget_paid_share_ci": money["paid_share_ci"],
        "budget_deals": money["deals"],
        "budget_paid_deals": money["paid_deals"],
        "budget_avg_visit_amount": money["all_visits_mean"],
        "budget_revenue_per_customer": rpc,
        "budget_revenue_per_customer_basis": ("parameter" if budget_revenue_per_customer is not None
                                              else money["revenue_per_customer_basis"]),
        "budget_visits_per_customer": money["visits_per_customer"],
        "price_floor": prem.price_floor,
        "deal_stage": d_id,
        "deal_stage_rule": d_rule,
        "evidence_leads": share["with_evidence"],
        "no_evidence_leads": share["no_evidence"],
        "nontarget_leads": share["nontarget"],
        "rules": share["by_rule"],
        "rule_precedence": list(EVIDENCE_RULES),
        "period_days": days,
        "premium_leads_per_year": per_year,
        "scenario_period": "year",
        "sensitivity": {
            "capture_rates": sorted(set(sens["capture_rate"])),
            "budget_conversions": list(dict.fromkeys(sens["budget_conversion"])),
            "revenue": sens.pivot_table(index="capture_rate", columns="level", values="revenue", aggfunc="first")
            .reindex(columns=list(dict.fromkeys(sens["level"]))).to_numpy().tolist(),
        },
        "penetration": pen,
        "survey_price_driven_share_premium": survey_pd,
        "price_factor": pf,
        "verdict": verdict,
        "notes": notes,
    }
    if comparison is not None:
        summary["factor_names"] = dict(zip(comparison["factor_id"], comparison["name"]))
    summary["recommendation"] = recommendation(summary)
    if comparison is not None:
        summary["audience_comparison"] = {
            r["factor_id"]: {"cliffs_delta": r["cliffs_delta"], "ci": [r["delta_lo"], r["delta_hi"]],
                             "p_holm": r["p_holm"], "material": r["material"], "n_premium": r["n_a"], "n_budget": r["n_b"]}
            for r in comparison.to_dict(orient="records")
        }
    return DoubleFunnelResult(
        metrics=jsonable(summary),
        leads=classified,
        scenarios=sc,
        sensitivity=sens,
        comparison=comparison if comparison is not None else pd.DataFrame(),
        notes=notes,
    )


def double_funnel_metrics(
    case: Case,
    leads: pd.DataFrame | None,
    transactions: pd.DataFrame | None = None,
    refunds: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    personas=None,
    respondents: pd.DataFrame | None = None,
    budget_revenue_per_customer: float | None = None,
) -> dict[str, Any]:
    """metrics.json's ``double_funnel``: ``{premium_brand, budget_brand, premium_leads,
    nontarget_share, nontarget_share_ci, nontarget_conversion_now, budget_conversion,
    budget_avg_check, scenarios: [{capture_rate, leads, deals, revenue, ...}], merge_brands,
    recommendation}`` plus extras (JSON-able, NaN -> None); ``{"skipped": reason}`` when the case
    has one brand, no premium/budget roles or no leads."""
    return double_funnel_analysis(
        case, leads, transactions, refunds, survey, personas, respondents, budget_revenue_per_customer
    ).metrics


def double_funnel_for_case(case: Case, data, personas=None) -> DoubleFunnelResult:
    """:func:`double_funnel_analysis` on a loaded case (``toolkit.data.load.load_case_data``), on
    the case's sales history (``toolkit.core.sales.sales_history_for_case``)."""
    t = data.tables
    sales = sales_history_for_case(case, data) if has_sales_history(case, data) else None
    try:
        return double_funnel_analysis(case, t.get("leads"), sales, None, t.get("survey"), personas,
                                      t.get("respondents"))
    finally:
        if sales is not None:
            sales.close()


def _num(x) -> float:
    return float("nan") if x is None else float(x)


def _first_date(sales: SalesHistory | None, leads: pd.DataFrame | None):
    """The first day of the history the money period is drawn from: the sales history, else the leads."""
    if sales is not None and sales.history_start is not None:
        return pd.Timestamp(sales.history_start)
    return pd.to_datetime(leads["created_at"]).min() if leads is not None and len(leads) else None


def annual_leads(created_at: pd.Series, period: Period, table_last=None) -> tuple[float, int, str, int]:
    """``(leads per year, days covered, basis, leads in the period)`` on the money basis (module
    doc of ``toolkit.double_funnel.scenarios``): the leads created in the money period,
    annualised over the part of it the leads table covers (to ``table_last``, its last lead);
    basis ``money_period``. Without a lead in the period, the whole history annualised
    (:func:`leads_per_year`, basis ``lead_history``)."""
    d = pd.to_datetime(created_at).dropna()
    inside = d[(d >= pd.Timestamp(period.start)) & (d <= pd.Timestamp(period.end))]
    if not len(inside):
        per_year, days = leads_per_year(d)
        return per_year, days, "lead_history", 0
    sub = sub_period(period, inside.min(), table_last)
    return len(inside) * sub.factor, sub.days, "money_period", int(len(inside))
