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

Non-target share = non-target leads / leads with evidence (rules 1-4), with a Wilson
interval. The leads without evidence are assumed to have the same mix when the share is
applied to the whole lead flow in the scenarios. As context (not a rule), the share of the
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

Scenarios
---------
For each capture rate c in ``Parameters.capture_rates``:

- leads per year of the premium brand: ``premium_leads * 365.25 / period_days`` where
  ``period_days`` = days from the first to the last premium lead, inclusive;
- captured leads = premium leads per year x non-target share x c;
- deals = captured leads x the budget brand's own lead -> deal conversion;
- paying = deals x the budget brand's **paid share**, revenue = paying x its **average check**.
  The check is what a deal brings at once: where the budget brand's leads link to customers
  (``leads.customer_id``), the *first visit* of a deal's customer to the budget brand on or
  after the lead's creation date; paid share = deals with such a visit / deals (a contract
  that never turned into a paid visit brings nothing); check = the mean amount of those
  visits. Without links, the mean amount of every budget-brand customer's first visit, and
  every deal is assumed to pay (paid share 1, said in ``notes``). Visits are
  ``toolkit.core.sales`` visits of the budget brand's transactions; the check carries a
  t-interval (``toolkit.core.stats.mean_interval``, its lower end clipped at 0);
- revenue_ltv = paying x the revenue per customer observed to date: with lead links, what a
  paid deal's customer has spent at the budget brand since the lead (the value of a customer
  won through a lead); without, the budget brand's net revenue per customer
  (``toolkit.loyalty.repeat.lifetime_value``). Recent deals have had less time, so it is a floor;
- band: ``revenue_low`` multiplies the lower ends of the four intervals (share, conversion,
  paid share, check), ``revenue_high`` the upper ends. Taking every input at its bound
  together is conservative: the band is wider than a joint interval would be;
- incremental_deals = captured leads x (budget conversion - non-target conversion now): the
  captured leads give up their present chance of a premium deal.

The sensitivity table crosses the capture rates with the budget conversion at its Wilson
lower end, point and upper end (revenue per year at the point share, paid share and check).

