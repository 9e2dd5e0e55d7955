"""Unit tests of toolkit.segmentation.personas on tiny hand-made frames (expected values computed by hand)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from toolkit.core.config import ChoiceFactor, Parameters
from toolkit.core.errors import CaseError
from toolkit.segmentation.personas import (
    brand_audience_comparison,
    cliffs_delta,
    cluster_importances,
    distinguishing_factors,
    holm,
    importance_matrix,
    leading_positions,
    merge_small_clusters,
    order_labels,
    persona_metrics,
    price_factor_id,
    split_hard_soft,
    standardise,
    suggest_persona_name,
    survey_personas,
)
from toolkit.core.stats import wilson_interval

FACTORS = [
    ChoiceFactor(id="price", name="Цена", kind="hard"),
    ChoiceFactor(id="brand", name="Бренд", kind="soft"),
    ChoiceFactor(id="status", name="Статус", kind="soft"),
    ChoiceFactor(id="doctor", name="Врач", kind="soft", level="doctor"),
    ChoiceFactor(id="location", name="Расположение", kind="hard"),
]

# three planted groups: (size, brand, importances of price, brand, status, doctor, location)
GROUPS = [
    (50, "budget", [5, 1, 1, 3, 3]),  # price first
    (40, "premium", [1, 5, 5, 3, 2]),  # brand and status
    (30, "premium", [3, 2, 2, 5, 3]),  # the doctor
]


def planted_survey() -> tuple[pd.DataFrame, np.ndarray]:
    """120 respondents in 3 groups: the group's importances + seeded normal noise (sd 0.5), ids scrambled."""
    rng = np.random.default_rng(11)
    rows, truth = [], []
    i = 0
    for g, (size, brand, centre) in enumerate(GROUPS):
        for j in range(size):
            v = np.round(np.array(centre, dtype=float) + rng.normal(0, 0.5, len(centre)), 2)
            rows.append(
                {
                    "respondent_id": f"r{(i * 7919) % 1000:03d}",
                    "is_client": j % 2 == 0,
                    "brand": brand,
                    "nps": 10 if g == 1 else 6,
                    "budget": 1000.0 * (g + 1),
                    **{f"imp_{f.id}": v[k] for k, f in enumerate(FACTORS)},
                }
            )
            truth.append(g)
            i += 1
    df = pd.DataFrame(rows)
    df["respondent_id"] = df["respondent_id"].astype("string")
    df["nps"] = df["nps"].astype("Int64")
    df["brand"] = df["brand"].astype("string")
    return df, np.array(truth)


PARAMS = Parameters(min_segment_size=5, persona_k_range=(2, 4))


# ----------------------------------------------------------------------------- standardisation and blanks


def test_standardise_population_sd_and_constant_column():
    m = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 4.0, 4.0]})
    z = standardise(m)
    # a: mean 2, population sd sqrt(((1-2)^2 + 0 + (3-2)^2) / 3) = sqrt(2/3) = 0.81650 -> z = -1.22474, 0, 1.22474
    assert z["a"].tolist() == pytest.approx([-1.2247449, 0.0, 1.2247449])
    # b: constant -> carries no information -> 0
    assert z["b"].tolist() == [0.0, 0.0, 0.0]


def test_importance_matrix_excludes_many_blanks_and_imputes_medians():
    survey = pd.DataFrame(
        {
            "respondent_id": pd.array(["r4", "r2", "r3", "r1"], dtype="string"),
            "imp_a": [5, 3, np.nan, 1],
            "imp_b": [4, np.nan, np.nan, 2],
            "imp_c": [2, 5, 1, 3],
        }
    )
    m, blanks = importance_matrix(survey, ["a", "b", "c"])
    # r3 left 2 of 3 factors blank (> 1/3): excluded; r2 left 1 of 3 (= 1/3): kept, b imputed
    # with the median of b over kept answers (r1: 2, r4: 4) -> 3
    assert list(m.index) == ["r1", "r2", "r4"]  # sorted by respondent_id
    assert m.loc["r2", "b"] == 3.0
    assert m.loc["r2", "a"] == 3.0 and m.loc["r4", "c"] == 2.0
    assert blanks == {
        "respondents_read": 4,
        "excluded_too_many_blanks": 1,
        "imputed_values": 1,
        "dropped_factors": [],
    }


