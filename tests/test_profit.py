"""Unit tests of toolkit.double_funnel.profit: factors measured by hand, the product, its reconciliation, what-if."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.core.config import parse_case
from toolkit.core.money import money_period
from toolkit.core.sales import sales_history
from toolkit.double_funnel.profit import (
    ALL,
    decomposition,
    factor_stages,
    formula_stages,
    funnel_formula_metrics,
    profit_metrics,
    profit_table,
    what_if,
    what_if_actual,
)


def make_case(**over):
    data = {
        "client": "Тест",
        "language": "ru",
        "as_of": "2024-12-31",
        "brands": [{"id": "prem", "role": "premium"}],
        "business_lines": [{"id": "cosmetology"}, {"id": "dentistry"}],
        "funnel_stages": [
            {"id": "request", "journey_stage": "evaluation"},
            {"id": "contract", "journey_stage": "deal"},
            {"id": "operation", "journey_stage": "experience"},
        ],
        "sources": {},
    }
    data.update(over)
    return parse_case(data)


def leads_frame(rows):
    df = pd.DataFrame(rows, columns=["lead_id", "created_at", "brand", "stage_reached"])
    return df.astype({"lead_id": "string", "brand": "string", "stage_reached": "string"}).assign(
        created_at=lambda d: pd.to_datetime(d["created_at"])
    )


def tx_frame(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "brand", "business_line"])
    return df.astype({"customer_id": "string", "brand": "string", "business_line": "string"}).assign(
        date=lambda d: pd.to_datetime(d["date"])
    )


# traffic: Jan + Feb 2024, 100 + 200 = 300 sessions -> window 2024-01-01 .. 2024-02-29
TRAFFIC = pd.DataFrame({"period": pd.to_datetime(["2024-01-01", "2024-02-01"]), "brand": ["prem", "prem"],
                        "sessions": [100, 200]}).astype({"brand": "string"})
# 6 leads in the window, 3 reached the contract (deal); one lead in March is outside the window
LEADS = leads_frame([
    ["l1", "2024-01-03", "prem", "request"], ["l2", "2024-01-05", "prem", "contract"],
    ["l3", "2024-01-20", "prem", "operation"], ["l4", "2024-02-02", "prem", "request"],
    ["l5", "2024-02-10", "prem", "contract"], ["l6", "2024-02-28", "prem", "request"],
    ["l7", "2024-03-05", "prem", "contract"],
])
# in the window: c1 two visits (100 cosmetology, 300 dentistry), c2 one visit (200 cosmetology)
# -> revenue 600, visits 3, customers 2; the March visit is outside the window
TX = tx_frame([
    ["c1", "2024-01-10", 60.0, "prem", "cosmetology"], ["c1", "2024-01-10", 40.0, "prem", "cosmetology"],
    ["c1", "2024-02-15", 300.0, "prem", "dentistry"], ["c2", "2024-02-01", 200.0, "prem", "cosmetology"],
    ["c2", "2024-03-10", 999.0, "prem", "cosmetology"],
])


def test_factor_stages_normative_and_fallback():
    assert factor_stages(make_case()) == {
        "traffic": ["framing"], "conversion": ["evaluation", "deal"], "average_check": ["deal"],
        "purchases_per_customer": ["experience", "trigger", "loyalty_loop"],
    }
    retail = make_case(
        journey_stages=[{"id": "store_visit"}, {"id": "trying_on"}, {"id": "decision"}, {"id": "payment"},
                        {"id": "after_sale"}],
        funnel_stages=[{"id": "came", "journey_stage": "store_visit"}, {"id": "tried", "journey_stage": "trying_on"},
                       {"id": "paid", "journey_stage": "payment"}],
    )
    # no normative id: traffic -> first stage; conversion -> journey stages of the funnel up to the deal
    # (the last funnel stage 'paid'); check -> its stage 'payment'; purchases -> the stages after it
    assert factor_stages(retail) == {
        "traffic": ["store_visit"], "conversion": ["store_visit", "trying_on", "payment"],
        "average_check": ["payment"], "purchases_per_customer": ["after_sale"],
    }


def test_profit_formula_factors_product_and_reconciliation_by_hand():
    t = profit_table(make_case(), TX, LEADS, TRAFFIC)
    r = t[(t["brand"] == "prem") & (t["business_line"] == ALL)].iloc[0]
    assert r["window_basis"] == "traffic_months"
    assert r["traffic"] == 300 and r["traffic_source"] == "sessions"
    assert r["leads"] == 6 and r["deals"] == 3
    assert r["traffic_to_lead"] == pytest.approx(6 / 300)  # 0.02
    assert r["lead_to_deal"] == pytest.approx(0.5)  # l2, l3, l5 of 6
    assert r["conversion"] == pytest.approx(0.01)
    assert r["average_check"] == pytest.approx(200)  # 600 / 3 visits
    assert r["purchases_per_customer"] == pytest.approx(1.5)  # 3 visits / 2 customers
    # 300 x 0.01 x 200 x 1.5 = 900 against 600 measured: 3 deals vs 2 paying customers -> 1.5
    assert r["formula_revenue"] == pytest.approx(900)
    assert r["measured_revenue"] == pytest.approx(600)
    assert r["reconciliation"] == pytest.approx(1.5)
    assert "3 deals" in r["reconciliation_note"] and "2 customers" in r["reconciliation_note"]
    assert r["implied_conversion"] == pytest.approx(2 / 300)


def test_line_rows_use_the_implied_conversion_and_reconcile():
    t = profit_table(make_case(), TX, LEADS, TRAFFIC).set_index("business_line")
    cos = t.loc["cosmetology"]
    # cosmetology in the window: c1 100 (one visit), c2 200 -> 2 visits, 2 customers, check 150
    assert cos["visits"] == 2 and cos["customers"] == 2 and cos["average_check"] == pytest.approx(150)
    assert cos["conversion_basis"] == "implied" and cos["conversion"] == pytest.approx(2 / 300)
    assert cos["formula_revenue"] == pytest.approx(300) and cos["reconciliation"] == pytest.approx(1.0)


def test_without_traffic_leads_stand_in():
    t = profit_table(make_case(), TX, LEADS, None)
    r = t[t["business_line"] == ALL].iloc[0]
    # window = first to last lead (2024-01-03 .. 2024-03-05): 7 leads, 4 deals; the March 10 visit is out
    assert r["window_basis"] == "lead_dates" and r["traffic_source"] == "leads"
    assert r["traffic"] == 7 and r["traffic_to_lead"] == 1.0
    assert r["lead_to_deal"] == pytest.approx(4 / 7)
    assert r["measured_revenue"] == pytest.approx(600)
    # 7 x 4/7 x 200 x 1.5 = 1200 = 4 deals x 600 / 2 customers
    assert r["formula_revenue"] == pytest.approx(1200)


def test_what_if_one_factor_and_several():
    t = profit_table(make_case(), TX, LEADS, TRAFFIC)
    t = t[t["business_line"] == ALL]
    w = what_if(t, 0.1, factor_stages(make_case()))
    # any single factor +10 %: 900 -> 990
    assert len(w) == 4
    assert w["revenue_change"].tolist() == pytest.approx([90.0] * 4)
    assert w.set_index("factor").loc["traffic", "new_value"] == pytest.approx(330)
    assert w.set_index("factor").loc["average_check", "stages"] == ["deal"]
    both = what_if(t, {"traffic": 0.1, "average_check": 0.2})
    # 900 x (1.1 x 1.2 - 1) = 900 x 0.32 = 288
    assert both["revenue_change"].iloc[0] == pytest.approx(288)


def test_profit_metrics_json_and_several_brands():
    case = make_case(brands=[{"id": "prem", "role": "premium"}, {"id": "bud", "role": "budget"}])
    tx = pd.concat([TX, tx_frame([["c9", "2024-01-15", 50.0, "bud", "cosmetology"]])], ignore_index=True)
    t = profit_table(case, tx, LEADS, TRAFFIC)
    assert set(t["brand"]) == {"prem", "bud", "all"}
    # 'bud' has neither leads nor traffic: 'all' keeps the sessions (they cover every brand's leads)
    assert t[(t["brand"] == "all") & (t["business_line"] == ALL)]["traffic_source"].iloc[0] == "sessions"
    # once 'bud' has a lead but no traffic, the leads stand in for every brand
    leads = pd.concat([LEADS, leads_frame([["b1", "2024-01-04", "bud", "request"]])], ignore_index=True)
    t2 = profit_table(case, tx, leads, TRAFFIC)
    assert t2[(t2["brand"] == "all") & (t2["business_line"] == ALL)]["traffic_source"].iloc[0] == "leads"
    m = funnel_formula_metrics(case, t)
    json.dumps(m, allow_nan=False)
    assert m["brands"]["prem"]["all"]["what_if"]["traffic"] == pytest.approx(90.0)
    assert funnel_formula_metrics(case, pd.DataFrame()) == {"skipped": "no transactions in this case"}
    assert profit_metrics(case, pd.DataFrame()) == {"skipped": "no transactions in this case"}
    assert np.isfinite(m["brands"]["prem"]["all"]["reconciliation"])


def test_the_line_the_funnel_feeds_takes_the_funnel_conversion():
    # l2 -> c1, whose first visit on/after 2024-01-05 is cosmetology (01-10); l3 -> c2, first visit on/after
    # 01-20 is cosmetology (02-01): both linked deals feed cosmetology (> half)
    leads = LEADS.assign(customer_id=pd.array([None, "c1", "c2", None, None, None, None], dtype="string"))
    t = profit_table(make_case(), TX, leads, TRAFFIC).set_index("business_line")
    cos, den = t.loc["cosmetology"], t.loc["dentistry"]
    assert cos["conversion_basis"] == "funnel" and cos["conversion"] == pytest.approx(0.01)
    # 300 sessions x 0.01 x check 150 x 1 visit per customer = 450 against 300 measured
    assert cos["formula_revenue"] == pytest.approx(450) and cos["reconciliation"] == pytest.approx(1.5)
    assert den["conversion_basis"] == "implied" and den["reconciliation"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- the formula on the money basis

# as_of 2024-12-31: the money period is 2024-01-01 .. 2024-12-31 (the history starts in 2023)
# brand prem: c1 first visit 2023-05-01 (before the period), repeat visits 2024-02-01 (100, cosmetology)
#   and 2024-03-01 (300, dentistry); c2 first visit 2024-01-10 (200 = 120 + 80 on one day, cosmetology),
#   repeat 2024-06-01 (50, cosmetology); c3 first visit 2024-09-09 (400, dentistry)
# brand bud: c4 first visit 2024-02-02 (1000, cosmetology); c1 (new to bud) 2024-04-04 (500, dentistry)
# refunds in the period: c3 -40 (dentistry, prem); one of 2023 (outside)
DEC_TX = tx_frame([
    ["c1", "2023-05-01", 70.0, "prem", "cosmetology"], ["c1", "2024-02-01", 100.0, "prem", "cosmetology"],
    ["c1", "2024-03-01", 300.0, "prem", "dentistry"], ["c2", "2024-01-10", 120.0, "prem", "cosmetology"],
    ["c2", "2024-01-10", 80.0, "prem", "cosmetology"], ["c2", "2024-06-01", 50.0, "prem", "cosmetology"],
    ["c3", "2024-09-09", 400.0, "prem", "dentistry"], ["c4", "2024-02-02", 1000.0, "bud", "cosmetology"],
    ["c1", "2024-04-04", 500.0, "bud", "dentistry"],
])
DEC_REFUNDS = tx_frame([["c3", "2024-09-20", -40.0, "prem", "dentistry"], ["c1", "2023-06-01", -70.0, "prem", "cosmetology"]])
# leads of prem in the period: 4, two reached the contract (deal); l2 -> c2 (lead 2024-01-05, before c2's first visit)
DEC_LEADS = leads_frame([
    ["l1", "2024-01-03", "prem", "request"], ["l2", "2024-01-05", "prem", "contract"],
    ["l3", "2024-05-20", "prem", "operation"], ["l4", "2024-07-02", "prem", "request"],
]).assign(customer_id=pd.array([None, "c2", None, None], dtype="string"))


def _decomposition(leads=DEC_LEADS):
    case = make_case(brands=[{"id": "prem", "role": "premium"}, {"id": "bud", "role": "budget"}])
    sales = sales_history(DEC_TX, DEC_REFUNDS, as_of="2024-12-31")
    try:
        period = money_period(sales.history_start, sales.as_of)
        return case, period, decomposition(case, sales, leads, period)
    finally:
        sales.close()


def test_decomposition_reconciles_with_actual_revenue_by_hand():
    case, period, t = _decomposition()
    assert (period.start.isoformat(), period.months) == ("2024-01-01", 12.0)
    r = t[(t["brand"] == "prem") & (t["business_line"] == ALL)].iloc[0]
    # new customers of prem in 2024: c2 (200), c3 (400) -> 2, first-visit check 300
    assert r["new_customers"] == 2 and r["first_visit_check"] == pytest.approx(300)
    # returning: c1 (100, 300), c2 (50): 2 customers, 3 repeat visits, repeat check 450 / 3 = 150
    assert r["returning_customers"] == 2 and r["visits_per_returning_customer"] == pytest.approx(1.5)
    assert r["repeat_check"] == pytest.approx(150)
    # formula 2 x 300 + 2 x 1.5 x 150 = 1050 = the visits of 2024; actual = 1050 - 40 refund = 1010
    assert r["formula_revenue"] == pytest.approx(1050) and r["actual_revenue"] == pytest.approx(1010)
    assert r["other"] == pytest.approx(-40) and r["reconciliation"] == pytest.approx(1050 / 1010)
    # the funnel: 4 leads, 2 deals (l2 contract, l3 operation); l2's customer c2 became new in the period
    assert (r["leads"], r["deals"], r["lead_to_deal"]) == (4, 2, 0.5)
    assert r["new_customers_from_leads"] == 1 and r["new_customers_without_lead"] == 1
    # the whole company: c1's 2024 visits are repeats (first in 2023); c4 new; a customer-day across brands
    # is one visit of the company: new c2 200, c3 400, c4 1000 -> 3 x 533.3; repeats 100, 300, 50, 500
    a = t[(t["brand"] == ALL) & (t["business_line"] == ALL)].iloc[0]
    assert a["new_customers"] == 3 and a["first_visit_check"] == pytest.approx(1600 / 3)
    assert a["returning_customers"] == 2 and a["repeat_visits"] == 4 and a["repeat_check"] == pytest.approx(237.5)
    assert a["formula_revenue"] == pytest.approx(2550) and a["actual_revenue"] == pytest.approx(2510)
    # a line: dentistry of every brand: c1 first dentistry visit 2024-03-01 (300) is new to the line,
    # c3 (400) new, c1 2024-04-04 (500, bud) a repeat -> 2 x 350 + 1 x 1 x 500 = 1200; refund -40
    d = t[(t["brand"] == ALL) & (t["business_line"] == "dentistry")].iloc[0]
    assert d["new_customers"] == 2 and d["first_visit_check"] == pytest.approx(350) and d["repeat_check"] == 500
    assert d["formula_revenue"] == pytest.approx(1200) and d["other"] == pytest.approx(-40)
    # every row reconciles exactly once "other" is added
    assert np.allclose(t["formula_revenue"] + t["other"], t["actual_revenue"])


def test_what_if_is_on_actual_revenue_per_year():
    case, period, t = _decomposition()
    w = what_if_actual(t, 0.1, period, formula_stages(case))
    prem = w[(w["brand"] == "prem") & (w["business_line"] == ALL)].set_index("factor")
    # +10 % new customers or first-visit check: 10 % of the first-visit revenue 600 = 60
    assert prem.loc["new_customers", "revenue_change"] == pytest.approx(60)
    # +10 % on a repeat factor: 10 % of the repeat revenue 450 = 45
    assert prem.loc["repeat_check", "revenue_change"] == pytest.approx(45)
    # +10 % leads: 10 % more deals (2) at the first-visit check 300 = 60
    assert prem.loc["leads", "revenue_change"] == pytest.approx(60)
    assert prem.loc["repeat_check", "revenue_base"] == pytest.approx(1010)
    assert prem.loc["first_visit_check", "stages"] == ["deal"]
    m = profit_metrics(case, t, period)
    json.dumps(m, allow_nan=False)
    assert m["prem"]["factors"]["new_customers"] == {"value": 2.0, "stage": "deal", "stages": ["deal"]}
    assert m["prem"]["other_reason"] == "money.profit.other_refunds" and m["bud"]["other_reason"] is None
    assert m["dentistry"]["actual_revenue"] == pytest.approx(1160)
    assert set(m) >= {"all", "prem", "bud", "cosmetology", "dentistry", "period"}


def test_short_history_what_if_is_annualised():
    case = make_case()
    tx = tx_frame([["c1", "2024-07-01", 100.0, "prem", "cosmetology"], ["c1", "2024-12-31", 100.0, "prem", "cosmetology"]])
    sales = sales_history(tx, as_of="2024-12-31")
    try:
        period = money_period(sales.history_start, sales.as_of)
        t = decomposition(case, sales, None, period)
    finally:
        sales.close()
    assert period.annualised and period.days == 184
    w = what_if_actual(t, 0.1, period).set_index(["brand", "business_line", "factor"])
    # repeat revenue 100 over 184 days: +10 % = 10 -> 10 x 365.25 / 184 a year
    assert w.loc[("all", "all", "repeat_check"), "revenue_change"] == pytest.approx(10 * 365.25 / 184)
