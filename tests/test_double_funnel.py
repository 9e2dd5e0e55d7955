"""Unit tests of toolkit.double_funnel.nontarget on tiny hand-made frames (expected values computed by hand)."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from toolkit.core.config import parse_case
from toolkit.double_funnel.nontarget import (
    brand_penetration,
    classify_leads,
    deal_revenue,
    deal_stage,
    double_funnel_analysis,
    double_funnel_metrics,
    is_price_reason,
    leads_per_year,
    merge_verdict,
    nontarget_share,
    normalise_reason,
    scenarios,
    sensitivity_table,
)
from toolkit.core.fmt import fmt_money
from toolkit.core.stats import wilson_interval
from toolkit.double_funnel.recommendation import recommendation_text

FUNNEL = [
    {"id": "request", "name": "Заявка", "journey_stage": "evaluation"},
    {"id": "consultation", "name": "Консультация", "journey_stage": "evaluation"},
    {"id": "contract", "name": "Договор", "journey_stage": "deal"},
]


def make_case(**over):
    data = {
        "client": "Тест",
        "language": "en",
        "currency": "RUB",
        "as_of": "2025-01-31",
        "brands": [
            {"id": "prem", "name": "Premium", "role": "premium", "price_floor": 100000},
            {"id": "bud", "name": "Budget", "role": "budget"},
        ],
        "funnel_stages": FUNNEL,
        "choice_factors": [{"id": "price", "name": "Price", "kind": "hard"}, {"id": "service", "name": "Service"}],
        "parameters": {"price_lost_reasons": ["Дорого", "Не устроила цена"], "capture_rates": [0.5]},
        "sources": {},
    }
    data.update(over)
    return parse_case(data)


def frame(rows, columns):
    df = pd.DataFrame(rows, columns=columns)
    for c in ("lead_id", "brand", "stage_reached", "lost_reason", "customer_id"):
        if c in df.columns:
            df[c] = df[c].astype("string")
    if "created_at" in df.columns:
        df["created_at"] = pd.to_datetime(df["created_at"])
    if "date" in df.columns:
        df["date"] = pd.to_datetime(df["date"])
    return df


LEAD_COLS = ["lead_id", "created_at", "brand", "stage_reached", "lost_reason", "budget", "customer_id"]

# the 3-lead example: p1 priced out by budget, p2 a target deal, p3 no budget but lost "дорого!"
THREE = frame(
    [
        ["p1", "2024-01-01", "prem", "request", "Дорого", 50000.0, None],
        ["p2", "2024-07-01", "prem", "contract", None, 200000.0, None],
        ["p3", "2024-12-31", "prem", "consultation", "дорого!", np.nan, None],
        ["b1", "2024-02-01", "bud", "contract", None, np.nan, None],
        ["b2", "2024-03-01", "bud", "request", "x", np.nan, None],
        ["b3", "2024-04-01", "bud", "request", "y", np.nan, None],
        ["b4", "2024-05-01", "bud", "contract", None, np.nan, None],
    ],
    LEAD_COLS,
)
TX_COLS = ["customer_id", "date", "amount", "brand"]
# budget brand: c1 first visit 6000 + 4000 on one day = 10000, later 20000; c2 first visit 14000
TX = frame(
    [
        ["c1", "2024-03-01", 6000.0, "bud"],
        ["c1", "2024-03-01", 4000.0, "bud"],
        ["c1", "2024-06-01", 20000.0, "bud"],
        ["c2", "2024-04-01", 14000.0, "bud"],
        ["c3", "2024-04-01", 99999.0, "prem"],
    ],
    TX_COLS,
)


# --------------------------------------------------------------------------- reasons and stages


def test_price_reasons_match_after_normalising_only_exactly():
    values = pd.Series(["Дорого!", "  дорого ", "ДОРОГО", "Не устроила  цена.", "недорого", "Передумал", None, ""],
                       dtype="string")
    got = is_price_reason(values, ["Дорого", "Не устроила цена"])
    assert got.tolist() == [True, True, True, True, False, False, False, False]
    assert normalise_reason(pd.Series(["Ёлка, дорого!!"], dtype="string")).iloc[0] == "елка дорого"


def test_deal_stage_is_the_journey_deal_stage_else_a_purchase_stage_else_the_last_funnel_stage():
    assert deal_stage(make_case()) == ("contract", 2, "journey_stage_deal")
    # two funnel stages under 'deal': the deal is completed at the later one
    two = make_case(funnel_stages=[*FUNNEL, {"id": "prepaid", "journey_stage": "deal"},
                                   {"id": "operation", "journey_stage": "experience"}])
    assert deal_stage(two) == ("prepaid", 3, "journey_stage_deal")
    # a webshop: 'Order placed' is the last funnel stage under the journey stage 'payment'
    shop = make_case(
        journey_stages=[{"id": "store_visit"}, {"id": "decision"}, {"id": "payment"}, {"id": "after_sale"}],
        funnel_stages=[{"id": "cart", "journey_stage": "decision"}, {"id": "checkout", "journey_stage": "payment"},
                       {"id": "order", "journey_stage": "payment"}, {"id": "kept", "journey_stage": "after_sale"}],
    )
    assert deal_stage(shop) == ("order", 2, "purchase_journey_stage")
    # nothing says purchase: the last funnel stage
    plain = make_case(
        journey_stages=[{"id": "visit"}, {"id": "try_on"}, {"id": "after"}],
        funnel_stages=[{"id": "came", "journey_stage": "visit"}, {"id": "tried", "journey_stage": "try_on"},
                       {"id": "kept", "journey_stage": "after"}],
    )
    assert deal_stage(plain) == ("kept", 2, "last_funnel_stage")


# --------------------------------------------------------------------------- the 3-lead example


def test_three_lead_example_by_hand():
    case = make_case()
    r = double_funnel_analysis(case, THREE, TX)
    m = r.metrics
    # p1: budget 50 000 < 100 000 -> non-target (budget rule); p2: 200 000 -> target (budget);
    # p3: no budget, lost with "дорого!" = price reason -> non-target (lost-reason rule). 2 of 3.
    assert m["premium_leads"] == 3
    assert m["nontarget_share"] == pytest.approx(2 / 3)
    assert m["nontarget_share_ci"] == pytest.approx(list(wilson_interval(2, 3)))
    assert m["rules"]["budget"] == {"nontarget": 1, "target": 1}
    assert m["rules"]["lost_reason"] == {"nontarget": 1, "target": 0}
    assert m["no_evidence_leads"] == 0
    # now (every lead with evidence): non-target p1, p3 both lost -> 0/2; target p2 reached the contract -> 1/1
    assert m["nontarget_conversion_now"] == 0.0 and m["nontarget_conversion_now_n"] == 2
    assert m["nontarget_conversion_now_ci"] == pytest.approx(list(wilson_interval(0, 2)))
    assert m["target_conversion_now"] == 1.0 and m["target_conversion_now_n"] == 1
    # the budget-only check: p1 0/1, p2 1/1
    assert m["conversion_now_budget_only"]["nontarget"]["n"] == 1
    assert m["conversion_now_budget_only"]["target"]["rate"] == 1.0
    # budget brand: b1, b4 reached the contract out of 4 -> 0.5
    assert m["budget_conversion"] == 0.5 and m["budget_leads"] == 4
    # no lead links to a customer: check = mean first visit = (10 000 + 14 000) / 2 = 12 000, paid share 1
    assert m["budget_avg_check"] == 12000.0
    assert m["budget_avg_check_basis"] == "all_customers_first_visit"
    assert m["budget_paid_share"] == 1.0
    # LTV: (10 000 + 20 000 + 14 000) / 2 customers = 22 000
    assert m["budget_revenue_per_customer"] == 22000.0
    # leads per year on the money basis: the sales history starts 2024-03-01, so the money period is
    # 2024-03-01 .. 2025-01-31 (annualised); the premium leads of that period are p2 and p3, and the
    # leads table covers it from p2 (2024-07-01) to its last lead (2024-12-31): 184 days
    # -> 2 * 365.25 / 184
    per_year = 2 * 365.25 / 184
    assert m["period_days"] == 184 and m["premium_leads_in_period"] == 2
    assert m["premium_leads_per_year_basis"] == "money_period"
    assert m["premium_leads_per_year"] == pytest.approx(per_year)
    sc = m["scenarios"][0]
    # capture 0.5: leads = per_year * 2/3 * 0.5 = 0.99795; deals = * 0.5; revenue = deals * 1 * 12 000 = 5 987.70
    assert sc["capture_rate"] == 0.5
    assert sc["leads"] == pytest.approx(per_year * 2 / 3 * 0.5)
    assert sc["deals"] == pytest.approx(per_year * 2 / 3 * 0.5 * 0.5)
    assert sc["revenue"] == pytest.approx(per_year * 2 / 3 * 0.5 * 0.5 * 12000)
    assert sc["revenue"] == pytest.approx(2 * 365.25 / 184 * 2 / 3 * 0.5 * 0.5 * 12000, rel=1e-6)
    assert sc["revenue_ltv"] == pytest.approx(per_year * 2 / 3 * 0.5 * 0.5 * 22000)
    # incremental: captured leads x (0.5 - 0.0); a year's incremental revenue = those deals x paid share 1 x 12 000
    assert sc["incremental_deals"] == pytest.approx(per_year * 2 / 3 * 0.5 * 0.5)
    assert sc["incremental_annual_revenue"]["estimate"] == pytest.approx(per_year * 2 / 3 * 0.5 * 0.5 * 12000)
    assert sc["revenue_low"] <= sc["revenue"] <= sc["revenue_high"]


def test_metrics_have_the_contract_shape_and_are_json():
    m = double_funnel_metrics(make_case(), THREE, TX)
    for key in ("premium_brand", "budget_brand", "premium_leads", "nontarget_share", "nontarget_share_ci",
                "nontarget_conversion_now", "budget_conversion", "budget_avg_check", "scenarios", "merge_brands",
                "recommendation"):
        assert key in m, key
    assert {"capture_rate", "leads", "deals", "revenue"} <= set(m["scenarios"][0])
    assert isinstance(m["merge_brands"], bool)
    json.dumps(m, allow_nan=False)  # NaN would raise


def test_recommendation_is_data_and_its_text_comes_from_the_catalog():
    m = double_funnel_metrics(make_case(), THREE, TX)
    rec = m["recommendation"]
    # incremental revenue ~7 940 a year against ~47 700 of annual revenue: material, recommended
    assert m["material"] is True and rec["action"] == "develop_budget_funnel" and rec["recommended"] is True
    assert all(k.startswith("money.df.") for k in rec["sentences"])
    en, ru = recommendation_text(m, "en"), recommendation_text(m, "ru")
    assert "67%" in en and "67%" in ru
    assert fmt_money(12000, "RUB", "en") in en
    assert "Budget" in ru and "нецелевые" in ru
    assert "Keep the brands separate" in en
    m2 = double_funnel_metrics(make_case(), THREE.assign(budget=THREE["budget"].fillna(500000.0)), TX)
    assert recommendation_text(m2, "en") != en  # other numbers, other text


def test_not_material_is_not_recommended_and_says_so():
    # the same double funnel in a company with 100 M of revenue a year: ~7 940 is far under 0.5 %
    big = pd.concat([TX, frame([["z9", "2024-12-01", 100_000_000.0, "prem"]], TX_COLS)], ignore_index=True)
    m = double_funnel_metrics(make_case(), THREE, big)
    assert m["material"] is False and m["recommendation"]["action"] == "not_material"
    assert m["recommendation"]["recommended"] is False
    en = recommendation_text(m, "en")
    assert "not material" in en and "not recommended" in en
    assert "develop" not in en.lower()
    # the materiality share is a case parameter: at 0 every positive gain is material
    m0 = double_funnel_metrics(make_case(parameters={"price_lost_reasons": ["Дорого", "Не устроила цена"],
                                                     "capture_rates": [0.5], "materiality_share": 0.0}), THREE, big)
    assert m0["material"] is True and m0["recommendation"]["action"] == "develop_budget_funnel"


# --------------------------------------------------------------------------- rule precedence


def test_rule_precedence_budget_then_lost_reason_then_deal_then_persona():
    case = make_case()
    leads = frame(
        [
            # budget 150 000 >= floor wins over the price reason -> target (budget)
            ["a", "2024-01-01", "prem", "request", "Дорого", 150000.0, "c_a"],
            # no budget; non-price recorded reason wins over a price-driven persona -> target (lost_reason)
            ["b", "2024-01-02", "prem", "request", "Передумал", np.nan, "c_b"],
            # no budget, no reason, reached the contract -> target (deal) despite a price-driven persona
            ["c", "2024-01-03", "prem", "contract", None, np.nan, "c_c"],
            # no budget, lost with a blank reason, price-driven persona -> non-target (persona)
            ["d", "2024-01-04", "prem", "consultation", None, np.nan, "c_d"],
            # as d but the persona is not price-driven -> target (persona)
            ["e", "2024-01-05", "prem", "consultation", " ", np.nan, "c_e"],
            # no budget, no reason, no persona -> no evidence
            ["f", "2024-01-06", "prem", "request", None, np.nan, "c_f"],
        ],
        LEAD_COLS,
    )
    persona = pd.Series(["P2", "P2", "P2", "P2", "P1", pd.NA], index=leads.index, dtype="string")
    out = classify_leads(leads, case, 100000.0, ["Дорого"], persona, ["P2"])
    assert out["evidence"].tolist() == ["budget", "lost_reason", "deal", "persona", "persona", "none"]
    assert out["nontarget"].tolist() == [False, False, False, True, False, pd.NA]
    s = nontarget_share(out)
    # 1 non-target among 5 with evidence; 1 without evidence counted apart
    assert (s["nontarget"], s["with_evidence"], s["no_evidence"]) == (1, 5, 1)
    assert s["share"] == pytest.approx(0.2)
    assert s["by_rule"]["persona"] == {"nontarget": 1, "target": 1}


def test_rules_switch_off_without_floor_or_price_reasons():
    case = make_case()
    out = classify_leads(THREE[THREE["brand"] == "prem"], case, None, [])
    # no floor: budgets are no evidence; no price reasons: reasons are no evidence; p2 reached the deal
    assert out["evidence"].tolist() == ["none", "deal", "none"]


def test_persona_rule_through_the_customer_id_and_its_absence():
    case = make_case()
    leads = frame(
        [
            ["x1", "2024-01-01", "prem", "request", None, np.nan, "c1"],
            ["x2", "2024-01-02", "prem", "request", None, np.nan, "c2"],
            ["x3", "2024-01-03", "prem", "request", None, np.nan, "c3"],
            ["y1", "2024-01-03", "bud", "contract", None, np.nan, None],
        ],
        LEAD_COLS,
    )
    personas = SimpleNamespace(
        assignments=pd.DataFrame({"respondent_id": ["r1", "r2", "r3"], "persona": ["P1", "P2", "P2"]}),
        personas=pd.DataFrame({"persona": ["P1", "P2"], "price_driven": [False, True]}),
    )
    survey = pd.DataFrame({"respondent_id": ["r1", "r2", "r3"], "customer_id": ["c1", "c2", "zz"],
                           "brand": ["prem", "prem", "bud"]})
    m = double_funnel_analysis(case, leads, survey=survey, personas=personas).metrics
    # x1 -> r1 -> P1 (target); x2 -> r2 -> P2 price-driven (non-target); x3 not linked (no evidence)
    assert m["rules"]["persona"] == {"nontarget": 1, "target": 1}
    assert m["no_evidence_leads"] == 1
    assert m["nontarget_share"] == pytest.approx(0.5)
    # context: premium respondents r1 (P1), r2 (P2 price-driven) -> 1 of 2 in a price-driven persona
    assert m["survey_price_driven_share_premium"]["share"] == pytest.approx(0.5)
    assert m["survey_price_driven_share_premium"]["n"] == 2
    # the same survey without a customer id: the rule contributes nothing, and says so
    m2 = double_funnel_analysis(case, leads, survey=survey.drop(columns="customer_id"), personas=personas).metrics
    assert m2["rules"]["persona"] == {"nontarget": 0, "target": 0}
    assert m2["no_evidence_leads"] == 3
    assert m2["nontarget_share"] is None
    assert any("no lead can be linked" in n for n in m2["notes"])


# --------------------------------------------------------------------------- skipped


def test_skipped_cases():
    one = make_case(brands=[{"id": "prem", "role": "premium"}])
    assert double_funnel_metrics(one, THREE) == {"skipped": "the case has one brand"}
    no_roles = make_case(brands=[{"id": "prem", "role": "premium"}, {"id": "bud", "role": "other"}])
    assert "skipped" in double_funnel_metrics(no_roles, THREE)
    assert double_funnel_metrics(make_case(), None) == {"skipped": "no leads table in this case"}
    assert "skipped" in double_funnel_metrics(make_case(), THREE[THREE["brand"] == "bud"])


# --------------------------------------------------------------------------- scenario arithmetic


def test_scenarios_and_sensitivity_arithmetic():
    sc = scenarios(1000, 0.3, (0.25, 0.35), 0.2, (0.15, 0.25), 50000, (40000, 60000), [0.1, 0.5],
                   paid_share=0.9, paid_share_ci=(0.8, 1.0), revenue_per_customer=80000, nontarget_conversion_now=0.05)
    # 0.1: leads = 1000 * 0.3 * 0.1 = 30; deals = 30 * 0.2 = 6; paying = 6 * 0.9 = 5.4; revenue = 5.4 * 50 000
    r = sc.iloc[0]
    assert (r["leads"], r["deals"], r["paying"]) == pytest.approx((30, 6, 5.4))
    assert r["revenue"] == pytest.approx(270000)
    # low = 1000 * 0.1 * 0.25 * 0.15 * 0.8 * 40 000 = 120 000; high = 100 * .35 * .25 * 1 * 60 000 = 525 000
    assert r["revenue_low"] == pytest.approx(120000)
    assert r["revenue_high"] == pytest.approx(525000)
    assert r["revenue_ltv"] == pytest.approx(5.4 * 80000)
    assert r["incremental_deals"] == pytest.approx(30 * (0.2 - 0.05))
    assert sc.iloc[1]["revenue"] == pytest.approx(5 * 270000)  # linear in the capture rate
    sens = sensitivity_table(1000, 0.3, 50000, [0.1, 0.5], [0.15, 0.2, 0.25], paid_share=0.9)
    # 0.1 x 0.15: 1000 * 0.3 * 0.1 * 0.15 * 0.9 * 50 000 = 202 500
    cell = sens.set_index(["capture_rate", "level"])["revenue"]
    assert cell[(0.1, "low")] == pytest.approx(202500)
    assert cell[(0.1, "point")] == pytest.approx(270000)
    assert cell[(0.5, "high")] == pytest.approx(1000 * 0.3 * 0.5 * 0.25 * 0.9 * 50000)
    assert len(sens) == 6


def test_leads_per_year():
    per, days = leads_per_year(pd.Series(pd.to_datetime(["2024-01-01", "2024-01-10"])))
    assert days == 10 and per == pytest.approx(2 * 365.25 / 10)


def test_deal_revenue_follows_the_lead_to_its_customer():
    case = make_case()
    leads = frame(
        [
            ["b1", "2024-02-01", "bud", "contract", None, np.nan, "c1"],
            ["b2", "2024-03-15", "bud", "contract", None, np.nan, "c2"],
            ["b3", "2024-03-20", "bud", "contract", None, np.nan, "c9"],  # a contract never paid
            ["b4", "2024-03-20", "bud", "request", "x", np.nan, None],
        ],
        LEAD_COLS,
    )
    tx = frame(
        [
            ["c1", "2024-01-10", 500.0, "bud"],  # before the lead: not the deal's visit
            ["c1", "2024-03-01", 6000.0, "bud"],
            ["c1", "2024-03-01", 4000.0, "bud"],
            ["c1", "2024-06-01", 20000.0, "bud"],
            ["c2", "2024-04-01", 14000.0, "bud"],
        ],
        TX_COLS,
    )
    r = deal_revenue(leads, case, tx)
    # deals b1, b2, b3; paid: b1 (10 000 on 2024-03-01) and b2 (14 000) -> paid share 2/3, check 12 000
    assert r["basis"] == "lead_linked_first_visit"
    assert (r["deals"], r["paid_deals"]) == (3, 2)
    assert r["paid_share"] == pytest.approx(2 / 3)
    assert r["check"] == pytest.approx(12000)
    assert r["check_n"] == 2
    # since the lead: b1's customer c1 spent 10 000 + 20 000, b2's customer c2 14 000 -> (30 000 + 14 000) / 2
    assert r["revenue_per_customer"] == pytest.approx(22000)
    assert r["revenue_per_customer_basis"] == "lead_linked_since_lead"


# --------------------------------------------------------------------------- merge or keep separate


def _comparison(rows):
    return pd.DataFrame(rows, columns=["factor_id", "name", "cliffs_delta", "delta_lo", "delta_hi", "p_holm",
                                       "material", "higher_for"])


def test_merge_verdict_rules():
    price = _comparison([["price", "Цена", -0.6, -0.7, -0.5, 0.001, True, "bud"],
                         ["service", "Сервис", 0.1, -0.1, 0.3, 0.5, False, None]])
    v = merge_verdict(price, "price", "prem", "bud")
    assert v["merge_brands"] is False and v["differ_on_price"] and v["higher_for_budget"] == ["price"]
    same = _comparison([["price", "Цена", 0.05, -0.1, 0.2, 0.9, False, None],
                        ["service", "Сервис", 0.1, -0.1, 0.3, 0.5, False, None]])
    assert merge_verdict(same, "price", "prem", "bud")["merge_brands"] is True
    opposite = _comparison([["price", "Цена", 0.0, -0.1, 0.1, 0.9, False, None],
                            ["service", "Сервис", 0.5, 0.3, 0.7, 0.001, True, "prem"],
                            ["location", "Место", -0.4, -0.6, -0.2, 0.01, True, "bud"]])
    v = merge_verdict(opposite, "price", "prem", "bud")
    assert v["merge_brands"] is False and v["opposite_directions"] and not v["differ_on_price"]
    brand = _comparison([["brand_status", "Статус", 0.5, 0.3, 0.7, 0.001, True, "prem"]])
    assert merge_verdict(brand, None, "prem", "bud")["differ_on_brand"] is True
    # no survey: penetration decides (>= 25 % of customers bought both)
    assert merge_verdict(None, None, "prem", "bud", {"both": {"share": 0.30}})["merge_brands"] is True
    assert merge_verdict(None, None, "prem", "bud", {"both": {"share": 0.10}})["merge_brands"] is False


def test_brand_penetration_by_hand():
    tx = frame(
        [
            ["c1", "2024-01-01", 100.0, "prem"],
            ["c1", "2024-02-01", 100.0, "bud"],
            ["c2", "2024-01-01", 100.0, "bud"],
            ["c3", "2024-01-01", 100.0, "prem"],
            ["c4", "2024-01-01", 100.0, "prem"],
        ],
        TX_COLS,
    )
    pen = brand_penetration(tx, "prem", "bud")
    # premium customers c1, c3, c4: 1 also bought budget (after) -> 1/3; budget c1, c2 -> 1/2; both 1 of 4
    assert pen["premium_to_budget"]["share"] == pytest.approx(1 / 3)
    assert pen["premium_to_budget"]["bought_after"] == 1
    assert pen["budget_to_premium"]["share"] == pytest.approx(1 / 2)
    assert pen["both"]["share"] == pytest.approx(1 / 4) and pen["both"]["n"] == 4


def test_survey_audiences_drive_the_verdict():
    case = make_case()
    rng = np.random.default_rng(0)
    n = 40
    survey = pd.DataFrame({
        "respondent_id": [f"r{i:02d}" for i in range(2 * n)],
        "brand": ["prem"] * n + ["bud"] * n,
        # premium respondents rate price 1-2, budget respondents 4-5: a large difference
        "imp_price": np.r_[rng.integers(1, 3, n), rng.integers(4, 6, n)].astype(float),
        "imp_service": rng.integers(1, 6, 2 * n).astype(float),
    })
    m = double_funnel_metrics(case, THREE, TX, survey=survey)
    assert m["merge_brands"] is False
    assert m["verdict"]["differ_on_price"] is True
    assert m["audience_comparison"]["price"]["material"] is True
    assert "Price" in recommendation_text(m, "en")


def test_deterministic():
    a = double_funnel_metrics(make_case(), THREE, TX)
    b = double_funnel_metrics(make_case(), THREE.sample(frac=1, random_state=1), TX.sample(frac=1, random_state=2))
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert not math.isnan(a["nontarget_share"])


def test_retail_style_case_with_custom_stages():
    case = make_case(
        brands=[{"id": "boutique", "role": "premium", "price_floor": 20000},
                {"id": "outlet", "role": "budget"}],
        journey_stages=[{"id": "store_visit"}, {"id": "trying_on"}, {"id": "payment"}, {"id": "after_sale"}],
        funnel_stages=[{"id": "came", "journey_stage": "store_visit"}, {"id": "tried", "journey_stage": "trying_on"},
                       {"id": "paid", "journey_stage": "payment"}],
    )
    leads = frame(
        [
            ["a", "2024-01-01", "boutique", "came", "Дорого", 5000.0, None],  # priced out (budget)
            ["b", "2024-01-02", "boutique", "paid", None, 30000.0, None],  # target, bought
            ["c", "2024-01-03", "boutique", "tried", "Не устроила цена", np.nan, None],  # priced out (reason)
            ["d", "2024-01-04", "boutique", "tried", "Нет размера", np.nan, None],  # target (other reason)
            ["e", "2024-01-02", "outlet", "paid", None, np.nan, None],
            ["f", "2024-01-03", "outlet", "came", None, np.nan, None],
        ],
        LEAD_COLS,
    )
    m = double_funnel_metrics(case, leads, TX.assign(brand=TX["brand"].map({"bud": "outlet", "prem": "boutique"})))
    # no funnel stage is the journey stage 'deal': 'paid', under 'payment', is the deal
    assert m["deal_stage"] == "paid" and m["deal_stage_rule"] == "purchase_journey_stage"
    assert any("purchase-like" in n for n in m["notes"])
    # a, c non-target; b, d target -> 2 of 4; the outlet converts 1 of 2; its check (10 000 + 14 000) / 2
    assert m["nontarget_share"] == pytest.approx(0.5)
    assert m["budget_conversion"] == pytest.approx(0.5)
    assert m["budget_avg_check"] == pytest.approx(12000)
