"""Barrier ranking, annual impact, quotes and the recommendation library (toolkit.barriers.ranking)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from toolkit.barriers import ranking as B
from toolkit.stage_mapping import journey as S
from toolkit.core import stages as ST
from toolkit.core.config import parse_case
from toolkit.core.stats import wilson_interval


def make_case(**over):
    data = {
        "client": "Test clinic", "as_of": "2024-12-31", "language": "ru",
        "brands": [{"id": "a"}],
        "journey_stages": [{"id": "framing", "name": "Осмысление"}, {"id": "evaluation", "name": "Оценка"},
                           {"id": "deal", "name": "Сделка"}],
        "touchpoints": [{"id": "parking", "name": "Парковка", "stage": "deal"}],
        "sources": {},
    }
    data.update(over)
    return parse_case(data)


def codes_frame(rows):
    cols = ["respondent_id", "stage", "code_type", "code", "touchpoint", "sentiment", "quote"]
    df = pd.DataFrame(rows, columns=cols)
    df["sentiment"] = df["sentiment"].astype(float)
    return df.astype({c: "string" for c in cols if c != "sentiment"})


# 5 interviewed respondents (r5 only talks about motivation: still in the base)
CODES = [
    ("r1", "evaluation", "barrier", "high_price", None, -2.0, "Очень дорого, не потяну"),
    ("r1", "evaluation", "barrier", "high_price", None, 0.0, "дорого"),  # r1 mean -1
    ("r2", "evaluation", "barrier", "high_price", None, -1.0, "Цены кусаются"),
    ("r3", "evaluation", "barrier", "high_price", None, -2.0, "Не по карману"),
    ("r3", "evaluation", "barrier", "hard_to_book", None, -1.0, "Не дозвонилась"),
    ("r4", "deal", "barrier", "no_parking", "parking", -2.0, "Машину негде поставить"),
    ("r5", "framing", "motivator", "friend", None, 1.0, None),
]
RESP = pd.DataFrame({"respondent_id": ["r1", "r2", "r3", "r4", "r5"],
                     "persona": ["A", "A", "B", "B", "B"]}).astype("string")


@pytest.fixture
def model():
    return ST.stage_model(make_case())


def test_share_severity_and_base(model):
    t = B.barrier_table(codes_frame(CODES), model, RESP)
    over = t[t["segment"] == "all"].set_index(["stage", "code"])
    hp = over.loc[("evaluation", "high_price")]
    # r1, r2, r3 of 5 interviewed (r5 has no barrier but was interviewed)
    assert hp["respondents"] == 3 and hp["fragments"] == 4 and hp["base"] == 5
    assert hp["share"] == pytest.approx(0.6)
    lo, hi = wilson_interval(3, 5)
    assert hp["ci_lo"] == pytest.approx(lo) and hp["ci_hi"] == pytest.approx(hi)
    # severity: respondent means r1 -1, r2 -1, r3 -2 -> -4/3 (fragment mean would be -5/4)
    assert hp["severity"] == pytest.approx(-4 / 3)
    # persona A = r1, r2: base 2, both name it; persona B = r3, r4, r5: base 3, one names it
    a = t[(t["segment"] == "A") & (t["code"] == "high_price")].iloc[0]
    b = t[(t["segment"] == "B") & (t["code"] == "high_price")].iloc[0]
    assert (a["respondents"], a["base"], a["share"]) == (2, 2, 1.0)
    assert (b["respondents"], b["base"]) == (1, 3)
    assert b["share"] == pytest.approx(1 / 3)


def _losses(**stages):
    """Stage losses as toolkit.barriers.impact gives them: stage -> (annual_loss, low, high)."""
    return pd.DataFrame([{"stage": k, "source": "funnel", "lost_per_year": v[0] / 1000, "annual_loss": v[0],
                          "low": v[1], "high": v[2]} for k, v in stages.items()])


def test_annual_impact_allocation(model):
    losses = _losses(evaluation=(40_000, 30_000, 50_000), deal=(10_000, 8_000, 12_000))
    t = B.barrier_table(codes_frame(CODES), model, RESP, stage_losses=losses, recoverable_fraction=0.5)
    over = t[t["segment"] == "all"].set_index(["stage", "code"])
    # evaluation: high_price 3 respondents, hard_to_book 1 -> mention shares 3/4, 1/4
    assert over.loc[("evaluation", "high_price"), "mention_share"] == 0.75
    assert over.loc[("evaluation", "high_price"), "annual_impact"] == pytest.approx(40_000 * 0.75 * 0.5)  # 15 000
    assert over.loc[("evaluation", "hard_to_book"), "annual_impact"] == pytest.approx(40_000 * 0.25 * 0.5)  # 5 000
    # deal: only no_parking -> the whole stage: 10 000 x 0.5
    assert over.loc[("deal", "no_parking"), "annual_impact"] == pytest.approx(5_000)
    lo, hi = wilson_interval(3, 4)
    assert over.loc[("evaluation", "high_price"), "annual_impact_low"] == pytest.approx(30_000 * lo * 0.5)
    assert over.loc[("evaluation", "high_price"), "annual_impact_high"] == pytest.approx(50_000 * hi * 0.5)
    assert over.loc[("evaluation", "high_price"), "lost_at_stage"] == 40
    # persona rows carry no money (losses are not split by persona)
    assert t.loc[t["segment_type"] == "persona", "annual_impact"].isna().all()


def test_priority_rule(model):
    losses = _losses(evaluation=(40_000, 30_000, 50_000), deal=(10_000, 8_000, 12_000))
    t = B.barrier_table(codes_frame(CODES), model, RESP, stage_losses=losses, recoverable_fraction=0.5)
    over = t[t["segment"] == "all"]
    # 15 000 (high_price) > 5 000 tie (hard_to_book: evidence 0.2 x 1/2; no_parking: 0.2 x 2/2)
    # -> the tie on money is broken by the evidence score: no_parking before hard_to_book
    assert list(over["code"]) == ["high_price", "no_parking", "hard_to_book"]
    assert list(over["rank"]) == [1, 2, 3] and set(over["rank_basis"]) == {"money"}
    # without money: evidence score (share x severity weight) desc
    t2 = B.barrier_table(codes_frame(CODES), model, RESP)
    assert list(t2.loc[t2["segment"] == "all", "code"]) == ["high_price", "no_parking", "hard_to_book"]
    assert set(t2["rank_basis"]) == {"evidence"}


def test_unmeasured_barrier_keeps_its_evidence_place(model):
    # only 'evaluation' is measured: no_parking (deal) has no money but the 2nd best evidence
    # (0.2 x 1.0 against hard_to_book's 0.2 x 0.5): it stays 2nd, not last
    t = B.barrier_table(codes_frame(CODES), model, RESP, stage_losses=_losses(evaluation=(40_000, 30_000, 50_000)),
                        recoverable_fraction=0.5)
    over = t[t["segment"] == "all"]
    assert list(over["code"]) == ["high_price", "no_parking", "hard_to_book"]
    assert list(over["rank_basis"]) == ["money", "evidence", "money"]
    assert np.isnan(over.iloc[1]["annual_impact"])
    assert over.iloc[1]["evidence_score"] == pytest.approx(0.2 * 1.0)


def test_quotes_deterministic_most_negative_then_shortest_distinct_respondents(model):
    rows = [
        ("r1", "deal", "barrier", "long_wait", None, -1.0, "ждала сорок минут в коридоре"),
        ("r1", "deal", "barrier", "long_wait", None, -2.0, "ужас, час ожидания"),
        ("r2", "deal", "barrier", "long_wait", None, -2.0, "час в очереди!!"),
        ("r3", "deal", "barrier", "long_wait", None, -2.0, "очень долго"),
        ("r4", "deal", "barrier", "long_wait", None, -1.0, "долго"),
        ("r5", "deal", "barrier", "long_wait", None, -1.0, ""),
    ]
    t = B.barrier_table(codes_frame(rows), model)
    q = t.loc[t["segment"] == "all", "quotes"].iloc[0]
    # sentiment -2: r3 "очень долго" (11 chars), r2 "час в очереди!!" (15), r1 "ужас, час ожидания" (18)
    assert q == ["очень долго", "час в очереди!!", "ужас, час ожидания"]
    shuffled = codes_frame(rows).sample(frac=1.0, random_state=7)
    t2 = B.barrier_table(shuffled, model)
    assert t2.loc[t2["segment"] == "all", "quotes"].iloc[0] == q


def test_quotes_skip_repeated_texts(model):
    rows = [
        ("r1", "deal", "barrier", "long_wait", None, -2.0, "долго"),
        ("r2", "deal", "barrier", "long_wait", None, -2.0, "долго"),  # same stock phrase: shown once
        ("r3", "deal", "barrier", "long_wait", None, -1.0, "ждала час"),
    ]
    t = B.barrier_table(codes_frame(rows), model)
    assert t.loc[t["segment"] == "all", "quotes"].iloc[0] == ["долго", "ждала час"]


def test_evidence_never_strong_below_minimum():
    rows = [(f"r{i:02d}", "deal", "barrier", "long_wait", None, -1.0, None) for i in range(12)]
    strict = ST.stage_model(make_case(parameters={"evidence_min_respondents": 15}))
    t = B.barrier_table(codes_frame(rows), strict)
    assert (t["evidence"] == "partial").all()  # 12/12: narrow interval but 12 < 15
    lenient = ST.stage_model(make_case(parameters={"evidence_min_respondents": 5}))
    t = B.barrier_table(codes_frame(rows), lenient)
    # Wilson(12/12) = [0.757, 1], width 0.243 <= 0.30 -> strong
    assert (t["evidence"] == "strong").all()


def test_barrier_metrics_contract(model):
    lib = B.default_library()
    losses = _losses(evaluation=(40_000, 30_000, 50_000), deal=(10_000, 8_000, 12_000))
    m = B.barrier_metrics(codes_frame(CODES), model, losses, 0.5, library=lib)
    json.dumps(m, allow_nan=False, ensure_ascii=False)
    assert [b["code"] for b in m] == ["high_price", "no_parking", "hard_to_book"]
    first = m[0]
    for key in ("code", "stage", "respondents", "share", "ci", "severity", "annual_impact", "rank_basis"):
        assert key in first
    assert first["stage"] == "evaluation" and first["respondents"] == 3 and len(first["ci"]) == 2
    assert first["annual_impact"]["estimate"] == pytest.approx(15_000) and first["rank_basis"] == "money"
    assert first["annual_impact"]["low"] <= 15_000 <= first["annual_impact"]["high"]
    assert first["label"] == "Высокая цена" and first["actions"]
    # without money the impact is None ("not measured"), not NaN
    m2 = B.barrier_metrics(codes_frame(CODES), model)
    assert m2[0]["annual_impact"] is None and m2[0]["rank_basis"] == "evidence"


# -- recommendation library --------------------------------------------------------


def test_default_library_is_bilingual():
    lib = B.default_library()
    for section in B.SECTIONS:
        for key, e in lib[section].items():
            assert e["name"]["ru"] and e["name"]["en"], key
            assert e["actions"], key
            for a in e["actions"]:
                assert a["ru"] and a["en"], key
    for must in ("high_price", "long_wait", "rude_staff", "hard_to_book", "no_parking", "unclear_prices",
                 "fear_of_pain", "distrust_of_results", "site_hard_to_find", "no_reviews"):
        assert must in lib["barriers"]


def test_library_matching_by_alias_and_language():
    lib = B.default_library()
    assert B.library_key("Высокая цена", lib) == "high_price"
    assert B.library_key("ДОРОГО", lib) == "high_price"
    assert B.library_key("fear-of-pain", lib) == "fear_of_pain"
    assert B.library_key("something new", lib) is None
    en = B.actions_for("high_price", lib, "en")
    assert en[0] == lib["barriers"]["high_price"]["actions"][0]["en"]
    # no barrier entry: falls back to the touchpoint's entry
    assert B.actions_for("unheard_of", lib, "ru", touchpoint="parking") == [
        a["ru"] for a in lib["touchpoints"]["parking"]["actions"]
    ]


def test_case_library_merge(tmp_path):
    own = {
        "barriers": {
            "high_price": {"name": {"ru": "Цена", "en": "Price"}, "actions": [{"ru": "своё", "en": "own"}]},
            "long_wait": {"extend": True, "aliases": ["ждать вечность"], "actions": [{"ru": "ещё", "en": "more"}]},
            "no_wifi": {"name": {"ru": "Нет Wi-Fi", "en": "No Wi-Fi"}, "aliases": ["дорого"],
                        "actions": [{"ru": "поставить роутер", "en": "install a router"}]},
        }
    }
    (tmp_path / "recommendations.yml").write_text(yaml.safe_dump(own, allow_unicode=True), encoding="utf-8")
    lib = B.load_recommendations(tmp_path)
    default = B.default_library()
    # replaced entirely
    assert B.actions_for("high_price", lib, "en") == ["own"]
    # extended: default actions then the case's, default aliases kept
    assert B.actions_for("long_wait", lib, "en") == [a["en"] for a in default["barriers"]["long_wait"]["actions"]] + ["more"]
    assert B.library_key("ждать вечность", lib) == "long_wait"
    assert B.library_key("очередь", lib) == "long_wait"
    # new key; and the case's alias wins a clash with the default's
    assert B.library_key("no_wifi", lib) == "no_wifi"
    assert B.library_key("дорого", lib) == "no_wifi"
    # untouched entries stay
    assert B.actions_for("rude_staff", lib, "ru") == [a["ru"] for a in default["barriers"]["rude_staff"]["actions"]]
    # no case file: the default
    assert B.load_recommendations(tmp_path / "absent") == default


def test_missing_recommendations_listed(model):
    rows = CODES + [("r5", "framing", "barrier", "strange_smell", None, -1.0, None)]
    lib = B.default_library()
    t = B.barrier_table(codes_frame(rows), model, library=lib)
    miss = B.missing_recommendations(t)
    assert list(miss["code"]) == ["strange_smell"]
    # no_parking found through its own code; the parking touchpoint would be the fallback
    assert t.loc[(t["segment"] == "all") & (t["code"] == "no_parking"), "library_key"].iloc[0] == "no_parking"


def test_top_barriers_by_stage(model):
    t = B.barrier_table(codes_frame(CODES), model)
    top = B.top_barriers_by_stage(t, n=1)
    assert list(zip(top["stage"], top["code"])) == [("evaluation", "high_price"), ("deal", "no_parking")]
