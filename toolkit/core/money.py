"""The money basis: every figure a decision rests on is on one basis.

Terms (used by the barriers, the double funnel, the profit formula and the roadmap):

- **period** (``money.period``): the 12 months before ``as_of`` (``as_of`` minus one year,
  exclusive, to ``as_of``, inclusive). When the sales history starts later, the period is the
  whole history and its figures are *annualised* (multiplied by 12 / months covered); the
  period says so (``annualised: true``).
- **annual revenue**: the revenue booked in the period (visit amounts, refunds of the period
  subtracted), annualised when the period is shorter than 12 months.
- **annual**: a count or an amount per 12 months; **incremental**: the change against what the
  client has today (a scenario's deals minus the deals the same leads bring today, never gross
  deals).
- **range** (``{estimate, low, high}``): the estimate with the low and high values obtained by
  putting the inputs at the ends of their intervals (Wilson intervals of rates, t-intervals of
  means). Taking every input at its bound together gives a band wider than a joint interval:
  it is conservative.
- **assumption**: a value a figure rests on that the data do not measure (a recoverable
  fraction, a leak rate): ``{key, value}`` where ``key`` is a word-catalog key
  (``money.assumption.<name>``) saying in words what the value means.

Functions here return numbers and keys only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ibis
import pandas as pd

from toolkit.core.sales import SalesHistory, has_sales_history, sales_history_for_case

MONTHS_PER_YEAR = 12
DAYS_PER_YEAR = 365.25
BASIS = "annual, incremental against today"


@dataclass(frozen=True)
class Period:
    """The money period: ``start`` and ``end`` inclusive, ``months`` covered (12 unless the
    history is shorter), ``annualised`` when figures are scaled up to 12 months."""

    start: dt.date
    end: dt.date
    months: float
    annualised: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def factor(self) -> float:
        """The annualisation factor: 12 / months (1 for a full year)."""
        return MONTHS_PER_YEAR / self.months

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "months": round(self.months, 4),
                "annualised": self.annualised}


def _date(x) -> dt.date:
    return pd.Timestamp(x).date()


def money_period(first_date, as_of) -> Period:
    """The period of the money basis (module doc) for a history starting ``first_date``
    (None: unknown, the full 12 months are assumed) and an analysis date ``as_of``."""
    end = _date(as_of)
    full_start = (pd.Timestamp(end) - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date()
    if first_date is None or pd.isna(first_date) or _date(first_date) <= full_start:
        return Period(full_start, end, float(MONTHS_PER_YEAR), False)
    start = _date(first_date)
    days = (end - start).days + 1
    return Period(start, end, days * MONTHS_PER_YEAR / DAYS_PER_YEAR, True)


def period_from_dict(d: Mapping) -> Period:
    """A :class:`Period` back from metrics.json's ``money.period``."""
    return Period(_date(d["start"]), _date(d["end"]), float(d["months"]), bool(d.get("annualised", False)))


def annualise(value, period: Period):
    """A count or amount observed over ``period`` per 12 months (value x 12 / months)."""
    if value is None:
        return None
    return value * period.factor


def sub_period(period: Period, first, last=None) -> Period:
    """The part of ``period`` covered by data running from ``first`` to ``last`` (default: the
    period's end), for a table (e.g. leads) that starts later or ends earlier than the sales
    history; annualised when shorter than 12 months."""
    start = max(period.start, _date(first)) if first is not None and not pd.isna(first) else period.start
    end = min(period.end, _date(last)) if last is not None and not pd.isna(last) else period.end
    if end < start:
        return Period(start, start, 0.0, True)
    days = (end - start).days + 1
    full = (start, end) == (period.start, period.end) and not period.annualised
    return Period(start, end, period.months if full else days * MONTHS_PER_YEAR / DAYS_PER_YEAR, not full)


