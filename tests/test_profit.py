"""Unit tests of toolkit.double_funnel.profit: factors measured by hand, the product, its reconciliation, what-if."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.core.config import parse_case
from toolkit.double_funnel.profit import ALL, factor_stages, profit_metrics, profit_table, what_if


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
    m = profit_metrics(case, t)
    json.dumps(m, allow_nan=False)
    assert m["brands"]["prem"]["all"]["what_if"]["traffic"] == pytest.approx(90.0)
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
