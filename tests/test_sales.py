"""Visits and the customer summary (toolkit.core.sales) on tiny hand-made tables."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from toolkit.core.sales import ALL_LINES, build_visits, customer_summary, customer_visits, sales_history


def tx(rows, columns=("customer_id", "date", "amount", "business_line", "staff_id")):
    df = pd.DataFrame(rows, columns=list(columns))
    df["date"] = pd.to_datetime(df["date"])
    df["amount"] = df["amount"].astype(float)
    for c in ("customer_id", "business_line", "staff_id"):
        if c in df:
            df[c] = df[c].astype("str")
    return df


# a: 2 services on 2024-01-01 (dentistry 100 with s1, cosmetology 50 with s2), then dentistry on 01-31
# b: 2 services on 2024-01-05, both dentistry, s3 30 and s4 30 (staff tie -> s3), then cosmetology 01-09
BASIC = tx(
    [
        ("a", "2024-01-01", 100, "dentistry", "s1"),
        ("a", "2024-01-01", 50, "cosmetology", "s2"),
        ("a", "2024-01-31", 70, "dentistry", "s1"),
        ("b", "2024-01-05", 30, "dentistry", "s4"),
        ("b", "2024-01-05", 30, "dentistry", "s3"),
        ("b", "2024-01-09", 20, "cosmetology", "s5"),
    ]
)


@pytest.fixture(params=[True, False], ids=["cached", "inline"])
def cache(request):
    return request.param


def test_two_service_rows_on_one_day_are_one_visit(cache):
    h = sales_history(BASIC, as_of="2024-03-01", cache=cache)
    v = build_visits(h)
    assert list(v["customer_id"]) == ["a", "a", "b", "b"]
    assert list(v["visit_number"]) == [1, 2, 1, 2]
    # a's first visit: 100 + 50 = 150; b's first: 30 + 30 = 60
    assert list(v["amount"]) == [150.0, 70.0, 60.0, 20.0]
    assert list(v["service_rows"]) == [2, 1, 2, 1]
    assert (v["scope"] == ALL_LINES).all()


def test_main_staff_and_main_line_largest_amount_ties_by_id(cache):
    v = build_visits(sales_history(BASIC, as_of="2024-03-01", cache=cache))
    # a day 1: s1 paid 100 > s2 50 -> s1; dentistry 100 > cosmetology 50 -> dentistry
    # b day 1: s3 30 = s4 30 -> the smaller id s3
    assert list(v["staff_id"]) == ["s1", "s1", "s3", "s5"]
    assert list(v["business_line"]) == ["dentistry", "dentistry", "dentistry", "cosmetology"]


def test_gap_days_and_days_to_next(cache):
    v = build_visits(sales_history(BASIC, as_of="2024-03-01", cache=cache))
    # a: 01-01 -> 01-31 = 30 days; b: 01-05 -> 01-09 = 4 days
    assert v["gap_days"].tolist() == [pd.NA, 30, pd.NA, 4]
    assert v["days_to_next"].tolist() == [30, pd.NA, 4, pd.NA]


def test_per_line_visits_are_numbered_within_the_line(cache):
    v = build_visits(sales_history(BASIC, as_of="2024-03-01", cache=cache), per_line=True)
    got = {(r.scope, r.customer_id, r.visit_number): (r.amount, r.staff_id) for r in v.itertuples()}
    assert got == {
        ("cosmetology", "a", 1): (50.0, "s2"),
        ("cosmetology", "b", 1): (20.0, "s5"),
        ("dentistry", "a", 1): (100.0, "s1"),
        ("dentistry", "a", 2): (70.0, "s1"),
        ("dentistry", "b", 1): (60.0, "s3"),  # tie 30/30 -> s3
    }
    # b's cosmetology visit is b's 2nd visit overall but the 1st TO cosmetology
    assert (v["business_line"] == v["scope"]).all()


def test_row_definition_makes_every_row_a_visit():
    h = sales_history(BASIC, as_of="2024-03-01", visit_definition="row")
    v = build_visits(h)
    assert len(v) == 6
    a = v[v["customer_id"] == "a"]
    # rows of one day keep the input order: 100 then 50; the gap between them is 0 days
    assert list(a["amount"]) == [100.0, 50.0, 70.0]
    assert a["gap_days"].tolist() == [pd.NA, 0, 30]
    assert list(a["staff_id"]) == ["s1", "s2", "s1"]


def test_refund_is_netted_and_never_a_visit(cache):
    refunds = tx([("a", "2024-02-01", -40, "dentistry", None)])
    h = sales_history(BASIC, refunds, as_of="2024-03-01", cache=cache)
    assert len(build_visits(h)) == 4  # the refund adds no visit
    s = customer_summary(h).set_index("customer_id")
    # a: revenue 150 + 70 = 220, refund -40 -> monetary 180; 2 visits
    assert s.loc["a", "revenue"] == 220.0
    assert s.loc["a", "refunds"] == -40.0
    assert s.loc["a", "monetary"] == 180.0
    assert s.loc["a", "visits"] == 2
    assert s.loc["b", "monetary"] == 80.0 and s.loc["b", "refunds"] == 0.0
    assert s.loc["a", "first_visit"] == pd.Timestamp("2024-01-01")
    assert s.loc["a", "last_visit"] == pd.Timestamp("2024-01-31")


def test_negative_row_inside_transactions_is_a_refund_too(cache):
    raw = pd.concat([BASIC, tx([("b", "2024-01-20", -15, "cosmetology", "s5")])], ignore_index=True)
    h = sales_history(raw, as_of="2024-03-01", cache=cache)
    v = build_visits(h)
    assert len(v[v["customer_id"] == "b"]) == 2  # not a third visit
    s = customer_summary(h).set_index("customer_id")
    assert s.loc["b", "monetary"] == 80.0 - 15.0  # 60 + 20 - 15 = 65


def test_line_summary_nets_only_that_lines_refunds(cache):
    refunds = tx(
        [
            ("a", "2024-02-01", -40, "dentistry", None),  # dentistry refund
            ("a", "2024-02-02", -5, None, None),  # refund with no line: whole history only
            ("z", "2024-02-02", -99, "dentistry", None),  # customer with no visit: left out
        ]
    )
    h = sales_history(BASIC, refunds, as_of="2024-03-01", cache=cache)
    per_line = customer_summary(h, per_line=True).set_index(["scope", "customer_id"])
    # a in dentistry: 100 + 70 - 40 = 130; a in cosmetology: 50 (no cosmetology refund)
    assert per_line.loc[("dentistry", "a"), "monetary"] == 130.0
    assert per_line.loc[("cosmetology", "a"), "monetary"] == 50.0
    assert per_line.loc[("dentistry", "a"), "visits"] == 2
    overall = customer_summary(h).set_index("customer_id")
    # whole history: 220 - 40 - 5 = 175
    assert overall.loc["a", "monetary"] == 175.0
    assert "z" not in overall.index


def test_rows_after_as_of_are_ignored(cache):
    h = sales_history(BASIC, as_of="2024-01-08", cache=cache)
    v = build_visits(h)
    # a's 01-31 and b's 01-09 visits are after as_of
    assert list(zip(v["customer_id"], v["visit_number"])) == [("a", 1), ("b", 1)]
    assert h.as_of == dt.date(2024, 1, 8)


def test_default_as_of_is_the_last_date():
    assert sales_history(BASIC).as_of == dt.date(2024, 1, 31)


def test_parquet_input_gives_the_same_visits(tmp_path):
    path = tmp_path / "tx.parquet"
    BASIC.to_parquet(path)
    a = build_visits(sales_history(BASIC, as_of="2024-03-01"))
    b = build_visits(sales_history(path, as_of="2024-03-01"))
    pd.testing.assert_frame_equal(a, b)


def test_without_line_and_staff_columns():
    df = BASIC[["customer_id", "date", "amount"]]
    h = sales_history(df, as_of="2024-03-01")
    v = build_visits(h)
    assert len(v) == 4 and v["staff_id"].isna().all()
    assert build_visits(h, per_line=True).empty
    assert h.lines() == []
    assert customer_summary(h)["visits"].tolist() == [2, 2]


def test_missing_required_column_is_a_clear_error():
    with pytest.raises(ValueError, match="amount"):
        sales_history(BASIC[["customer_id", "date"]])


def test_input_order_does_not_change_the_visits():
    shuffled = BASIC.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        build_visits(sales_history(BASIC, as_of="2024-03-01")),
        build_visits(sales_history(shuffled, as_of="2024-03-01")),
    )


# --------------------------------------------------------------------------- subsets and the visits of a few customers


def _random_tx(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    df = pd.DataFrame({
        "customer_id": [f"c{i}" for i in rng.integers(0, 40, n)],
        "date": days,
        "amount": rng.choice([10.0, 20.0, 30.0, 50.0], n),  # ties between lines of a day are frequent
        "business_line": rng.choice(["dentistry", "cosmetology", "ivf"], n),
        "staff_id": [f"s{i}" for i in rng.integers(0, 5, n)],
        "brand": rng.choice(["prem", "bud"], n),
    })
    return df


@pytest.mark.parametrize("definition", ["customer_day", "row"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_customer_visits_are_the_full_visit_table_of_those_customers(seed, definition):
    df = _random_tx(seed)
    sales = sales_history(df, visit_definition=definition)
    try:
        full = build_visits(sales)
        ids = sorted(set(df["customer_id"]))[::3]
        some = customer_visits(sales, ids)
    finally:
        sales.close()
    want = full[full["customer_id"].isin(ids)].reset_index(drop=True)
    cols = ["customer_id", "visit_date", "visit_number", "amount", "business_line", "days_to_next", "service_rows"]
    pd.testing.assert_frame_equal(some[cols], want[cols], check_dtype=False)


def test_brand_subset_is_the_history_of_that_brands_rows_only():
    df = _random_tx(5)
    sales = sales_history(df)
    try:
        assert sales.brands() == ["bud", "prem"]
        bud = sales.subset(brands=["bud"])
        assert sales.subset(brands=["bud"]) is bud  # one history per brand, its visit table reused
        got = build_visits(bud)
        pair = sales.subset(brands=["bud", "prem"], brand_as_line=True)
        as_lines = build_visits(pair, per_line=True)
    finally:
        sales.close()
    alone = sales_history(df[df["brand"] == "bud"])
    try:
        want = build_visits(alone)
    finally:
        alone.close()
    pd.testing.assert_frame_equal(got, want)
    # the brand in the place of the line: each brand's own visits, numbered within the brand
    assert set(as_lines["scope"]) == {"bud", "prem"}
    assert (as_lines[as_lines["scope"] == "bud"]["amount"].sum() == pytest.approx(df.loc[df["brand"] == "bud", "amount"].sum()))


def test_steps_of_one_process_share_the_visit_tables_of_one_parquet_file(tmp_path):
    """cjm run runs every step in one kernel: a later step's history of the same file, date and
    visit definition reads the visit table an earlier step made; another file does not."""
    path = tmp_path / "transactions.parquet"
    _random_tx(7).to_parquet(path)
    first = sales_history(path, as_of="2024-03-31")
    try:
        want = build_visits(first)
        first.visits("all")
        made = first.engine.queries
    finally:
        first.close()
    second = sales_history(path, as_of="2024-03-31")
    try:
        before = second.engine.queries
        second.visits("all")
        assert second.engine.queries == before  # nothing computed again
        pd.testing.assert_frame_equal(build_visits(second), want)
    finally:
        second.close()
    assert made > 0
    # the same file rewritten with other rows: its own visits, not the kept ones
    _random_tx(8).to_parquet(path)
    third = sales_history(path, as_of="2024-03-31")
    try:
        got = build_visits(third)
    finally:
        third.close()
    fresh = sales_history(_random_tx(8), as_of="2024-03-31")
    try:
        pd.testing.assert_frame_equal(got, build_visits(fresh))
    finally:
        fresh.close()
    # another analysis date is another history
    other = sales_history(path, as_of="2024-02-15")
    try:
        assert build_visits(other)["visit_date"].max() <= pd.Timestamp("2024-02-15")
    finally:
        other.close()
