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

Every heavy aggregation is one DuckDB query (see :mod:`toolkit.core.sales`). The definitions live in
:mod:`toolkit.loyalty.curve` (return window, repeat curve, gaps, average check),
:mod:`toolkit.loyalty.intervals` (stages, LTV), :mod:`toolkit.loyalty.cross` and
:mod:`toolkit.loyalty.staff`; this module keeps the loyalty threshold and the metrics.json keys
and re-exports the rest.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from toolkit.core.config import Parameters
from toolkit.core.sales import ALL_LINES, as_sales_history
from toolkit.loyalty.cross import AGE_BANDS, UNKNOWN, cross_penetration
from toolkit.loyalty.curve import (
    FALLBACK_WINDOW_DAYS,
    MIN_GAPS_FOR_OWN_WINDOW,
    RETURN_WINDOW_QUANTILE,
    _complete,
    average_check,
    gap_intervals,
    gap_intervals_from_table,
    repeat_curve,
    repeat_curve_from_table,
    return_windows,
    visit_number_table,
)
from toolkit.loyalty.intervals import intervals_by_stage, lifetime_value, stage_label
from toolkit.loyalty.staff import staff_attachment, staff_dependency
from toolkit.loyalty.threshold import MIN_PLATEAU_POINTS, loyalty_threshold, loyalty_thresholds

__all__ = [
    "AGE_BANDS", "FALLBACK_WINDOW_DAYS", "MIN_GAPS_FOR_OWN_WINDOW", "MIN_PLATEAU_POINTS", "RETURN_WINDOW_QUANTILE",
    "UNKNOWN", "average_check", "cross_penetration", "cross_penetration_metrics", "gap_intervals",
    "gap_intervals_from_table", "intervals_by_stage", "lifetime_value", "loyalty_metrics", "loyalty_stages",
    "loyalty_tables", "loyalty_visit", "loyalty_visits", "repeat_curve", "repeat_curve_from_table",
    "return_windows", "stage_label", "staff_attachment", "staff_dependency", "staff_dependency_metrics",
    "visit_number_table",
]


# -- the loyalty threshold -------------------------------------------------------------------


def loyalty_visit(
    curve: pd.DataFrame,
    *,
    tolerance: float = 0.03,
    min_eligible: int = 30,
    min_plateau_points: int = MIN_PLATEAU_POINTS,
) -> int | None:
    """The loyalty visit k: the visit number from which the return probability stays on its
    plateau, or None when no knee is supported by the data. ``curve``: one scope's repeat curve
    (``visit_number``, ``eligible``, ``returned``, ``p_return``). The rule (a robust segmented
    fit against smooth curves without a knee, with its confidence) is
    :func:`toolkit.loyalty.threshold.loyalty_threshold`."""
    return loyalty_threshold(curve, tolerance=tolerance, min_eligible=min_eligible,
                             min_plateau_points=min_plateau_points)["visit"]


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
    thresholds = loyalty_thresholds(curve, tolerance=p.plateau_tolerance, min_eligible=p.min_segment_size)
    ks = {scope: r["visit"] for scope, r in thresholds.items()}
    stages = {s: loyalty_stages(k, p.loyalty_stage_boundaries) for s, k in ks.items()}
    t = table[["visit_number", "visits", "average_check", "scope"]]
    check = _complete(t[t["visit_number"] <= p.max_visit_number], range(1, p.max_visit_number + 1), {"visits": 0})
    return {
        "visit_numbers": table,
        "repeat_curve": curve,
        "gap_intervals": gap_intervals_from_table(table, p.max_visit_number),
        "average_check": check,
        "loyalty_visits": ks,
        "loyalty_thresholds": thresholds,
        "stages": intervals_by_stage(
            sales, stages, return_window_days=p.return_window_days, confidence=p.confidence
        ),
        "lifetime_value": lifetime_value(sales, cohort="year"),
        "return_windows": table.groupby("scope", sort=False)["return_window_days"].first().to_dict(),
    }


def _threshold_keys(r: dict | None) -> dict:
    """How sure the loyalty visit is: ``loyalty_visit_confidence`` (weight of exactly that visit),
    ``loyalty_visit_confident`` (bool), ``loyalty_visit_method``."""
    r = r or {}
    return {"loyalty_visit_confidence": r.get("confidence"), "loyalty_visit_confident": bool(r.get("confident")),
            "loyalty_visit_method": r.get("method")}


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
                for n, lo, hi in zip(c["visit_number"], c["ci_lo"], c["ci_hi"])
            },
            "eligible": {str(n): int(e) for n, e in zip(c["visit_number"], c["eligible"])},
            "loyalty_visit": k,
            **_threshold_keys(t.get("loyalty_thresholds", {}).get(scope)),
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
