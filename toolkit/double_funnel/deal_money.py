"""What a deal of the budget brand is worth: its paid share, the check of the first paid visit,
the revenue per customer (``toolkit.double_funnel.nontarget``, *Scenarios*, for the rules)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from toolkit.core.sales import SalesHistory, as_sales_history, customer_visits
from toolkit.core.stats import mean_interval, mean_interval_from
from toolkit.double_funnel.leads import lead_outcomes, rate_with_ci
from toolkit.loyalty.repeat import lifetime_value


def brand_sales(sales: SalesHistory | None, brand: str) -> SalesHistory | None:
    """The sales history of one brand (``SalesHistory.subset``, same engine), or None when the
    rows carry no brand or none of this one."""
    if sales is None or brand not in sales.brands():
        return None
    return sales.subset(brands=[brand])


def amount_interval(sales: SalesHistory, visits, confidence: float) -> tuple[float, float, float, int]:
    """Mean visit amount of an ibis visit table with its t-interval (``toolkit.core.stats.mean_interval``
    computed in the engine: only n, the mean and the standard deviation come back)."""
    a = sales.execute(visits.aggregate(n=visits.count(), mean=visits.amount.mean(),
                                       sd=visits.amount.std(how="sample"))).iloc[0]
    return mean_interval_from(a["n"], a["mean"], a["sd"], confidence)


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
    sales: SalesHistory | pd.DataFrame | None,
    refunds: pd.DataFrame | None = None,
    *,
    as_of=None,
    visit_definition: str = "customer_day",
    confidence: float = 0.95,
) -> dict[str, Any]:
    """What a deal of a brand is worth (module doc, *average check*).

    ``leads``: that brand's leads; ``sales``: that brand's sales history (:func:`brand_sales`;
    a transactions DataFrame with ``refunds`` is also accepted). With lead -> customer links
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
    if sales is None or (isinstance(sales, pd.DataFrame) and not len(sales)):
        return out
    own = not isinstance(sales, SalesHistory)
    sales = as_sales_history(sales, refunds=refunds, as_of=as_of, visit_definition=visit_definition, cache=True)
    try:
        _deal_money(out, leads, model, sales, confidence)
    finally:
        if own:
            sales.close()
    return out


def _deal_money(out: dict, leads, model, sales: SalesHistory, confidence: float) -> None:
    visits = sales.visits("all")
    out.update(all_visits_mean=amount_interval(sales, visits, confidence)[0])
    ltv = lifetime_value(sales, cohort=None, per_line=False)
    if len(ltv):
        ltv = ltv.iloc[0]
        out.update(revenue_per_customer=float(ltv["revenue_per_customer"]), revenue_per_customer_basis="brand_ltv",
                   visits_per_customer=float(ltv["visits_per_customer"]), customers=int(ltv["customers"]))
    stats = None
    if leads is not None and len(leads) and "customer_id" in leads.columns:
        o = lead_outcomes(leads, model)
        deals = o.loc[o["reached_deal"]]
        seen = customer_visits(sales, deals["customer_id"])  # only the deals' customers come back
        m = linked_first_visits(deals, seen)
        if len(m):
            mean, lo, hi, n = mean_interval(m["amount"].to_numpy(dtype=float), confidence)
            stats = (mean, lo, hi, n)
            r = rate_with_ci(len(m), len(deals), confidence)
            out.update(basis="lead_linked_first_visit", paid_share=r["rate"], paid_share_ci=r["ci"],
                       deals=len(deals), paid_deals=len(m))
            # what a paid deal's customer has spent at the brand since the lead (visits, gross)
            v = seen[["customer_id", "visit_date", "amount"]].astype({"customer_id": "string"})
            since = m[["lead_id", "customer_id", "created_at"]].merge(v, on="customer_id", how="inner")
            since = since[pd.to_datetime(since["visit_date"]) >= pd.to_datetime(since["created_at"])]
            out.update(revenue_per_customer=float(since.groupby("lead_id")["amount"].sum().mean()),
                       revenue_per_customer_basis="lead_linked_since_lead")
    if stats is None:
        stats = amount_interval(sales, visits.filter(visits.visit_number == 1), confidence)
        out.update(basis="all_customers_first_visit", paid_share=1.0, paid_share_ci=[1.0, 1.0])
    mean, lo, hi, n = stats
    lo = max(0.0, lo) if not math.isnan(lo) else lo  # amounts are never negative
    out.update(check=mean, check_ci=[lo, hi], check_n=n)
