"""Cross-penetration between business lines (definitions: :mod:`toolkit.loyalty.repeat`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.core.sales import SalesHistory, as_sales_history, sql_date
from toolkit.core.stats import wilson_interval

AGE_BANDS = ((None, 25, "<25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"), (55, None, "55+"))
UNKNOWN = "unknown"


# -- cross-penetration -------------------------------------------------------------------------


def _customer_groups_sql(sales: SalesHistory, by: list[str]) -> str:
    """SQL: customer_id plus the grouping attributes (``age_band`` derived from birth_year/age)."""
    cols = set(sales.customer_columns)
    as_of = sales.as_of
    exprs = []
    for b in by:
        if b == "age_band":
            if "birth_year" in cols and "age" in cols:
                age = f"coalesce({as_of.year} - CAST(birth_year AS INTEGER), CAST(age AS INTEGER))"
            elif "birth_year" in cols:
                age = f"({as_of.year} - CAST(birth_year AS INTEGER))"
            elif "age" in cols:
                age = "CAST(age AS INTEGER)"
            else:
                age = "NULL::INTEGER"
            cases = " ".join(
                f"WHEN {age} {'>= ' + str(lo) if lo is not None else 'IS NOT NULL'}"
                f"{' AND ' + age + ' < ' + str(hi) if hi is not None else ''} THEN '{label}'"
                for lo, hi, label in AGE_BANDS
            )
            exprs.append(f"CASE {cases} ELSE '{UNKNOWN}' END AS age_band")
        elif b in cols:
            exprs.append(f"coalesce(CAST({b} AS VARCHAR), '{UNKNOWN}') AS {b}")
        else:
            raise ValueError(f"customers have no attribute '{b}' (available: {', '.join(sorted(cols)) or 'none'})")
    return f"SELECT customer_id, {', '.join(exprs)} FROM customer_attributes"


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
    from_line), ``also_bought``, ``share_also`` (+ ``share_also_ci_low/high``),
    ``bought_after``, ``share_after`` (+ CI), ``suppressed`` (the reason, when ``base`` <
    ``min_segment_size``: the shares are then null, never 0).
    """
    sales = as_sales_history(sales)
    by = list(by or [])
    if not sales.has_business_line:
        return pd.DataFrame()
    if by and not sales.customer_columns:
        raise ValueError("splitting by a customer attribute needs the customers table")
    group_cols = "".join(f", {b}" for b in by)
    a_group_cols = "".join(f", a.{b}" for b in by)
    groups = _customer_groups_sql(sales, by) if by else None
    join_groups = (
        f"LEFT JOIN customer_groups USING (customer_id)" if by else ""
    )
    coalesce_groups = "".join(f", coalesce(customer_groups.{b}, '{UNKNOWN}') AS {b}" for b in by)
    pair_join = "".join(f" AND pairs.{b} = bases.{b}" for b in by)
    conditions = []
    if first_line_only:
        conditions.append("first_visits.first_visit = first_ever.first_visit")
    after = "b.first_visit > a.first_visit"
    if min_follow_up_days is not None:
        f = int(min_follow_up_days)
        conditions.append(f"first_visits.first_visit <= {sql_date(sales.as_of)} - {f}")
        after += f" AND b.first_visit <= a.first_visit + {f}"
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    df = sales.query(
        f"""WITH first_visits AS (   -- each customer's first visit to each business line
            SELECT customer_id, business_line, min(visit_date) AS first_visit
            FROM sale_rows WHERE business_line IS NOT NULL GROUP BY ALL
        ),
        first_ever AS (           -- each customer's first visit with the company
            SELECT customer_id, min(first_visit) AS first_visit FROM first_visits GROUP BY ALL
        ),
        {"customer_groups AS (" + groups + ")," if by else ""}
        line_customers AS (       -- the base of each line, with the customer's group
            SELECT first_visits.customer_id, first_visits.business_line, first_visits.first_visit{coalesce_groups}
            FROM first_visits JOIN first_ever USING (customer_id) {join_groups}
            {where}
        ),
        bases AS (
            SELECT business_line AS from_line{group_cols}, count(*) AS base FROM line_customers GROUP BY ALL
        ),
        pairs AS (                -- customers of from_line who also bought to_line, and when
            SELECT a.business_line AS from_line, b.business_line AS to_line{a_group_cols},
                   count(*) AS also_bought,
                   count(*) FILTER (WHERE {after}) AS bought_after
            FROM line_customers a JOIN first_visits b
              ON a.customer_id = b.customer_id AND a.business_line <> b.business_line
            GROUP BY ALL
        ),
        lines AS (SELECT DISTINCT business_line AS to_line FROM first_visits),
        from_lines AS (SELECT DISTINCT business_line AS from_line FROM first_visits)
        SELECT from_lines.from_line, lines.to_line{"".join(f", bases.{b}" for b in by)},
               coalesce(bases.base, 0) AS base,
               coalesce(pairs.also_bought, 0) AS also_bought, coalesce(pairs.bought_after, 0) AS bought_after
        FROM from_lines CROSS JOIN lines    -- every pair of lines, even when a base is empty
        LEFT JOIN bases ON bases.from_line = from_lines.from_line
        LEFT JOIN pairs ON pairs.from_line = from_lines.from_line AND pairs.to_line = lines.to_line{pair_join}
        WHERE lines.to_line <> from_lines.from_line
        ORDER BY from_lines.from_line, lines.to_line{"".join(f", bases.{b}" for b in by)}"""
    )
    for c in ("base", "also_bought", "bought_after"):
        df[c] = df[c].astype("int64")
    small = df["base"] < min_segment_size
    for what, count in (("also", "also_bought"), ("after", "bought_after")):
        share = (df[count] / df["base"]).astype(float)
        lo, hi = wilson_interval(df[count].to_numpy(), df["base"].to_numpy(), confidence)
        df[f"share_{what}"] = share.where(~small)
        df[f"share_{what}_ci_low"] = pd.Series(np.atleast_1d(lo), index=df.index).where(~small)
        df[f"share_{what}_ci_high"] = pd.Series(np.atleast_1d(hi), index=df.index).where(~small)
    df["suppressed"] = pd.Series(
        np.where(small, "base " + df["base"].astype(str) + f" < min_segment_size {min_segment_size}", None),
        index=df.index,
        dtype="str",
    )
    return df
