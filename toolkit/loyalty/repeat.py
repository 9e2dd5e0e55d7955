"""Loyalty: the repeat curve, the loyalty threshold, intervals between visits, LTV,
cross-penetration between business lines and dependency on staff (METHOD.md section 5).

Visits, scopes (``all_lines`` or one business line), gaps and net revenue are defined in
:mod:`toolkit.core.sales`. The terms of this module:

- **return window** ``W`` (days): a customer "returned after visit n" when their visit n+1 came
  at most ``W`` days after visit n. Default (``Parameters.return_window_days`` unset): the
  99th percentile (``RETURN_WINDOW_QUANTILE``) of the observed gaps between consecutive visits
  in the scope (the smallest gap g such that at least 99 % of the gaps are <= g), so that
  almost every return that happens is counted and the return probability is not biased low
  (a 90th percentile would miss about a tenth of the returns). A line with fewer than
  ``MIN_GAPS_FOR_OWN_WINDOW`` gaps (a one-off line) uses the whole history's window; ``W`` is
  capped at half of the history (from the first visit to ``as_of``) so that at least half of
  the history can be eligible; with no gaps at all ``FALLBACK_WINDOW_DAYS`` is used. The
  observed gaps are themselves slightly short (long gaps that began shortly before ``as_of``
  are not yet seen), another reason for a high quantile.
- **eligible after visit n**: the customer's n-th visit (in the scope) is at least ``W`` days
  before ``as_of``, so a return within ``W`` days could have been seen. A customer whose last
  visit was a week before ``as_of`` is *not* counted as "did not return": they are not
  eligible yet.
- **returned after visit n**: eligible, and visit n+1 came within ``W`` days of visit n.
  Returns after more than ``W`` days are not counted even when seen, so that every eligible
  customer had the same chance to be counted (older customers would otherwise weigh more).
- **return probability** ``p_return[n]`` = returned / eligible, with a Wilson interval; it
  estimates P(return within W days | n visits made).
- **loyalty visit** (loyalty threshold): the visit number k after which the return probability
  reaches its plateau and stays there; see :func:`loyalty_visit` for the exact rule.
- **gap before visit n** (n >= 2): days between visit n-1 and visit n, counted only for the
  returns above (visit n-1 eligible, gap <= W): gaps that began shortly before ``as_of`` would
  otherwise be seen only when short, biasing the median low.
- **loyalty stages**: ranges of visit numbers; each stage starts at a boundary of
  ``Parameters.loyalty_stage_boundaries``; default ``[1, 2, k]`` with k the loyalty visit:
  "first visit", "forming a habit" (2..k-1), "loyal" (k+); without a loyalty visit ``[1, 2]``.
  The gaps of a stage are the gaps *before* its visits (as for ``median_gap_days``: the gap
  before visit n belongs to visit n's stage); its return rate is the return *after* its visits.
- **LTV** (observed to date): visits and net revenue per customer, by scope and by first-visit
  cohort (the year or quarter of the customer's first visit in the scope; recent cohorts have
  had less time and are not comparable with old ones without that caveat).
- **cross-penetration** from line A to line B: among customers with a visit in A (the base),
  the share who also have a visit in B (at any time), and the share whose first B visit came
  strictly *after* their first A visit (a first B visit on the same day as the first A visit is
  neither before nor after).
- **staff dependency** in a line: among the line's repeat customers (>= 2 visits in the line,
  at least one of them with a known staff member), a customer is **attached** to a staff member
  who was the main staff member of more than half (> 50 %) of their line visits *with a known
  staff member* (a visit whose staff is blank in the export says nothing about whom the
  customer follows). The top staff member has the most attached customers
  (ties: smallest id); the revenue that follows them is the net line revenue of the customers
  attached to them.

Every heavy aggregation is one DuckDB query (see :mod:`toolkit.core.sales`).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from toolkit.core.config import Parameters
from toolkit.core.sales import ALL_LINES, SalesHistory, as_sales_history, customer_summary_sql, sql_date, visit_totals_sql
from toolkit.core.stats import wilson_interval

RETURN_WINDOW_QUANTILE = 0.99
MIN_GAPS_FOR_OWN_WINDOW = 30
FALLBACK_WINDOW_DAYS = 365
MIN_PLATEAU_POINTS = 3

AGE_BANDS = ((None, 25, "<25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"), (55, None, "55+"))
UNKNOWN = "unknown"


# -- return window and the table by visit number ---------------------------------------------


def _return_ctes(
    sales: SalesHistory,
    scopes: str,
    return_window_days: int | None,
    quantile: float,
) -> str:
    """CTEs ``scope_visits``, ``gap_distribution``, ``return_windows``, ``return_events``:
    the one definition of the return window, eligibility and return (see the module docstring)."""
    visits = sales.visits_relation(scopes)
    # the visits feed three CTEs when W comes from the gaps: compute them once
    materialized = "" if sales.cache or return_window_days is not None else "MATERIALIZED "
    as_of = sql_date(sales.as_of)
    param = "NULL" if return_window_days is None else str(int(return_window_days))
    if return_window_days is None:
        window = "w.return_window_days"
        window_join = "JOIN return_windows w USING (scope)"
    else:  # a fixed W: no need to look at the gap distribution at all
        window = param
        window_join = ""
    return f"""
    scope_visits AS {materialized}(SELECT * FROM {visits}),
    gap_counts AS (        -- how many gaps of each length, per scope (a small histogram); every gap is
                           -- some visit's days_to_next (last visits have none: their NULL row keeps a
                           -- scope without gaps in the table)
        SELECT scope, days_to_next AS gap_days, count(*) FILTER (WHERE days_to_next IS NOT NULL) AS n
        FROM scope_visits GROUP BY ALL
    ),
    gap_distribution AS (  -- the quantile: the smallest gap g with at least q of the gaps <= g
        SELECT scope, CAST(any_value(total) AS BIGINT) AS gaps,
               min(gap_days) FILTER (WHERE cumulative >= {float(quantile)} * total - 1e-9) AS gap_quantile
        FROM (SELECT scope, gap_days,
                     sum(n) OVER (PARTITION BY scope ORDER BY gap_days) AS cumulative,
                     sum(n) OVER (PARTITION BY scope) AS total
              FROM gap_counts)
        GROUP BY scope
    ),
    history_span AS (      -- days from the first visit to as_of
        SELECT date_diff('day', min(visit_date), {as_of}) AS days FROM scope_visits
    ),
    window_candidates AS (
        SELECT g.scope, g.gaps, g.gap_quantile,
               CASE WHEN {param} IS NOT NULL THEN {param}
                    WHEN g.gaps >= {MIN_GAPS_FOR_OWN_WINDOW} THEN g.gap_quantile
                    ELSE coalesce(overall.gap_quantile, g.gap_quantile, {FALLBACK_WINDOW_DAYS}) END AS uncapped,
               CASE WHEN {param} IS NOT NULL THEN 'parameter'
                    WHEN g.gaps >= {MIN_GAPS_FOR_OWN_WINDOW} THEN 'gap_quantile'
                    WHEN overall.gap_quantile IS NOT NULL THEN 'whole_history_gap_quantile'
                    WHEN g.gap_quantile IS NOT NULL THEN 'gap_quantile_few_gaps'
                    ELSE 'fallback' END AS source,
               greatest(1, h.days // 2) AS cap
        FROM gap_distribution g CROSS JOIN history_span h
        LEFT JOIN (SELECT gap_quantile FROM gap_distribution
                   WHERE scope = '{ALL_LINES}' AND gaps >= {MIN_GAPS_FOR_OWN_WINDOW}) overall ON true
    ),
    return_windows AS (    -- W per scope
        SELECT scope, gaps, gap_quantile,
               CAST(CASE WHEN source = 'parameter' THEN uncapped ELSE greatest(1, least(uncapped, cap)) END
                    AS INTEGER) AS return_window_days,
               CASE WHEN source <> 'parameter' AND uncapped > cap THEN source || '_capped' ELSE source END
                    AS window_source
        FROM window_candidates
    ),
    return_events AS (     -- each visit: eligible (>= W days before as_of)? returned within W days?
        SELECT v.*, {window} AS return_window_days,
               v.visit_date <= {as_of} - {window} AS eligible,
               v.visit_date <= {as_of} - {window} AND coalesce(v.days_to_next <= {window}, false) AS returned
        FROM scope_visits v {window_join}
    )"""


_QUARTILE_COLUMNS = (
    "EXCLUDE (gap_quartiles), gap_quartiles[1] AS gap_q25, gap_quartiles[2] AS gap_median, "
    "gap_quartiles[3] AS gap_q75"
)


def _scopes(per_line: bool) -> str:
    return "both" if per_line else "all"


def return_windows(
    sales,
    *,
    per_line: bool = True,
    return_window_days: int | None = None,
    quantile: float = RETURN_WINDOW_QUANTILE,
) -> pd.DataFrame:
    """The return window W of each scope and how it was chosen.

    Columns: ``scope``, ``gaps`` (observed gaps), ``gap_quantile`` (their ``quantile``),
    ``return_window_days`` (W), ``window_source`` (``parameter``, ``gap_quantile``,
    ``whole_history_gap_quantile`` for a line with too few gaps, ``fallback``; ``_capped`` when
    capped at half the history).
    """
    sales = as_sales_history(sales)
    ctes = _return_ctes(sales, _scopes(per_line), return_window_days, quantile)
    return sales.query(f"WITH {ctes} SELECT * FROM return_windows ORDER BY scope <> '{ALL_LINES}', scope")


def visit_number_table(
    sales,
    *,
    per_line: bool = True,
    return_window_days: int | None = None,
    quantile: float = RETURN_WINDOW_QUANTILE,
    with_gaps: bool = True,
    with_check: bool = True,
) -> pd.DataFrame:
    """Everything measured per visit number, in one query (all visit numbers present).

    One row per scope and visit number n: ``visits`` (visits numbered n), ``average_check``
    (their mean amount), ``eligible`` and ``returned`` after visit n (see the module
    docstring), ``return_window_days``; with ``with_gaps``: ``gap_q25``, ``gap_median``,
    ``gap_q75`` of the gaps *after* visit n among the returns (i.e. the gap before visit n+1).
    ``with_gaps``/``with_check``: leave the gap quartiles / the average check out (faster).
    """
    sales = as_sales_history(sales)
    ctes = _return_ctes(sales, _scopes(per_line), return_window_days, quantile)
    gaps = (
        ", quantile_cont(days_to_next, [0.25, 0.5, 0.75]) FILTER (WHERE returned) AS gap_quartiles"
        if with_gaps
        else ""
    )
    # one scope: a constant group key would only slow the hash aggregation down
    scope, group = ("scope", "scope, ") if per_line else (f"'{ALL_LINES}' AS scope", "")
    df = sales.query(
        f"""WITH {ctes}
        SELECT * {_QUARTILE_COLUMNS if with_gaps else ""} FROM (
            SELECT {scope}, visit_number, count(*) AS visits{", avg(amount) AS average_check" if with_check else ""},
                   count(*) FILTER (WHERE eligible) AS eligible,
                   count(*) FILTER (WHERE returned) AS returned,
                   any_value(return_window_days) AS return_window_days{gaps}
            FROM return_events GROUP BY {group}visit_number
        ) ORDER BY scope <> '{ALL_LINES}', scope, visit_number"""
    )
    for c in ("visits", "eligible", "returned", "return_window_days"):
        df[c] = df[c].astype("int64")
    return df.reset_index(drop=True)


def _complete(table: pd.DataFrame, numbers: range, columns: dict) -> pd.DataFrame:
    """Every scope gets a row for every visit number in ``numbers`` (missing counts = 0)."""
    scopes = list(dict.fromkeys(table["scope"]))
    full = pd.MultiIndex.from_product([scopes, list(numbers)], names=["scope", "visit_number"])
    out = table.set_index(["scope", "visit_number"]).reindex(full).reset_index()
    for c, fill in columns.items():
        if fill is not None:
            out[c] = out[c].fillna(fill)
    return out


def repeat_curve_from_table(
    table: pd.DataFrame, max_visit_number: int = 15, confidence: float = 0.95
) -> pd.DataFrame:
    """The repeat curve from a :func:`visit_number_table`: P(return after visit n), n = 1..N."""
    cols = ["scope", "visit_number", "eligible", "returned", "return_window_days"]
    t = table.loc[table["visit_number"] <= max_visit_number, cols]
    windows = table.groupby("scope", sort=False)["return_window_days"].first()
    out = _complete(t, range(1, max_visit_number + 1), {"eligible": 0, "returned": 0, "return_window_days": None})
    out["return_window_days"] = out["scope"].map(windows).astype("int64")
    out["eligible"] = out["eligible"].astype("int64")
    out["returned"] = out["returned"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["p_return"] = np.where(out["eligible"] > 0, out["returned"] / out["eligible"], np.nan)
    lo, hi = wilson_interval(out["returned"].to_numpy(), out["eligible"].to_numpy(), confidence)
    out["ci_low"], out["ci_high"] = np.atleast_1d(lo), np.atleast_1d(hi)
    return out[
        ["scope", "visit_number", "eligible", "returned", "p_return", "ci_low", "ci_high", "return_window_days"]
    ]


def repeat_curve(
    sales,
    *,
    per_line: bool = True,
    max_visit_number: int = 15,
    return_window_days: int | None = None,
    confidence: float = 0.95,
    quantile: float = RETURN_WINDOW_QUANTILE,
) -> pd.DataFrame:
    """The repeat curve: P(return within W days after visit n) for n = 1..``max_visit_number``.

    One row per scope (``all_lines`` first, then each line with ``per_line``) and n:
    ``eligible``, ``returned``, ``p_return`` (NaN when nobody is eligible), the Wilson interval
    ``ci_low``/``ci_high`` at ``confidence``, and the scope's ``return_window_days``.
    """
    table = visit_number_table(
        sales, per_line=per_line, return_window_days=return_window_days, quantile=quantile,
        with_gaps=False, with_check=False,
    )
    return repeat_curve_from_table(table, max_visit_number, confidence)


def gap_intervals_from_table(table: pd.DataFrame, max_visit_number: int = 15) -> pd.DataFrame:
    """Gaps before visit n (n = 2..N) from a :func:`visit_number_table`."""
    t = table.loc[table["visit_number"] < max_visit_number].copy()
    t["visit_number"] = t["visit_number"] + 1  # the gap after visit n-1 is the gap before visit n
    t = t.rename(columns={"returned": "gaps"})[["scope", "visit_number", "gaps", "gap_q25", "gap_median", "gap_q75"]]
    out = _complete(t, range(2, max_visit_number + 1), {"gaps": 0})
    out["gaps"] = out["gaps"].astype("int64")
    return out


def gap_intervals(
    sales,
    *,
    per_line: bool = True,
    max_visit_number: int = 15,
    return_window_days: int | None = None,
    quantile: float = RETURN_WINDOW_QUANTILE,
) -> pd.DataFrame:
    """Days between visits by visit number: quartiles of the gap *before* visit n, n = 2..N.

    Only the returns of the repeat curve count (visit n-1 eligible and visit n within W days):
    see the module docstring for why. Columns: ``scope``, ``visit_number``, ``gaps`` (how many
    gaps), ``gap_q25``, ``gap_median``, ``gap_q75`` (linear-interpolation quantiles).
    """
    table = visit_number_table(sales, per_line=per_line, return_window_days=return_window_days, quantile=quantile)
    return gap_intervals_from_table(table, max_visit_number)


def average_check(sales, *, per_line: bool = True, max_visit_number: int = 15) -> pd.DataFrame:
    """Average check by visit number: ``visits`` numbered n and their mean ``amount``
    (``average_check``), n = 1..N; every visit counts (no censoring: the amount is known)."""
    table = visit_number_table(sales, per_line=per_line, with_gaps=False)
    t = table.loc[table["visit_number"] <= max_visit_number, ["scope", "visit_number", "visits", "average_check"]]
    out = _complete(t, range(1, max_visit_number + 1), {"visits": 0})
    out["visits"] = out["visits"].astype("int64")
    return out


# -- the loyalty threshold -------------------------------------------------------------------


def loyalty_visit(
    curve: pd.DataFrame,
    *,
    tolerance: float = 0.03,
    min_eligible: int = 30,
    min_plateau_points: int = MIN_PLATEAU_POINTS,
) -> int | None:
    """The loyalty visit k: the visit number after which the return probability reaches its
    plateau and stays there. ``curve``: one scope's repeat curve (``visit_number``,
    ``eligible``, ``returned``, ``p_return``, ``ci_low``, ``ci_high``).

    Rule:

    1. Only *supported* points count: the visit numbers 1, 2, ... up to the first one with fewer
       than ``min_eligible`` eligible customers (the sparse tail is left out).
    2. For a candidate k, the plateau level L is the pooled return rate of the supported points
       n >= k (sum of returned / sum of eligible). Point n is *on the plateau* when
       |p_n - L| <= ``tolerance`` or L lies inside its Wilson interval (noise allowance).
    3. k is the smallest visit number such that every supported point n >= k is on the
       plateau and there are at least ``min_plateau_points`` of them.
    4. The curve must *reach* the plateau from below: the point before k must be clearly lower
       (p_{k-1} < L - ``tolerance`` and its interval's upper end < L).

    Returns ``None`` when no plateau is supported by the data: the curve is flat from visit 1
    (k = 1: no threshold to reach), too few supported points (a one-off line, a short history),
    or the point before the plateau is not clearly below it (a falling or bumpy curve).
    """
    c = curve.sort_values("visit_number")
    supported = (c["eligible"] >= min_eligible).to_numpy()
    n_supported = int(np.argmin(supported)) if not supported.all() else len(c)
    c = c.iloc[:n_supported]
    if len(c) < min_plateau_points:
        return None
    p = c["p_return"].to_numpy(dtype=float)
    lo = c["ci_low"].to_numpy(dtype=float)
    hi = c["ci_high"].to_numpy(dtype=float)
    returned = c["returned"].to_numpy(dtype=float)
    eligible = c["eligible"].to_numpy(dtype=float)
    numbers = c["visit_number"].to_numpy()
    # the tail sums for every candidate start at once (reverse cumulative sums)
    tail_returned = np.cumsum(returned[::-1])[::-1]
    tail_eligible = np.cumsum(eligible[::-1])[::-1]
    levels = tail_returned / tail_eligible
    for i in range(len(c) - min_plateau_points + 1):  # at most max_visit_number candidates
        level = levels[i]
        on = (np.abs(p[i:] - level) <= tolerance) | ((lo[i:] <= level) & (level <= hi[i:]))
        if not on.all():
            continue
        if i == 0:
            return None  # flat from the first visit: no threshold
        rises = p[i - 1] < level - tolerance and hi[i - 1] < level
        return int(numbers[i]) if rises else None
    return None


def loyalty_visits(curve: pd.DataFrame, **kwargs) -> dict[str, int | None]:
    """:func:`loyalty_visit` of every scope of a repeat curve: ``{scope: k or None}``."""
    return {scope: loyalty_visit(g, **kwargs) for scope, g in curve.groupby("scope", sort=False)}


def loyalty_stages(loyalty_visit_number: int | None, boundaries: list[int] | None = None) -> list[int]:
    """Visit numbers that start each loyalty stage (sorted, starting at 1).

    ``boundaries`` (``Parameters.loyalty_stage_boundaries``) wins when given; default
    ``[1, 2, k]`` (first visit / forming a habit / loyal) with k the loyalty visit, or ``[1, 2]``
    without one.
    """
    if boundaries:
        starts = {int(b) for b in boundaries if int(b) >= 1}
    else:
        starts = {1, 2}
        if loyalty_visit_number is not None and loyalty_visit_number > 2:
            starts.add(int(loyalty_visit_number))
    starts.add(1)
    return sorted(starts)


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


# -- metrics.json ------------------------------------------------------------------------------


def _num(x, digits: int):
    """A JSON-able number: None for NaN/None, else rounded."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return None
    return round(float(x), digits)


def _int(x):
    return None if x is None or pd.isna(x) else int(x)


def loyalty_tables(sales, parameters: Parameters | None = None) -> dict[str, pd.DataFrame | dict]:
    """Every loyalty table of a case, sharing one visit table (``sales`` should be a
    :class:`~toolkit.core.sales.SalesHistory` with ``cache=True`` for speed).

    Returns ``{"visit_numbers", "repeat_curve", "gap_intervals", "average_check",
    "loyalty_visits" (dict), "stages", "lifetime_value", "return_windows"}``.
    """
    p = parameters or Parameters()
    sales = as_sales_history(sales, visit_definition=p.visit_definition)
    table = visit_number_table(sales, per_line=True, return_window_days=p.return_window_days)
    curve = repeat_curve_from_table(table, p.max_visit_number, p.confidence)
    ks = loyalty_visits(curve, tolerance=p.plateau_tolerance, min_eligible=p.min_segment_size)
    stages = {s: loyalty_stages(k, p.loyalty_stage_boundaries) for s, k in ks.items()}
    t = table[["visit_number", "visits", "average_check", "scope"]]
    check = _complete(t[t["visit_number"] <= p.max_visit_number], range(1, p.max_visit_number + 1), {"visits": 0})
    return {
        "visit_numbers": table,
        "repeat_curve": curve,
        "gap_intervals": gap_intervals_from_table(table, p.max_visit_number),
        "average_check": check,
        "loyalty_visits": ks,
        "stages": intervals_by_stage(
            sales, stages, return_window_days=p.return_window_days, confidence=p.confidence
        ),
        "lifetime_value": lifetime_value(sales, cohort="year"),
        "return_windows": table.groupby("scope", sort=False)["return_window_days"].first().to_dict(),
    }


def loyalty_metrics(sales, parameters: Parameters | None = None, tables: dict | None = None) -> dict:
    """The ``loyalty`` key of metrics.json: ``{"overall": LOY, "by_line": {line: LOY}}``.

    LOY = ``{customers, visits_per_customer, revenue_per_customer, p_return: {"1": p, ...},
    p_return_ci: {"1": [lo, hi], ...}, eligible: {"1": n, ...}, loyalty_visit,
    median_gap_days: {"2": d, ...}}`` plus ``return_window_days`` and ``loyalty_stages``
    (stage starts). Visit-number keys are strings; NaN becomes None. ``tables``: the output of
    :func:`loyalty_tables` when already computed.
    """
    p = parameters or Parameters()
    t = tables or loyalty_tables(sales, p)
    ltv = t["lifetime_value"]
    ltv = ltv[ltv["cohort"] == "all"].set_index("scope")
    curve, gaps = t["repeat_curve"], t["gap_intervals"]

    def loy(scope: str) -> dict:
        c = curve[curve["scope"] == scope]
        g = gaps[gaps["scope"] == scope]
        row = ltv.loc[scope] if scope in ltv.index else None
        k = t["loyalty_visits"].get(scope)
        return {
            "customers": _int(row["customers"]) if row is not None else 0,
            "visits_per_customer": _num(row["visits_per_customer"], 3) if row is not None else None,
            "revenue_per_customer": _num(row["revenue_per_customer"], 2) if row is not None else None,
            "p_return": {str(n): _num(v, 4) for n, v in zip(c["visit_number"], c["p_return"])},
            "p_return_ci": {
                str(n): None if pd.isna(lo) else [_num(lo, 4), _num(hi, 4)]
                for n, lo, hi in zip(c["visit_number"], c["ci_low"], c["ci_high"])
            },
            "eligible": {str(n): int(e) for n, e in zip(c["visit_number"], c["eligible"])},
            "loyalty_visit": k,
            "median_gap_days": {str(n): _num(d, 1) for n, d in zip(g["visit_number"], g["gap_median"])},
            "return_window_days": _int(t["return_windows"].get(scope)),
            "loyalty_stages": loyalty_stages(k, p.loyalty_stage_boundaries),
        }

    scopes = list(dict.fromkeys(curve["scope"]))
    return {"overall": loy(ALL_LINES), "by_line": {s: loy(s) for s in scopes if s != ALL_LINES}}


def cross_penetration_metrics(sales, parameters: Parameters | None = None, table: pd.DataFrame | None = None) -> dict:
    """The ``cross_penetration`` key: ``{from_line: {to_line: share of from_line's customers who
    also bought to_line}}``; a share whose base is below ``min_segment_size`` is None. ``table``:
    the :func:`cross_penetration` (no ``by``) of these parameters when already computed."""
    p = parameters or Parameters()
    df = table if table is not None else cross_penetration(sales, min_segment_size=p.min_segment_size,
                                                           confidence=p.confidence)
    out: dict = {}
    for row in df.itertuples(index=False):  # lines x lines: a handful of rows
        out.setdefault(row.from_line, {})[row.to_line] = _num(row.share_also, 4)
    return out


def staff_dependency_metrics(sales, parameters: Parameters | None = None, table: pd.DataFrame | None = None) -> dict:
    """The ``staff_dependency`` key: ``{line: {top_staff, top_staff_share_of_repeat_customers,
    repeat_customers, attached_share, top_staff_customers, top_staff_revenue,
    top_staff_revenue_share, suppressed}}``. ``table``: the :func:`staff_dependency` of these
    parameters when already computed."""
    p = parameters or Parameters()
    df = table if table is not None else staff_dependency(sales, min_segment_size=p.min_segment_size,
                                                          confidence=p.confidence)
    out = {}
    for r in df.to_dict("records"):
        out[r["business_line"]] = {
            "top_staff": None if pd.isna(r["top_staff"]) else str(r["top_staff"]),
            "top_staff_share_of_repeat_customers": _num(r["top_staff_share_of_repeat_customers"], 4),
            "repeat_customers": int(r["repeat_customers"]),
            "attached_share": _num(r["attached_share"], 4),
            "top_staff_customers": int(r["top_staff_customers"]),
            "top_staff_revenue": _num(r["top_staff_revenue"], 2),
            "top_staff_revenue_share": _num(r["top_staff_revenue_share"], 4),
            "suppressed": None if pd.isna(r["suppressed"]) else str(r["suppressed"]),
        }
    return out