Merge or keep separate
----------------------
Audiences: ``toolkit.segmentation.personas.brand_audience_comparison`` (Cliff's delta, Holm-corrected
Mann-Whitney, *material* = |delta| >= 0.33 and p_holm < alpha). Cross-brand penetration:
``toolkit.loyalty.repeat.cross_penetration`` with the brand in place of the business line (share of a
brand's customers who also bought the other brand), plus the share of both brands' customers
who bought both. Verdict ``merge_brands`` is **False** when the audiences differ materially on
the price factor, on a brand factor (id or name says brand/бренд), or on factors pointing
in opposite directions (each audience rates some factor materially higher); **True** when
the survey compares both audiences and none of these holds. Without a survey comparison the
verdict falls back on penetration: True when at least ``MERGE_MIN_OVERLAP`` of the two brands'
customers bought both (the customers already treat the brands as one), else False.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit.core.config import Case, Parameters
from toolkit.stage_mapping.funnel import _stage_index, attach_personas
from toolkit.segmentation.personas import brand_audience_comparison, jsonable, price_factor_id
from toolkit.stage_mapping.journey import StageModel, stage_model
from toolkit.core.stats import mean_interval, wilson_interval

DAYS_PER_YEAR = 365.25
MERGE_MIN_OVERLAP = 0.25  # without a survey: merge when this share of customers bought both brands
EVIDENCE_RULES = ("budget", "lost_reason", "deal", "persona")
NO_EVIDENCE = "none"
_BRAND_FACTOR = re.compile(r"brand|бренд", re.IGNORECASE)
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


# --------------------------------------------------------------------------- helpers


def normalise_reason(values: pd.Series) -> pd.Series:
    """Lost reasons in a comparable form: lower case, ё -> е, punctuation dropped, spaces collapsed.

    Blank or missing values become NA.
    """
    s = pd.Series(values, dtype="string")
    s = s.str.lower().str.replace("ё", "е", regex=False)
    s = s.str.replace(_PUNCT, " ", regex=True).str.replace(_SPACES, " ", regex=True).str.strip()
    return s.where(s.str.len() > 0)


def is_price_reason(values: pd.Series, price_reasons: Sequence[str]) -> pd.Series:
    """True where the lost reason is one of ``price_reasons`` after normalising both (see
    :func:`normalise_reason`); False for other reasons and for blanks."""
    wanted = set(normalise_reason(pd.Series(list(price_reasons), dtype="string")).dropna())
    norm = normalise_reason(values)
    return norm.isin(wanted).fillna(False).astype(bool)


_PURCHASE = re.compile(r"deal|payment|purchase|order|checkout|сделк|оплат|покупк|заказ|договор", re.IGNORECASE)


def deal_stage(model) -> tuple[str | None, int | None, str]:
    """``(funnel_stage_id, order, rule)`` of the deal stage (module doc); rule is
    ``'journey_stage_deal'``, ``'purchase_journey_stage'`` or ``'last_funnel_stage'``;
    ``(None, None, 'no_funnel')`` without a funnel."""
    model = stage_model(model)
    fn = model.funnel.sort_values("order")
    if not len(fn):
        return None, None, "no_funnel"
    hit = fn[fn["journey_stage"] == "deal"]
    rule = "journey_stage_deal"
    if not len(hit):
        st = model.stages.sort_values("order")
        words = st["stage"].astype(str) + " " + st["name"].astype(str)
        buying = [s for s, w in zip(st["stage"], words) if _PURCHASE.search(w) and (fn["journey_stage"] == s).any()]
        hit = fn[fn["journey_stage"] == buying[0]] if buying else fn.iloc[0:0]
        rule = "purchase_journey_stage"
    if len(hit):
        return str(hit["funnel_stage"].iloc[-1]), int(hit["order"].iloc[-1]), rule
    return str(fn["funnel_stage"].iloc[-1]), int(fn["order"].iloc[-1]), "last_funnel_stage"


def lead_outcomes(leads: pd.DataFrame, model) -> pd.DataFrame:
    """``leads`` plus ``stage_order`` (NaN: not a funnel stage), ``reached_deal`` and ``lost``."""
    model = stage_model(model)
    idx = _stage_index(leads, model)  # the funnel module's reading of stage_reached
    _, deal_order, _ = deal_stage(model)
    last = len(model.funnel) - 1
    known = idx.notna()
    return leads.assign(
        stage_order=idx,
        reached_deal=(known & (idx >= (deal_order if deal_order is not None else np.inf))).astype(bool),
        lost=(known & (idx < last)).astype(bool),
    )


def rate_with_ci(k, n, confidence: float = 0.95) -> dict[str, Any]:
    """``{"rate", "k", "n", "ci": [lo, hi]}`` for a proportion (Wilson); NaN rate when n == 0."""
    k, n = int(k), int(n)
    lo, hi = wilson_interval(k, n, confidence)
    return {"rate": k / n if n else float("nan"), "k": k, "n": n, "ci": [lo, hi]}


def lead_personas(
    leads: pd.DataFrame,
    assignments: pd.DataFrame | None,
    link: pd.DataFrame | None,
) -> tuple[pd.Series, str | None]:
    """Persona of each lead through the CRM customer id (module doc), and a note.

    ``assignments``: ``respondent_id, persona`` (the persona step's assignments);
    ``link``: a table with ``respondent_id`` and ``customer_id`` (the survey or the respondents
    table). Returns a string Series aligned with ``leads`` (NA = no link) and a note saying why
    no lead could be linked, or None.
    """
    empty = pd.Series(pd.NA, index=leads.index, dtype="string")
    if assignments is None or not len(assignments):
        return empty, "no survey personas: the persona rule contributes nothing"
    if link is None or "customer_id" not in link.columns:
        return empty, (
            "the survey carries no CRM customer_id, so no lead can be linked to a persona: "
            "the persona rule contributes nothing"
        )
    if "customer_id" not in leads.columns:
        return empty, "the leads carry no customer_id: the persona rule contributes nothing"
    pairs = link[["respondent_id", "customer_id"]].dropna().merge(assignments, on="respondent_id", how="inner")
    pairs = pairs.sort_values(["customer_id", "respondent_id"], kind="stable")
    out = attach_personas(leads, pairs[["customer_id", "persona"]])["persona"]
    note = None if out.notna().any() else "no lead's customer_id matches a surveyed customer"
    return out, note


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
    """Share of non-target leads among the leads with evidence, with a Wilson interval, and what
    each rule contributed: ``{share, ci, nontarget, with_evidence, no_evidence, leads,
    by_rule: {rule: {nontarget, target}}}``."""
    ev = classified["evidence"]
    has = ev != NO_EVIDENCE
    nt = classified["nontarget"].fillna(False).astype(bool)
    k, n = int((nt & has).sum()), int(has.sum())
    r = rate_with_ci(k, n, confidence)
    by_rule = {
        rule: {"nontarget": int((nt & (ev == rule)).sum()), "target": int((~nt & (ev == rule)).sum())}
        for rule in EVIDENCE_RULES
    }
    return {
        "share": r["rate"],
        "ci": r["ci"],
        "nontarget": k,
        "with_evidence": n,
        "no_evidence": int((~has).sum()),
        "leads": int(len(classified)),
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


def lead_to_deal(leads: pd.DataFrame, model, confidence: float = 0.95) -> dict[str, Any]:
    """Lead -> deal conversion of a set of leads (leads with an unknown stage left out)."""
    o = lead_outcomes(leads, model)
    known = o["stage_order"].notna()
    return rate_with_ci(int(o.loc[known, "reached_deal"].sum()), int(known.sum()), confidence)


def leads_per_year(created_at: pd.Series) -> tuple[float, int]:
    """``(leads per year, period_days)``: leads x 365.25 / days from the first to the last lead
    (inclusive). NaN with no dates."""
    d = pd.to_datetime(created_at).dropna()
    if not len(d):
        return float("nan"), 0
    days = int((d.max() - d.min()).days) + 1
    return len(d) * DAYS_PER_YEAR / days, days


# --------------------------------------------------------------------------- the budget brand's money


def brand_transactions(transactions: pd.DataFrame | None, brand: str) -> pd.DataFrame | None:
    """The transactions of one brand (None when there are none or no brand column)."""
    if transactions is None or "brand" not in transactions.columns:
        return None
    t = transactions[transactions["brand"] == brand]
    return t if len(t) else None


def _brand_visits(transactions, refunds, as_of, visit_definition):
    """The brand's visits (``toolkit.core.sales.build_visits``) and its observed LTV row."""
    from toolkit.loyalty.repeat import lifetime_value
    from toolkit.core.sales import build_visits, sales_history

    sales = sales_history(transactions, refunds, as_of=as_of, visit_definition=visit_definition, cache=True)
    try:
        visits = build_visits(sales)
        ltv = lifetime_value(sales, cohort=None, per_line=False)
    finally:
        sales.close()
    return visits, (ltv.iloc[0] if len(ltv) else None)


def linked_first_visits(leads: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """For each lead linked to a customer (``customer_id``), the customer's first visit on or
    after the lead's creation date: lead_id, customer_id, created_at, visit_date, amount and
    business_line (when the visits carry it). Leads without such a visit are absent.

    ``visits``: ``toolkit.core.sales.build_visits`` output (of the brand the leads belong to).
    """
    cols = ["lead_id", "customer_id", "created_at"]
    if "customer_id" not in leads.columns or not len(visits):
        return pd.DataFrame(columns=cols + ["visit_date", "amount", "business_line"])
    linked = leads[cols].dropna(subset=["customer_id"]).astype({"customer_id": "string"})
    vcols = ["customer_id", "visit_date", "amount"] + (["business_line"] if "business_line" in visits.columns else [])
    v = visits[vcols].astype({"customer_id": "string"})
    v = v.assign(visit_date=pd.to_datetime(v["visit_date"]))
    m = linked.merge(v, on="customer_id", how="inner")
    m = m[m["visit_date"] >= pd.to_datetime(m["created_at"])]
    m = m.sort_values(["lead_id", "visit_date"], kind="stable").drop_duplicates("lead_id")
    return m.reset_index(drop=True)


def deal_revenue(
    leads: pd.DataFrame | None,
    model,
    transactions: pd.DataFrame | None,
    refunds: pd.DataFrame | None = None,
    *,
    as_of=None,
    visit_definition: str = "customer_day",
    confidence: float = 0.95,
) -> dict[str, Any]:
    """What a deal of a brand is worth (module doc, *average check*).

    ``leads``/``transactions``/``refunds``: that brand's rows only. With lead -> customer links
    (``leads.customer_id`` found in the transactions): ``paid_share`` = deals whose customer
    made a visit to the brand on or after the lead's creation date / deals (Wilson), and
    ``check`` = mean amount of that first visit (t-interval, lower end clipped at 0): basis
    ``lead_linked_first_visit``. Without links: ``check`` = mean amount of every customer's first
    visit to the brand and ``paid_share`` = 1 (assumed, basis ``all_customers_first_visit``).
    Also the mean amount of any visit and the revenue per customer (LTV observed to date): with
    links, what a paid deal's customer has spent at the brand on or after the lead's date
    (``revenue_per_customer_basis = 'lead_linked_since_lead'``: the value of a customer won
    through a lead); without, the brand's net revenue per customer
    (``toolkit.loyalty.repeat.lifetime_value``, basis ``brand_ltv``).
    """
    out = {"basis": None, "check": float("nan"), "check_ci": [float("nan"), float("nan")], "check_n": 0,
           "paid_share": float("nan"), "paid_share_ci": [float("nan"), float("nan")], "deals": 0, "paid_deals": 0,
           "all_visits_mean": float("nan"), "revenue_per_customer": float("nan"), "revenue_per_customer_basis": None,
           "visits_per_customer": float("nan"), "customers": 0}
    if transactions is None or not len(transactions):
        return out
    visits, ltv = _brand_visits(transactions, refunds, as_of, visit_definition)
    out.update(all_visits_mean=float(visits["amount"].mean()) if len(visits) else float("nan"))
    if ltv is not None:
        out.update(revenue_per_customer=float(ltv["revenue_per_customer"]), revenue_per_customer_basis="brand_ltv",
                   visits_per_customer=float(ltv["visits_per_customer"]), customers=int(ltv["customers"]))
    first = None
    if leads is not None and len(leads) and "customer_id" in leads.columns:
        o = lead_outcomes(leads, model)
        deals = o.loc[o["reached_deal"]]
        m = linked_first_visits(deals, visits)
        if len(m):
            first = m["amount"].to_numpy(dtype=float)
            r = rate_with_ci(len(m), len(deals), confidence)
            out.update(basis="lead_linked_first_visit", paid_share=r["rate"], paid_share_ci=r["ci"],
                       deals=len(deals), paid_deals=len(m))
            # what a paid deal's customer has spent at the brand since the lead (visits, gross)
            v = visits[["customer_id", "visit_date", "amount"]].astype({"customer_id": "string"})
            since = m[["lead_id", "customer_id", "created_at"]].merge(v, on="customer_id", how="inner")
            since = since[pd.to_datetime(since["visit_date"]) >= pd.to_datetime(since["created_at"])]
            out.update(revenue_per_customer=float(since.groupby("lead_id")["amount"].sum().mean()),
                       revenue_per_customer_basis="lead_linked_since_lead")
    if first is None:
        first = visits.loc[visits["visit_number"] == 1, "amount"].to_numpy(dtype=float)
        out.update(basis="all_customers_first_visit", paid_share=1.0, paid_share_ci=[1.0, 1.0])
    mean, lo, hi, n = mean_interval(first, confidence)
    lo = max(0.0, lo) if not math.isnan(lo) else lo  # amounts are never negative
    out.update(check=mean, check_ci=[lo, hi], check_n=n)
    return out


# --------------------------------------------------------------------------- scenarios


def _num(x) -> float:
    return float("nan") if x is None else float(x)


def scenarios(
    leads_per_year_: float,
    share: float,
    share_ci: Sequence[float],
    budget_conversion: float,
    budget_conversion_ci: Sequence[float],
    check: float,
    check_ci: Sequence[float],
    capture_rates: Sequence[float],
    paid_share: float = 1.0,
    paid_share_ci: Sequence[float] = (1.0, 1.0),
    revenue_per_customer: float | None = None,
    nontarget_conversion_now: float | None = None,
) -> pd.DataFrame:
    """One row per capture rate: capture_rate, leads (captured per year), deals, paying
    (deals that paid), revenue, revenue_low, revenue_high, revenue_ltv, incremental_deals.

    leads = leads_per_year x share x rate; deals = leads x budget_conversion; paying = deals x
    paid_share; revenue = paying x check; the band multiplies the interval ends of share,
    conversion, paid share and check (module doc)."""
    c = np.asarray(list(capture_rates), dtype=float)
    base = _num(leads_per_year_) * c
    leads = base * _num(share)
    deals = leads * _num(budget_conversion)
    paying = deals * _num(paid_share)

    def bound(i: int):
        return base * _num(share_ci[i]) * _num(budget_conversion_ci[i]) * _num(paid_share_ci[i]) * _num(check_ci[i])

    return pd.DataFrame(
        {
            "capture_rate": c,
            "leads": leads,
            "deals": deals,
            "paying": paying,
            "revenue": paying * _num(check),
            "revenue_low": bound(0),
            "revenue_high": bound(1),
            "revenue_ltv": paying * _num(revenue_per_customer),
            "incremental_deals": leads * (_num(budget_conversion) - _num(nontarget_conversion_now)),
        }
    )


def sensitivity_table(
    leads_per_year_: float,
    share: float,
    check: float,
    capture_rates: Sequence[float],
    conversions: Sequence[float],
    paid_share: float = 1.0,
    levels: Sequence[str] = ("low", "point", "high"),
) -> pd.DataFrame:
    """Revenue per year for each capture rate x budget conversion, at the point share, paid share
    and check. Tidy: one row per pair, columns capture_rate, level (the conversion's name:
    ``low``/``point``/``high`` = Wilson lower end, estimate, upper end), budget_conversion, revenue."""
    c = np.asarray(list(capture_rates), dtype=float)
    v = np.asarray([_num(x) for x in conversions], dtype=float)
    cc, vv = np.meshgrid(c, v, indexing="ij")
    lv = np.broadcast_to(np.asarray(list(levels)[: len(v)], dtype=object)[None, :], cc.shape)
    rev = _num(leads_per_year_) * _num(share) * cc * vv * _num(paid_share) * _num(check)
    return pd.DataFrame({"capture_rate": cc.ravel(), "level": lv.ravel().astype(str), "budget_conversion": vv.ravel(),
                         "revenue": rev.ravel()})


# --------------------------------------------------------------------------- merge or keep separate


def brand_penetration(transactions: pd.DataFrame | None, premium: str, budget: str, *, as_of=None,
                      confidence: float = 0.95) -> dict[str, Any]:
    """Cross-brand penetration from transactions (module doc): ``{premium_to_budget: {share, ci,
    base, also_bought, bought_after}, budget_to_premium: {...}, both: {share, ci, k, n}}``."""
    from toolkit.loyalty.repeat import cross_penetration
    from toolkit.core.sales import sales_history

    empty = {"premium_to_budget": None, "budget_to_premium": None, "both": None}
    if transactions is None or "brand" not in transactions.columns:
        return empty
    t = transactions[transactions["brand"].isin([premium, budget])]
    if not len(t):
        return empty
    # the brand takes the place of the business line, so the loyalty module's definition applies
    t = t.assign(business_line=t["brand"].astype("string"))
    sales = sales_history(t[["customer_id", "date", "amount", "business_line"]], as_of=as_of, cache=False)
    try:
        cp = cross_penetration(sales, min_segment_size=1, confidence=confidence)
    finally:
        sales.close()
    out = dict(empty)
    for key, a, b in (("premium_to_budget", premium, budget), ("budget_to_premium", budget, premium)):
        r = cp[(cp["from_line"] == a) & (cp["to_line"] == b)]
        if len(r):
            r = r.iloc[0]
            out[key] = {"share": float(r["share_also"]), "ci": [float(r["share_also_ci_low"]), float(r["share_also_ci_high"])],
                        "base": int(r["base"]), "also_bought": int(r["also_bought"]), "bought_after": int(r["bought_after"])}
    customers = t.groupby("customer_id")["brand"].nunique()
    out["both"] = rate_with_ci(int((customers >= 2).sum()), int(len(customers)), confidence)
    out["both"]["share"] = out["both"].pop("rate")
    return out


def merge_verdict(comparison: pd.DataFrame | None, price_factor: str | None, premium: str, budget: str,
                  penetration: dict | None = None) -> dict[str, Any]:
    """``merge_brands`` and the evidence behind it (rule in the module doc).

    ``comparison``: ``brand_audience_comparison`` table with brand_a = premium, brand_b = budget.
    Returns ``{merge_brands, basis, differ_on_price, differ_on_brand, opposite_directions,
    material: [...], higher_for_premium: [...], higher_for_budget: [...], evidence: [...]}``.
    """
    both = (penetration or {}).get("both") or {}
    overlap = both.get("share")
    if comparison is None or not len(comparison) or comparison["cliffs_delta"].notna().sum() == 0:
        merge = bool(overlap is not None and not math.isnan(overlap) and overlap >= MERGE_MIN_OVERLAP)
        return {"merge_brands": merge, "basis": "penetration_only", "differ_on_price": None, "differ_on_brand": None,
                "opposite_directions": None, "material": [], "higher_for_premium": [], "higher_for_budget": [],
                "evidence": [f"no survey comparison; customers of both brands who bought both: {overlap}"]}
    mat = comparison[comparison["material"].fillna(False).astype(bool)]
    mat = mat.sort_values("cliffs_delta", key=np.abs, ascending=False, kind="stable")
    up = list(mat.loc[mat["cliffs_delta"] > 0, "factor_id"])
    down = list(mat.loc[mat["cliffs_delta"] < 0, "factor_id"])
    brand_ids = [f for f, nm in zip(comparison["factor_id"], comparison["name"]) if _BRAND_FACTOR.search(f"{f} {nm}")]
    on_price = bool(price_factor is not None and price_factor in set(mat["factor_id"]))
    on_brand = bool(set(brand_ids) & set(mat["factor_id"]))
    opposite = bool(up and down)
    evidence = [
        f"{r.factor_id}: Cliff's delta {r.cliffs_delta:+.2f} [{r.delta_lo:+.2f}; {r.delta_hi:+.2f}], "
        f"p_holm {r.p_holm:.3g}, higher for {r.higher_for}"
        for r in mat.itertuples(index=False)
    ]
    if overlap is not None:
        evidence.append(f"customers who bought both brands: {overlap:.1%}")
    return {"merge_brands": not (on_price or on_brand or opposite), "basis": "survey_audiences",
            "differ_on_price": on_price, "differ_on_brand": on_brand, "opposite_directions": opposite,
            "material": list(mat["factor_id"]), "higher_for_premium": up, "higher_for_budget": down,
            "evidence": evidence}


# --------------------------------------------------------------------------- text


def _money(x, currency: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:,.0f}".replace(",", "\u00a0") + f"\u00a0{currency}"


def _pct(x, digits: int = 0, language: str = "en") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    text = f"{100 * x:.{digits}f}%"
    return text.replace(".", ",") if language == "ru" else text


def _names(ids: Sequence[str], names: dict[str, str]) -> str:
    return ", ".join(names.get(i, i) for i in ids)


def recommendation_text(s: dict[str, Any], language: str) -> str:
    """The recommendation paragraph, built from the numbers of :func:`double_funnel_analysis`'s
    summary ``s`` (keys as in metrics.json plus the extras)."""
    cur = s["currency"]
    P, B = s["premium_name"], s["budget_name"]
    sc = s.get("headline_scenario") or {}
    ci = s["nontarget_share_ci"]
    now = s["conversion_now"]
    v = s["verdict"]
    fn = s["factor_names"]
    pen = ((s.get("penetration") or {}).get("both") or {}).get("share")
    ru = language == "ru"

    def pct(x, digits: int = 0) -> str:
        return _pct(x, digits, language)

    parts = []
    if ru:
        P, B = f"«{P}»", f"«{B}»"

        parts.append(
            f"Из {s['evidence_leads']} лидов {P}, по которым есть данные о платёжеспособности, "
            f"{pct(s['nontarget_share'])} [{pct(ci[0])}–{pct(ci[1])}] — нецелевые: их бюджет ниже "
            f"порога {_money(s['price_floor'], cur)} или они ушли из-за цены."
        )
        parts.append(
            f"Сейчас они доходят до сделки в {pct(now['nontarget']['rate'], 1)} случаев "
            f"(N={now['nontarget']['n']}) против {pct(now['target']['rate'], 1)} у целевых (N={now['target']['n']})."
        )
        if s.get("budget_avg_check_basis") == "lead_linked_first_visit":
            money = (f"оплачивается {pct(s['budget_paid_share'])} сделок, средний чек первого оплаченного визита "
                     f"после заявки — {_money(s['budget_avg_check'], cur)}")
        else:
            money = f"средний чек первого визита — {_money(s['budget_avg_check'], cur)}"
        parts.append(f"{B} превращает свои лиды в сделки в {pct(s['budget_conversion'], 1)} случаев, {money}.")
        if sc:
            parts.append(
                f"Если инструменты неявного перехвата переведут в {B} {pct(sc['capture_rate'])} нецелевого потока, "
                f"группа сохранит около {sc['leads']:.0f} лидов и {sc['deals']:.0f} сделок в год — "
                f"{_money(sc['revenue'], cur)} выручки в год (от {_money(sc['revenue_low'], cur)} "
                f"до {_money(sc['revenue_high'], cur)})."
            )
        if v["basis"] == "survey_audiences" and v["material"]:
            txt = []
            if v["higher_for_premium"]:
                txt.append(f"аудитория {P} выше ценит: {_names(v['higher_for_premium'], fn)}")
            if v["higher_for_budget"]:
                txt.append(f"аудитория {B} — {_names(v['higher_for_budget'], fn)}")
            parts.append("Аудитории различаются: " + "; ".join(txt) + ".")
        if pen is not None:
            parts.append(f"Оба бренда покупали лишь {pct(pen, 1)} клиентов.")
        parts.append(
            f"Объединять бренды не стоит: развивайте {B} как вторую воронку для ценочувствительной аудитории."
            if not v["merge_brands"]
            else "Существенных различий аудиторий не видно: объединение брендов можно рассматривать."
        )
    else:
        parts.append(
            f"Of the {s['evidence_leads']} {P} leads with evidence on what they can pay, "
            f"{pct(s['nontarget_share'])} [{pct(ci[0])}–{pct(ci[1])}] are non-target: their budget is below "
            f"the {_money(s['price_floor'], cur)} floor or they left over price."
        )
        parts.append(
            f"Today they reach a deal {pct(now['nontarget']['rate'], 1)} of the time (N={now['nontarget']['n']}) "
            f"against {pct(now['target']['rate'], 1)} for target leads (N={now['target']['n']})."
        )
        if s.get("budget_avg_check_basis") == "lead_linked_first_visit":
            money = (f"{pct(s['budget_paid_share'])} of its deals are paid, at an average check of "
                     f"{_money(s['budget_avg_check'], cur)} for the first paid visit after the lead")
        else:
            money = f"its average first-visit check is {_money(s['budget_avg_check'], cur)}"
        parts.append(f"{B} converts its own leads at {pct(s['budget_conversion'], 1)}; {money}.")
        if sc:
            parts.append(
                f"If implicit-capture tools move {pct(sc['capture_rate'])} of the non-target flow to {B}, the group "
                f"keeps about {sc['leads']:.0f} leads and {sc['deals']:.0f} deals a year, "
                f"{_money(sc['revenue'], cur)} of revenue a year (range {_money(sc['revenue_low'], cur)} "
                f"to {_money(sc['revenue_high'], cur)})."
            )
        if v["basis"] == "survey_audiences" and v["material"]:
            txt = []
            if v["higher_for_premium"]:
                txt.append(f"{P} respondents rate {_names(v['higher_for_premium'], fn)} higher")
            if v["higher_for_budget"]:
                txt.append(f"{B} respondents rate {_names(v['higher_for_budget'], fn)} higher")
            parts.append("The audiences differ: " + "; ".join(txt) + ".")
        if pen is not None:
            parts.append(f"Only {pct(pen, 1)} of customers bought from both brands.")
        parts.append(
            f"Keep the brands separate and develop {B} as the second funnel for the price-sensitive audience."
            if not v["merge_brands"]
            else "The audiences do not differ materially: merging the brands can be considered."
        )
    return " ".join(parts)


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
    transactions: pd.DataFrame | None = None,
    refunds: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    personas=None,
    respondents: pd.DataFrame | None = None,
    budget_revenue_per_customer: float | None = None,
) -> DoubleFunnelResult:
    """The double funnel of a case (module doc).

    ``personas``: a ``toolkit.segmentation.personas.PersonaResult`` (``survey_personas``) for the persona
    rule; ``respondents``/``survey``: where the respondent -> CRM customer_id link is looked
    for (a ``customer_id`` column). ``budget_revenue_per_customer`` overrides the LTV measured
    from the budget brand's transactions.
    """
    reason = skip_reason(case, leads)
    if reason:
        return DoubleFunnelResult(metrics={"skipped": reason}, notes=[reason])
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
    unknown = int(_stage_index(pl, model).isna().sum())
    if unknown:
        notes.append(f"{unknown} premium leads have a stage that is not a funnel stage and are left out")
    pl = pl[_stage_index(pl, model).notna()]

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
    per_year, days = leads_per_year(pl["created_at"])

    bl = leads[leads["brand"] == bud.id]
    bconv = lead_to_deal(bl, model, conf) if len(bl) else rate_with_ci(0, 0, conf)
    if not len(bl):
        notes.append("the budget brand has no leads: its conversion is unknown")
    btx = brand_transactions(transactions, bud.id)
    brf = brand_transactions(refunds, bud.id)
    money = deal_revenue(bl, model, btx, brf, as_of=case.as_of, visit_definition=p.visit_definition, confidence=conf)
    if btx is None:
        notes.append("no transactions of the budget brand: its average check is unknown")
    elif money["basis"] == "all_customers_first_visit":
        notes.append("no budget-brand deal links to a customer: the check is every customer's first visit and "
                     "every deal is assumed to pay")
    rpc = budget_revenue_per_customer if budget_revenue_per_customer is not None else money["revenue_per_customer"]

    sc = scenarios(per_year, share["share"], share["ci"], bconv["rate"], bconv["ci"], money["check"],
                   money["check_ci"], p.capture_rates, money["paid_share"], money["paid_share_ci"], rpc,
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
    pen = brand_penetration(transactions, prem.id, bud.id, as_of=case.as_of, confidence=conf)
    verdict = merge_verdict(comparison, pf, prem.id, bud.id, pen)

    summary = {
        "premium_brand": prem.id,
        "budget_brand": bud.id,
        "premium_leads": share["leads"],
        "nontarget_share": share["share"],
        "nontarget_share_ci": share["ci"],
        "nontarget_conversion_now": now["nontarget"]["rate"],
        "budget_conversion": bconv["rate"],
        "budget_avg_check": money["check"],
        "scenarios": sc.to_dict(orient="records"),
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
    names = {}
    if comparison is not None:
        names = dict(zip(comparison["factor_id"], comparison["name"]))
    text_in = dict(summary, currency=case.currency, premium_name=prem.label, budget_name=bud.label,
                   conversion_now=now, factor_names=names, headline_scenario=_headline(sc, p.capture_rates))
    rec = {lang: recommendation_text(text_in, lang) for lang in ("ru", "en")}
    summary["recommendation"] = rec[case.language]
    summary["recommendation_ru"] = rec["ru"]
    summary["recommendation_en"] = rec["en"]
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
    """:func:`double_funnel_analysis` on a loaded case (``toolkit.data.load.load_case_data``)."""
    t = data.tables
    return double_funnel_analysis(
        case, t.get("leads"), t.get("transactions"), getattr(data, "refunds", None), t.get("survey"),
        personas, t.get("respondents"),
    )
