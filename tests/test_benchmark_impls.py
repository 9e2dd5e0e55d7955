"""The benchmark's three implementations of each job (toolkit, hand-written DuckDB, plain
pandas) give the same answer: on a generated case, and on a hand-made history where the
answer is worked out by hand. (Speed is measured by ``make bench``, never here.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import impls  # noqa: E402


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from toolkit.synthetic import generate_case

    out = tmp_path_factory.mktemp("bench_case")
    generate_case("clinic_group", out, scale=0.3, fmt="parquet")
    return out / "transactions.parquet"


@pytest.mark.parametrize("job", list(impls.JOBS))
def test_three_implementations_agree_on_a_generated_case(generated, job):
    results = {name: impls.normalise(job, f(generated, impls.AS_OF)) for name, f in impls.JOBS[job].items()}
    assert len(results["toolkit"]) > 50  # visit numbers x scopes, or customers
    for name in ("duckdb", "pandas"):
        assert impls.differences(job, results["toolkit"], results[name]) == [], name


@pytest.fixture
def tiny(tmp_path):
    # A: 01.01 (two rows: one visit of 300), 11.01, 31.01 -> gaps 10, 20
    # B: 01.01, 21.01 (dentistry both)        -> gap 20
    # C: 30.06 only; D: a refund of -50 on 01.01 with a visit of 100 the same day
    frame = pd.DataFrame({
        "customer_id": ["A", "A", "A", "A", "B", "B", "C", "D", "D"],
        "date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-11", "2025-01-31", "2025-01-01",
                                "2025-01-21", "2025-06-30", "2025-01-01", "2025-01-01"]),
        "amount": [100.0, 200.0, 50.0, 70.0, 10.0, 30.0, 1000.0, 100.0, -50.0],
        "business_line": ["cosmetology"] * 4 + ["dentistry"] * 2 + ["cosmetology"] * 3,
    })
    path = tmp_path / "tx.parquet"
    frame.to_parquet(path, index=False)
    return path


def test_summary_by_hand(tiny):
    as_of = "2025-12-31"
    for name, f in impls.JOBS["summary"].items():
        got = impls.normalise("summary", f(tiny, as_of)).set_index("customer_id")
        # recency from the last visit to 31.12.2025: A 31.01 -> 334, B 21.01 -> 344, C 30.06 -> 184, D 01.01 -> 364
        assert got["recency_days"].to_dict() == {"A": 334, "B": 344, "C": 184, "D": 364}, name
        assert got["frequency"].to_dict() == {"A": 3, "B": 2, "C": 1, "D": 1}, name
        # D: visit 100 + refund -50 = 50 (a refund is no visit)
        assert got["monetary"].to_dict() == {"A": 420.0, "B": 40.0, "C": 1000.0, "D": 50.0}, name
        # scores 1 + floor(5 w / 4): frequency worse-counts A 3 (B, C, D below) -> 4; B 2 -> 3; C, D 0 -> 1
        assert got["f_score"].to_dict() == {"A": 4, "B": 3, "C": 1, "D": 1}, name
        # recency: C best (3 customers with a larger recency) -> 4; A 2 -> 3; B 1 -> 2; D 0 -> 1
        assert got["r_score"].to_dict() == {"A": 3, "B": 2, "C": 4, "D": 1}, name


def test_loyalty_by_hand(tiny):
    as_of = "2025-12-31"
    for name, f in impls.JOBS["loyalty"].items():
        got = impls.normalise("loyalty", f(tiny, as_of)).set_index(["scope", "visit_number"])
        whole = got.loc["all_lines"]
        # all lines: 4 first visits (A, B, C, D), 2 second (A, B), 1 third (A)
        assert whole["visits"].tolist() == [4, 2, 1], name
        # gaps 10 (A 1->2), 20 (A 2->3), 20 (B): fewer than 30, no line has 30 either -> W is the
        # 99th percentile of the 3 gaps = 20; the cap is half the history (364 // 2 = 182)
        assert set(got["return_window_days"]) == {20}, name
        # every visit is on or before 11.12 (as_of - 20 days): all eligible
        assert whole["eligible"].tolist() == [4, 2, 1], name
        # returned within 20 days: A after visit 1 (10 d) and 2 (20 d), B after visit 1 (20 d)
        assert whole["returned"].tolist() == [2, 1, 0], name
        # gaps after visit 1 among the returns: 10 and 20 -> median 15
        assert whole.loc[1, "gap_median"] == 15.0, name
        # average check of first visits: A 300, B 10, C 1000, D 100 -> 352.5
        assert whole.loc[1, "average_check"] == pytest.approx(352.5), name
        assert got.loc[("dentistry", 1), "returned"] == 1, name
