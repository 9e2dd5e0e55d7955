"""What a deal of the budget brand is worth: its paid share, the check of the first paid visit,
the revenue per customer (``toolkit.double_funnel.nontarget``, *Scenarios*, for the rules)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from toolkit.core.sales import build_visits, sales_history
from toolkit.core.stats import mean_interval
from toolkit.double_funnel.leads import lead_outcomes, rate_with_ci
from toolkit.loyalty.repeat import lifetime_value


def brand_transactions(transactions: pd.DataFrame | None, brand: str) -> pd.DataFrame | None:
    """The transactions of one brand (None when there are none or no brand column)."""
    if transactions is None or "brand" not in transactions.columns:
        return None
    t = transactions[transactions["brand"] == brand]
    return t if len(t) else None


def _brand_visits(transactions, refunds, as_of, visit_definition):
    """The brand's visits (``toolkit.core.sales.build_visits``) and its observed LTV row."""
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
