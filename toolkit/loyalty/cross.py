"""Cross-penetration between business lines (definitions: :mod:`toolkit.loyalty.repeat`)."""

from __future__ import annotations

import datetime as dt
import weakref

import ibis
import numpy as np
import pandas as pd

from toolkit.core.sales import SalesHistory, as_sales_history
from toolkit.core.stats import wilson_interval

AGE_BANDS = ((None, 25, "<25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"), (55, None, "55+"))
UNKNOWN = "unknown"

# per sales history: its first-line-visit table, kept in the engine for the step's other calls
_FIRST_VISITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# -- cross-penetration -------------------------------------------------------------------------


def _customer_groups(sales: SalesHistory, by: list[str]):
    """customer_id plus the grouping attributes (``age_band`` derived from birth_year/age)."""
    c = sales.customers
    cols = set(sales.customer_columns)
    exprs = {}
    for b in by:
        if b == "age_band":
            ages = []
            if "birth_year" in cols:
                ages.append(sales.as_of.year - c.birth_year.cast("int64"))
            if "age" in cols:
                ages.append(c.age.cast("int64"))
            age = ibis.coalesce(*ages) if len(ages) > 1 else (ages[0] if ages else ibis.null("int64"))
            bands = []
            for lo, hi, label in AGE_BANDS:
                cond = (age >= lo) if lo is not None else age.notnull()
                if hi is not None:
                    cond = cond & (age < hi)
                bands.append((cond, label))
            exprs["age_band"] = ibis.cases(*bands, else_=UNKNOWN)
        elif b in cols:
            exprs[b] = c[b].cast("string").fill_null(UNKNOWN)
        else:
            raise ValueError(f"customers have no attribute '{b}' (available: {', '.join(sorted(cols)) or 'none'})")
    return c.select("customer_id", **exprs)


def _first_line_visits(sales: SalesHistory):
    """Each customer's first visit to each business line (``first_visit``: visit 1 of the line's
    numbered visits, read from the step's visit table) and to any line (``first_ever``): one row
    per customer and line. With the visit cache it is kept in the engine, for the step's other
    cross-penetration calls."""
    if sales in _FIRST_VISITS:
        return _FIRST_VISITS[sales]
    v = sales.visits("lines")
    v = v.filter(v.visit_number == 1)
    first_visits = v.select(customer_id=v.customer_id, business_line=v.scope, first_visit=v.visit_date)
    first_ever = first_visits.group_by("customer_id").aggregate(first_ever=first_visits.first_visit.min())
    table = first_visits.join(first_ever, "customer_id")
    if sales.cache:
        table = sales.engine.materialise(sales.temp_name("first_visits"), table)
        _FIRST_VISITS[sales] = table
    return table


def cross_penetration(
    sales,
    *,
    by: list[str] | tuple[str, ...] | None = None,
    min_segment_size: int = 30,
    confidence: float = 0.95,
    first_line_only: bool = False,
    min_follow_up_days: int | None = None,
) -> pd.DataFrame:
    """Cross-penetration between business lines (see the module docstring for the terms).

    ``first_line_only``: the base of line A is only the customers whose first visit with the
    company was in A (the customers A brought in; a first day with A and B counts for both).
    ``min_follow_up_days`` (F): censoring control for the order: the base is only the customers
    whose first A visit is at least F days before ``as_of``, and ``bought_after`` counts a first
    B visit within F days after the first A visit, so every customer in the base had the same
    time to cross (``also_bought`` still counts B at any time).

    ``by``: customer attributes to split by (columns of the customers table, or ``age_band``:
    the age at ``as_of`` from ``birth_year`` (as_of year - birth year) or else ``age``, in
    bands <25, 25-34, 35-44, 45-54, 55+); customers without the attribute fall in
    ``"unknown"``. One row per from_line, to_line (and group): ``base`` (customers of
    from_line), ``also_bought``, ``share_also`` (+ ``share_also_ci_lo/high``),
    ``bought_after``, ``share_after`` (+ CI), ``suppressed`` (the reason, when ``base`` <
    ``min_segment_size``: the shares are then null, never 0).
    """
    sales = as_sales_history(sales)
    by = list(by or [])
    if not sales.has_business_line:
        return pd.DataFrame()
    if by and not sales.customer_columns:
        raise ValueError("splitting by a customer attribute needs the customers table")
    groups = _customer_groups(sales, by) if by else None
    first_visits = lc = _first_line_visits(sales)
    if by:  # the base of each line, with the customer's group
        lc = lc.left_join(groups, "customer_id")
        lc = lc.select("business_line", "first_visit", "first_ever", customer_id=lc.customer_id,
                       **{b: lc[b].fill_null(UNKNOWN) for b in by})
    if first_line_only:
        lc = lc.filter(lc.first_visit == lc.first_ever)
    if min_follow_up_days is not None:
        lc = lc.filter(lc.first_visit <= ibis.date(sales.as_of - dt.timedelta(days=int(min_follow_up_days))))
    bases = lc.group_by(["business_line"] + by).aggregate(base=lc.count())
    # customers of from_line who also bought to_line, and when
    other = first_visits.select(other_customer=first_visits.customer_id, to_line=first_visits.business_line,
                                first_other=first_visits.first_visit)
    j = lc.join(other, [lc.customer_id == other.other_customer, lc.business_line != other.to_line])
    after = j.first_other > j.first_visit
    if min_follow_up_days is not None:
        after = after & (j.first_other.delta(j.first_visit, unit="day") <= int(min_follow_up_days))
    pairs = j.group_by(["business_line", "to_line"] + by).aggregate(also_bought=j.count(),
                                                                     bought_after=j.count(where=after))
    lines = sales.lines()
    grid = pd.DataFrame([(a, b) for a in lines for b in lines if a != b], columns=["from_line", "to_line"],
                        dtype="str")
    bases = sales.execute(bases).rename(columns={"business_line": "from_line"})
    pairs = sales.execute(pairs).rename(columns={"business_line": "from_line"})
    for t in (bases, pairs):
        for c in ["from_line"] + by + (["to_line"] if "to_line" in t else []):
            t[c] = t[c].astype("str")
    df = grid.merge(bases, on="from_line", how="left").merge(pairs, on=["from_line", "to_line"] + by, how="left")
    df = df[["from_line", "to_line"] + by + ["base", "also_bought", "bought_after"]]
    df = df.sort_values(["from_line", "to_line"] + by, kind="stable").reset_index(drop=True)
    df[["base", "also_bought", "bought_after"]] = df[["base", "also_bought", "bought_after"]].fillna(0)
    for c in ("base", "also_bought", "bought_after"):
        df[c] = df[c].astype("int64")
    small = df["base"] < min_segment_size
    for what, count in (("also", "also_bought"), ("after", "bought_after")):
        share = (df[count] / df["base"]).astype(float)
        lo, hi = wilson_interval(df[count].to_numpy(), df["base"].to_numpy(), confidence)
        df[f"share_{what}"] = share.where(~small)
        df[f"share_{what}_ci_lo"] = pd.Series(np.atleast_1d(lo), index=df.index).where(~small)
        df[f"share_{what}_ci_hi"] = pd.Series(np.atleast_1d(hi), index=df.index).where(~small)
    df["suppressed"] = pd.Series(
        np.where(small, "base " + df["base"].astype(str) + f" < min_segment_size {min_segment_size}", None),
        index=df.index,
        dtype="str",
    )
    return df
