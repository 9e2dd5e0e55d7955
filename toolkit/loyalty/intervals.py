"""Intervals, return rate and average check by loyalty stage, and LTV by first-visit cohort
(definitions: :mod:`toolkit.loyalty.repeat`)."""

from __future__ import annotations

from typing import Literal

import ibis
import numpy as np
import pandas as pd

from toolkit.core.sales import ALL_LINES, as_sales_history, customer_summary_expr
from toolkit.core.stats import wilson_interval
from toolkit.loyalty.curve import GAP_QUARTILES, RETURN_WINDOW_QUANTILE, _scope_order, _scopes, return_events


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
    ``visits``, ``average_check``, ``eligible``/``returned``/``p_return``/``ci_lo``/``ci_hi``
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
    e, _ = return_events(sales, per_line, return_window_days, quantile)

    def stage_of(n):
        """The stage index of visit number ``n`` in its scope (null for a scope without stages)."""
        return ibis.cases(*[
            (e.scope == scope, sum(ibis.ifelse(n >= int(a), 1, 0) for a in starts) - 1)
            for scope, starts in sorted(stages.items())
        ], else_=ibis.null("int64"))

    first_visit = ibis.cases(*[(e.scope == scope, e.visit_number.isin([int(a) for a in starts]))
                               for scope, starts in sorted(stages.items())], else_=False)
    if not stages:
        return pd.DataFrame(columns=list(stage_table.columns.drop("stage_index")) + [
            "customers", "visits", "average_check", "eligible", "returned", "gaps", "gap_q25", "gap_median",
            "gap_q75", "p_return", "ci_lo", "ci_hi"])
    # visits of the stage and the returns after them
    v = e.mutate(stage_index=stage_of(e.visit_number), starts_stage=first_visit)
    v = v.filter(v.stage_index.notnull())
    visits = sales.execute(v.group_by(["scope", "stage_index"]).aggregate(
        customers=v.count(where=v.starts_stage), visits=v.count(), average_check=v.amount.mean(),
        eligible=v.count(where=v.eligible), returned=v.count(where=v.returned)))
    # gaps before the stage's visits: visit n-1 returned to visit n
    g = e.filter(e.returned).mutate(stage_index=stage_of(e.visit_number + 1))
    g = g.filter(g.stage_index.notnull())
    gaps = sales.execute(g.group_by(["scope", "stage_index"]).aggregate(
        gaps=g.count(), gap_quartiles=g.days_to_next.quantile(list(GAP_QUARTILES))))
    q = gaps.pop("gap_quartiles")
    for i, name in enumerate(("gap_q25", "gap_median", "gap_q75")):
        gaps[name] = np.array([np.nan if v is None or v[i] is None else float(v[i]) for v in q], dtype="float64")
    for t in (visits, gaps):
        t["scope"] = t["scope"].astype("str")
        t["stage_index"] = t["stage_index"].astype("int64")
    df = stage_table.merge(visits, on=["scope", "stage_index"], how="inner")
    df = df.merge(gaps, on=["scope", "stage_index"], how="left")
    df["_order"] = df["scope"].ne(ALL_LINES)  # the whole history first, then the lines
    df = df.sort_values(["_order", "scope", "stage_index"]).drop(columns="_order")
    df["gaps"] = df["gaps"].fillna(0)
    for c in ("customers", "visits", "eligible", "returned", "gaps"):
        df[c] = df[c].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        df["p_return"] = np.where(df["eligible"] > 0, df["returned"] / df["eligible"], np.nan)
    lo, hi = wilson_interval(df["returned"].to_numpy(), df["eligible"].to_numpy(), confidence)
    df["ci_lo"], df["ci_hi"] = np.atleast_1d(lo), np.atleast_1d(hi)
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
    if cohort not in ("year", "quarter", None):
        raise ValueError("cohort must be 'year', 'quarter' or None")
    c = customer_summary_expr(sales, _scopes(per_line))
    if sales.cache:  # one summary for both queries (the cohort totals and the scope totals)
        c = sales.engine.materialise(sales.temp_name("customer_summary"), c)
    total = c.group_by("scope").aggregate(customers=c.count(), visits=c.visits.sum(), revenue=c.monetary.sum())
    df = sales.execute(total).assign(cohort="all")
    if cohort is not None:
        year = c.first_visit.year().cast("string")
        label = year if cohort == "year" else year.concat("Q", c.first_visit.quarter().cast("string"))
        cc = c.mutate(cohort=label)
        by = cc.group_by(["scope", "cohort"]).aggregate(customers=cc.count(), visits=cc.visits.sum(),
                                                         revenue=cc.monetary.sum())
        df = pd.concat([df, sales.execute(by)], ignore_index=True)
    df = df.astype({"scope": "str", "cohort": "str", "customers": "int64", "visits": "int64", "revenue": "float64"})
    df["_all"] = df["cohort"] != "all"
    df = _scope_order(df, ["scope", "_all", "cohort"]).drop(columns="_all")
    df = df[["scope", "cohort", "customers", "visits", "revenue"]]
    df["visits_per_customer"] = df["visits"] / df["customers"]
    df["revenue_per_customer"] = df["revenue"] / df["customers"]
    return df.reset_index(drop=True)
