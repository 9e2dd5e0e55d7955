"""A planted uplift: generated sales histories in which one barrier at the experience stage stops
a known share of the customers who do not come back after their first visit. Removing it is
simulated (the same customers, with that share returning for the visit they did not make), and
the revenue those returns bring in the next 12 months is the planted annual impact. The
toolkit's annual impact of the barrier, measured on the history *with* the barrier, must contain
it in its reported range. Two histories (3 years: a full money period; 8 months: annualised) and
several seeds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from toolkit.barriers.impact import case_stage_losses
from toolkit.barriers.ranking import barrier_table
from toolkit.core.config import parse_case
from toolkit.core.money import money_period
from toolkit.core.sales import sales_history
from toolkit.core.stages import stage_model
from toolkit.loyalty.repeat import loyalty_tables

AS_OF = dt.date(2025, 12, 31)
ARRIVALS_PER_DAY = 8.0
P_RETURN = {1: 0.40, 2: 0.60}  # after visit 3 and later: 0.70
RESPONDENTS, NAMING, OTHER = 60, 45, 15  # the barrier named by 45 of 60, another barrier by 15
PLANTED_SHARE = NAMING / (NAMING + OTHER)  # the barrier's share of the stage's non-returns (0.75)
RECOVERABLE = 0.25  # the case's recoverable fraction, and the planted share of those the fix brings back


def _history(seed: int, days: int):
    """Transactions of a world with the barrier, and the planted annual impact of removing it."""
    rng = np.random.default_rng(seed)
    start = AS_OF - dt.timedelta(days=days - 1)
    period = money_period(start, AS_OF)
    rows, extra = [], 0.0
    cid = 0
    for d in range(days):
        for _ in range(rng.poisson(ARRIVALS_PER_DAY)):
            cid += 1
            day, n = start + dt.timedelta(days=d), 1
            while day <= AS_OF:
                amount = float(rng.normal(100.0, 15.0)) if n == 1 else float(rng.normal(80.0, 10.0))
                rows.append((f"c{cid}", day, round(max(amount, 1.0), 2)))
                p = P_RETURN.get(n, 0.70)
                gap = int(rng.integers(30, 91))
                returns = rng.random() < p
                if n == 1 and not returns and period.start <= day:
                    # the barrier stopped this return with probability PLANTED_SHARE; the fix brings back
                    # RECOVERABLE of those: the return visit it did not make (the visit-2 check)
                    if rng.random() < PLANTED_SHARE * RECOVERABLE:
                        extra += max(float(rng.normal(80.0, 10.0)), 1.0)
                if not returns:
                    break
                day, n = day + dt.timedelta(days=gap), n + 1
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).astype({"customer_id": "string"})
    tx["date"] = pd.to_datetime(tx["date"])
    return tx, extra * period.factor, period


def _codes():
    rows = [(f"r{i:02d}", "experience", "barrier", "rude_staff", -1.5) for i in range(NAMING)]
    rows += [(f"r{i:02d}", "experience", "barrier", "long_wait", -1.0) for i in range(NAMING, NAMING + OTHER)]
    rows += [(f"r{i:02d}", "framing", "touchpoint", "site", 0.5) for i in range(RESPONDENTS)]
    df = pd.DataFrame(rows, columns=["respondent_id", "stage", "code_type", "code", "sentiment"])
    return df.astype({"respondent_id": "string", "stage": "string", "code_type": "string", "code": "string"})


@pytest.mark.parametrize("days,seed", [(1096, 1), (1096, 2), (1096, 3), (243, 4), (243, 5), (243, 6)])
def test_planted_annual_impact_within_the_reported_range(days, seed):
    case = parse_case({"client": "Planted", "language": "en", "as_of": AS_OF.isoformat(), "brands": [{"id": "one"}],
                       "sources": {}, "parameters": {"recoverable_fraction": RECOVERABLE, "return_window_days": 91}})
    tx, planted, period = _history(seed, days)
    sales = sales_history(tx, as_of=AS_OF)
    try:
        assert (sales.history_start, sales.as_of) == (period.start, period.end) or not period.annualised
        loy = loyalty_tables(sales, case.parameters)
        losses, _ = case_stage_losses(case, sales, None, money_period(sales.history_start, sales.as_of), loy,
                                      loy["loyalty_visits"].get("all_lines"))
    finally:
        sales.close()
    table = barrier_table(_codes(), stage_model(case), stage_losses=losses, recoverable_fraction=RECOVERABLE)
    row = table[(table["segment_type"] == "overall") & (table["code"] == "rude_staff")].iloc[0]
    assert row["rank"] == 1 and row["rank_basis"] == "money"
    lo, est, hi = row["annual_impact_low"], row["annual_impact"], row["annual_impact_high"]
    assert lo <= planted <= hi, (days, seed, lo, est, hi, planted)
    # and the estimate itself is close: within 15 % of the planted impact
    assert est == pytest.approx(planted, rel=0.15), (days, seed, est, planted)
