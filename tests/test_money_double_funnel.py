"""The double funnel and the roadmap on the money basis, on small hand-made numbers: incremental
scenarios with their range, the leak to competitors (measured or assumed), the roadmap's order."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.core.config import Parameters
from toolkit.double_funnel.leak import competitor_reason_share, leak_to_competitors, not_seen_share
from toolkit.double_funnel.roadmap import roadmap
from toolkit.double_funnel.scenarios import scenarios


def test_incremental_scenario_and_its_range_by_hand():
    # 1 000 premium leads a year, 30 % non-target [25 %, 35 %], capture 10 % -> 30 captured leads
    # budget conversion 20 % [15 %, 25 %] against 5 % [2 %, 10 %] for the same leads today
    sc = scenarios(1000, 0.3, (0.25, 0.35), 0.2, (0.15, 0.25), 50000, (40000, 60000), [0.1],
                   paid_share=0.8, paid_share_ci=(0.7, 0.9), nontarget_conversion_now=0.05,
                   nontarget_conversion_now_ci=(0.02, 0.10)).iloc[0]
    # gross: 30 x 0.2 = 6 deals; incremental: 30 x (0.2 - 0.05) = 4.5 deals
    assert sc["deals"] == pytest.approx(6) and sc["incremental_deals"] == pytest.approx(4.5)
    # a year's incremental revenue: 4.5 x paid 0.8 x 50 000 = 180 000
    assert sc["incremental_annual_revenue"] == pytest.approx(180_000)
    # low: 100 x 0.25 x (0.15 - 0.10) x 0.7 x 40 000 = 35 000; high: 100 x 0.35 x (0.25 - 0.02) x 0.9 x 60 000
    assert sc["incremental_low"] == pytest.approx(35_000)
    assert sc["incremental_high"] == pytest.approx(100 * 0.35 * 0.23 * 0.9 * 60000)


def _classified():
    # lost non-target leads: n1 "went to a competitor", n2 "Дорого" (a price reason: says nothing of where),
    # n3 "Выбрал другую клинику", n4 no reason; n5 non-target but reached the deal; t1 target
    return pd.DataFrame({
        "lead_id": ["n1", "n2", "n3", "n4", "n5", "t1"],
        "created_at": pd.to_datetime(["2024-01-01"] * 6),
        "customer_id": pd.array(["c1", "c2", "c3", None, "c5", "c6"], dtype="string"),
        "lost_reason": pd.array(["Went to a competitor", "Дорого", "Выбрал другую клинику", None, None, "x"],
                                dtype="string"),
        "nontarget": pd.array([True, True, True, True, True, False], dtype="boolean"),
        "lost": [True, True, True, True, False, True],
        "reached_deal": [False, False, False, False, True, False],
    })


def test_leak_measured_from_lost_reasons_and_from_the_sales_history():
    c = _classified()
    # base: n1, n3 (n2's reason is a price reason, n4 has none); both name a competitor -> 2 / 2
    r = competitor_reason_share(c, price_reasons=["Дорого"])
    assert (r["k"], r["n"]) == (2, 2)
    # the client's own words instead of the default pattern: only n3's reason
    r2 = competitor_reason_share(c, ["Выбрал другую клинику"], price_reasons=["Дорого"])
    assert (r2["k"], r2["n"]) == (1, 2)
    # never seen as customers: n1, n2, n3 linked; c2 bought on 2024-03-01 (after the lead) -> 2 of 3 not seen
    tx = pd.DataFrame({"customer_id": ["c2", "c3", "c3"], "date": pd.to_datetime(["2024-03-01", "2023-06-01", "2024-04-01"]),
                       "amount": [100.0, 100.0, -100.0]})  # c3's later row is a refund, not a purchase
    s = not_seen_share(c, tx)
    assert (s["k"], s["n"]) == (2, 3)


def test_leak_is_an_assumption_with_a_sensitivity_when_the_data_do_not_measure_it():
    p = Parameters(min_segment_size=30, price_lost_reasons=["Дорого"])
    leak = leak_to_competitors(_classified(), None, p, nontarget_leads_per_year=200.0, nontarget_conversion_now=0.1)
    # 2 leads with a telling reason, 0 linked to sales: fewer than 30, so nothing is measured
    assert leak["measured"] is False and leak["basis"] == "assumption"
    assert leak["value"] == 0.5 and leak["assumption"] == "money.assumption.leak_to_competitors"
    # sensitivity: 200 non-target leads a year x (1 - 0.1) lost x the leak share
    assert leak["sensitivity"] == [{"leak": 0.25, "leads_per_year": 45.0}, {"leak": 0.5, "leads_per_year": 90.0},
                                   {"leak": 0.75, "leads_per_year": 135.0}]
    assert (leak["low"], leak["high"]) == (0.25, 0.75)
    measured = leak_to_competitors(_classified(), None, Parameters(min_segment_size=2, price_lost_reasons=["Дорого"]),
                                   200.0, 0.1)
    assert measured["measured"] is True and measured["basis"] == "lost_reason_names_competitor"
    assert measured["value"] == 1.0


def _bar(code, impact, share, stage="evaluation"):
    return {"code": code, "label": code, "stage": stage, "share": share, "severity": -1.0, "evidence_score": share / 2,
            "respondents": 10, "annual_impact": None if impact is None else
            {"estimate": impact, "low": impact * 0.5, "high": impact * 1.5},
            "stage_annual_loss": None if impact is None else impact * 4, "evidence": "strong"}


def test_roadmap_ranks_money_on_one_basis_and_keeps_evidence_items_in_place():
    # the barriers as ranked by their step: a (money 900), b (no money, evidence), c (money 100)
    bars = [_bar("a", 900.0, 0.5), _bar("b", None, 0.4, "framing"), _bar("c", 100.0, 0.1)]
    df = {"material": True, "budget_brand": "bud", "headline_capture_rate": 0.3,
          "headline_incremental_annual_revenue": {"estimate": 500.0, "low": 300.0, "high": 700.0},
          "scenarios": [{"capture_rate": 0.3, "leads": 12.0}]}
    r = roadmap(bars, df)
    # b keeps its evidence place (2nd); the double funnel (500 a year) takes its money place between a (900)
    # and c (100)
    assert [i["action"].get("code") or i["action"]["key"].rsplit(".", 1)[1] for i in r] == ["a", "b", "double_funnel", "c"]
    assert [i["rank_basis"] for i in r] == ["money", "evidence", "money", "money"]
    assert [i["rank"] for i in r] == [1, 2, 3, 4]
    # a measured barrier's KPI: its stage's annual loss now and after the fix
    assert r[0]["kpi"] == {"name": "money.roadmap.kpi.stage_annual_loss", "now": 3600.0, "target": 2700.0}
    assert r[0]["owner"] == "money.roadmap.owner.marketing" and r[1]["annual_impact"] is None
    # a double funnel that is not material is not recommended: not an item
    assert len(roadmap(bars, dict(df, material=False))) == 3
    assert roadmap({"skipped": "no codes"}, {"skipped": "one brand"}) == []
