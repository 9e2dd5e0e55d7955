"""The return window, the table by visit number, the repeat curve, gaps between visits and
the average check (definitions: :mod:`toolkit.loyalty.repeat`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.core.sales import ALL_LINES, SalesHistory, as_sales_history, sql_date
from toolkit.core.stats import wilson_interval

RETURN_WINDOW_QUANTILE = 0.99
MIN_GAPS_FOR_OWN_WINDOW = 30
FALLBACK_WINDOW_DAYS = 365


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
