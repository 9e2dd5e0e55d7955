"""Dependency on staff per business line (definitions: :mod:`toolkit.loyalty.repeat`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.core.sales import SalesHistory, as_sales_history, visit_totals_sql
from toolkit.core.stats import wilson_interval

# -- staff dependency --------------------------------------------------------------------------


def _staff_ctes(sales: SalesHistory) -> str:
    """CTEs of the staff-dependency definitions (see the module docstring): ``line_visits``,
    ``customer_line_visits``, ``repeat_customers``, ``visits_with_staff``, ``attached``,
    ``line_totals``, ``attached_money``."""
    return f"""
        line_visits AS ({visit_totals_sql(sales, per_line=True, with_staff=True)}
        ),
        line_refunds AS (
            SELECT business_line, customer_id, sum(amount) AS refunds
            FROM refund_rows WHERE business_line IS NOT NULL GROUP BY ALL
        ),
        customer_line_visits AS (   -- each customer's visits in each line: how many, with a known staff
                                    -- member, and the net revenue (line refunds netted)
            SELECT v.business_line, v.customer_id, count(*) AS visits, count(v.staff_id) AS staffed_visits,
                   sum(v.amount) + coalesce(any_value(r.refunds), 0) AS monetary
            FROM line_visits v LEFT JOIN line_refunds r USING (business_line, customer_id)
            GROUP BY ALL
        ),
        repeat_customers AS (       -- >= 2 visits in the line, at least one with a known staff member
            SELECT * FROM customer_line_visits WHERE visits >= 2 AND staffed_visits >= 1
        ),
        visits_with_staff AS (      -- how many of a customer's line visits each staff member led
            SELECT business_line, customer_id, staff_id, count(*) AS staff_visits
            FROM line_visits WHERE staff_id IS NOT NULL GROUP BY ALL
        ),
        attached AS (               -- the staff member who led more than half of the known-staff visits
            SELECT r.business_line, r.customer_id, s.staff_id, r.monetary
            FROM repeat_customers r JOIN visits_with_staff s USING (business_line, customer_id)
            WHERE 2 * s.staff_visits > r.staffed_visits
        ),
        line_totals AS (            -- every line: its repeat customers and its net revenue
            SELECT business_line, sum(monetary) AS line_revenue,
                   count(*) FILTER (WHERE visits >= 2 AND staffed_visits >= 1) AS repeat_customers
            FROM customer_line_visits GROUP BY ALL
        ),
        attached_money AS (         -- the whole-history net revenue of every attached customer
            SELECT customer_id, sum(amount) AS monetary FROM (
                SELECT customer_id, amount FROM sale_rows
                WHERE customer_id IN (SELECT customer_id FROM attached)
                UNION ALL
                SELECT customer_id, amount FROM refund_rows
                WHERE customer_id IN (SELECT customer_id FROM attached)
            ) GROUP BY ALL
        )"""


_STAFF_COLUMNS = ["business_line", "staff_id", "attached_customers", "attached_revenue", "attached_revenue_all_lines",
                  "repeat_customers", "line_revenue"]


def _staff_table(sales: SalesHistory) -> pd.DataFrame:
    """One query: a row per line and attached staff member (and a row with a null staff member
    for a line with no attached customer), with the line's totals."""
    df = sales.query(
        f"""WITH {_staff_ctes(sales)},
        per_staff AS (
            SELECT a.business_line, a.staff_id, count(*) AS attached_customers,
                   sum(a.monetary) AS attached_revenue,
                   sum(m.monetary) AS attached_revenue_all_lines
            FROM attached a JOIN attached_money m USING (customer_id)
            GROUP BY ALL
        )
        SELECT lt.business_line, p.staff_id, coalesce(p.attached_customers, 0) AS attached_customers,
               p.attached_revenue, p.attached_revenue_all_lines, lt.repeat_customers, lt.line_revenue
        FROM line_totals lt LEFT JOIN per_staff p USING (business_line)
        ORDER BY lt.business_line, attached_customers DESC, p.staff_id"""
    )
    for c in ("attached_customers", "repeat_customers"):
        df[c] = df[c].astype("int64")
    return df[_STAFF_COLUMNS]


