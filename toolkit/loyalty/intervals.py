"""Intervals, return rate and average check by loyalty stage, and LTV by first-visit cohort
(definitions: :mod:`toolkit.loyalty.repeat`)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from toolkit.core.sales import ALL_LINES, as_sales_history, customer_summary_sql
from toolkit.core.stats import wilson_interval
from toolkit.loyalty.curve import RETURN_WINDOW_QUANTILE, _return_ctes, _scopes


def stage_label(starts: list[int], i: int) -> str:
    """``"1"``, ``"2-5"``, ``"6+"``: the visit numbers of stage ``i``."""
    a = starts[i]
    if i + 1 == len(starts):
        return f"{a}+"
    b = starts[i + 1] - 1
    return str(a) if a == b else f"{a}-{b}"


def intervals_by_stage(
    sales,
    stages: dict[str, list[int]],
    *,
    return_window_days: int | None = None,
    confidence: float = 0.95,
    quantile: float = RETURN_WINDOW_QUANTILE,
) -> pd.DataFrame:
    """Intervals, return rate and average check by loyalty stage, per scope.

    ``stages``: ``{scope: stage starts}`` (see :func:`loyalty_stages`); scopes not in it are left
    out. One row per scope and stage: ``stage`` (label), ``first_visit``/``last_visit`` (visit
    numbers; last is null for the open stage), ``customers`` (customers who reached the stage),
    ``visits``, ``average_check``, ``eligible``/``returned``/``p_return``/``ci_low``/``ci_high``
    (return after a visit of the stage), ``gaps``, ``gap_q25``/``gap_median``/``gap_q75``
    (the gaps *before* the stage's visits, among the returns: visit n-1 eligible, visit n in the
    stage within W days).
    """
    sales = as_sales_history(sales)
    rows = []
    for scope, starts in stages.items():
        for i, a in enumerate(starts):
            last = starts[i + 1] - 1 if i + 1 < len(starts) else None
            rows.append((scope, i, stage_label(starts, i), a, last))
    stage_table = pd.DataFrame(rows, columns=["scope", "stage_index", "stage", "first_visit", "last_visit"])
    stage_table = stage_table.astype({"scope": "str", "stage": "str", "first_visit": "int64", "last_visit": "Int64"})
    per_line = any(s != ALL_LINES for s in stages)
    ctes = _return_ctes(sales, _scopes(per_line), return_window_days, quantile)
    sales.con.register("loyalty_stage_table", stage_table)
    in_stage = """e.scope = s.scope AND {n} >= s.first_visit AND (s.last_visit IS NULL OR {n} <= s.last_visit)"""
    try:
        df = sales.query(
            f"""WITH {ctes},
            stage_visits AS (     -- visits of the stage and the returns after them
                SELECT s.scope, s.stage_index, s.stage, s.first_visit, s.last_visit,
                       count(*) FILTER (WHERE e.visit_number = s.first_visit) AS customers,
                       count(*) AS visits, avg(e.amount) AS average_check,
                       count(*) FILTER (WHERE e.eligible) AS eligible,
                       count(*) FILTER (WHERE e.returned) AS returned
                FROM loyalty_stage_table s JOIN return_events e ON {in_stage.format(n="e.visit_number")}
                GROUP BY ALL
            ),
            stage_gaps AS (       -- gaps before the stage's visits: visit n-1 returned to visit n
                SELECT s.scope, s.stage_index, count(*) AS gaps,
                       quantile_cont(e.days_to_next, 0.25) AS gap_q25,
                       quantile_cont(e.days_to_next, 0.5) AS gap_median,
                       quantile_cont(e.days_to_next, 0.75) AS gap_q75
                FROM loyalty_stage_table s JOIN return_events e ON {in_stage.format(n="e.visit_number + 1")}
                WHERE e.returned
                GROUP BY ALL
            )
            SELECT v.*, coalesce(g.gaps, 0) AS gaps, g.gap_q25, g.gap_median, g.gap_q75
            FROM stage_visits v LEFT JOIN stage_gaps g USING (scope, stage_index)"""
        )
    finally:
        sales.con.unregister("loyalty_stage_table")
    df["_order"] = df["scope"].ne(ALL_LINES)  # the whole history first, then the lines
    df = df.sort_values(["_order", "scope", "stage_index"]).drop(columns="_order")
    for c in ("customers", "visits", "eligible", "returned", "gaps"):
        df[c] = df[c].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        df["p_return"] = np.where(df["eligible"] > 0, df["returned"] / df["eligible"], np.nan)
    lo, hi = wilson_interval(df["returned"].to_numpy(), df["eligible"].to_numpy(), confidence)
    df["ci_low"], df["ci_high"] = np.atleast_1d(lo), np.atleast_1d(hi)
    return df.drop(columns="stage_index").reset_index(drop=True)


# -- LTV ---------------------------------------------------------------------------------------


def lifetime_value(sales, *, cohort: Literal["year", "quarter"] | None = "year", per_line: bool = True) -> pd.DataFrame:
    """Visits and net revenue per customer (observed to date), per scope and first-visit cohort.

    One row per scope and cohort, plus a row with cohort ``"all"`` per scope: ``customers``,
    ``visits``, ``revenue`` (net of refunds), ``visits_per_customer``,
    ``revenue_per_customer``. The cohort is the year (``"2023"``) or quarter (``"2023Q2"``) of
    the customer's first visit in the scope; ``cohort=None`` gives only the ``"all"`` rows.
    A one-off line shows about 1 visit per customer.
    """
    sales = as_sales_history(sales)
    summary = customer_summary_sql(sales, _scopes(per_line))
    if cohort == "year":
        expr = "CAST(year(first_visit) AS VARCHAR)"
    elif cohort == "quarter":
        expr = "CAST(year(first_visit) AS VARCHAR) || 'Q' || CAST(quarter(first_visit) AS VARCHAR)"
    elif cohort is None:
        expr = "NULL"
    else:
        raise ValueError("cohort must be 'year', 'quarter' or None")
    df = sales.query(
        f"""WITH customer_lines AS ({summary})
        SELECT scope, CASE WHEN grouping(cohort) = 1 THEN 'all' ELSE cohort END AS cohort,
               count(*) AS customers, sum(visits) AS visits, sum(monetary) AS revenue
        FROM (SELECT *, {expr} AS cohort FROM customer_lines)
        GROUP BY GROUPING SETS ((scope, cohort), (scope))
        ORDER BY scope <> '{ALL_LINES}', scope, grouping(cohort) DESC, cohort"""
    )
    if cohort is None:
        df = df[df["cohort"] == "all"]
    df = df.astype({"customers": "int64", "visits": "int64", "revenue": "float64"})
    df["visits_per_customer"] = df["visits"] / df["customers"]
    df["revenue_per_customer"] = df["revenue"] / df["customers"]
    return df.reset_index(drop=True)
