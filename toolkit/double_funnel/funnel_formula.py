"""The funnel form of the profit formula (METHOD.md §7): revenue = traffic x conversion x average
check x purchases per customer, each factor measured from the case's data over the funnel's own
window, with the journey stage that moves it. It feeds the CRM specification (what to record at
each stage); the money basis and the reconciliation with actual revenue are in
``toolkit.double_funnel.profit``.

Terms used below
----------------
window
    The period every factor of a brand is measured over, so that they multiply: the months
    covered by the brand's traffic rows (first to last month, whole months) when the case has
    traffic for the brand; else the days from the brand's first to its last lead; else (no
    traffic, no leads) the brand's whole sales history up to ``as_of``.
traffic
    Website/app sessions of the brand in the window (``traffic`` table). Without traffic, the
    brand's **leads stand in** for it (``traffic_source = 'leads'``) and traffic -> lead is 1.
conversion
    traffic -> lead x lead -> deal. traffic -> lead = leads created in the window / sessions
    (``toolkit.stage_mapping.funnel.traffic_to_lead``: a rate per session, not per person); lead -> deal =
    leads of the window that reached the deal stage / leads of the window
    (``toolkit.double_funnel.nontarget.lead_to_deal``; the deal stage as defined there). Without leads
    the conversion is not measured.
average check
    Revenue / visits in the window: the mean amount of a visit (visits as ``toolkit.core.sales``
    defines them: a customer-day by default), with a t-interval.
purchases per customer
    Visits / customers with at least one visit in the window.
measured revenue
    The sum of the amounts of the brand's visits in the window (gross: refunds are not
    netted, because a refund is not a purchase and the formula counts purchases).
formula revenue
    traffic x conversion x average check x purchases per customer = deals x revenue /
    customers. It equals the measured revenue only when every paying customer of the window
    came through the lead funnel of the window: ``reconciliation`` = formula / measured =
    deals / customers. Below 1: customers bought without a lead of the window (repeat customers
    won earlier, walk-ins, leads not recorded); above 1: deals that did not show up as visits
    in the window (paid later, or several deals by one customer). The *implied conversion*
    customers / traffic is the conversion for which the formula reconciles exactly.
business line rows
    Leads and traffic carry no business line, so a line's traffic is its brand's. The line a
    brand's funnel *feeds* is the business line of the first visit (on or after the lead) of
    more than half of the brand's deals linked to a customer (``leads.customer_id``,
    ``toolkit.double_funnel.nontarget.linked_first_visits``); that line's conversion is the funnel's
    (``conversion_basis = 'funnel'``). Every other line's conversion is the implied one (line
    customers / brand traffic, ``conversion_basis = 'implied'``), so those rows reconcile by
    construction. Check and purchases come from the line's own visits (the n-th visit *to that
    line*, ``toolkit.core.sales`` scopes).
brand ``all``
    Every brand together (all traffic, all leads, all transactions); its traffic is the sessions
    only when every brand with leads has traffic rows, else the leads stand in.

Journey stage of each factor
----------------------------
traffic -> ``framing``; conversion -> ``evaluation`` and ``deal``; average check -> ``deal``;
purchases per customer -> ``experience``, ``trigger``, ``loyalty_loop`` -- the ids present in the
case's journey. **Fallback** for a factor none of whose normative ids is in the case's journey
(custom stage lists): traffic -> the first journey stage; conversion -> the journey stages of
the funnel stages up to and including the deal stage (no funnel: the second journey stage);
average check -> the journey stage of the deal stage (no funnel: the middle journey stage);
purchases -> the journey stages after the average check's stage (none: the last stage).

What-if
-------
Improving one factor by x % multiplies the formula revenue by (1 + x): the change is
x x formula revenue whichever factor moves (the formula is a product). Several factors at once
multiply: revenue x prod(1 + x_i) - revenue.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import ibis
import numpy as np
import pandas as pd

from toolkit.core.config import Case
from toolkit.core.sales import ALL_LINES, SalesHistory, as_sales_history, customer_visits
from toolkit.double_funnel.deal_money import linked_first_visits
from toolkit.double_funnel.leads import deal_stage, lead_outcomes, lead_to_deal
from toolkit.stage_mapping.funnel import jsonable, traffic_to_lead
from toolkit.core.stages import stage_model
from toolkit.core.stats import mean_interval_from

ALL = "all"
FACTORS = ("traffic", "conversion", "average_check", "purchases_per_customer")
FACTOR_STAGES = {
    "traffic": ("framing",),
    "conversion": ("evaluation", "deal"),
    "average_check": ("deal",),
    "purchases_per_customer": ("experience", "trigger", "loyalty_loop"),
}
FACTOR_LABELS = {
    "traffic": {"ru": "Трафик", "en": "Traffic"},
    "conversion": {"ru": "Конверсия", "en": "Conversion"},
    "average_check": {"ru": "Средний чек", "en": "Average check"},
    "purchases_per_customer": {"ru": "Покупок на клиента", "en": "Purchases per customer"},
}


# --------------------------------------------------------------------------- stages


def factor_stages(case) -> dict[str, list[str]]:
    """Journey stage ids that move each factor (module doc: normative ids, else the fallback)."""
    model = stage_model(case)
    ids = model.stage_ids()
    out = {f: [s for s in FACTOR_STAGES[f] if s in ids] for f in FACTORS}
    if not ids:
        return out
    fn = model.funnel.sort_values("order")
    _, d_order, _ = deal_stage(model)
    order = model.stage_order()
    if not out["traffic"]:
        out["traffic"] = [ids[0]]
    if not out["conversion"]:
        if len(fn):
            js = fn.loc[fn["order"] <= d_order, "journey_stage"]
            out["conversion"] = sorted(dict.fromkeys(js), key=order.get)
        else:
            out["conversion"] = [ids[min(1, len(ids) - 1)]]
    if not out["average_check"]:
        if len(fn):
            out["average_check"] = [str(fn.loc[fn["order"] == d_order, "journey_stage"].iloc[0])]
        else:
            out["average_check"] = [ids[len(ids) // 2]]
    if not out["purchases_per_customer"]:
        after = [s for s in ids if order[s] > order[out["average_check"][0]]]
        out["purchases_per_customer"] = after or [ids[-1]]
    return out


# --------------------------------------------------------------------------- windows and factors


def _window(brand_traffic: pd.DataFrame | None, brand_leads: pd.DataFrame | None, as_of) -> tuple[pd.Timestamp | None, pd.Timestamp | None, str]:
    """``(start, end, basis)`` of the measurement window (module doc); end inclusive."""
    if brand_traffic is not None and len(brand_traffic):
        m = pd.to_datetime(brand_traffic["period"]).dt.to_period("M")
        return m.min().start_time.normalize(), m.max().end_time.normalize(), "traffic_months"
    if brand_leads is not None and len(brand_leads):
        d = pd.to_datetime(brand_leads["created_at"])
        return d.min().normalize(), d.max().normalize(), "lead_dates"
    return None, pd.Timestamp(as_of) if as_of is not None else None, "sales_history"


def _sales_factors(sales: SalesHistory, start, end, per_line: bool, confidence: float) -> dict[str, dict[str, Any]]:
    """The sales factors of each scope (``all``, or each business line with ``per_line``) over the
    visits dated in the window (``start``/``end`` inclusive; None: open), computed in the engine:
    revenue, visits, customers, average check with its t-interval, purchases per customer."""
    v = sales.visits("lines" if per_line else "all")
    if start is not None:
        v = v.filter(v.visit_date >= ibis.date(pd.Timestamp(start).date()))
    if end is not None:
        v = v.filter(v.visit_date <= ibis.date(pd.Timestamp(end).date()))
    agg = sales.execute(v.group_by("scope").aggregate(
        revenue=v.amount.sum(), n=v.count(), mean=v.amount.mean(), sd=v.amount.std(how="sample"),
        customers=v.customer_id.nunique()))
    found = {str(r["scope"]): r for r in agg.to_dict(orient="records")}
    scopes = sales.lines() if per_line else [ALL_LINES]
    out = {}
    for scope in scopes:
        r = found.get(scope)
        customers = int(r["customers"]) if r else 0
        mean, lo, hi, n = mean_interval_from(r["n"], r["mean"], r["sd"], confidence) if r else mean_interval_from(0, 0, 0)
        out[ALL if scope == ALL_LINES else scope] = {
            "revenue": float(r["revenue"]) if n else 0.0,
            "visits": n,
            "customers": customers,
            "average_check": mean,
            "average_check_ci": [max(0.0, lo) if not math.isnan(lo) else lo, hi],
            "purchases_per_customer": n / customers if customers else float("nan"),
        }
    return out


def profit_table(
    case: Case,
    transactions: pd.DataFrame | None,
    leads: pd.DataFrame | None = None,
    traffic: pd.DataFrame | None = None,
    refunds: pd.DataFrame | None = None,
    whole_case_only: bool = False,
) -> pd.DataFrame:
    """One row per brand (and ``all``) and business line (``all`` = the whole brand): the four
    factors, the formula revenue, the measured revenue and their reconciliation (module doc).
    ``whole_case_only``: only the row of the whole case (brand ``all``, or the only brand, line
    ``all``), which the CRM specification reads: one visit table is built instead of two per brand.

    Columns: brand, business_line, window_start, window_end, window_basis, traffic,
    traffic_source, leads, traffic_to_lead, traffic_to_lead_ci, deals, lead_to_deal,
    lead_to_deal_ci, conversion, conversion_basis, implied_conversion, average_check,
    average_check_ci, visits, customers, purchases_per_customer, formula_revenue,
    measured_revenue, reconciliation, reconciliation_note.
    """
    p = case.parameters
    conf = p.confidence
    model = stage_model(case)
    rows: list[dict] = []
    if transactions is None or (isinstance(transactions, pd.DataFrame) and not len(transactions)):
        return pd.DataFrame(rows)
    own = not isinstance(transactions, SalesHistory)
    sales = as_sales_history(transactions, refunds=refunds if refunds is not None and len(refunds) else None,
                             as_of=case.as_of, visit_definition=p.visit_definition, cache=True)
    try:
        return _profit_rows(case, sales, leads, traffic, whole_case_only, model, conf)
    finally:
        if own:
            sales.close()


def _profit_rows(case: Case, sales: SalesHistory, leads, traffic, whole_case_only: bool, model, conf) -> pd.DataFrame:
    rows: list[dict] = []
    brands = sales.brands() or [case.brands[0].id]  # a one-brand export: every row is that brand
    one_brand = not sales.brands()
    groups = [(b, b) for b in brands] + ([(ALL, None)] if len(brands) > 1 else [])
    if whole_case_only:
        groups = groups[-1:]
    for label, brand in groups:
        bsales = sales if brand is None or one_brand else sales.subset(brands=[brand])
        btr = None
        if traffic is not None and len(traffic):
            btr = traffic if brand is None else traffic[traffic["brand"] == brand]
            btr = btr if len(btr) else None
            lead_brands = set(leads["brand"].dropna().astype(str)) if leads is not None else set()
            if brand is None and lead_brands - set(traffic["brand"].dropna().astype(str)):
                btr = None  # a brand with leads has no traffic: sessions would not cover its leads
        bld = None
        if leads is not None and len(leads):
            bld = leads if brand is None else leads[leads["brand"] == brand]
            bld = bld if len(bld) else None
        start, end, basis = _window(btr, bld, case.as_of)
        in_window_leads = None
        if bld is not None:
            d = pd.to_datetime(bld["created_at"])
            in_window_leads = bld[(d >= start) & (d <= end)] if start is not None else bld
        # traffic and conversion (brand level)
        f = {"traffic": float("nan"), "traffic_source": None, "leads": 0, "traffic_to_lead": float("nan"),
             "traffic_to_lead_ci": [float("nan"), float("nan")], "deals": 0, "lead_to_deal": float("nan"),
             "lead_to_deal_ci": [float("nan"), float("nan")]}
        if btr is not None:
            ttl = traffic_to_lead(
                (in_window_leads if in_window_leads is not None else pd.DataFrame(columns=["brand", "created_at"])).assign(brand=label),
                btr.assign(brand=label), confidence=conf,
            )
            r = ttl.iloc[0]
            f.update(traffic=float(r["sessions"]), traffic_source="sessions", traffic_to_lead=float(r["rate"]),
                     traffic_to_lead_ci=[float(r["ci_lo"]), float(r["ci_hi"])])
        elif in_window_leads is not None:
            f.update(traffic=float(len(in_window_leads)), traffic_source="leads", traffic_to_lead=1.0,
                     traffic_to_lead_ci=[1.0, 1.0])
        if in_window_leads is not None and len(model.funnel):
            c = lead_to_deal(in_window_leads, model, conf)
            f.update(leads=c["n"], deals=c["k"], lead_to_deal=c["rate"], lead_to_deal_ci=c["ci"])
        # sales factors, brand and each line, over the visits of the window
        scopes = _sales_factors(bsales, start, end, False, conf)
        if not whole_case_only:
            scopes.update(_sales_factors(bsales, start, end, True, conf))
        fed = funnel_line(in_window_leads, bsales, model) if in_window_leads is not None else None
        for line, s in scopes.items():
            row = {"brand": label, "business_line": line, "window_start": start, "window_end": end,
                   "window_basis": basis, **f, **s}
            traffic_n = row["traffic"]
            row["implied_conversion"] = s["customers"] / traffic_n if traffic_n and traffic_n > 0 else float("nan")
            if line in (ALL, fed) and not math.isnan(row["lead_to_deal"]):
                row["conversion"] = row["traffic_to_lead"] * row["lead_to_deal"]
                row["conversion_basis"] = "funnel"
            else:
                row["conversion"] = row["implied_conversion"]
                row["conversion_basis"] = "implied"
                if line != ALL:
                    row.update(leads=None, deals=None, lead_to_deal=float("nan"))
            row["formula_revenue"] = (row["traffic"] * row["conversion"] * s["average_check"]
                                      * s["purchases_per_customer"])
            row["measured_revenue"] = s["revenue"]
            row["reconciliation"] = (row["formula_revenue"] / s["revenue"]) if s["revenue"] else float("nan")
            row["reconciliation_note"] = reconciliation_note(row)
            rows.append(row)
    out = pd.DataFrame(rows)
    return out.drop(columns=["revenue"]).reset_index(drop=True)


def funnel_line(leads: pd.DataFrame | None, sales: SalesHistory, model) -> str | None:
    """The business line a brand's lead funnel feeds (module doc), or None when no deal links to
    a customer or no line has more than half of the linked deals. ``sales``: the brand's sales
    history; only the visits of the deals' customers are read."""
    if leads is None or not len(leads) or "customer_id" not in leads.columns or not sales.has_business_line:
        return None
    o = lead_outcomes(leads, model)
    deals = o[o["reached_deal"]]
    m = linked_first_visits(deals, customer_visits(sales, deals["customer_id"])).dropna(subset=["business_line"])
    if not len(m):
        return None
    share = m["business_line"].astype(str).value_counts(normalize=True).sort_index()
    top = share[share > 0.5]
    return str(top.index[0]) if len(top) else None