def staff_attachment(sales) -> pd.DataFrame:
    """Per business line and staff member: the repeat customers attached to them.

    Columns: ``business_line``, ``staff_id``, ``attached_customers``, ``attached_revenue`` (net
    line revenue of those customers), ``attached_revenue_all_lines`` (their net revenue in the
    whole history), ``repeat_customers`` and ``line_revenue`` of the line (all its customers,
    net). Sorted by line, attached customers (desc), staff id.
    """
    sales = as_sales_history(sales)
    if not (sales.has_business_line and sales.has_staff):
        return pd.DataFrame(columns=_STAFF_COLUMNS)
    df = _staff_table(sales)
    return df[df["staff_id"].notna()].reset_index(drop=True)


def staff_dependency(sales, *, min_segment_size: int = 30, confidence: float = 0.95) -> pd.DataFrame:
    """Staff dependency per business line (see the module docstring).

    One row per line: ``repeat_customers`` (>= 2 visits in the line, at least one with a known
    staff member; attachment is judged on the visits with a known staff member),
    ``attached_customers`` and ``attached_share`` (+ CI): repeat customers attached to any one
    staff member; ``top_staff``, ``top_staff_customers``,
    ``top_staff_share_of_repeat_customers`` (+ CI), ``top_staff_revenue`` (net line revenue of
    the customers attached to them), ``top_staff_revenue_share`` (of the line's net revenue),
    ``top_staff_revenue_all_lines``; ``suppressed``: the reason when the line has fewer than
    ``min_segment_size`` repeat customers (the shares are then null).
    """
    sales = as_sales_history(sales)
    if not (sales.has_business_line and sales.has_staff):
        return pd.DataFrame()
    table = _staff_table(sales)
    per_staff = table[table["staff_id"].notna()]
    lines = table.drop_duplicates("business_line")[["business_line", "repeat_customers", "line_revenue"]]
    lines["repeat_customers"] = lines["repeat_customers"].astype("int64")
    attached = per_staff.groupby("business_line", as_index=False)["attached_customers"].sum()
    attached = attached.rename(columns={"attached_customers": "attached_total"})
    top = per_staff.drop_duplicates("business_line")  # sorted: most attached customers, then smallest id
    top = top[["business_line", "staff_id", "attached_customers", "attached_revenue",
               "attached_revenue_all_lines"]]
    top = top.rename(columns={
        "staff_id": "top_staff", "attached_customers": "top_staff_customers",
        "attached_revenue": "top_staff_revenue", "attached_revenue_all_lines": "top_staff_revenue_all_lines",
    })
    out = lines.merge(attached, how="left", on="business_line").merge(top, how="left", on="business_line")
    out["attached_customers"] = out.pop("attached_total").fillna(0).astype("int64")
    out["top_staff_customers"] = out["top_staff_customers"].fillna(0).astype("int64")
    n = out["repeat_customers"].to_numpy()
    small = n < min_segment_size
    for name, k in (("attached_share", out["attached_customers"]),
                    ("top_staff_share_of_repeat_customers", out["top_staff_customers"])):
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(n > 0, k.to_numpy() / np.maximum(n, 1), np.nan)
        lo, hi = wilson_interval(k.to_numpy(), n, confidence)
        out[name] = pd.Series(share, index=out.index).where(~small)
        out[f"{name}_ci_low"] = pd.Series(np.atleast_1d(lo), index=out.index).where(~small)
        out[f"{name}_ci_high"] = pd.Series(np.atleast_1d(hi), index=out.index).where(~small)
    with np.errstate(divide="ignore", invalid="ignore"):
        rev_share = out["top_staff_revenue"] / out["line_revenue"]
    out["top_staff_revenue_share"] = rev_share.where(~small)
    out["suppressed"] = pd.Series(
        np.where(small, "repeat customers " + out["repeat_customers"].astype(str)
                 + f" < min_segment_size {min_segment_size}", None),
        index=out.index, dtype="str",
    )
    return out.drop(columns="line_revenue")