# ----------------------------------------------------------------------------- profiles


def test_distinguishing_factors_scores_and_ranks():
    z = pd.DataFrame(
        {"f": [-1.5, -0.5, 0.5, 1.5], "g": [1.0, 1.0, 1.0, -3.0], "h": [-1.5, -0.5, 0.5, 1.5]},
        index=["r1", "r2", "r3", "r4"],
    )
    prof = distinguishing_factors(z, ["P1", "P1", "P1", "P2"]).set_index(["persona", "factor_id"])
    # P1 = r1..r3, rest = r4.  f: mean (-1.5 - 0.5 + 0.5) / 3 = -0.5, rest 1.5 -> score -2.0
    assert prof.loc[("P1", "f"), "mean_z"] == pytest.approx(-0.5)
    assert prof.loc[("P1", "f"), "mean_z_rest"] == pytest.approx(1.5)
    assert prof.loc[("P1", "f"), "score"] == pytest.approx(-2.0)
    # g: mean (1 + 1 + 1) / 3 = 1, rest -3 -> 4.0.  P2 = r4: g -3 - 1 = -4;  f 1.5 - (-0.5) = 2
    assert prof.loc[("P1", "g"), "score"] == pytest.approx(4.0)
    assert prof.loc[("P2", "g"), "score"] == pytest.approx(-4.0)
    assert prof.loc[("P2", "f"), "score"] == pytest.approx(2.0)
    # ranks by |score|: g (4) first; f and h tie at 2 -> declared order f before h
    assert prof.loc[("P1", "g"), "rank"] == 1
    assert prof.loc[("P1", "f"), "rank"] == 2
    assert prof.loc[("P1", "h"), "rank"] == 3


# ----------------------------------------------------------------------------- small clusters and labels


def test_small_cluster_members_join_the_nearest_centre():
    x = np.array([[0.0], [0.0], [0.0], [0.0], [10.0], [10.0], [10.0], [4.0], [6.0]])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2])
    out = merge_small_clusters(x, labels, min_size=3)
    # cluster 2 (size 2 < 3) dissolved: 4 is nearer 0 (|4-0|=4 < |4-10|=6), 6 nearer 10 (4 < 6)
    assert out.tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 1]
    # min_size 5: after the first step sizes are 5 and 4 -> cluster 1 dissolved too -> one cluster
    assert set(merge_small_clusters(x, labels, min_size=5).tolist()) == {0}


def test_order_labels_by_size_then_centre():
    x = np.array([[5.0], [5.0], [1.0], [1.0], [1.0], [9.0], [9.0]])
    out = order_labels(x, [7, 7, 3, 3, 3, 9, 9])
    # cluster 3 has 3 members -> P1; clusters 7 and 9 both have 2 -> centre 5 < 9 -> 7 is P2
    assert out.tolist() == ["P2", "P2", "P1", "P1", "P1", "P3", "P3"]


# ----------------------------------------------------------------------------- names, kinds, price factor


