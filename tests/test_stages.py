"""Stage model, journey matrix, evidence levels, emotion curve, choice factors (toolkit.stage_mapping.journey).

Every expected number is computed by hand in the comment next to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.core.stats import share_with_ci
from toolkit.stage_mapping import journey as S
from toolkit.stage_mapping import emotions as EM
from toolkit.stage_mapping import factors as FA
from toolkit.core import stages as ST
from toolkit.core.vocabulary import default_library
from toolkit.core.config import parse_case
from toolkit.core.stats import wilson_interval


def make_case(**over):
    data = {
        "client": "Test clinic",
        "as_of": "2024-12-31",
        "language": "ru",
        "brands": [{"id": "a", "role": "premium"}, {"id": "b", "role": "budget"}],
        "journey_stages": [
            {"id": "framing", "name": "Осмысление"},
            {"id": "evaluation", "name": "Оценка"},
            {"id": "deal", "name": "Сделка"},
        ],
        "funnel_stages": [
            {"id": "request", "name": "Заявка", "journey_stage": "framing"},
            {"id": "consult", "name": "Консультация", "journey_stage": "evaluation"},
            {"id": "contract", "name": "Договор", "journey_stage": "deal"},
        ],
        "touchpoints": [
            {"id": "website", "name": "Сайт", "channel": "online", "stage": "framing"},
            {"id": "reception", "name": "Ресепшн", "channel": "offline", "stage": "evaluation", "aliases": ["администратор"]},
            {"id": "parking", "name": "Парковка", "channel": "offline"},
        ],
        "choice_factors": [
            {"id": "price", "name": "Цена", "kind": "hard", "level": "company"},
            {"id": "doctor_cases", "name": "Кейсы врача", "kind": "soft", "level": "doctor"},
        ],
        "sources": {},
    }
    data.update(over)
    return parse_case(data)


def codes_frame(rows):
    cols = ["respondent_id", "stage", "code_type", "code", "touchpoint", "sentiment", "quote", "factor_kind", "level"]
    df = pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)
    df["sentiment"] = df["sentiment"].astype(float)
    return df.astype({c: "string" for c in cols if c != "sentiment"})


# -- stage model ------------------------------------------------------------------


def test_stage_model_keeps_case_order_and_mappings():
    m = ST.stage_model(make_case())
    assert m.stage_ids() == ["framing", "evaluation", "deal"]
    assert m.stage_names()["evaluation"] == "Оценка"
    assert list(m.funnel["journey_stage"]) == ["framing", "evaluation", "deal"]
    assert dict(zip(m.touchpoints["touchpoint"], m.touchpoints["stage"].astype(object))) == {
        "website": "framing", "reception": "evaluation", "parking": pd.NA,
    }
    # a StageModel passes through unchanged
    assert ST.stage_model(m) is m


def test_default_stages_are_the_normative_six():
    m = ST.stage_model(make_case(journey_stages=None, funnel_stages=[], touchpoints=[]))
    assert m.stage_ids() == ["framing", "evaluation", "deal", "experience", "trigger", "loyalty_loop"]


def test_match_touchpoints_by_id_name_and_alias():
    m = ST.stage_model(make_case())
    got = ST.match_touchpoints(pd.Series(["website", "Сайт", " Администратор ", "билборд", None], dtype="string"), m)
    assert list(got.astype(object).fillna("NA")) == ["website", "website", "reception", "NA", "NA"]


def test_stage_problems_reports_everything_unmapped():
    m = ST.stage_model(make_case())
    codes = codes_frame([
        ("r1", "framing", "barrier", "x", "билборд", -1, None, None, None),
        ("r2", "nowhere", "barrier", "x", None, -1, None, None, None),
    ])
    leads = pd.DataFrame({"lead_id": ["1", "2"], "stage_reached": ["request", "mystery"]})
    survey = pd.DataFrame({"respondent_id": ["s1"], "sat_parking": [3.0], "sat_tv": [4.0], "sat_website": [5.0]})
    p = S.stage_problems(m, codes, leads, survey)
    got = set(zip(p["table"], p["column"], p["value"], p["problem"]))
    assert ("case", "touchpoints.stage", "parking", "touchpoint has no journey stage") in got
    assert ("codes", "stage", "nowhere", "not a journey stage of the case") in got
    assert ("codes", "touchpoint", "билборд", "touchpoint not declared in case.yml") in got
    assert ("leads", "stage_reached", "mystery", "not a funnel stage of the case") in got
    assert ("survey", "sat_parking", "parking", "touchpoint has no journey stage") in got
    assert ("survey", "sat_tv", "tv", "touchpoint not declared in case.yml") in got
    assert len(p) == 6  # sat_website is fine


def test_code_stage_map_marks_the_main_stage():
    m = ST.stage_model(make_case())
    codes = codes_frame([
        ("r1", "framing", "barrier", "high_price", None, -1, None, None, None),
        ("r2", "evaluation", "barrier", "high_price", None, -1, None, None, None),
        ("r3", "evaluation", "barrier", "high_price", None, -1, None, None, None),
        ("r3", "evaluation", "barrier", "high_price", None, -2, None, None, None),
    ])
    t = S.code_stage_map(codes, m)
    # framing: 1 respondent, 1 fragment; evaluation: 2 respondents (r2, r3), 3 fragments -> main
    assert list(t["stage"]) == ["framing", "evaluation"]
    assert list(t["respondents"]) == [1, 2]
    assert list(t["fragments"]) == [1, 3]
    assert list(t["main_stage"]) == [False, True]


# -- evidence levels --------------------------------------------------------------


@pytest.mark.parametrize(
    "n, width, expected",
    [
        (0, 0.1, "none"),
        (np.nan, 0.1, "none"),
        (4, 0.05, "partial"),  # narrow but below the minimum of 5
        (5, 0.30, "strong"),  # at the minimum and at the width limit
        (5, 0.31, "partial"),  # interval too wide
        (50, np.nan, "partial"),  # width unknown: never strong
    ],
)
def test_evidence_level_width_rule(n, width, expected):
    assert ST.evidence_level(n, width, min_respondents=5, max_width=0.30) == expected


@pytest.mark.parametrize(
    "k, n, expected",
    [
        (0, 30, "none"),
        (6, 30, "partial"),  # Wilson(6/30) = [0.095, 0.373]: lower end below 0.10
        (7, 30, "strong"),  # Wilson(7/30) = [0.118, 0.409]
        (12, 30, "strong"),  # Wilson(12/30) = [0.246, 0.577]: wider, but higher -> still strong
        (7, 40, "partial"),  # Wilson(7/40) = [0.0875, 0.320]
        (8, 40, "strong"),  # Wilson(8/40) = [0.105, 0.348]
        (4, 4, "partial"),  # Wilson(4/4) = [0.510, 1]: high, but 4 < 5 respondents
    ],
)
def test_share_evidence_rule(k, n, expected):
    lo, _ = wilson_interval(k, n)
    assert ST.share_evidence(k, lo, min_respondents=5) == expected


def test_share_evidence_is_monotone_in_respondents():
    # more respondents of the same base never weakens the evidence
    ks = np.arange(0, 41)
    lo, _ = wilson_interval(ks, np.full(41, 40))
    rank = {"none": 0, "partial": 1, "strong": 2}
    levels = [rank[x] for x in ST.share_evidence(ks, lo, 5)]
    assert levels == sorted(levels)


def test_share_with_ci_is_wilson():
    # 2 of 4: p = 0.5, z = 1.96: centre 0.5, half = 1.96*sqrt(0.25/4 + 1.96^2/64)/(1 + 1.96^2/4) = 0.34996
    t = share_with_ci([2, 0], [4, 0])
    assert t["share"][0] == 0.5
    assert t["ci_lo"][0] == pytest.approx(0.15004, abs=1e-4)
    assert t["ci_hi"][0] == pytest.approx(0.84996, abs=1e-4)
    assert np.isnan(t["share"][1]) and np.isnan(t["ci_lo"][1])


# -- journey matrix ---------------------------------------------------------------


def small_codes():
    return codes_frame([
        # r1: two fragments at evaluation, sentiments -2 and 0 -> respondent mean -1
        ("r1", "evaluation", "barrier", "high_price", "reception", -2, "дорого", None, None),
        ("r1", "evaluation", "motivator", "friend_advice", None, 0, None, None, None),
        ("r2", "evaluation", "barrier", "high_price", None, 1, None, None, None),
        ("r2", "framing", "jtbd", "look_younger", None, None, None, None, None),
        ("r3", "framing", "touchpoint", "Сайт", None, 1, None, None, None),
        ("r3", "deal", "idea", "instalments", None, None, None, None, None),
        ("r3", "deal", "emotion", "тревога", None, -1, None, None, None),
        ("r4", "framing", "choice_factor", "price", None, None, None, "hard", "company"),
    ])


def small_respondents():
    return pd.DataFrame(
        {"respondent_id": ["r1", "r2", "r3", "r4"], "persona": ["P1", "P1", "P2", None],
         "business_line": ["cosmetology", "surgery", "surgery", None]}
    ).astype("string")


def test_journey_matrix_has_every_stage_and_row_per_segment():
    m = ST.stage_model(make_case())
    mat = S.journey_matrix(small_codes(), m, small_respondents())
    segs = set(zip(mat["segment_type"], mat["segment"]))
    assert segs == {("overall", "all"), ("persona", "P1"), ("persona", "P2"),
                    ("business_line", "cosmetology"), ("business_line", "surgery")}
    # 5 segments x 3 stages x 9 rows, each once
    assert len(mat) == 5 * 3 * len(ST.ROWS)
    assert not mat.duplicated(["segment_type", "segment", "stage", "row"]).any()
    over = mat[mat["segment"] == "all"]
    assert list(over["stage"].drop_duplicates()) == ["framing", "evaluation", "deal"]
    assert "row_label_en" not in over.columns and set(over["row"]) == set(ST.ROWS)  # codes; labels: the catalog


def test_journey_matrix_cells_count_distinct_respondents():
    m = ST.stage_model(make_case())
    mat = S.journey_matrix(small_codes(), m, small_respondents()).set_index(["segment", "stage", "row"])
    cell = mat.loc[("all", "evaluation", "barriers")]
    # r1 and r2 name high_price: 2 of the 4 interviewed
    assert cell["text"] == "high_price (2)"
    assert cell["respondents"] == 2 and cell["base"] == 4 and cell["share"] == 0.5
    # persona P1 = r1, r2: both name it, base 2
    p1 = mat.loc[("P1", "evaluation", "barriers")]
    assert p1["respondents"] == 2 and p1["base"] == 2 and p1["share"] == 1.0
    # touchpoints: declared reception at evaluation named by r1 (touchpoint column)
    assert mat.loc[("all", "evaluation", "touchpoints")]["text"] == "Ресепшн [офлайн] (1)"
    # framing: r3 names the site (matched by its name), nobody else
    assert mat.loc[("all", "framing", "touchpoints")]["text"] == "Сайт [онлайн] (1)"
    # persona P1 (r1, r2) never named the site: the declared touchpoint is listed with 0, evidence none
    p1_tp = mat.loc[("P1", "framing", "touchpoints")]
    assert p1_tp["text"] == "Сайт [онлайн] (0)" and p1_tp["evidence"] == "none"
    # choice factor shown under its case name
    assert mat.loc[("all", "framing", "choice_factors")]["text"] == "Цена (1)"
    assert mat.loc[("all", "framing", "goals")]["text"] == "look_younger (1)"
    # empty cell
    empty = mat.loc[("all", "deal", "barriers")]
    assert empty["text"] == "" and empty["respondents"] == 0 and empty["evidence"] == "none"


def test_emotion_cell_is_mean_of_respondent_means():
    m = ST.stage_model(make_case())
    codes = codes_frame([
        ("r1", "evaluation", "emotion", "тревога", None, -2, None, None, None),
        ("r1", "evaluation", "emotion", "интерес", None, 0, None, None, None),  # r1 mean -1
        ("r2", "evaluation", "emotion", "надежда", None, 1, None, None, None),  # r2 +1
        ("r2", "evaluation", "barrier", "high_price", None, -2, None, None, None),  # not an emotion: ignored
    ])
    mat = S.journey_matrix(codes, m).set_index(["segment", "stage", "row"])
    cell = mat.loc[("all", "evaluation", "emotions")]
    # respondent means -1 and +1 -> 0.00 (a fragment mean would be -1/3; with the barrier -3/4)
    assert cell["text"].startswith("+0,00 [\u221212,71; +12,71]")  # ru: decimal comma, true minus
    assert "n=2; " in cell["text"] and "тревога (1)" in cell["text"]
    assert cell["respondents"] == 2


def test_opportunities_join_ideas_and_library_actions():
    m = ST.stage_model(make_case())
    lib = default_library()
    mat = S.journey_matrix(small_codes(), m, small_respondents(), library=lib).set_index(["segment", "stage", "row"])
    deal = mat.loc[("all", "deal", "opportunities")]["text"]
    assert deal == "Идеи: instalments (1)"
    ev = mat.loc[("all", "evaluation", "opportunities")]
    first_action = lib["barriers"]["high_price"]["actions"][0]["ru"]
    assert ev["text"] == "Рекомендации: " + first_action
    assert ev["respondents"] == 2  # r1, r2 stand behind the high-price barrier
    # with the library the barrier cell shows the library's name
    assert mat.loc[("all", "evaluation", "barriers")]["text"] == "Высокая цена (2)"


def test_no_strong_cell_below_minimum_even_with_narrow_interval():
    # 20 respondents all naming the same barrier: Wilson(20/20) = [0.839, 1]
    rows = [(f"r{i:02d}", "deal", "barrier", "long_wait", None, -1, None, None, None) for i in range(20)]
    resp = pd.DataFrame({"respondent_id": [f"r{i:02d}" for i in range(20)],
                         "persona": ["A"] * 16 + ["B"] * 4}).astype("string")
    strict = ST.stage_model(make_case(parameters={"evidence_min_respondents": 25}))
    mat = S.journey_matrix(codes_frame(rows), strict, resp)
    assert (mat["evidence"] != "strong").all()
    lenient = ST.stage_model(make_case(parameters={"evidence_min_respondents": 5}))
    mat = S.journey_matrix(codes_frame(rows), lenient, resp).set_index(["segment", "stage", "row"])
    assert mat.loc[("all", "deal", "barriers")]["evidence"] == "strong"
    # persona A: 16/16 -> Wilson [0.806, 1] -> strong
    assert mat.loc[("A", "deal", "barriers")]["evidence"] == "strong"
    # persona B: 4/4 -> below the minimum of 5 -> partial
    assert mat.loc[("B", "deal", "barriers")]["evidence"] == "partial"
    over = mat.reset_index()
    assert not ((over["evidence"] == "strong") & (over["respondents"] < 5)).any()


def test_kpi_cells_evidence_from_records():
    m = ST.stage_model(make_case())
    kpis = {
        "deal": [{"text": "конверсия 40%", "n": 400, "ci": [0.35, 0.45]}],  # N=400, width 0.10 -> strong
        "framing": ["повторные визиты 12%"],  # no n -> partial
        "evaluation": [{"text": "конверсия 40%", "n": 100, "ci": [0.31, 0.50]}],  # width 0.19 -> partial
    }
    mat = S.journey_matrix(small_codes(), m, small_respondents(), kpis=kpis).set_index(["segment", "stage", "row"])
    deal = mat.loc[("all", "deal", "kpis")]
    assert deal["text"] == "конверсия 40%" and deal["respondents"] == 400
    assert deal["unit"] == "records" and deal["evidence"] == "strong"
    assert mat.loc[("all", "framing", "kpis")]["evidence"] == "partial"
    assert mat.loc[("all", "evaluation", "kpis")]["evidence"] == "partial"
    # the same KPIs for every segment
    assert mat.loc[("P2", "deal", "kpis")]["text"] == "конверсия 40%"


def test_min_segment_size_drops_small_segments_but_not_overall():
    m = ST.stage_model(make_case())
    mat = S.journey_matrix(small_codes(), m, small_respondents(), min_segment_size=2)
    # P1 (r1, r2) and surgery (r2, r3) have 2; P2 (r3) and cosmetology (r1) have 1
    assert set(mat["segment"]) == {"all", "P1", "surgery"}


def test_pivot_for_display():
    m = ST.stage_model(make_case())
    mat = S.journey_matrix(small_codes(), m, small_respondents())
    pv = S.pivot_journey_matrix(mat, "all", language="en")
    assert list(pv.columns) == ["Осмысление", "Оценка", "Сделка"]
    assert list(pv.index) == [ST.row_label(r, "en") for r in ST.ROWS]
    assert pv.loc["Barriers", "Оценка"] == "high_price (2) ◐ n=2"
    plain = S.pivot_journey_matrix(mat, "P1", language="ru", marks=False)
    assert plain.loc["Барьеры", "Оценка"] == "high_price (2)"


def test_personas_argument_overrides_respondents_column():
    m = ST.stage_model(make_case())
    personas = pd.DataFrame({"respondent_id": ["r1", "r4"], "persona": ["P9", "P9"]})
    seg = S.respondent_segments(small_respondents(), personas)
    got = dict(zip(seg.loc[seg["segment_type"] == "persona", "respondent_id"],
                   seg.loc[seg["segment_type"] == "persona", "segment"]))
    assert got == {"r1": "P9", "r2": "P1", "r3": "P2", "r4": "P9"}
    mat = S.journey_matrix(small_codes(), m, small_respondents(), personas=personas)
    assert "P9" in set(mat["segment"])


# -- emotion curve ----------------------------------------------------------------


def test_emotion_curve_interviews_respondent_first_with_t_interval():
    m = ST.stage_model(make_case())
    codes = codes_frame([
        ("r1", "deal", "barrier", "x", None, -2, None, None, None),  # not an emotion: left out
        ("r1", "deal", "emotion", "y", None, -2, None, None, None),
        ("r1", "deal", "emotion", "z", None, 0, None, None, None),  # r1 mean -1
        ("r2", "deal", "emotion", "y", None, 1, None, None, None),  # r2 +1
        ("r3", "deal", "emotion", "y", None, 0, None, None, None),  # r3 0
    ])
    c = EM.emotion_curve(codes, m)
    row = c[(c["source"] == "interviews") & (c["segment"] == "all") & (c["stage"] == "deal")].iloc[0]
    # respondent means -1, 1, 0: mean 0, sd 1, se 1/sqrt(3), t(0.975, 2) = 4.3027 -> half 2.4841
    assert row["mean"] == pytest.approx(0.0)
    assert row["hi"] == pytest.approx(2.4841, abs=1e-3)
    assert row["lo"] == pytest.approx(-2.4841, abs=1e-3)
    assert row["n"] == 3 and row["basis"] == "emotion"
    # stages without data are absent, not zero
    assert set(c["stage"]) == {"deal"}


def test_emotion_curve_falls_back_to_all_fragments_without_emotion_codes():
    m = ST.stage_model(make_case())
    codes = codes_frame([
        ("r1", "deal", "barrier", "x", None, -2, None, None, None),
        ("r2", "deal", "motivator", "y", None, 1, None, None, None),
    ])
    c = EM.emotion_curve(codes, m)
    assert c["basis"].tolist() == ["all"]
    assert c["mean"].iloc[0] == pytest.approx(-0.5)  # (-2 + 1) / 2
    # explicit code types
    c = EM.emotion_curve(codes, m, code_types=["motivator"])
    assert c["mean"].iloc[0] == 1.0 and c["n"].iloc[0] == 1


def test_emotion_curve_survey_rescale():
    m = ST.stage_model(make_case())
    survey = pd.DataFrame({
        "respondent_id": ["s1", "s2", "s3"],
        "sat_website": [5.0, 1.0, np.nan],  # framing: +2, -2
        "sat_reception": [3.0, 4.0, 5.0],  # evaluation: 0, +1, +2
        "sat_parking": [1.0, 1.0, 1.0],  # no stage: left out
    })
    c = EM.emotion_curve(None, m, survey=survey)
    c = c[c["segment"] == "all"].set_index("stage")
    assert c.loc["framing", "mean"] == pytest.approx(0.0)  # (+2 - 2) / 2
    assert c.loc["framing", "n"] == 2
    assert c.loc["evaluation", "mean"] == pytest.approx(1.0)  # (0 + 1 + 2) / 3
    assert (c["scale_lo"] == 1).all() and (c["scale_hi"] == 5).all()
    assert "deal" not in c.index


def test_survey_rescale_rule_and_explicit_scale():
    assert EM.infer_sat_scale(pd.DataFrame({"sat_a": [1, 3, 5]})) == (1.0, 5.0)
    assert EM.infer_sat_scale(pd.DataFrame({"sat_a": [0, 7, 10]})) == (0.0, 10.0)
    assert EM.infer_sat_scale(pd.DataFrame({"sat_a": [2, 9]})) == (1.0, 10.0)
    # 0..10: 0 -> -2, 5 -> 0, 10 -> +2; 7.5 -> +1
    assert list(EM.rescale_to_sentiment([0, 5, 7.5, 10], (0, 10))) == [-2.0, 0.0, 1.0, 2.0]
    m = ST.stage_model(make_case())
    survey = pd.DataFrame({"respondent_id": ["s1"], "sat_website": [4.0]})
    # on an explicit 0..10 scale, 4 -> -2 + 4*0.4 = -0.4
    c = EM.emotion_curve(None, m, survey=survey, sat_scale=(0, 10))
    assert c["mean"].iloc[0] == pytest.approx(-0.4)


def test_emotion_curve_survey_personas():
    m = ST.stage_model(make_case())
    survey = pd.DataFrame({"respondent_id": ["s1", "s2"], "sat_website": [5.0, 1.0]})
    personas = pd.DataFrame({"respondent_id": ["s1", "s2"], "persona": ["P1", "P2"]})
    c = EM.emotion_curve(None, m, survey=survey, personas=personas).set_index("segment")
    assert c.loc["P1", "mean"] == 2.0 and c.loc["P2", "mean"] == -2.0 and c.loc["all", "mean"] == 0.0


# -- choice factors ---------------------------------------------------------------


def test_choice_factors_kind_level_and_share():
    m = ST.stage_model(make_case())
    codes = codes_frame([
        ("r1", "evaluation", "choice_factor", "price", None, None, None, "soft", None),  # coder says soft
        ("r2", "evaluation", "choice_factor", "Цена", None, None, None, None, None),  # matched by name
        ("r2", "evaluation", "choice_factor", "price", None, None, None, None, None),  # same respondent again
        ("r3", "evaluation", "choice_factor", "doctor_cases", None, None, None, None, None),
        ("r3", "evaluation", "choice_factor", "interior", None, None, None, "soft", "company"),  # undeclared
        ("r4", "framing", "barrier", "x", None, -1, None, None, None),
    ])
    resp = pd.DataFrame({"respondent_id": ["r1", "r2", "r3", "r4"], "persona": ["A", "A", "B", "B"]}).astype("string")
    t = FA.choice_factors(codes, m, resp)
    over = t[t["segment"] == "all"].set_index("factor")
    # price: r1, r2 of 4 interviewed -> 0.5; kind from the codes (soft) beats the case (hard)
    assert over.loc["price", "respondents"] == 2 and over.loc["price", "share"] == 0.5
    assert over.loc["price", "kind"] == "soft" and over.loc["price", "kind_source"] == "codes"
    assert over.loc["price", "level"] == "company" and over.loc["price", "level_source"] == "case"
    lo, hi = wilson_interval(2, 4)
    assert over.loc["price", "ci_lo"] == pytest.approx(lo) and over.loc["price", "ci_hi"] == pytest.approx(hi)
    assert over.loc["doctor_cases", "kind"] == "soft" and over.loc["doctor_cases", "kind_source"] == "case"
    assert over.loc["doctor_cases", "level"] == "doctor"
    assert over.loc["interior", "kind_source"] == "codes" and over.loc["interior", "factor_name"] == "interior"
    a = t[t["segment"] == "A"].set_index("factor")
    assert a.loc["price", "share"] == 1.0 and a.loc["price", "base"] == 2
    s = FA.choice_factor_summary(codes, m, resp)
    s = s[s["segment"] == "all"].set_index(["dimension", "value"])
    # soft: price (r1, r2), doctor_cases (r3, declared soft), interior (r3) -> 3 of 4
    assert s.loc[("kind", "soft"), "respondents"] == 3
    # company level: price (r1, r2) + interior (r3) -> 3; doctor level: r3 -> 1
    assert s.loc[("level", "company"), "respondents"] == 3
    assert s.loc[("level", "doctor"), "respondents"] == 1


def test_choice_factors_include_tagged_codes():
    m = ST.stage_model(make_case())
    codes = codes_frame([
        ("r1", "evaluation", "barrier", "high_price", None, -2, None, "hard", "company"),
        ("r2", "evaluation", "motivator", "doctor_portfolio", None, 1, None, "soft", "doctor"),
        ("r2", "evaluation", "barrier", "queue", None, -1, None, None, None),  # untagged: not a factor
        ("r3", "evaluation", "choice_factor", "price", None, None, None, None, None),
    ])
    t = FA.choice_factors(codes, m)
    over = t[t["segment"] == "all"].set_index("factor")
    assert set(over.index) == {"high_price", "doctor_portfolio", "price"}
    assert over.loc["high_price", "code_type"] == "barrier" and over.loc["high_price", "kind"] == "hard"
    assert over.loc["doctor_portfolio", "level"] == "doctor"
    # each 1 of 3 interviewed
    assert over["share"].tolist() == pytest.approx([1 / 3] * 3)
    only = FA.choice_factors(codes, m, include_tagged=False)
    assert only["factor"].tolist() == ["price"]
    s = FA.choice_factor_summary(codes, m).set_index(["dimension", "value"])
    # hard: high_price (r1) + price (r3, declared hard) = 2 of 3; doctor level: r2
    assert s.loc[("kind", "hard"), "respondents"] == 2
    assert s.loc[("level", "doctor"), "respondents"] == 1


def test_case_code_labels_without_codebook_is_empty():
    assert S.case_code_labels(make_case()) == {}


def test_matrix_without_interviews_keeps_declared_touchpoints_and_kpis():
    m = ST.stage_model(make_case())
    empty = small_codes().iloc[0:0]
    mat = S.journey_matrix(empty, m, kpis={"deal": ["конверсия 40%"]})
    assert set(mat["segment"]) == {"all"} and len(mat) == 3 * len(ST.ROWS)
    cell = mat.set_index(["stage", "row"])
    assert cell.loc[("framing", "touchpoints"), "text"] == "Сайт [онлайн] (0)"
    assert cell.loc[("framing", "touchpoints"), "evidence"] == "none"
    assert cell.loc[("deal", "kpis"), "text"] == "конверсия 40%"
    assert cell.loc[("deal", "kpis"), "evidence"] == "partial"
