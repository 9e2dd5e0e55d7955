"""The money basis (toolkit.core.money) and the barriers' annual impact (toolkit.barriers.impact)
on small hand-made frames; every expected value is computed by hand in the comments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from toolkit.barriers.impact import allocate, repeat_losses, return_value_12m, revenue_at_risk, sensitivity
from toolkit.core.money import (
    annualise,
    is_material,
    money_basis,
    money_period,
    money_range,
    period_revenue,
    sub_period,
    sum_ranges,
)
from toolkit.core.sales import sales_history
from toolkit.core.stats import wilson_interval


# -- period and annualisation ------------------------------------------------------------


def test_period_is_the_12_months_before_as_of():
    p = money_period(dt.date(2023, 1, 1), dt.date(2025, 12, 31))
    assert (p.start, p.end, p.months, p.annualised) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31), 12.0, False)
    assert p.factor == 1.0
    assert annualise(1000.0, p) == 1000.0


def test_short_history_is_annualised_and_says_so():
    # history of 1 Jul 2025 .. 31 Dec 2025 = 184 days = 184 * 12 / 365.25 = 6.045 months
    p = money_period(dt.date(2025, 7, 1), dt.date(2025, 12, 31))
    assert p.annualised and p.start == dt.date(2025, 7, 1) and p.days == 184
    assert p.months == pytest.approx(184 * 12 / 365.25)
    # 500 observed over 184 days -> 500 * 365.25 / 184 = 992.53 a year
    assert annualise(500.0, p) == pytest.approx(500 * 365.25 / 184)


def test_sub_period_of_a_later_table():
    p = money_period(dt.date(2020, 1, 1), dt.date(2025, 12, 31))
    s = sub_period(p, dt.date(2025, 10, 1))  # leads start on 1 Oct: 92 days
    assert s.annualised and s.days == 92 and annualise(92.0, s) == pytest.approx(365.25)
    assert sub_period(p, dt.date(2019, 1, 1)) == p


def test_ranges_and_materiality():
    assert money_range(10, 12, 8) == {"estimate": 10.0, "low": 8.0, "high": 12.0}  # ends sorted
    assert money_range(10, 11, 12) == {"estimate": 10.0, "low": 10.0, "high": 12.0}  # the estimate inside
    assert money_range(float("nan")) is None
    assert sum_ranges([money_range(1, 0.5, 2), None, money_range(3, 2, 4)]) == {"estimate": 4.0, "low": 2.5, "high": 6.0}
    # materiality: 0.5 % of 1 000 000 = 5 000
    assert is_material(5000, 1_000_000, 0.005) is True
    assert is_material(4999, 1_000_000, 0.005) is False
    assert is_material(None, 1_000_000, 0.005) is None


def test_annual_revenue_of_the_period_net_of_refunds():
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c"],
        "date": pd.to_datetime(["2024-06-01", "2025-03-01", "2025-06-01", "2025-12-31"]),
        "amount": [999.0, 100.0, 200.0, 300.0],
    })
    refunds = pd.DataFrame({"customer_id": ["b", "a"], "date": pd.to_datetime(["2025-07-01", "2024-06-02"]),
                            "amount": [-50.0, -999.0]})
    sales = sales_history(tx, refunds, as_of="2025-12-31")
    try:
        basis = money_basis(sales, "EUR")
        rev = period_revenue(sales, money_period(sales.history_start, sales.as_of))
    finally:
        sales.close()
    # period 1 Jan .. 31 Dec 2025: sales 100 + 200 + 300 = 600, refunds -50 (the 2024 refund is outside)
    assert rev == {"sales": 600.0, "refunds": -50.0, "net": 550.0}
    assert basis["annual_revenue"] == 550.0 and basis["period"]["months"] == 12.0


# -- allocation and recoverable fraction -------------------------------------------------


def _barriers():
    # stage 'evaluation': high_price 3 respondents, hard_to_book 1; stage 'deal': no_parking 2; persona row
    return pd.DataFrame({
        "segment_type": ["overall", "overall", "overall", "persona"],
        "segment": ["all", "all", "all", "p1"],
        "stage": ["evaluation", "evaluation", "deal", "evaluation"],
        "respondents": [3, 1, 2, 2],
        "mention_share": [0.75, 0.25, 1.0, 1.0],
    })


def _losses():
    return pd.DataFrame({"stage": ["evaluation", "framing"], "source": ["funnel", "funnel"],
                         "lost_per_year": [40.0, 5.0], "annual_loss": [1000.0, 300.0],
                         "low": [800.0, 200.0], "high": [1200.0, 400.0]})


def test_allocation_in_proportion_to_mentions_times_recoverable_fraction():
    t = allocate(_barriers(), _losses(), recoverable_fraction=0.2)
    # evaluation loses 1000 a year: high_price 1000 x 3/4 x 0.2 = 150, hard_to_book 1000 x 1/4 x 0.2 = 50
    assert t.loc[0, "annual_impact"] == pytest.approx(150.0)
    assert t.loc[1, "annual_impact"] == pytest.approx(50.0)
    # the barriers of a stage never add up to more than the stage's loss x the fraction
    assert t.loc[:1, "annual_impact"].sum() == pytest.approx(1000 * 0.2)
    # range: the stage's low/high x the Wilson ends of 3 of 4 mentions x 0.2
    lo, hi = wilson_interval(3, 4)
    assert t.loc[0, "annual_impact_low"] == pytest.approx(800 * lo * 0.2)
    assert t.loc[0, "annual_impact_high"] == pytest.approx(1200 * hi * 0.2)
    # 'deal' has no measured loss: not measured (NaN), never 0; persona rows are not allocated
    assert np.isnan(t.loc[2, "annual_impact"]) and np.isnan(t.loc[3, "annual_impact"])
    assert t.loc[0, "lost_at_stage"] == 40.0


def test_revenue_at_risk_and_sensitivity():
    assert revenue_at_risk(_losses()) == {"estimate": 1300.0, "low": 1000.0, "high": 1600.0}
    t = allocate(_barriers(), _losses(), recoverable_fraction=0.25)
    s = sensitivity(t, [0.1, 0.5, 1.0], 0.25).set_index("recoverable_fraction")
    # the impacts scale with the fraction: at 1.0 the stage's whole loss (1000); at 0.1, 100
    assert s.loc[1.0, "annual_impact"] == pytest.approx(1000.0)
    assert s.loc[0.1, "annual_impact"] == pytest.approx(100.0)
    assert s.loc[0.25, "annual_impact"] == pytest.approx(250.0)


# -- post-purchase losses from the loyalty tables ----------------------------------------


def _loyalty():
    curve = pd.DataFrame({"scope": "all_lines", "visit_number": [1, 2, 3, 4],
                          "p_return": [0.5, 0.6, 0.8, np.nan], "ci_lo": [0.4, 0.5, 0.7, np.nan],
                          "ci_hi": [0.6, 0.7, 0.9, np.nan]})
    checks = pd.DataFrame({"scope": "all_lines", "visit_number": [1, 2, 3, 4], "average_check": [100.0, 80.0, 60.0, 50.0]})
    gaps = pd.DataFrame({"scope": "all_lines", "visit_number": [2, 3, 4], "gap_median": [100.0, 200.0, 100.0]})
    return curve, checks, gaps


def test_return_value_counts_the_next_12_months_only():
    curve, checks, gaps = _loyalty()
    ck = checks.set_index("visit_number")["average_check"]
    gp = gaps.set_index("visit_number")["gap_median"]
    # after visit 1: the return is visit 2 (median gap 100 days), worth its check 80; nothing after it is counted
    assert return_value_12m(ck, gp, 1) == pytest.approx(80)
    assert return_value_12m(ck, gp, 2) == pytest.approx(60)
    # a return more than a year away is outside the next 12 months
    assert return_value_12m(ck, gp.replace(200.0, 400.0), 2) == 0.0
    # no visit after the last one measured
    assert return_value_12m(ck, gp, 4) == 0.0


def test_repeat_losses_by_stage():
    curve, checks, gaps = _loyalty()
    period = money_period(dt.date(2020, 1, 1), dt.date(2025, 12, 31))
    visits = pd.Series({1: 200.0, 2: 100.0, 3: 50.0})
    stages = {1: "experience", 2: "trigger", 3: "trigger"}
    r = repeat_losses(curve, checks, gaps, visits, period, stages).set_index("stage")
    # experience: 200 visits x (1 - 0.5) = 100 do not return, each worth the check of visit 2 (80) -> 8 000
    assert r.loc["experience", "lost_per_year"] == pytest.approx(100)
    assert r.loc["experience", "annual_loss"] == pytest.approx(100 * 80)
    assert r.loc["experience", "low"] == pytest.approx(200 * 0.4 * 80)  # 1 - ci_hi
    assert r.loc["experience", "high"] == pytest.approx(200 * 0.6 * 80)  # 1 - ci_lo
    # trigger: visit 2: 100 x 0.4 x 60 = 2 400; visit 3: 50 x 0.2 x 50 = 500
    assert r.loc["trigger", "annual_loss"] == pytest.approx(2400 + 500)
    # a short history: the same counts over half a year are twice as many a year
    half = money_period(dt.date(2025, 7, 2), dt.date(2025, 12, 31))
    r2 = repeat_losses(curve, checks, gaps, visits, half, stages).set_index("stage")
    assert r2.loc["experience", "annual_loss"] == pytest.approx(100 * 80 * 365.25 / 183)


# -- funnel losses ------------------------------------------------------------------------


def test_funnel_losses_value_a_lost_lead_at_its_chance_of_a_deal_times_the_first_visit_check():
    from toolkit.barriers.impact import funnel_losses
    from toolkit.core.config import parse_case
    from toolkit.core.stages import stage_model

    case = parse_case({"client": "T", "language": "en", "as_of": "2025-12-31", "brands": [{"id": "one"}], "sources": {},
                       "funnel_stages": [{"id": "request", "journey_stage": "evaluation"},
                                         {"id": "consultation", "journey_stage": "evaluation"},
                                         {"id": "contract", "journey_stage": "deal"},
                                         {"id": "operation", "journey_stage": "experience"}]})
    # 10 leads of 2025: 4 stop at the request, 2 at the consultation, 1 at the contract, 3 reach the operation
    stages = ["request"] * 4 + ["consultation"] * 2 + ["contract"] + ["operation"] * 3
    dates = pd.to_datetime(["2025-01-01"] + ["2025-06-01"] * 8 + ["2025-12-31"])
    leads = pd.DataFrame({"lead_id": [f"l{i}" for i in range(10)], "created_at": dates, "brand": "one",
                          "stage_reached": stages}).astype({"lead_id": "string", "brand": "string", "stage_reached": "string"})
    checks = pd.DataFrame({"brand": ["all"], "customers": [50], "check": [1000.0], "check_lo": [900.0], "check_hi": [1100.0]})
    period = money_period(dt.date(2020, 1, 1), dt.date(2025, 12, 31))
    r = funnel_losses(leads, stage_model(case), period, checks).set_index("stage")
    # a lead lost at the request would go on at P(deal | reached the consultation) = 4 / 6;
    # at the consultation, P(deal | reached the contract) = 4 / 4 = 1: evaluation = 4 x 2/3 + 2 x 1 = 4.667 deals
    assert r.loc["evaluation", "lost_per_year"] == 6
    assert r.loc["evaluation", "annual_loss"] == pytest.approx((4 * 4 / 6 + 2) * 1000)
    # lost after the deal (contract, no operation): the deal is lost whole
    assert r.loc["deal", "annual_loss"] == pytest.approx(1000)
    # the range: Wilson ends of the conversions x the check's ends
    lo, _ = wilson_interval(4, 6)
    lo1, _ = wilson_interval(4, 4)
    assert r.loc["evaluation", "low"] == pytest.approx((4 * lo + 2 * lo1) * 900)
    # the leads table covers half the period: its counts are annualised (x 365.25 / 184)
    half = leads.assign(created_at=pd.to_datetime(["2025-07-01"] + ["2025-09-01"] * 8 + ["2025-12-31"]))
    r2 = funnel_losses(half, stage_model(case), period, checks).set_index("stage")
    assert r2.loc["deal", "annual_loss"] == pytest.approx(1000 * 365.25 / 184)
