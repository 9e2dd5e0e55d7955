"""Unit tests of toolkit.double_funnel.crm_spec: stages covered, values carried over, trigger timing, xlsx export."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from toolkit.core.config import parse_case
from toolkit.double_funnel.crm_spec import crm_sheet, crm_spec, trigger_day, write_crm_spec
from toolkit.stage_mapping.funnel import funnel_table


def make_case(**over):
    data = {
        "client": "Тест",
        "language": "ru",
        "as_of": "2024-12-31",
        "brands": [{"id": "prem", "role": "premium"}],
        "business_lines": [{"id": "cosmetology", "name": "Косметология"}],
        "funnel_stages": [
            {"id": "request", "name": "Заявка", "journey_stage": "evaluation"},
            {"id": "contract", "name": "Договор", "journey_stage": "deal"},
        ],
        "touchpoints": [
            {"id": "site", "name": "Сайт", "stage": "framing"},
            {"id": "reviews", "name": "Отзывы", "stage": "framing"},
            {"id": "reminders", "name": "Напоминания", "stage": "trigger"},
        ],
        "sources": {},
    }
    data.update(over)
    return parse_case(data)


# loyalty stages as toolkit.loyalty.repeat.intervals_by_stage gives them: the gaps of a stage are the gaps
# BEFORE its visits, so the stage of visit 1 has none
STAGES = pd.DataFrame({
    "scope": ["all_lines", "all_lines", "all_lines", "cosmetology", "cosmetology"],
    "stage": ["1", "2-5", "6+", "1", "2+"],
    "first_visit": [1, 2, 6, 1, 2],
    "last_visit": pd.array([1, 5, None, 1, None], dtype="Int64"),
    "gaps": [0, 300, 120, 0, 90],
    "gap_q25": [None, 40.0, 25.0, None, 30.0],
    "gap_median": [None, 74.0, 35.0, None, 50.5],
    "gap_q75": [None, 110.0, 50.0, None, None],
})
LOYALTY = {"overall": {"p_return": {"1": 0.4, "6": 0.8}, "p_return_ci": {"1": [0.35, 0.45], "6": [0.7, 0.9]},
                       "eligible": {"1": 1000, "6": 150}, "loyalty_visit": 6},
           "by_line": {"cosmetology": {"loyalty_visit": None}}}
PROFIT = pd.DataFrame([{
    "brand": "prem", "business_line": "all", "traffic": 300.0, "traffic_source": "sessions",
    "traffic_to_lead": 0.02, "traffic_to_lead_ci": [0.01, 0.04], "leads": 6, "lead_to_deal": 0.5,
    "lead_to_deal_ci": [0.2, 0.8], "average_check": 200.0, "average_check_ci": [150.0, 250.0], "visits": 3,
    "customers": 2, "purchases_per_customer": 1.5,
}])


def test_trigger_day_rule():
    # 74 days: lead time round(7.4) = 7 -> day 67; 35: round_half_up(3.5) = 4 -> 31; 5: max(1, 0.5 -> 1) -> 4
    assert trigger_day(74) == 67
    assert trigger_day(35) == 31
    assert trigger_day(5) == 4
    assert trigger_day(1) == 1  # never before day 1
    assert trigger_day(float("nan")) is None
    assert trigger_day(100, lead_share=0.2) == 80


def test_every_stage_listed_and_triggers_timed_from_the_median_gap():
    case = make_case()
    spec = crm_spec(case, profit=PROFIT, loyalty=LOYALTY, loyalty_stages=STAGES)
    assert list(dict.fromkeys(spec["stage"])) == case.stage_ids()  # every stage, in journey order
    rem = spec[spec["kind"] == "reminder"]
    # one reminder per loyalty stage with a measured gap (not the first-visit stage), timed from that gap
    assert len(rem) == 3
    for r in STAGES.dropna(subset=["gap_median"]).itertuples(index=False):
        row = rem[(rem["scope"] == r.scope) & (rem["loyalty_stage"] == r.stage)].iloc[0]
        assert row["median_gap_days"] == r.gap_median
        assert row["send_day"] == trigger_day(r.gap_median)
        assert row["stage"] == "trigger"
    # stage 2-5 (gap before visits 2..5) is for customers after visits 1..4: 74 days -> day 67
    first = rem.iloc[0]
    assert first["after_visits"] == "1-4" and first["send_day"] == 67
    assert "67-й день" in first["action_ru"] and "day 67" in first["action_en"]
    assert "после визита № 1-4" in first["action_ru"]
    assert rem.iloc[1]["after_visits"] == "5+"  # stage 6+ follows visits 5, 6, ...
    wb = spec[spec["kind"] == "win_back"]
    # win-back at ceil(q75): 110 and 50; cosmetology has no q75
    assert sorted(wb["send_day"].tolist()) == [50, 110]
    ms = spec[spec["kind"] == "milestone"]
    assert ms["loyalty_stage"].tolist() == ["6+"] and ms["send_day"].tolist() == [0]


def test_metric_values_carried_from_the_analyses():
    spec = crm_spec(make_case(), profit=PROFIT, loyalty=LOYALTY, loyalty_stages=STAGES,
                    double_funnel={"premium_brand": "prem", "nontarget_share": 0.35, "nontarget_share_ci": [0.3, 0.4],
                                   "evidence_leads": 900})
    m = spec[spec["kind"] == "metric"].set_index("metric_id")
    assert m.loc["traffic", "stage"] == "framing" and m.loc["traffic", "value"] == 300.0
    assert m.loc["traffic_to_lead", "stage"] == "evaluation" and m.loc["traffic_to_lead", "value"] == 0.02
    assert m.loc["lead_to_deal", "stage"] == "deal" and m.loc["lead_to_deal", "n"] == 6
    assert m.loc["average_check", "stage"] == "deal" and m.loc["average_check", "ci_hi"] == 250.0
    assert m.loc["purchases_per_customer", "stage"] == "loyalty_loop"
    assert m.loc["p_return_1", "stage"] == "experience" and m.loc["p_return_1", "value"] == 0.4
    assert m.loc["loyalty_visit", "value"] == 0.8
    assert m.loc["nontarget_share", "stage"] == "framing" and m.loc["nontarget_share", "n"] == 900
    # touchpoints of a stage are listed on its rows
    assert set(spec.loc[spec["stage"] == "framing", "touchpoints"]) == {"Сайт; Отзывы"}


def test_funnel_kpis_are_filed_at_their_journey_stage():
    case = make_case()
    leads = pd.DataFrame({"lead_id": ["a", "b", "c", "d"], "created_at": pd.to_datetime(["2024-01-01"] * 4),
                          "brand": ["prem"] * 4, "stage_reached": ["request", "contract", "contract", "request"]})
    leads = leads.astype({"lead_id": "string", "brand": "string", "stage_reached": "string"})
    spec = crm_spec(case, funnel=funnel_table(leads, case, by=()))
    row = spec[spec["metric_id"] == "funnel_request_to_contract"].iloc[0]
    assert row["stage"] == "evaluation" and row["value"] == pytest.approx(0.5) and row["n"] == 4
    # the profit-formula metrics are listed even without a value today (what to record from now on)
    assert spec.set_index("metric_id").loc["traffic", "stage"] == "framing"
    assert spec.set_index("metric_id")["value"].loc[["traffic", "average_check"]].isna().all()
    # stages with no metric at all (no loyalty analysis given) get a placeholder row
    assert set(spec.loc[spec["kind"] == "placeholder", "stage"]) == {"experience", "trigger"}


def test_custom_stages_file_triggers_at_the_first_purchases_stage():
    case = make_case(
        journey_stages=[{"id": "store_visit"}, {"id": "payment"}, {"id": "after_sale"}, {"id": "repeat"}],
        funnel_stages=[{"id": "came", "journey_stage": "store_visit"}, {"id": "paid", "journey_stage": "payment"}],
        touchpoints=[],
    )
    spec = crm_spec(case, loyalty_stages=STAGES, loyalty=LOYALTY)
    assert set(spec.loc[spec["kind"] == "reminder", "stage"]) == {"after_sale"}
    assert list(dict.fromkeys(spec["stage"])) == ["store_visit", "payment", "after_sale", "repeat"]


def test_xlsx_is_deterministic_and_readable(tmp_path):
    spec = crm_spec(make_case(), profit=PROFIT, loyalty=LOYALTY, loyalty_stages=STAGES)
    a = write_crm_spec(spec, tmp_path / "a.xlsx")
    b = write_crm_spec(spec, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    ws = load_workbook(a).active
    rows = list(ws.values)
    assert ws.title == "CRM"
    assert rows[0][0] == "Этап" and len(rows) == len(spec) + 1
    en = crm_sheet(spec, "en")
    assert en.columns[0] == "Stage" and en.shape == (len(spec), 12)


def test_one_off_lines_get_cross_sell_instead_of_reminders():
    case = make_case(business_lines=[{"id": "cosmetology", "name": "Косметология", "repeat_kind": "regular"},
                                     {"id": "surgery", "name": "Хирургия", "repeat_kind": "one_off"}])
    stages = pd.concat([STAGES, pd.DataFrame({
        "scope": ["surgery", "surgery"], "stage": ["1", "2+"], "first_visit": [1, 2],
        "last_visit": pd.array([1, None], dtype="Int64"), "gaps": [0, 40], "gap_q25": [None, 100.0],
        "gap_median": [None, 150.0], "gap_q75": [None, 170.0]})], ignore_index=True)
    cross = pd.DataFrame({"from_line": ["surgery", "surgery", "cosmetology"],
                          "to_line": ["cosmetology", "dentistry", "surgery"], "base": [200, 200, 500],
                          "share_after": [0.25, 0.05, 0.02], "share_after_ci_lo": [0.19, 0.03, 0.01],
                          "share_after_ci_hi": [0.31, 0.09, 0.04]})
    spec = crm_spec(case, loyalty_stages=stages, cross_penetration=cross)
    assert not ((spec["scope"] == "surgery") & spec["kind"].isin(["reminder", "win_back"])).any()
    cs = spec[spec["kind"] == "cross_sell"]
    # surgery's customers most often buy cosmetology afterwards (25 %); regular lines get no cross-sell row
    assert cs["scope"].tolist() == ["surgery"] and cs["value"].tolist() == [0.25] and cs["n"].tolist() == [200]
    assert "«Косметология»" in cs["action_ru"].iloc[0] and "25%" in cs["action_en"].iloc[0]
