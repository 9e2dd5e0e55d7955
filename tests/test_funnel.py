"""Lead funnel: cumulative counts, conversions, bottleneck, lost reasons, traffic (toolkit.stage_mapping.funnel)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.stage_mapping import funnel as F
from toolkit.stage_mapping import journey as S
from toolkit.core import stages as ST
from toolkit.core.stats import wilson_interval
from toolkit.core.config import parse_case


def make_case(**over):
    data = {
        "client": "Test clinic", "as_of": "2024-12-31", "language": "ru",
        "brands": [{"id": "a", "role": "premium"}, {"id": "b", "role": "budget"}],
        "journey_stages": [{"id": "framing"}, {"id": "evaluation"}, {"id": "deal"}],
        "funnel_stages": [
            {"id": "request", "name": "Заявка", "journey_stage": "framing"},
            {"id": "consult", "name": "Консультация", "journey_stage": "evaluation"},
            {"id": "contract", "name": "Договор", "journey_stage": "deal"},
        ],
        "sources": {},
    }
    data.update(over)
    return parse_case(data)


def leads_frame(spec):
    """spec: list of (brand, stage_reached, count, lost_reason, month, source)."""
    rows = []
    for brand, stage, count, reason, month, source in spec:
        rows += [(brand, stage, reason, pd.Timestamp(month), source)] * count
    df = pd.DataFrame(rows, columns=["brand", "stage_reached", "lost_reason", "created_at", "source"])
    df.insert(0, "lead_id", [f"L{i:04d}" for i in range(len(df))])
    return df.astype({"lead_id": "string", "brand": "string", "stage_reached": "string",
                      "lost_reason": "string", "source": "string"})


# brand a: 100 leads, stopped at request 20, consult 50, contract 30 -> reached [100, 80, 30]
# brand b:  50 leads, stopped at request 15, consult 10, contract 25 -> reached [50, 35, 25]
TWO_BRANDS = [
    ("a", "request", 20, "Дорого", "2024-01-10", "seo"),
    ("a", "consult", 40, "Дорого", "2024-01-10", "ads"),
    ("a", "consult", 10, None, "2024-02-10", "ads"),
    ("a", "contract", 30, None, "2024-01-10", "seo"),
    ("b", "request", 15, "Не дозвонились", "2024-01-10", "seo"),
    ("b", "consult", 10, "Дорого", "2024-01-10", "seo"),
    ("b", "contract", 25, None, "2024-01-10", "ads"),
]


@pytest.fixture
def model():
    return ST.stage_model(make_case())


def test_cumulative_counts_and_conversion(model):
    t = F.funnel_table(leads_frame(TWO_BRANDS), model).set_index(["brand", "stage"])
    assert list(t.loc["a"]["reached"]) == [100, 80, 30]
    assert list(t.loc["b"]["reached"]) == [50, 35, 25]
    # a: 80/100 = 0.8, 30/80 = 0.375; last stage has no conversion
    assert t.loc[("a", "request"), "conversion"] == 0.8
    assert t.loc[("a", "consult"), "conversion"] == 0.375
    assert np.isnan(t.loc[("a", "contract"), "conversion"])
    lo, hi = wilson_interval(30, 80)
    assert t.loc[("a", "consult"), "ci_lo"] == pytest.approx(lo) and t.loc[("a", "consult"), "ci_hi"] == pytest.approx(hi)
    # lost_here: stopped at that stage, the last stage loses nobody
    assert list(t.loc["a"]["lost_here"]) == [20, 50, 0]
    assert list(t.loc["a"]["journey_stage"]) == ["framing", "evaluation", "deal"]


def test_overall_and_by_source(model):
    leads = leads_frame(TWO_BRANDS)
    allb = F.funnel_table(leads, model, by=())
    assert list(allb["reached"]) == [150, 115, 55]
    src = F.funnel_table(leads, model, by=("source",)).set_index(["source", "stage"])
    # ads: a stopped at consult 50, b reached contract 25 -> reached [75, 75, 25]
    assert list(src.loc["ads"]["reached"]) == [75, 75, 25]
    # seo: a request 20, a contract 30, b request 15, b consult 10 -> [75, 40, 30]
    assert list(src.loc["seo"]["reached"]) == [75, 40, 30]


def test_stage_matched_by_name_and_unknown_left_out(model):
    leads = leads_frame([("a", "Консультация", 2, None, "2024-01-01", None), ("a", "??", 3, None, "2024-01-01", None)])
    t = F.funnel_table(leads, model)
    assert list(t["reached"]) == [2, 2, 0]


def test_persona_linked_through_customer_id(model):
    leads = leads_frame([("a", "request", 2, None, "2024-01-01", None), ("a", "contract", 2, None, "2024-01-01", None)])
    leads["customer_id"] = pd.array(["c1", "c2", "c3", "c4"], dtype="string")
    personas = pd.DataFrame({"customer_id": ["c1", "c3", "c4"], "persona": ["P1", "P1", "P2"]})
    t = F.funnel_table(leads, model, by=("persona",), personas=personas).set_index(["persona", "stage"])
    # P1: c1 stopped at request, c3 reached contract -> [2, 1, 1]; P2: c4 -> [1, 1, 1]; c2 unlinked
    assert list(t.loc["P1"]["reached"]) == [2, 1, 1]
    assert list(t.loc["P2"]["reached"]) == [1, 1, 1]


def test_bottleneck_against_best_brand(model):
    t = F.funnel_table(leads_frame(TWO_BRANDS), model)
    b = F.bottlenecks(t, min_n=30).set_index(["brand", "stage"])
    # reference request->consult: best of a 0.8, b 0.7 = 0.8 (a); consult->contract: a 0.375, b 25/35 = 0.7143 (b)
    assert b.loc[("a", "consult"), "reference"] == pytest.approx(25 / 35)
    assert b.loc[("a", "consult"), "reference_group"] == "b"
    # a lost at consult: (25/35 - 0.375) * 80 = 27.14; b lost at request: (0.8 - 0.7) * 50 = 5
    assert b.loc[("a", "consult"), "lost_leads"] == pytest.approx((25 / 35 - 0.375) * 80)
    assert b.loc[("b", "request"), "lost_leads"] == pytest.approx(5.0)
    assert b.loc[("a", "request"), "lost_leads"] == 0
    one = F.bottleneck(t, min_n=30).set_index("brand")
    assert one.loc["a", "stage"] == "consult" and one.loc["a", "next_stage"] == "contract"
    assert one.loc["b", "stage"] == "request" and one.loc["b", "basis"] == "vs_best"


def test_bottleneck_min_n_and_fallback(model):
    t = F.funnel_table(leads_frame(TWO_BRANDS), model)
    # with min_n = 40, b (35 entering consult) cannot be the reference there -> a's 0.375 is
    # the best, a has no shortfall anywhere -> fallback: its lowest conversion, consult (0.375 < 0.8)
    one = F.bottleneck(t, min_n=40).set_index("brand")
    assert one.loc["a", "stage"] == "consult" and one.loc["a", "basis"] == "lowest_conversion"
    assert one.loc["a", "lost_leads"] == 0


def test_bottleneck_against_benchmark_weighs_lost_finishers(model):
    t = F.funnel_table(leads_frame(TWO_BRANDS), model)
    bench = {"request->consult": 0.9, "consult": 0.5}
    b = F.bottlenecks(t, benchmark=bench).set_index(["brand", "stage"])
    # a: request (0.9-0.8)*100 = 10 lost leads, consult (0.5-0.375)*80 = 10 lost leads
    assert b.loc[("a", "request"), "lost_leads"] == pytest.approx(10)
    assert b.loc[("a", "consult"), "lost_leads"] == pytest.approx(10)
    # ...but a lead regained at request still converts 0.375 at consult: 10 * 0.375 = 3.75
    # finishers, against 10 * 1 = 10 at consult (the last transition)
    assert b.loc[("a", "request"), "lost_finishers"] == pytest.approx(3.75)
    assert b.loc[("a", "consult"), "lost_finishers"] == pytest.approx(10)
    # b: request (0.9-0.7)*50 = 10, consult above benchmark -> 0
    assert b.loc[("b", "consult"), "lost_leads"] == 0
    one = F.bottleneck(t, benchmark=bench).set_index("brand")
    assert one.loc["a", "stage"] == "consult" and one.loc["a", "basis"] == "vs_benchmark"
    assert one.loc["b", "stage"] == "request"


def test_bottleneck_tie_goes_to_the_earlier_transition(model):
    t = F.funnel_table(leads_frame(TWO_BRANDS), model)
    # request: (0.9-0.8)*100*0.375 = 3.75 finishers; consult: (27/64 - 0.375)*80 = 3.75 -> tie
    b = F.bottleneck(t, benchmark={"request": 0.9, "consult": 27 / 64}).set_index("brand")
    assert b.loc["a", "stage"] == "request"
    assert b.loc["a", "lost_finishers"] == pytest.approx(3.75)


def test_lost_reasons_shares(model):
    r = F.lost_reasons(leads_frame(TWO_BRANDS), model)
    a = r[r["brand"] == "a"].set_index(["stage", "lost_reason"])
    # a at consult: 50 lost, 40 "Дорого", 10 blank
    assert a.loc[("consult", "Дорого"), "leads"] == 40
    assert a.loc[("consult", "Дорого"), "share"] == 0.8
    assert a.loc[("consult", "(не указана)"), "share"] == 0.2
    assert a.loc[("request", "Дорого"), "share"] == 1.0
    # reached the last stage = not lost
    assert "contract" not in set(r["stage"])
    lo, hi = wilson_interval(40, 50)
    assert a.loc[("consult", "Дорого"), "ci_lo"] == pytest.approx(lo)


def test_lost_by_journey_stage(model):
    lost = F.lost_by_journey_stage(leads_frame(TWO_BRANDS), model).set_index("stage")
    # framing (request): 20 + 15; evaluation (consult): 50 + 10; deal holds only the last
    # funnel stage (contract): losses there are not measured -> NaN, not 0
    assert lost.loc["framing", "lost"] == 35 and lost.loc["evaluation", "lost"] == 60
    assert np.isnan(lost.loc["deal", "lost"])
    assert lost.loc["evaluation", "entered"] == 115 and lost.loc["deal", "entered"] == 55
    # a journey stage with no funnel stage at all
    m2 = ST.stage_model(make_case(journey_stages=[{"id": "framing"}, {"id": "evaluation"}, {"id": "deal"},
                                                 {"id": "loyalty_loop"}]))
    lost2 = F.lost_by_journey_stage(leads_frame(TWO_BRANDS), m2).set_index("stage")
    assert np.isnan(lost2.loc["loyalty_loop", "lost"]) and np.isnan(lost2.loc["loyalty_loop", "entered"])


def test_traffic_to_lead_uses_months_with_traffic(model):
    leads = leads_frame(TWO_BRANDS)
    traffic = pd.DataFrame({
        "period": pd.to_datetime(["2024-01-01", "2024-01-01"]),
        "brand": ["a", "b"], "sessions": [9000, 1000],
    })
    t = F.traffic_to_lead(leads, traffic).set_index("brand")
    # a: January leads only (February's 10 have no traffic month): 20 + 40 + 30 = 90 of 9000 sessions
    assert t.loc["a", "leads"] == 90 and t.loc["a", "sessions"] == 9000
    assert t.loc["a", "rate"] == pytest.approx(0.01)
    assert t.loc["b", "rate"] == pytest.approx(0.05)  # 50 / 1000


def test_funnel_metrics_contract(model):
    leads = leads_frame(TWO_BRANDS)
    traffic = pd.DataFrame({"period": pd.to_datetime(["2024-01-01"]), "brand": ["a"], "sessions": [9000]})
    fm = F.funnel_metrics(leads, model, traffic)
    json.dumps(fm, allow_nan=False)  # plain JSON, no NaN
    assert set(fm) == {"a", "b"}
    a = fm["a"]
    assert a["stages"] == ["request", "consult", "contract"]
    assert a["counts"] == [100, 80, 30]
    assert a["conversion"] == [0.8, 0.375]
    assert len(a["conversion_ci"]) == 2 and all(len(ci) == 2 for ci in a["conversion_ci"])
    assert a["bottleneck"]["from"] == "consult" and a["bottleneck"]["to"] == "contract"
    assert a["traffic_to_lead"]["sessions"] == 9000
    assert "traffic_to_lead" not in fm["b"]
    assert F.funnel_metrics(None, model) == {"skipped": "no leads table in this case"}


def test_stage_kpis_for_the_matrix(model):
    t = F.funnel_table(leads_frame(TWO_BRANDS), model, by=())
    k = F.stage_kpis(t, model)
    # request->consult filed under framing (the journey stage of "request"): 115/150
    assert k["framing"][0]["n"] == 150
    assert k["framing"][0]["text"].startswith("конверсия Заявка → Консультация: 77%")
    assert k["evaluation"][0]["n"] == 115
    assert "deal" not in k


def test_jsonable():
    assert F.jsonable({"x": np.float64("nan"), "y": [np.int64(2), (1.5, None)], "z": pd.NA}) == {
        "x": None, "y": [2, [1.5, None]], "z": None,
    }
