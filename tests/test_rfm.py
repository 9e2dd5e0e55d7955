"""RFM (toolkit.segmentation.rfm) on a hand-made table with hand-computed scores and segments."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.core.config import Parameters
from toolkit.segmentation.rfm import (
    SEGMENTS,
    assign_segments,
    rfm_metrics,
    rfm_scores,
    rfm_segment_table,
    segment_name,
    segment_table,
)
from toolkit.core.sales import ALL_LINES, sales_history

AS_OF = "2024-12-31"


def tx(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "business_line"])
    df["date"] = pd.to_datetime(df["date"])
    df["amount"] = df["amount"].astype(float)
    for c in ("customer_id", "business_line"):
        df[c] = df[c].astype("str")
    return df


# a: 5 visits of 100, last 12-21 (recency 10)    b: 1 visit 100 on 12-21 (recency 10: tie with a)
# c: 3 visits of 100, last 06-04 (recency 210)   d: 1 visit 50 on 2023-12-31 (recency 366)
# e: 2 visits of 450 on 12-29, 12-30 (recency 1), refund -100 -> monetary 800 (line y; the others x)
ROWS = (
    [("a", f"2024-12-{d}", 100, "x") for d in (17, 18, 19, 20, 21)]
    + [("b", "2024-12-21", 100, "x")]
    + [("c", f"2024-06-0{d}", 100, "x") for d in (2, 3, 4)]
    + [("d", "2023-12-31", 50, "x")]
    + [("e", "2024-12-29", 450, "y"), ("e", "2024-12-30", 450, "y")]
)
REFUNDS = tx([("e", "2024-12-30", -100, "y")])


def scores(rows=ROWS, **kw):
    return rfm_scores(sales_history(tx(rows), REFUNDS, as_of=AS_OF), **kw)


def test_rfm_values():
    s = scores().set_index("customer_id")
    assert s["recency_days"].to_dict() == {"a": 10, "b": 10, "c": 210, "d": 366, "e": 1}
    assert s["frequency"].to_dict() == {"a": 5, "b": 1, "c": 3, "d": 1, "e": 2}
    assert s["monetary"].to_dict() == {"a": 500.0, "b": 100.0, "c": 300.0, "d": 50.0, "e": 800.0}


def test_rfm_scores_count_strictly_worse_customers():
    s = scores().set_index("customer_id")
    # n = 5, score = 1 + floor(5 * w / 5) = 1 + w, w = customers with a strictly worse value
    # recency (larger is worse): d 366 -> w 0 -> 1; c 210 -> 1 -> 2; a, b 10 -> 2 -> 3 (tie shared); e 1 -> 5
    assert s["r_score"].to_dict() == {"a": 3, "b": 3, "c": 2, "d": 1, "e": 5}
    # frequency: b, d 1 -> 1; e 2 -> w 2 -> 3; c 3 -> 4; a 5 -> 5
    assert s["f_score"].to_dict() == {"a": 5, "b": 1, "c": 4, "d": 1, "e": 3}
    # monetary: d 50 -> 1; b 100 -> 2; c 300 -> 3; a 500 -> 4; e 800 -> 5
    assert s["m_score"].to_dict() == {"a": 4, "b": 2, "c": 3, "d": 1, "e": 5}
    assert s.loc["a", "rfm"] == "354"


def test_rfm_segments_from_the_grid():
    s = scores().set_index("customer_id")
    # a R3 F5 -> loyal; b R3 F1 -> about_to_sleep; c R2 F4 (M 3) -> at_risk; d R1 F1 -> lost;
    # e R5 F3 -> potential_loyalists
    assert s["segment"].to_dict() == {
        "a": "loyal", "b": "about_to_sleep", "c": "at_risk", "d": "lost", "e": "potential_loyalists",
    }


def test_ties_are_deterministic_and_independent_of_order_and_ids():
    base = scores().set_index("customer_id")
    shuffled = scores(rows=list(reversed(ROWS))).set_index("customer_id")
    pd.testing.assert_frame_equal(base, shuffled)
    # renaming a <-> b (tied on recency) keeps every customer's scores with their values
    renamed = [({"a": "b", "b": "a"}.get(c, c), d, m, ln) for c, d, m, ln in ROWS]
    r = scores(rows=renamed).set_index("customer_id")
    assert r.loc["b", "f_score"] == 5 and r.loc["a", "f_score"] == 1
    assert r.loc["a", "r_score"] == r.loc["b", "r_score"] == 3


@pytest.mark.parametrize("n", [1, 2, 7, 50, 203])
def test_scores_follow_the_definition_on_random_tied_data(n):
    # brute force: score = 1 + floor(5 w / n), w = customers with a strictly worse value
    rng = np.random.default_rng(n)
    rows = []
    for i in range(n):
        for _ in range(int(rng.integers(1, 4))):  # 1-3 visits, heavy ties in frequency
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 40)))
            rows.append((f"k{i:03d}", day, float(rng.choice([10, 20, 30])), "x"))
    s = rfm_scores(sales_history(tx(rows), as_of=AS_OF))
    for measure, score, worse in (
        ("recency_days", "r_score", lambda v, x: (v > x).sum()),
        ("frequency", "f_score", lambda v, x: (v < x).sum()),
        ("monetary", "m_score", lambda v, x: (v < x).sum()),
    ):
        v = s[measure].to_numpy()
        expected = [1 + (5 * worse(v, x)) // len(v) for x in v]
        assert s[score].tolist() == expected, measure


def test_m_rule_moves_big_spending_at_risk_to_cannot_lose():
    seg = assign_segments(pd.Series([2, 2, 1, 5]), pd.Series([3, 3, 5, 5]), pd.Series([5, 4, 1, 5]))
    assert seg.tolist() == ["cannot_lose", "at_risk", "cannot_lose", "champions"]


def test_explicit_edges():
    s = scores(edges={"frequency": [1, 2, 4, 7], "recency": [30, 90, 180, 365]}).set_index("customer_id")
    # frequency: 1 + number of edges below: a 5 -> 4 (above 1, 2, 4); c 3 -> 3; e 2 -> 2; b, d 1 -> 1
    assert s["f_score"].to_dict() == {"a": 4, "b": 1, "c": 3, "d": 1, "e": 2}
    # recency: 5 - edges below: a 10 -> 5; c 210 -> 5 - 3 = 2; d 366 -> 1
    assert s["r_score"].to_dict() == {"a": 5, "b": 5, "c": 2, "d": 1, "e": 5}
    with pytest.raises(ValueError, match="unknown measure"):
        scores(edges={"money": [1]})


def test_rfm_per_line_scores_within_the_line():
    s = scores(per_line=True)
    x = s[s["scope"] == "x"].set_index("customer_id")
    # line x has 4 customers: score = 1 + floor(5 w / 4); recency: d w0 -> 1, c w1 -> 2, a, b w2 -> 3
    assert x["r_score"].to_dict() == {"a": 3, "b": 3, "c": 2, "d": 1}
    y = s[s["scope"] == "y"]
    assert y["customer_id"].tolist() == ["e"] and y["monetary"].tolist() == [800.0]  # y's refund netted
    assert set(s["scope"]) == {ALL_LINES, "x", "y"}


def test_segment_table_sizes_and_revenue_shares():
    t = segment_table(scores(), min_segment_size=2)
    t = t[t["scope"] == ALL_LINES].set_index("segment")
    assert list(t.index) == list(SEGMENTS)  # every segment, in report order
    # net revenue 500 + 100 + 300 + 50 + 800 = 1750
    assert t.loc["loyal", "customers"] == 1 and t.loc["loyal", "revenue_share"] == pytest.approx(500 / 1750)
    assert t.loc["potential_loyalists", "revenue_share"] == pytest.approx(800 / 1750)
    assert t.loc["champions", "customers"] == 0 and t.loc["champions", "revenue_share"] == 0.0
    assert t["customer_share"].sum() == pytest.approx(1.0)
    assert t.loc["loyal", "small"]  # 1 < 2
    assert "name_ru" not in t.columns and "name_en" not in t.columns  # saved tables carry codes; names: the catalog


def test_rfm_metrics_shape():
    h = sales_history(tx(ROWS), REFUNDS, as_of=AS_OF)
    m = rfm_metrics(h, Parameters(min_segment_size=1))
    json.dumps(m, allow_nan=False)
    assert list(m) == list(SEGMENTS)
    assert m["lost"] == {"customers": 1, "revenue_share": round(50 / 1750, 4), "customer_share": 0.2, "small": False}
    assert sum(v["customers"] for v in m.values()) == 5


def test_segment_names():
    assert segment_name("cannot_lose", "en") == "Cannot lose"
    assert segment_name("champions", "ru") == "Чемпионы"
    assert all(segment_name(s, "ru") and segment_name(s, "en") for s in SEGMENTS)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("edges", [None, {"frequency": [1, 2, 4, 7]}])
def test_segment_table_in_the_engine_equals_the_table_of_the_scores(seed, edges):
    """rfm_segment_table (totals computed in the engine, no customer rows) equals segment_table
    of rfm_scores; rfm_metrics from either is the same; varied random histories with lines."""
    rng = np.random.default_rng(seed)
    n = 3000
    rows = pd.DataFrame({
        "customer_id": np.char.add("c", rng.integers(0, 400, n).astype(str)),
        "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        "amount": rng.choice([50.0, 120.0, 300.0, 990.0], n),
        "business_line": rng.choice(["x", "y", "z"], n, p=[0.6, 0.3, 0.1]),
    })
    rows["customer_id"] = rows["customer_id"].astype("str")
    rows["business_line"] = rows["business_line"].astype("str")
    h = sales_history(rows, REFUNDS, as_of=AS_OF)
    want = segment_table(rfm_scores(h, per_line=True, edges=edges), min_segment_size=20)
    got = rfm_segment_table(h, per_line=True, edges=edges, min_segment_size=20)
    assert len(set(want.loc[want["customers"] > 0, "segment"])) >= 6  # the histories fill many segments
    assert list(got.columns) == list(want.columns)
    for c in want.columns:
        if pd.api.types.is_float_dtype(want[c]):
            np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float), rtol=1e-12, err_msg=c)
        else:
            assert got[c].astype(str).tolist() == want[c].astype(str).tolist(), c
    p = Parameters(min_segment_size=20)
    assert rfm_metrics(h, p, table=got) == rfm_metrics(h, p, scores=rfm_scores(h, per_line=True, edges=edges))
