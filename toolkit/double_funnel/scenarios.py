"""Capture scenarios of the double funnel.

Scenarios
---------
For each capture rate c in ``Parameters.capture_rates``:

- leads per year of the premium brand, on the money basis (``toolkit.core.money``): the premium
  leads created in the money period, annualised over the part of it the leads table covers
  (from the first lead of the period to the table's last lead); when no premium lead falls in
  the period, the whole lead history annualised (``leads_per_year_basis``);
- captured leads = premium leads per year x non-target share x c;
- deals = captured leads x the budget brand's own lead -> deal conversion;
- paying = deals x the budget brand's **paid share**, revenue = paying x its **average check**.
  The check is what a deal brings at once: where the budget brand's leads link to customers
  (``leads.customer_id``), the *first visit* of a deal's customer to the budget brand on or
  after the lead's creation date; paid share = deals with such a visit / deals (a contract
  that never turned into a paid visit brings nothing); check = the mean amount of those
  visits. Without links, the mean amount of every budget-brand customer's first visit, and
  every deal is assumed to pay (paid share 1, said in ``notes``). Visits are
  ``toolkit.core.sales`` visits of the budget brand's transactions; the check carries a
  t-interval (``toolkit.core.stats.mean_interval``, its lower end clipped at 0);
- revenue_ltv = paying x the revenue per customer observed to date: with lead links, what a
  paid deal's customer has spent at the budget brand since the lead (the value of a customer
  won through a lead); without, the budget brand's net revenue per customer
  (``toolkit.loyalty.repeat.lifetime_value``). Recent deals have had less time, so it is a floor;
- band: ``revenue_low`` multiplies the lower ends of the four intervals (share, conversion,
  paid share, check), ``revenue_high`` the upper ends. Taking every input at its bound
  together is conservative: the band is wider than a joint interval would be;
- incremental_deals = captured leads x (budget conversion - non-target conversion now): the
  captured leads give up their present chance of a premium deal;
- incremental_annual_revenue = incremental deals x paid share x check: the revenue a year the
  group gains over today, the decision figure; its range (``incremental_low``/``_high``) puts
  the share, paid share and check at their interval ends and the conversion gain at (budget
  conversion low - non-target conversion high) and (budget high - non-target low).

The sensitivity table crosses the capture rates with the budget conversion at its Wilson
lower end, point and upper end (revenue per year at the point share, paid share and check).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _num(x) -> float:
    return float("nan") if x is None else float(x)


def scenarios(
    leads_per_year_: float,
    share: float,
    share_ci: Sequence[float],
    budget_conversion: float,
    budget_conversion_ci: Sequence[float],
    check: float,
    check_ci: Sequence[float],
    capture_rates: Sequence[float],
    paid_share: float = 1.0,
    paid_share_ci: Sequence[float] = (1.0, 1.0),
    revenue_per_customer: float | None = None,
    nontarget_conversion_now: float | None = None,
    nontarget_conversion_now_ci: Sequence[float] | None = None,
) -> pd.DataFrame:
    """One row per capture rate: capture_rate, leads (captured per year), deals, paying
    (deals that paid), revenue, revenue_low, revenue_high, revenue_ltv, incremental_deals,
    incremental_annual_revenue, incremental_low, incremental_high.

    leads = leads_per_year x share x rate; deals = leads x budget_conversion; paying = deals x
    paid_share; revenue = paying x check; the band multiplies the interval ends of share,
    conversion, paid share and check (module doc)."""
    c = np.asarray(list(capture_rates), dtype=float)
    base = _num(leads_per_year_) * c
    leads = base * _num(share)
    deals = leads * _num(budget_conversion)
    paying = deals * _num(paid_share)

    def bound(i: int):
        return base * _num(share_ci[i]) * _num(budget_conversion_ci[i]) * _num(paid_share_ci[i]) * _num(check_ci[i])

    now = _num(nontarget_conversion_now)
    now_ci = list(nontarget_conversion_now_ci) if nontarget_conversion_now_ci is not None else [now, now]
    gain = _num(budget_conversion) - now
    incremental = leads * gain

    def incremental_bound(i: int):
        g = _num(budget_conversion_ci[i]) - _num(now_ci[1 - i])
        return base * _num(share_ci[i]) * g * _num(paid_share_ci[i]) * _num(check_ci[i])

    return pd.DataFrame(
        {
            "capture_rate": c,
            "leads": leads,
            "deals": deals,
            "paying": paying,
            "revenue": paying * _num(check),
            "revenue_low": bound(0),
            "revenue_high": bound(1),
            "revenue_ltv": paying * _num(revenue_per_customer),
            "incremental_deals": incremental,
            "incremental_annual_revenue": incremental * _num(paid_share) * _num(check),
            "incremental_low": incremental_bound(0),
            "incremental_high": incremental_bound(1),
        }
    )


def sensitivity_table(
    leads_per_year_: float,
    share: float,
    check: float,
    capture_rates: Sequence[float],
    conversions: Sequence[float],
    paid_share: float = 1.0,
    levels: Sequence[str] = ("low", "point", "high"),
) -> pd.DataFrame:
    """Revenue per year for each capture rate x budget conversion, at the point share, paid share
    and check. Tidy: one row per pair, columns capture_rate, level (the conversion's name:
    ``low``/``point``/``high`` = Wilson lower end, estimate, upper end), budget_conversion, revenue."""
    c = np.asarray(list(capture_rates), dtype=float)
    v = np.asarray([_num(x) for x in conversions], dtype=float)
    cc, vv = np.meshgrid(c, v, indexing="ij")
    lv = np.broadcast_to(np.asarray(list(levels)[: len(v)], dtype=object)[None, :], cc.shape)
    rev = _num(leads_per_year_) * _num(share) * cc * vv * _num(paid_share) * _num(check)
    return pd.DataFrame({"capture_rate": cc.ravel(), "level": lv.ravel().astype(str), "budget_conversion": vv.ravel(),
                         "revenue": rev.ravel()})