@pytest.mark.parametrize(
    ("names", "scores", "language", "expected"),
    [
        (["Price", "Brand"], [1.5, 0.3], "en", "Price-driven"),  # 0.3 < 0.5 * 1.5: one leader
        (["Цена", "Бренд"], [1.5, 0.3], "ru", "Ориентированы на цену"),
        (["Brand", "Status"], [1.0, 0.9], "en", "Brand & status"),  # 0.9 >= 0.5: two leaders
        (["Бренд", "Статус"], [1.0, 0.9], "ru", "Бренд и статус"),
        (["Врач", "Результат"], [1.2, 1.1], "ru", "Врач и результат"),
        (["Doctor's reputation"], [1.0], "en", "Driven by doctor's reputation"),
        (["Репутация врача"], [1.0], "ru", "Ориентированы на репутацию врача"),
        (["Низкая цена"], [1.0], "ru", "Ориентированы на низкую цену"),
        (["МРТ", "Бренд"], [1.0, 0.1], "ru", "Ориентированы на МРТ"),  # acronym kept; 0.1 < 0.2 bar
        (["Цена"], [0.1], "ru", "Без выраженного фактора выбора"),
        (["Price"], [0.15], "en", "No dominant choice factor"),
    ],
)
def test_suggest_persona_name_composes_factor_names(names, scores, language, expected):
    assert suggest_persona_name(names, scores, language) == expected


def test_leading_positions():
    assert leading_positions([1.5, 0.3]) == [0]  # 0.3 < 0.5 * 1.5
    assert leading_positions([1.83, 1.77, 1.0]) == [0, 1]  # 1.77 >= 0.915: co-leader; never a third
    assert leading_positions([0.19, 0.1]) == []  # below the 0.2 SD bar
    assert leading_positions([0.5, 0.25, 0.2]) == [0, 1]  # 0.25 >= 0.2 bar and >= half of 0.5
    assert leading_positions([]) == []


def test_price_driven_when_price_co_leads():
    """Price a close second behind discounts (as a bargain hunter): still price-driven."""
    factors = [
        ChoiceFactor(id="price", name="Price", kind="hard"),
        ChoiceFactor(id="discounts", name="Discounts"),
        ChoiceFactor(id="brand", name="Brand"),
    ]
    rng = np.random.default_rng(3)
    centres = {"bargain": [4.8, 5.0, 1.5], "brand": [2.0, 2.0, 4.8]}
    rows = []
    for g, (label, c) in enumerate(centres.items()):
        x = np.array(c) + rng.normal(0, 0.3, (40, 3))
        rows.append(pd.DataFrame(x, columns=["imp_price", "imp_discounts", "imp_brand"]).assign(g=label))
    survey = pd.concat(rows, ignore_index=True)
    survey.insert(0, "respondent_id", pd.array([f"r{i:03d}" for i in range(80)], dtype="string"))
    res = survey_personas(survey, factors, Parameters(min_segment_size=10, persona_k_range=(2, 3)), "en")
    p = res.personas.set_index("name")
    assert res.k == 2
    # discounts (planted 5.0) leads, price (4.8) co-leads -> the name shows both, the flag is set
    assert p.loc["Discounts & price", "leading_factors"] == ["discounts", "price"]
    assert bool(p.loc["Discounts & price", "price_driven"])
    assert not bool(p.loc["Brand-driven", "price_driven"])


def test_split_hard_soft_follows_the_case():
    assert split_hard_soft(FACTORS) == {"hard": ["price", "location"], "soft": ["brand", "status", "doctor"]}


def test_price_factor_id_rules():
    assert price_factor_id(FACTORS) == "price"  # id contains 'price'
    fs = [ChoiceFactor(id="brand", name="Бренд"), ChoiceFactor(id="cost_level", name="Уровень")]
    assert price_factor_id(fs) == "cost_level"  # id contains 'cost'
    fs = [ChoiceFactor(id="brand", name="Бренд"), ChoiceFactor(id="f2", name="Стоимость услуг")]
    assert price_factor_id(fs) == "f2"  # name says стоимость
    fs = [ChoiceFactor(id="brand", name="Бренд"), ChoiceFactor(id="f2", name="Врач")]
    assert price_factor_id(fs) is None
    assert price_factor_id(fs, Parameters(price_factor="brand")) == "brand"  # explicit parameter wins
    with pytest.raises(CaseError, match="not a declared choice factor"):
        price_factor_id(fs, Parameters(price_factor="cheapness"))


