"""The return window, the table by visit number, the repeat curve, gaps between visits and
the average check (definitions: :mod:`toolkit.loyalty.repeat`)."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from toolkit.core.sales import ALL_LINES, SalesHistory, as_sales_history
from toolkit.core.stats import wilson_interval

RETURN_WINDOW_QUANTILE = 0.99
MIN_GAPS_FOR_OWN_WINDOW = 30
FALLBACK_WINDOW_DAYS = 365
GAP_QUARTILES = (0.25, 0.5, 0.75)


# -- return window and the table by visit number ---------------------------------------------


def _scopes(per_line: bool) -> str:
    return "both" if per_line else "all"


def _quantile_of_counts(values: np.ndarray, counts: np.ndarray, q: float):
    """The smallest value g with at least ``q`` of the (counted) values <= g; None without values."""
    total = counts.sum()
    if total == 0:
        return None
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(counts[order])
    return int(values[order][np.argmax(cumulative >= q * total - 1e-9)])


def _windows_table(sales: SalesHistory, visits, return_window_days: int | None, quantile: float) -> pd.DataFrame:
    """The return window W of each scope (the rule of the module docstring of
    :mod:`toolkit.loyalty.repeat`), from the histogram of the gaps (one small query)."""
    hist = sales.execute(visits.group_by(["scope", "days_to_next"]).aggregate(n=visits.count()))
    span = (sales.as_of - sales.history_start).days if sales.history_start else 0
    cap = max(1, span // 2)
    rows = []
    for scope, g in hist.groupby("scope", sort=True):
        g = g[g["days_to_next"].notna()]
        gaps = int(g["n"].sum())
        rows.append((str(scope), gaps, _quantile_of_counts(g["days_to_next"].to_numpy("int64"),
                                                           g["n"].to_numpy("int64"), quantile)))
    overall = next((q for s, n, q in rows if s == ALL_LINES and n >= MIN_GAPS_FOR_OWN_WINDOW), None)
    out = []
    for scope, gaps, gq in rows:
        if return_window_days is not None:
            w, source = int(return_window_days), "parameter"
        else:
            if gaps >= MIN_GAPS_FOR_OWN_WINDOW:
                uncapped, source = gq, "gap_quantile"
            elif overall is not None:
                uncapped, source = overall, "whole_history_gap_quantile"
            elif gq is not None:
                uncapped, source = gq, "gap_quantile_few_gaps"
            else:
                uncapped, source = FALLBACK_WINDOW_DAYS, "fallback"
            w = max(1, min(uncapped, cap))
            if uncapped > cap:
                source += "_capped"
        out.append((scope, gaps, gq, w, source))
    df = pd.DataFrame(out, columns=["scope", "gaps", "gap_quantile", "return_window_days", "window_source"])
    return df.astype({"scope": "str", "gaps": "int64", "gap_quantile": "Int64", "return_window_days": "int64",
                      "window_source": "str"})


def _by_scope(scope_col, values: dict):
    """A per-scope constant as an expression (a literal when every scope has the same value)."""
    distinct = set(values.values())
    if len(distinct) == 1:
        return ibis.literal(next(iter(distinct)))
    return ibis.cases(*[(scope_col == s, ibis.literal(v)) for s, v in sorted(values.items())])


def return_events(sales: SalesHistory, per_line: bool, return_window_days: int | None,
                  quantile: float = RETURN_WINDOW_QUANTILE):
    """Each visit with ``eligible`` (>= W days before as_of) and ``returned`` (eligible, and the
    next visit within W days): the one definition of the return; and ``{scope: W}``."""
    visits = sales.visits(_scopes(per_line))
    if return_window_days is not None and not per_line:
        windows = {ALL_LINES: int(return_window_days)}
    else:
        if not sales.cache:  # the visits feed two queries (the gaps for W, then the events): compute them once
            visits = sales.engine.materialise(sales.temp_name("visits"), visits)
        table = _windows_table(sales, visits, return_window_days, quantile)
        windows = dict(zip(table["scope"], table["return_window_days"].astype(int)))
    if not windows:  # no visits at all
        windows = {ALL_LINES: int(return_window_days or FALLBACK_WINDOW_DAYS)}
    cutoff = {s: sales.as_of - dt.timedelta(days=w) for s, w in windows.items()}
    eligible = visits.visit_date <= _by_scope(visits.scope, cutoff)
    returned = eligible & (visits.days_to_next <= _by_scope(visits.scope, windows)).fill_null(False)
    return visits.mutate(eligible=eligible, returned=returned), windows


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
    df = _windows_table(sales, sales.visits(_scopes(per_line)), return_window_days, quantile)
    return _scope_order(df, ["scope"])


def _scope_order(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sorted with the whole history first, then the lines (and then ``by``)."""
    df = df.assign(_order=df["scope"] != ALL_LINES)
    return df.sort_values(["_order"] + by, kind="stable").drop(columns="_order").reset_index(drop=True)


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
    e, windows = return_events(sales, per_line, return_window_days, quantile)
    aggs = {"visits": e.count()}
    if with_check:
        aggs["average_check"] = e.amount.mean()
    aggs.update(eligible=e.count(where=e.eligible), returned=e.count(where=e.returned))
    if with_gaps:
        aggs["gap_quartiles"] = e.days_to_next.quantile(list(GAP_QUARTILES), where=e.returned)
    # one scope: a constant group key would only slow the hash aggregation down
    df = sales.execute(e.group_by(["scope", "visit_number"] if per_line else ["visit_number"]).aggregate(**aggs))
    if not per_line:
        df.insert(0, "scope", ALL_LINES)
    df["scope"] = df["scope"].astype("str")
    df["return_window_days"] = df["scope"].map(windows)
    if with_gaps:
        q = df.pop("gap_quartiles")
        for i, name in enumerate(("gap_q25", "gap_median", "gap_q75")):
            df[name] = np.array([np.nan if v is None or len(v) == 0 or v[i] is None else float(v[i]) for v in q],
                                dtype="float64")
    for c in ("visit_number", "visits", "eligible", "returned", "return_window_days"):
        df[c] = df[c].astype("int64")
    return _scope_order(df, ["scope", "visit_number"])


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
    out["ci_lo"], out["ci_hi"] = np.atleast_1d(lo), np.atleast_1d(hi)
    return out[
        ["scope", "visit_number", "eligible", "returned", "p_return", "ci_lo", "ci_hi", "return_window_days"]
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
    ``ci_lo``/``ci_hi`` at ``confidence``, and the scope's ``return_window_days``.
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