def _finite(x) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def money_range(estimate, low=None, high=None) -> dict | None:
    """``{estimate, low, high}`` (ends sorted, then low <= estimate <= high; a missing end is the estimate);
    None when the estimate is not a number."""
    e = _finite(estimate)
    if e is None:
        return None
    lo, hi = _finite(low), _finite(high)
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    lo = e if lo is None else min(lo, e)
    hi = e if hi is None else max(hi, e)
    return {"estimate": e, "low": lo, "high": hi}


def scale_range(r: Mapping | None, factor: float) -> dict | None:
    """A range multiplied by a non-negative factor."""
    if r is None:
        return None
    return money_range(r["estimate"] * factor, r["low"] * factor, r["high"] * factor)


def sum_ranges(ranges: Iterable[Mapping | None]) -> dict | None:
    """The sum of ranges (ends added: conservative); None when every range is None."""
    rs = [r for r in ranges if r is not None]
    if not rs:
        return None
    return money_range(sum(r["estimate"] for r in rs), sum(r["low"] for r in rs), sum(r["high"] for r in rs))


def assumption(name: str, value) -> dict:
    """An assumption as carried to metrics and the report: ``{key, value}``, the key a word-catalog
    key ``money.assumption.<name>``."""
    return {"key": f"money.assumption.{name}", "value": value}


def is_material(annual_amount, annual_revenue, materiality_share: float) -> bool | None:
    """True when an annual amount is at least ``materiality_share`` of annual revenue; None
    when either is not a number."""
    a, r = _finite(annual_amount), _finite(annual_revenue)
    if a is None or r is None:
        return None
    return bool(a >= materiality_share * r)


# --------------------------------------------------------------------------- from the sales history


def period_revenue(sales: SalesHistory, period: Period) -> dict:
    """Revenue booked in the period: ``{sales, refunds (<= 0), net}`` (visit amounts and refunds
    dated in the period)."""
    s, r = sales.sale_rows, sales.refund_rows
    lo, hi = ibis.date(period.start), ibis.date(period.end)
    gross = sales.engine.scalar(s.filter(s.visit_date.between(lo, hi)).amount.sum())
    ref = sales.engine.scalar(r.filter(r.refund_date.between(lo, hi)).amount.sum())
    gross = 0.0 if gross is None or pd.isna(gross) else float(gross)
    ref = 0.0 if ref is None or pd.isna(ref) else float(ref)
    return {"sales": gross, "refunds": ref, "net": gross + ref}


def money_basis(sales: SalesHistory, currency: str, parameters=None) -> dict:
    """metrics.json's ``money``: ``{period: {start, end, months, annualised}, annual_revenue,
    revenue_in_period: {sales, refunds, net}, currency, basis, assumptions: [{key, value}]}``.
    ``parameters``: the case's parameters, whose money assumptions are listed."""
    period = money_period(sales.history_start, sales.as_of)
    rev = period_revenue(sales, period)
    out = {
        "period": period.as_dict(),
        "annual_revenue": annualise(rev["net"], period),
        "revenue_in_period": rev,
        "currency": currency,
        "basis": BASIS,
        "assumptions": [],
    }
    if parameters is not None:
        out["assumptions"] = [
            assumption("recoverable_fraction", parameters.recoverable_fraction),
            assumption("materiality_share", parameters.materiality_share),
        ]
    return out


def case_money(case, data, sales: SalesHistory | None = None) -> dict:
    """metrics.json's ``money`` for a loaded case (``{"skipped": reason}`` without a sales
    history). Both the barriers and the double-funnel steps compute it (one aggregate query),
    so either can run alone; ``sales``: the step's own sales history, when it has one open."""
    if sales is not None:
        return money_basis(sales, case.currency, case.parameters)
    if not has_sales_history(case, data):
        return {"skipped": "no sales history (transactions) in this case"}
    sales = sales_history_for_case(case, data)
    try:
        return money_basis(sales, case.currency, case.parameters)
    finally:
        sales.close()