# ----------------------------------------------------------------------------- effect size, test, correction


def test_cliffs_delta_by_hand():
    a, b = [1, 2, 3], [2, 2, 4]
    d, lo, hi = cliffs_delta(a, b)
    # pairs (a, b): 1 < all three; 2 = 2, 2 = 2, 2 < 4; 3 > 2, 3 > 2, 3 < 4 -> 2 greater, 5 less of 9
    # delta = (2 - 5) / 9 = -1/3   (scipy mannwhitneyu U = 2 + 0.5 * 2 ties = 3; 2 * 3 / 9 - 1 = -1/3)
    assert d == pytest.approx(-1 / 3)
    # placements: V_a = (0, 1/3, 2/3) var 1/9; V_b = (1/2, 1/2, 0) var 1/12
    # s^2 = 4 * (1/9 / 3 + 1/12 / 3) = 7/27; z = 1.959964
    # CI = (d - d^3 -+ z s sqrt((1 - d^2)^2 + z^2 s^2)) / (1 - d^2 + z^2 s^2)
    #    = (-8/27 -+ 1.333715) / 1.884822 = (-0.86481, 0.55041)
    assert lo == pytest.approx(-0.864809, abs=1e-5)
    assert hi == pytest.approx(0.550406, abs=1e-5)


def test_holm_by_hand():
    # sorted: 0.01 * 3 = 0.03; 0.03 * 2 = 0.06; 0.04 * 1 = 0.04 -> running max 0.03, 0.06, 0.06
    out = holm([0.01, 0.04, 0.03, np.nan])
    assert out[:3].tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(out[3])


def test_brand_audience_comparison_flags_the_price_difference():
    survey = pd.DataFrame(
        {
            "respondent_id": pd.array([f"r{i}" for i in range(16)], dtype="string"),
            "brand": ["premium"] * 8 + ["budget"] * 8,
            "imp_price": [1, 2, 1, 2, 2, 1, 1, 2] + [5, 5, 4, 5, 4, 5, 5, 4],
            "imp_brand": [1, 2, 3, 4, 1, 2, 3, 4] + [4, 3, 2, 1, 4, 3, 2, 1],
        }
    )
    factors = [ChoiceFactor(id="price", name="Цена", kind="hard"), ChoiceFactor(id="brand", name="Бренд")]
    table, summary = brand_audience_comparison(survey, factors, "premium", "budget")
    t = table.set_index("factor_id")
    # price: every premium rating (1-2) is below every budget one (4-5): delta = (0 - 64) / 64 = -1
    assert t.loc["price", "mean_a"] == pytest.approx(1.5)  # (4*1 + 4*2) / 8
    assert t.loc["price", "mean_b"] == pytest.approx(4.625)  # (5*5 + 3*4) / 8 = 37/8
    assert t.loc["price", "diff"] == pytest.approx(-3.125)
    assert t.loc["price", "cliffs_delta"] == pytest.approx(-1.0)
    # U for premium = 0; scipy.stats.mannwhitneyu(premium, budget) -> p = 0.000624645 (normal approx.,
    # tie and continuity corrected); Holm over 2 factors: 2 * 0.000624645 = 0.00124929
    assert t.loc["price", "u_statistic"] == 0.0
    assert t.loc["price", "p_value"] == pytest.approx(0.000624645, rel=1e-4)
    assert t.loc["price", "p_holm"] == pytest.approx(0.00124929, rel=1e-4)
    assert bool(t.loc["price", "material"]) and t.loc["price", "higher_for"] == "budget"
    assert t.loc["price", "magnitude"] == "large"
    # Cohen's d beside it: var_a = 8 * 0.25 / 7 = 2/7; var_b = (5 * 0.375^2 + 3 * 0.625^2) / 7 = 1.875/7
    # sd = sqrt((0.285714 + 0.267857) / 2) = 0.526104; d = -3.125 / 0.526104 = -5.93989
    # se = sqrt(16/64 + 5.93989^2 / 32) = 1.162996; CI = d -+ 1.959964 * se = (-8.21933, -3.66045)
    assert t.loc["price", "cohens_d"] == pytest.approx(-5.93989, abs=1e-4)
    assert t.loc["price", "cohens_d_lo"] == pytest.approx(-8.21933, abs=1e-4)
    assert t.loc["price", "cohens_d_hi"] == pytest.approx(-3.66045, abs=1e-4)
    # brand: the same multiset {1,2,3,4} x2 on both sides -> delta 0, U = 32 = 64/2, p = 1 -> not material
    assert t.loc["brand", "cliffs_delta"] == pytest.approx(0.0)
    assert t.loc["brand", "p_value"] == pytest.approx(1.0)
    assert not bool(t.loc["brand", "material"])
    assert summary["material"] == ["price"]
    assert summary["higher_for"] == {"premium": [], "budget": ["price"]}
    assert summary["respondents"] == {"premium": 8, "budget": 8}
    json.dumps(summary, allow_nan=False)


