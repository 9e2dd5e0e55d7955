"""The profit formula on the money basis (METHOD.md §7), reconciled with the revenue the client
actually booked in the money period (``toolkit.core.money``), per brand and per business line.

Terms used below
----------------
scope
    A brand (or ``all``: the whole company) x a business line (or ``all``: every line). Visits
    are counted within the scope (``toolkit.core.sales``: a customer-day by default): a
    customer's *first visit* is their first visit to the brand (to the line, to the company) in
    the whole history; every later visit in the scope is a *repeat visit*.
actual revenue
    The visit amounts of the scope dated in the period, less the refunds dated in the period
    (a refund without a line only counts in the line ``all`` scopes; without a brand, only in
    brand ``all``).
the formula
    revenue = new customers x first-visit check + returning customers x visits per returning
    customer x repeat check, where, in the period, *new customers* = customers whose first
    visit in the scope falls in the period, *first-visit check* = mean amount of those first
    visits, *returning customers* = customers with a repeat visit in the period, *visits per
    returning customer* = repeat visits / returning customers, *repeat check* = mean amount of a
    repeat visit. Where the brand has leads, the funnel feeds the new customers: *leads*
    (created in the period) x *lead -> deal conversion* = *deals*; where leads link to
    customers (``leads.customer_id``), *new customers from leads* = new customers of the brand
    whose customer id is that of a lead that reached the deal, created on or before their first
    visit; the rest are *new customers without a lead*.
other
    actual revenue - formula revenue: the refunds of the period (the formula counts purchases).
    ``reconciliation`` = formula revenue / actual revenue; with ``other`` the parts add up to the
    actual revenue exactly.
journey stage of each factor
    leads -> the stages of traffic; conversion, new customers -> the stages of conversion;
    first-visit check and repeat check -> the stage of the average check; returning customers ->
    the post-purchase stages that bring a customer back (all but the last when there are
    several); visits per returning customer -> the last post-purchase stage (the loyalty loop).
    The stages come from ``toolkit.double_funnel.funnel_formula.factor_stages`` (normative ids, or
    the fallback for a custom journey).
what-if
    Computed on actual revenue, per year: a factor improved by x % changes revenue by x % of the
    revenue that factor multiplies (first-visit revenue for new customers and the first-visit
    check; repeat revenue for returning customers, visits per returning customer and the repeat
    check; deals x first-visit check for leads and conversion), annualised with the period.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import ibis
import pandas as pd

from toolkit.core.money import Period, money_period
from toolkit.core.sales import ALL_LINES, SalesHistory, visits_expr
from toolkit.core.stages import stage_model
from toolkit.double_funnel.funnel_formula import (  # the funnel form, re-exported for its users
    ALL,
    FACTOR_LABELS,
    FACTORS,
    factor_stages,
    funnel_formula_metrics,
    funnel_line,
    profit_table,
    reconciliation_note,
    what_if,
)
from toolkit.double_funnel.leads import lead_outcomes, lead_to_deal
from toolkit.stage_mapping.funnel import jsonable

__all__ = ["ALL", "FACTOR_LABELS", "FACTORS", "FORMULA_FACTORS", "decomposition", "factor_stages",
           "formula_stages", "funnel_formula_metrics", "funnel_line", "profit_metrics", "profit_table",
           "reconciliation_note", "what_if", "what_if_actual"]

FORMULA_FACTORS = ("leads", "lead_to_deal", "deals", "new_customers", "new_customers_from_leads",
                   "new_customers_without_lead", "first_visit_check", "returning_customers",
                   "visits_per_returning_customer", "repeat_check")
WHAT_IF_FACTORS = ("leads", "lead_to_deal", "new_customers", "first_visit_check", "returning_customers",
                   "visits_per_returning_customer", "repeat_check")


def formula_stages(case) -> dict[str, list[str]]:
    """Journey stage ids of each factor of the formula (module doc)."""
    st = factor_stages(case)
    post = st["purchases_per_customer"]
    conv = st["conversion"]
    return {
        "leads": st["traffic"], "lead_to_deal": conv, "deals": conv[-1:], "new_customers": conv[-1:],
        "new_customers_from_leads": conv[-1:], "new_customers_without_lead": conv[-1:],
        "first_visit_check": st["average_check"], "returning_customers": post[:-1] if len(post) > 1 else post,
        "visits_per_returning_customer": post[-1:], "repeat_check": st["average_check"],
    }


# --------------------------------------------------------------------------- rows with their brand


def _scope_cols(rows, by_brand: bool, by_line: bool):
    brand = rows.brand if by_brand else ibis.literal(ALL, "string")
    line = rows.business_line if by_line else ibis.literal(ALL, "string")
    return brand, line


def _scope_visits(history: SalesHistory, brand: str, period: Period, cached_lines: bool = True) -> pd.DataFrame:
    """Per scope of one brand (``brand``: a brand id, or ``all`` for the whole history) and each
    line (``all`` = every line): new customers, first-visit revenue, returning customers, repeat
    visits and revenue in the period. Aggregates over the scope's numbered visits
    (``SalesHistory.visits``: the brand's own history when ``history`` is a brand subset), so a
    first visit is ``visit_number = 1`` of the whole history. ``cached_lines`` False: the line
    visits, read once here, are computed inline rather than kept in the engine."""
    parts = [history.visits("all")]
    if history.has_business_line:
        parts.append(history.visits("lines") if cached_lines else visits_expr(history, "lines", detail=False))
    out = []
    for v in parts:
        v = v.filter(v.visit_date.between(ibis.date(period.start), ibis.date(period.end)))
        first = v.visit_number == 1
        line = ibis.cases((v.scope == ALL_LINES, ibis.literal(ALL, "string")), else_=v.scope)
        v = v.mutate(first=first, line=line)
        out.append(history.execute(v.group_by("line").aggregate(
            new_customers=v.first.sum(), first_revenue=v.amount.sum(where=v.first),
            repeat_visits=(~v.first).sum(), repeat_revenue=v.amount.sum(where=~v.first),
            returning_customers=v.customer_id.nunique(where=~v.first), sales=v.amount.sum(),
        )))
    return pd.concat(out, ignore_index=True).assign(brand=brand)


def _scope_refunds(refunds, by_brand: bool, by_line: bool, period: Period):
    r = refunds.filter(refunds.refund_date.between(ibis.date(period.start), ibis.date(period.end)))
    if by_line:
        r = r.filter(r.business_line.notnull())
    if by_brand:
        r = r.filter(r.brand.notnull())
    brand, line = _scope_cols(r, by_brand, by_line)
    return r.group_by(brand=brand, line=line).aggregate(refunds=r.amount.sum())


def _first_visits_of(sales: SalesHistory, customers: list[str], period: Period) -> pd.DataFrame:
    """brand, customer_id, first_visit of the given customers whose first visit to the brand is in the period."""
    if not customers or not sales.brands():
        return pd.DataFrame(columns=["brand", "customer_id", "first_visit"])
    keep = sales.customer_set(customers)
    parts = []
    for b in sales.brands():
        v = sales.subset(brands=[b]).visits("all")
        v = v.filter(v.visit_number == 1, v.visit_date.between(ibis.date(period.start), ibis.date(period.end)))
        j = v.semi_join(keep, "customer_id")
        parts.append(j.select(brand=ibis.literal(b, "string"), customer_id=j.customer_id, first_visit=j.visit_date))
    u = parts[0]
    for x in parts[1:]:
        u = u.union(x, distinct=False)
    return sales.execute(u)


# --------------------------------------------------------------------------- the decomposition


def decomposition(case, sales: SalesHistory, leads: pd.DataFrame | None = None,
                  period: Period | None = None) -> pd.DataFrame:
    """One row per scope (brand x line; ``all`` = every brand / every line): the factors of the
    formula, formula_revenue, actual_revenue, other (refunds), reconciliation (module doc).
    Columns: brand, business_line, period_start, period_end, period_months, the
    ``FORMULA_FACTORS``, first_visit_revenue, repeat_revenue, repeat_visits, sales, refunds,
    formula_revenue, actual_revenue, other, reconciliation."""
    period = period or money_period(sales.history_start, sales.as_of)
    refunds = sales.refund_rows
    brands = sales.brands()
    parts = [_scope_visits(sales, ALL, period)] + [_scope_visits(sales.subset(brands=[b]), b, period, cached_lines=False)
                                                   for b in brands]
    t = pd.concat(parts, ignore_index=True)
    ref = None
    for b, l in [(False, False), (False, True), (True, False), (True, True)]:
        if (l and not sales.has_business_line) or (b and not brands):
            continue
        y = _scope_refunds(refunds, b, l, period)
        ref = y if ref is None else ref.union(y, distinct=False)
    rf = sales.execute(ref)
    t = t.merge(rf, on=["brand", "line"], how="left")
    t = t[t["brand"].notna() & t["line"].notna()].copy()
    num = ["new_customers", "first_revenue", "repeat_visits", "repeat_revenue", "returning_customers", "sales", "refunds"]
    t[num] = t[num].astype(float).fillna(0.0)
    t = t.rename(columns={"line": "business_line", "first_revenue": "first_visit_revenue"})

    def div(a, b):
        return a / b.where(b > 0)

    t["first_visit_check"] = div(t["first_visit_revenue"], t["new_customers"])
    t["visits_per_returning_customer"] = div(t["repeat_visits"], t["returning_customers"])
    t["repeat_check"] = div(t["repeat_revenue"], t["repeat_visits"])
    t["formula_revenue"] = (t["new_customers"] * t["first_visit_check"].fillna(0.0)
                            + t["returning_customers"] * t["visits_per_returning_customer"].fillna(0.0)
                            * t["repeat_check"].fillna(0.0))
    t["actual_revenue"] = t["sales"] + t["refunds"]
    t["other"] = t["actual_revenue"] - t["formula_revenue"]
    t["reconciliation"] = div(t["formula_revenue"], t["actual_revenue"])
    for c in ("leads", "lead_to_deal", "deals", "new_customers_from_leads", "new_customers_without_lead"):
        t[c] = float("nan")
    _funnel_factors(case, sales, t, leads, period)
    t["period_start"], t["period_end"], t["period_months"] = period.start, period.end, period.months
    cols = ["brand", "business_line", "period_start", "period_end", "period_months", *FORMULA_FACTORS,
            "first_visit_revenue", "repeat_revenue", "repeat_visits", "sales", "refunds", "formula_revenue",
            "actual_revenue", "other", "reconciliation"]
    order = {ALL: 0}
    t = t.assign(_b=t["brand"].map(lambda x: order.get(x, 1)), _l=t["business_line"].map(lambda x: order.get(x, 1)))
    t = t.sort_values(["_b", "brand", "_l", "business_line"], kind="stable")
    return t[cols].reset_index(drop=True)


def _funnel_factors(case, sales, t: pd.DataFrame, leads: pd.DataFrame | None, period: Period) -> None:
    """Fill the funnel factors of the brand rows (line ``all``) where the brand has leads, and
    of the company row (every brand's leads); in place."""
    model = stage_model(case)
    if leads is None or not len(leads) or not len(model.funnel) or "brand" not in leads.columns:
        return
    d = pd.to_datetime(leads["created_at"])
    inside = leads[(d >= pd.Timestamp(period.start)) & (d <= pd.Timestamp(period.end))]
    if not len(inside):
        return
    linked = None
    if "customer_id" in inside.columns and inside["customer_id"].notna().any():
        o = lead_outcomes(inside, model)
        deals = o[o["reached_deal"] & o["customer_id"].notna()].astype({"customer_id": "string"})
        first = _first_visits_of(sales, sorted(set(deals["customer_id"].dropna())), period)
        m = deals[["brand", "customer_id", "created_at"]].astype({"brand": "string"}).merge(
            first.astype({"brand": "string", "customer_id": "string"}), on=["brand", "customer_id"], how="inner")
        m = m[pd.to_datetime(m["created_at"]) <= pd.to_datetime(m["first_visit"])]
        linked = m.drop_duplicates(["brand", "customer_id"]).groupby("brand").size()
    brands = sorted(inside["brand"].dropna().astype(str).unique())
    for label, sel in [(b, inside[inside["brand"].astype(str) == b]) for b in brands] + [(ALL, inside)]:
        i = t.index[(t["brand"] == label) & (t["business_line"] == ALL)]
        if not len(i):
            continue
        c = lead_to_deal(sel, model)
        t.loc[i, "leads"], t.loc[i, "lead_to_deal"], t.loc[i, "deals"] = float(c["n"]), c["rate"], float(c["k"])
        if linked is not None:
            from_leads = float(linked.sum() if label == ALL else linked.get(label, 0))
            t.loc[i, "new_customers_from_leads"] = from_leads
            t.loc[i, "new_customers_without_lead"] = t.loc[i, "new_customers"] - from_leads


# --------------------------------------------------------------------------- what-if and metrics


def what_if_actual(table: pd.DataFrame, improvement: float = 0.1, period: Period | None = None,
                   stages: Mapping[str, list[str]] | None = None) -> pd.DataFrame:
    """Annual revenue change when one factor improves by ``improvement`` (module doc), on actual
    revenue. Columns: brand, business_line, factor, stages, improvement, revenue_base (actual,
    annual), revenue_change (annual)."""
    factor = period.factor if period is not None else 1.0
    rows = []
    for r in table.to_dict(orient="records"):
        moved = {
            "new_customers": r["first_visit_revenue"], "first_visit_check": r["first_visit_revenue"],
            "returning_customers": r["repeat_revenue"], "visits_per_returning_customer": r["repeat_revenue"],
            "repeat_check": r["repeat_revenue"],
        }
        deals = r.get("deals")
        if deals is not None and not (isinstance(deals, float) and math.isnan(deals)) and r.get("first_visit_check"):
            moved["leads"] = moved["lead_to_deal"] = deals * r["first_visit_check"]
        for f in WHAT_IF_FACTORS:
            if f not in moved or moved[f] is None or (isinstance(moved[f], float) and math.isnan(moved[f])):
                continue
            rows.append({"brand": r["brand"], "business_line": r["business_line"], "factor": f,
                         "stages": list((stages or {}).get(f, [])), "improvement": improvement,
                         "revenue_base": r["actual_revenue"] * factor, "revenue_change": moved[f] * improvement * factor})
    return pd.DataFrame(rows, columns=["brand", "business_line", "factor", "stages", "improvement", "revenue_base",
                                       "revenue_change"])


def profit_metrics(case, table: pd.DataFrame, period: Period | None = None, improvement: float = 0.1) -> dict[str, Any]:
    """metrics.json's ``profit``: ``{<brand or business line or 'all'>: {factors: {<factor>:
    {value, stage, stages}}, formula_revenue, actual_revenue, other, other_reason, reconciliation,
    annual_actual_revenue, what_if: {factor: annual change}}}`` plus ``period`` and
    ``what_if_improvement``; a brand's key is its line-``all`` row, a line's key its brand-``all``
    row. ``{"skipped": reason}`` without a table."""
    if table is None or not len(table):
        return {"skipped": "no transactions in this case"}
    st = formula_stages(case)
    wi = what_if_actual(table, improvement, period, st)
    factor = period.factor if period is not None else 1.0
    out: dict[str, Any] = {}
    for r in table.to_dict(orient="records"):
        if r["brand"] != ALL and r["business_line"] != ALL:
            continue
        key = r["brand"] if r["business_line"] == ALL else r["business_line"]
        w = wi[(wi["brand"] == r["brand"]) & (wi["business_line"] == r["business_line"])]
        factors = {}
        for f in FORMULA_FACTORS:
            v = r.get(f)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            factors[f] = {"value": v, "stage": (st.get(f) or [None])[0], "stages": st.get(f, [])}
        out[str(key)] = {
            "scope": {"brand": r["brand"], "business_line": r["business_line"]},
            "factors": factors,
            "formula_revenue": r["formula_revenue"],
            "actual_revenue": r["actual_revenue"],
            "other": r["other"],
            "other_reason": "money.profit.other_refunds" if abs(r["other"]) > 0.005 else None,
            "reconciliation": r["reconciliation"],
            "annual_actual_revenue": r["actual_revenue"] * factor,
            "what_if": dict(zip(w["factor"], w["revenue_change"])),
        }
    if period is not None:
        out["period"] = period.as_dict()
    out["what_if_improvement"] = improvement
    return jsonable(out)
