"""Dependency on staff per business line (definitions: :mod:`toolkit.loyalty.repeat`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.core.sales import SalesHistory, as_sales_history
from toolkit.core.stats import wilson_interval
from toolkit.core.visits import visit_key, visit_totals_expr

# -- staff dependency --------------------------------------------------------------------------


_STAFF_COLUMNS = ["business_line", "staff_id", "attached_customers", "attached_revenue", "attached_revenue_all_lines",
                  "repeat_customers", "line_revenue"]


def _led_visits(sales: SalesHistory, per_customer):
    """Per line, customer and staff member: ``staff_visits``, the customer's line visits that
    staff member led (was the main staff member of: :func:`toolkit.core.sales.visit_totals_expr`).

    ``per_customer``: the customer's line visits (``business_line``, ``customer_id``,
    ``visits``). A visit is split into *parts*, one per staff member named on its rows (a blank
    staff member is a part too). A customer whose every line visit has a single part (nearly
    all: one staff member per visit) needs no ranking: each part is its visit and its staff
    member leads it; only the few customers with a visit of several parts (more parts than
    visits) are ranked by the definition. Exact, and no ranking of millions of visits."""
    line = ["business_line", "customer_id"]
    key = visit_key(sales, per_line=True)
    s = sales.sale_rows
    s = s.filter(s.business_line.notnull())
    parts = s.group_by(key + ["staff_id"]).aggregate(part_rows=s.count())
    per_staff = parts.group_by(line + ["staff_id"]).aggregate(staff_parts=parts.count())
    if sales.cache:  # read by each part below: computed once
        per_staff = sales.engine.materialise(sales.temp_name("staff_parts"), per_staff)
    counted = per_staff.group_by(line).aggregate(parts=per_staff.staff_parts.sum())
    counted = counted.join(per_customer, line)
    mixed = counted.filter(counted.parts > counted.visits).select(*line)
    if sales.cache:  # a few customers, read twice
        mixed = sales.engine.materialise(sales.temp_name("mixed"), mixed)
    single = per_staff.filter(per_staff.staff_id.notnull()).anti_join(mixed, line)
    single = single.select(*line, "staff_id", staff_visits=single.staff_parts)
    # (the semi-join reads the rows anew: sharing the filtered rows would keep all of them in memory)
    ranked = visit_totals_expr(sales, per_line=True, with_staff=True, rows=sales.sale_rows.semi_join(mixed, line))
    ranked = ranked.filter(ranked.staff_id.notnull())
    ranked = ranked.group_by(line + ["staff_id"]).aggregate(staff_visits=ranked.count())
    return single.union(ranked, distinct=False)


def _staff_table(sales: SalesHistory) -> pd.DataFrame:
    """A row per line and attached staff member (and a row with a null staff member for a line
    with no attached customer), with the line's totals (one query)."""
    line = ["business_line", "customer_id"]
    lv = sales.visits("lines")  # the line's visits (the step's cached table)
    r = sales.refund_rows
    r = r.filter(r.business_line.notnull())
    line_refunds = r.group_by(line).aggregate(refunds=r.amount.sum())
    # each customer's visits in each line: how many, with a known staff member, and the net revenue
    per_customer = lv.group_by(business_line=lv.scope, customer_id=lv.customer_id).aggregate(
        visits=lv.count(), revenue=lv.amount.sum())
    # how many of a customer's line visits each staff member led
    if sales.cache:  # read by the staff parts and below: computed once
        per_customer = sales.engine.materialise(sales.temp_name("line_customers"), per_customer)
    led = _led_visits(sales, per_customer.select(*line, "visits"))
    if sales.cache:  # read twice below: computed once
        led = sales.engine.materialise(sales.temp_name("led"), led)
    staffed = led.group_by(line).aggregate(staffed_visits=led.staff_visits.sum())
    clv = per_customer.left_join(line_refunds, line)
    clv = clv.select("business_line", "customer_id", "visits", monetary=clv.revenue + clv.refunds.fill_null(0.0))
    clv = clv.left_join(staffed, line)
    clv = clv.select("business_line", "customer_id", "visits", "monetary",
                     staffed_visits=clv.staffed_visits.fill_null(0))
    # repeat customers: >= 2 visits in the line, at least one with a known staff member
    is_repeat = (clv.visits >= 2) & (clv.staffed_visits >= 1)
    line_totals = clv.group_by("business_line").aggregate(line_revenue=clv.monetary.sum(),
                                                          repeat_customers=clv.count(where=is_repeat))
    repeat = clv.filter(is_repeat)
    # attached: the staff member led more than half of the visits with a known staff member
    attached = repeat.join(led, line)
    attached = attached.filter(2 * attached.staff_visits > attached.staffed_visits)
    attached = attached.select("business_line", "customer_id", "staff_id", "monetary")
    # the whole-history net revenue of every attached customer
    who = attached.select(attached_customer=attached.customer_id).distinct()
    s, rr = sales.sale_rows, sales.refund_rows
    money = s.select("customer_id", "amount").union(rr.select("customer_id", "amount"), distinct=False)
    money = money.semi_join(who, money.customer_id == who.attached_customer)
    money = money.group_by("customer_id").aggregate(monetary_all_lines=money.amount.sum())
    a = attached.join(money, "customer_id")
    per_staff = a.group_by(["business_line", "staff_id"]).aggregate(
        attached_customers=a.count(), attached_revenue=a.monetary.sum(),
        attached_revenue_all_lines=a.monetary_all_lines.sum())
    # the line totals with their staff rows: one query, so the per-customer table is computed once
    per_staff = per_staff.rename(staff_line="business_line")
    j = line_totals.left_join(per_staff, line_totals.business_line == per_staff.staff_line)
    df = sales.execute(j.select("business_line", "line_revenue", "repeat_customers", "staff_id", "attached_customers",
                                "attached_revenue", "attached_revenue_all_lines"))
    df["business_line"] = df["business_line"].astype("str")
    df["attached_customers"] = df["attached_customers"].fillna(0)
    for c in ("attached_customers", "repeat_customers"):
        df[c] = df[c].astype("int64")
    df["staff_id"] = df["staff_id"].astype("str")
    df = df.sort_values(["business_line", "attached_customers", "staff_id"], ascending=[True, False, True],
                        kind="stable")
    return df[_STAFF_COLUMNS].reset_index(drop=True)


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
        out[f"{name}_ci_lo"] = pd.Series(np.atleast_1d(lo), index=out.index).where(~small)
        out[f"{name}_ci_hi"] = pd.Series(np.atleast_1d(hi), index=out.index).where(~small)
    with np.errstate(divide="ignore", invalid="ignore"):
        rev_share = out["top_staff_revenue"] / out["line_revenue"]
    out["top_staff_revenue_share"] = rev_share.where(~small)
    out["suppressed"] = pd.Series(
        np.where(small, "repeat customers " + out["repeat_customers"].astype(str)
                 + f" < min_segment_size {min_segment_size}", None),
        index=out.index, dtype="str",
    )
    return out.drop(columns="line_revenue")