# ----------------------------------------------------------------------------- the whole step


def test_survey_personas_finds_the_planted_groups():
    survey, truth = planted_survey()
    res = survey_personas(survey, FACTORS, PARAMS, language="ru")
    assert res.k == 3
    p = res.personas.set_index("persona")
    # sizes 50, 40, 30 -> P1 price group, P2 brand/status group, P3 doctor group
    assert p["respondents"].tolist() == [50, 40, 30]
    by_id = survey.set_index("respondent_id")
    got = res.assignments.set_index("respondent_id")["persona"]
    planted = pd.Series(truth, index=survey["respondent_id"]).reindex(got.index)
    assert (pd.crosstab(got, planted).max(axis=1) == [50, 40, 30]).all()  # each persona = one group
    assert p.loc["P1", "top_positive"] == "price" and bool(p.loc["P1", "price_driven"])
    assert not p.loc[["P2", "P3"], "price_driven"].any()
    # names from the case's factor names: price alone leads P1; status (1.36 SD) and brand (1.32) lead
    # P2 together; the doctor alone leads P3 (accusative of an animate noun: врач -> врача)
    assert p["name"].tolist() == ["Ориентированы на цену", "Статус и бренд", "Ориентированы на врача"]
    assert p.loc["P3", "top_positive"] == "doctor"
    # hard/soft leaders come from the case's kinds
    assert p.loc["P1", "top_hard"] == "price"
    assert p.loc["P2", "top_soft"] in {"brand", "status"}
    assert p.loc["P3", "top_soft"] == "doctor"
    # share with Wilson interval: 50 of 120
    lo, hi = wilson_interval(50, 120)
    assert p.loc["P1", "share"] == pytest.approx(50 / 120)
    assert (p.loc["P1", "share_lo"], p.loc["P1", "share_hi"]) == pytest.approx((lo, hi))
    # attributes: P2 all nps 10 -> mean 10, nps score 1.0; P1 budget 1000; clients 25 of 50 (every 2nd)
    assert p.loc["P2", "nps_mean"] == 10 and p.loc["P2", "nps_score"] == 1.0
    assert p.loc["P1", "nps_score"] == -1.0  # all 6 -> detractors
    assert p.loc["P1", "budget_median"] == 1000.0
    assert p.loc["P1", "clients"] == 25 and p.loc["P1", "client_share"] == 0.5
    mix = res.brand_mix.set_index(["persona", "brand"])["share"]
    assert mix[("P1", "budget")] == 1.0
    assert by_id.shape[0] == 120