def reconciliation_note(row: Mapping) -> str:
    """One sentence on how the product of the factors compares with the measured revenue."""
    r = row.get("reconciliation")
    if r is None or not np.isfinite(r):
        return "not reconciled: a factor is not measured (no traffic/leads or no sales in the window)"
    if row.get("conversion_basis") == "implied":
        return "reconciles by construction: conversion is implied (customers / traffic)"
    if abs(r - 1) <= 0.01:
        return "reconciles: deals of the funnel = paying customers of the window"
    deals, customers = row.get("deals"), row.get("customers")
    if r < 1:
        return (f"formula = {r:.0%} of measured revenue: {customers} customers bought in the window but the funnel "
                f"shows {deals} deals; the rest came without a lead of the window (repeat customers won earlier, "
                "walk-ins, unrecorded leads)")
    return (f"formula = {r:.0%} of measured revenue: the funnel shows {deals} deals but only {customers} customers "
            "bought in the window (deals paid later or several deals per customer)")


# --------------------------------------------------------------------------- what-if


def what_if(table: pd.DataFrame, improvement: float | Mapping[str, float] = 0.1,
            stages: Mapping[str, list[str]] | None = None) -> pd.DataFrame:
    """Revenue change when factors improve (module doc).

    ``improvement``: one fraction (every factor in turn, one at a time: one row per brand, line
    and factor) or ``{factor: fraction}`` (those factors together: one row per brand and line,
    factor ``'+'``-joined). Columns: brand, business_line, factor, stages, base_value,
    new_value, improvement, revenue_base, revenue_new, revenue_change.
    """
    rows = []
    for r in table.to_dict(orient="records"):
        base = r["formula_revenue"]
        if isinstance(improvement, Mapping):
            mult = float(np.prod([1 + float(x) for x in improvement.values()]))
            rows.append({"brand": r["brand"], "business_line": r["business_line"], "factor": "+".join(improvement),
                         "stages": sorted({s for f in improvement for s in (stages or {}).get(f, [])}),
                         "base_value": None, "new_value": None, "improvement": mult - 1,
                         "revenue_base": base, "revenue_new": base * mult, "revenue_change": base * (mult - 1)})
            continue
        for f in FACTORS:
            x = float(improvement)
            rows.append({"brand": r["brand"], "business_line": r["business_line"], "factor": f,
                         "stages": list((stages or {}).get(f, [])), "base_value": r[f], "new_value": r[f] * (1 + x),
                         "improvement": x, "revenue_base": base, "revenue_new": base * (1 + x),
                         "revenue_change": base * x})
    return pd.DataFrame(rows)


def funnel_formula_metrics(case: Case, table: pd.DataFrame, improvement: float = 0.1) -> dict[str, Any]:
    """JSON-able ``{"factor_stages", "brands": {brand: {line: {factors..., formula_revenue,
    measured_revenue, reconciliation, reconciliation_note, what_if: {factor: revenue_change}}}}}``;
    ``{"skipped": reason}`` without transactions."""
    if table is None or not len(table):
        return {"skipped": "no transactions in this case"}
    st = factor_stages(case)
    wi = what_if(table, improvement, st)
    out: dict[str, Any] = {"factor_stages": st, "what_if_improvement": improvement, "brands": {}}
    for r in table.to_dict(orient="records"):
        w = wi[(wi["brand"] == r["brand"]) & (wi["business_line"] == r["business_line"])]
        r = dict(r, window_start=str(pd.Timestamp(r["window_start"]).date()) if pd.notna(r["window_start"]) else None,
                 window_end=str(pd.Timestamp(r["window_end"]).date()) if pd.notna(r["window_end"]) else None)
        r["what_if"] = dict(zip(w["factor"], w["revenue_change"]))
        out["brands"].setdefault(str(r.pop("brand")), {})[str(r.pop("business_line"))] = r
    return jsonable(out)