def test_gap_rule_picks_the_planted_k_and_flags_structureless_data():
    survey, _ = planted_survey()
    m, _ = importance_matrix(survey, [f.id for f in FACTORS])
    labels, sel = cluster_importances(standardise(m), (2, 4), min_size=5, seed=42)
    sel = sel.set_index("k")
    # 3 tight groups: gap(3) >= gap(4) - se(4) while gap(2) < gap(3) - se(3) -> the 1-SE rule gives 3
    assert sel["gap"][2] < sel["gap"][3] - sel["gap_se"][3]
    assert sel["gap"][3] >= sel["gap"][4] - sel["gap_se"][4]
    assert sel.index[sel["chosen"]].tolist() == [3] and len(set(labels)) == 3
    assert not sel.attrs["no_structure"]
    # structureless answers (independent uniform 1-5): the rule would pick k = 1 -> flagged
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.integers(1, 6, size=(120, 4)).astype(float), columns=list("abcd"))
    _, sel = cluster_importances(standardise(noise), (2, 4), min_size=5, seed=42)
    assert sel.attrs["no_structure"]


def test_personas_do_not_depend_on_row_order_or_run():
    survey, _ = planted_survey()
    a = survey_personas(survey, FACTORS, PARAMS)
    b = survey_personas(survey, FACTORS, PARAMS)
    c = survey_personas(survey.sample(frac=1.0, random_state=7).reset_index(drop=True), FACTORS, PARAMS)
    for other in (b, c):
        pd.testing.assert_frame_equal(a.assignments, other.assignments)
        pd.testing.assert_frame_equal(a.personas, other.personas)
        pd.testing.assert_frame_equal(a.profile, other.profile)


def test_small_groups_are_never_personas():
    survey, _ = planted_survey()
    # 3 outliers far from everybody: a group of their own under k-means, but only 3 < 5 respondents
    extra = survey.iloc[:3].copy()
    extra["respondent_id"] = pd.array(["x1", "x2", "x3"], dtype="string")
    extra[["imp_price", "imp_brand", "imp_status", "imp_doctor", "imp_location"]] = [1, 1, 1, 1, 5]
    res = survey_personas(pd.concat([survey, extra], ignore_index=True), FACTORS, PARAMS)
    assert res.personas["respondents"].min() >= PARAMS.min_segment_size
    # the gap rule picks k = 4 (the outliers as a 4th cluster); dissolving it leaves 3 personas
    chosen = res.k_selection[res.k_selection["chosen"]]
    assert int(chosen["k"].iloc[0]) == 4 and res.k == 3
    assert set(res.assignments["respondent_id"]) >= {"x1", "x2", "x3"}
    assert res.personas["respondents"].sum() == 123  # dissolved members were reassigned, not dropped
    # a minimum no split can meet: one persona of everybody
    one = survey_personas(survey, FACTORS, Parameters(min_segment_size=70, persona_k_range=(2, 4)), "en")
    assert one.k == 1 and one.personas["name"].tolist() == ["All respondents"]


def test_persona_metrics_shape_is_json_able():
    survey, _ = planted_survey()
    survey.loc[0, "imp_price"] = np.nan  # one blank: imputed
    m = persona_metrics(survey, FACTORS, PARAMS, language="en")
    text = json.dumps(m, allow_nan=False, ensure_ascii=False)
    assert m["k"] == 3 and len(m["personas"]) == 3
    for p in m["personas"]:
        assert {"name", "share", "respondents", "top_factors"} <= set(p)
        assert len(p["top_factors"]) == 3
    assert sum(p["share"] for p in m["personas"]) == pytest.approx(1.0)
    assert m["method"]["blanks"]["imputed_values"] == 1
    # English wording around the case's own (Russian) factor names
    assert [p["name"] for p in m["personas"]] == ["Driven by цена", "Статус & бренд", "Driven by врач"]
    assert "NaN" not in text
    assert persona_metrics(None, FACTORS, PARAMS) == {"skipped": "no survey table in this case"}
    no_imp = survey.drop(columns=[c for c in survey.columns if c.startswith("imp_")])
    assert "skipped" in persona_metrics(no_imp, FACTORS, PARAMS)
