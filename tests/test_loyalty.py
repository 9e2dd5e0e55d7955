"""Loyalty analytics (toolkit.loyalty.repeat) on tiny hand-made tables with hand-computed answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from toolkit.core.config import Parameters
from toolkit.loyalty.repeat import (
    average_check,
    cross_penetration,
    cross_penetration_metrics,
    gap_intervals,
    intervals_by_stage,
    lifetime_value,
    loyalty_metrics,
    loyalty_stages,
    loyalty_visit,
    repeat_curve,
    return_windows,
    stage_label,
    staff_attachment,
    staff_dependency,
    staff_dependency_metrics,
)
from toolkit.core.sales import ALL_LINES, sales_history
from toolkit.core.stats import wilson_interval


def tx(rows, columns=("customer_id", "date", "amount", "business_line", "staff_id")):
    df = pd.DataFrame(rows, columns=list(columns))
    df["date"] = pd.to_datetime(df["date"])
    df["amount"] = df["amount"].astype(float)
    for c in ("customer_id", "business_line", "staff_id"):
        if c in df:
            df[c] = df[c].astype("str")
    return df


# -- the repeat curve: W = 30 days, as_of 2024-12-31, so visits up to 2024-12-01 are eligible ------
# A: 01-01, 01-20 (gap 19), 03-01 (gap 41 > W)   B: 06-01 only
# C: 12-24 only (a week before as_of: NOT eligible)   D: 11-20, 12-10 (gap 20; 12-10 not eligible)
CURVE = tx(
    [
        ("A", "2024-01-01", 100, "dentistry", "s1"),
        ("A", "2024-01-20", 200, "dentistry", "s1"),
        ("A", "2024-03-01", 300, "dentistry", "s1"),
        ("B", "2024-06-01", 50, "dentistry", "s2"),
        ("C", "2024-12-24", 80, "dentistry", "s2"),
        ("D", "2024-11-20", 60, "dentistry", "s1"),
        ("D", "2024-12-10", 90, "dentistry", "s1"),
    ]
)
AS_OF = "2024-12-31"


@pytest.fixture(params=[True, False], ids=["cached", "inline"])
def curve_sales(request):
    return sales_history(CURVE, as_of=AS_OF, cache=request.param)


def test_repeat_curve_counts_with_censoring(curve_sales):
    c = repeat_curve(curve_sales, return_window_days=30, max_visit_number=4)
    overall = c[c["scope"] == ALL_LINES].set_index("visit_number")
    # n=1: eligible A, B, D (C's visit is a week before as_of: excluded, not "did not return");
    #      returned A (19 <= 30) and D (20 <= 30) -> 2/3
    assert overall.loc[1, "eligible"] == 3 and overall.loc[1, "returned"] == 2
    assert overall.loc[1, "p_return"] == pytest.approx(2 / 3)
    # n=2: A's 2nd visit is eligible, its next visit came 41 > 30 days later -> 0/1;
    #      D's 2nd visit (12-10) is after the 12-01 cut-off -> not eligible
    assert (overall.loc[2, "eligible"], overall.loc[2, "returned"]) == (1, 0)
    assert (overall.loc[3, "eligible"], overall.loc[3, "returned"]) == (1, 0)
    # n=4: nobody -> p is NaN, not 0
    assert overall.loc[4, "eligible"] == 0 and np.isnan(overall.loc[4, "p_return"])
    assert (c["return_window_days"] == 30).all()
    # the line's own curve: all rows are dentistry, so the same numbers
    line = c[c["scope"] == "dentistry"].set_index("visit_number")
    assert list(line["eligible"]) == [3, 1, 1, 0]


def test_repeat_curve_wilson_interval(curve_sales):
    c = repeat_curve(curve_sales, return_window_days=30, max_visit_number=2, per_line=False)
    c = c.set_index("visit_number")
    # Wilson 2/3, z = 1.95996: denom = 1 + z^2/3 = 2.28049, centre = (0.66667 + z^2/6) / denom = 0.57308,
    # half = z * sqrt(0.66667*0.33333/3 + z^2/36) / denom = 0.36542 -> [0.20766, 0.93851]
    assert c.loc[1, "ci_lo"] == pytest.approx(0.20766, abs=1e-4)
    assert c.loc[1, "ci_hi"] == pytest.approx(0.93851, abs=1e-4)
    # Wilson 0/1: [0, z^2/(1+z^2)] = [0, 3.84146/4.84146] = [0, 0.79345]
    assert c.loc[2, "ci_lo"] == 0.0
    assert c.loc[2, "ci_hi"] == pytest.approx(0.79345, abs=1e-4)
    assert set(c["scope"]) == {ALL_LINES}


def test_gap_intervals_count_only_returns_of_eligible_visits(curve_sales):
    g = gap_intervals(curve_sales, return_window_days=30, max_visit_number=3, per_line=False)
    g = g.set_index("visit_number")
    # gap before visit 2: A 19, D 20 (both after an eligible visit 1) -> median 19.5, quartiles 19.25 / 19.75
    assert g.loc[2, "gaps"] == 2
    assert (g.loc[2, "gap_q25"], g.loc[2, "gap_median"], g.loc[2, "gap_q75"]) == (19.25, 19.5, 19.75)
    # gap before visit 3: A's 41 days is longer than W -> not a return -> no gap
    assert g.loc[3, "gaps"] == 0 and np.isnan(g.loc[3, "gap_median"])


def test_average_check_by_visit_number(curve_sales):
    a = average_check(curve_sales, per_line=False, max_visit_number=4).set_index("visit_number")
    # visit 1: (100 + 50 + 80 + 60) / 4 = 72.5; visit 2: (200 + 90) / 2 = 145; visit 3: 300
    assert a.loc[1, "average_check"] == 72.5 and a.loc[1, "visits"] == 4
    assert a.loc[2, "average_check"] == 145.0
    assert a.loc[3, "average_check"] == 300.0
    assert a.loc[4, "visits"] == 0


def test_intervals_by_stage(curve_sales):
    s = intervals_by_stage(curve_sales, {ALL_LINES: [1, 2]}, return_window_days=30).set_index("stage")
    assert list(s.index) == ["1", "2+"]
    # stage "1": 4 visits, check 72.5; returns after them 2/3; no gap before a first visit
    assert (s.loc["1", "customers"], s.loc["1", "visits"], s.loc["1", "gaps"]) == (4, 4, 0)
    assert (s.loc["1", "eligible"], s.loc["1", "returned"]) == (3, 2)
    # stage "2+": A and D reached it; visits A2, A3, D2 -> check (200 + 300 + 90) / 3 = 196.67;
    # eligible after them: A2, A3 (D2 too late), none returned; gaps before them: 19, 20 (A's 41 > W)
    assert (s.loc["2+", "customers"], s.loc["2+", "visits"]) == (2, 3)
    assert s.loc["2+", "average_check"] == pytest.approx(590 / 3)
    assert (s.loc["2+", "eligible"], s.loc["2+", "returned"]) == (2, 0)
    assert s.loc["2+", "gaps"] == 2 and s.loc["2+", "gap_median"] == 19.5
    assert pd.isna(s.loc["2+", "last_visit"]) and s.loc["1", "last_visit"] == 1


# -- the return window ------------------------------------------------------------------------------


def _gap_table():
    # 40 customers in line x, each with 2 visits: 2023-01-01 and i days later (i = 1..40);
    # one customer in line y with a single visit (a one-off line with no gaps)
    rows = []
    for i in range(1, 41):
        first = pd.Timestamp("2023-01-01")
        rows.append((f"c{i:02d}", first, 10, "x", None))
        rows.append((f"c{i:02d}", first + pd.Timedelta(days=i), 10, "x", None))
    rows.append(("y1", pd.Timestamp("2023-02-01"), 10, "y", None))
    return tx(rows)


def test_default_return_window_is_the_99th_percentile_of_gaps():
    w = return_windows(sales_history(_gap_table(), as_of="2024-12-31")).set_index("scope")
    # 40 gaps 1..40: the smallest gap with at least 99 % of gaps <= it is the 40th (39.6 rounds up)
    assert w.loc[ALL_LINES, "return_window_days"] == 40
    assert w.loc[ALL_LINES, "window_source"] == "gap_quantile"
    assert w.loc["x", "return_window_days"] == 40
    # line y has no gaps: it borrows the whole history's window
    assert w.loc["y", "return_window_days"] == 40
    assert w.loc["y", "window_source"] == "whole_history_gap_quantile"


def test_return_window_parameter_wins():
    w = return_windows(sales_history(_gap_table(), as_of="2024-12-31"), return_window_days=10)
    assert (w["return_window_days"] == 10).all() and (w["window_source"] == "parameter").all()


def test_return_window_is_capped_at_half_the_history():
    # 30 customers with a 100-day gap; history 2024-01-01 .. 2024-05-01 = 121 days -> cap 121 // 2 = 60
    rows = [(f"c{i}", d, 10, "x", None) for i in range(30) for d in ("2024-01-01", "2024-04-10")]
    w = return_windows(sales_history(tx(rows), as_of="2024-05-01"), per_line=False)
    assert w["return_window_days"].tolist() == [60]
    assert w["window_source"].tolist() == ["gap_quantile_capped"]


def test_return_window_without_any_gap_falls_back():
    w = return_windows(sales_history(tx([("a", "2020-01-01", 10, "x", None)]), as_of="2024-12-31"))
    # no gap anywhere -> 365 days (half the history, 913 days, does not bind)
    assert w.set_index("scope").loc[ALL_LINES, "return_window_days"] == 365
    assert w.set_index("scope").loc[ALL_LINES, "window_source"] == "fallback"


# -- the loyalty threshold --------------------------------------------------------------------------


def curve_of(p, eligible):
    """A one-scope repeat curve from return rates and eligible counts."""
    e = np.asarray(eligible)
    r = np.rint(np.asarray(p) * e).astype(int)
    lo, hi = wilson_interval(r, e)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_hat = np.where(e > 0, r / np.maximum(e, 1), np.nan)
    return pd.DataFrame(
        {"scope": "x", "visit_number": np.arange(1, len(e) + 1), "eligible": e, "returned": r,
         "p_return": p_hat, "ci_lo": lo, "ci_hi": hi}
    )


KNEE_AT_6 = [0.40, 0.45, 0.50, 0.55, 0.60, 0.85, 0.86, 0.84, 0.85, 0.85]


def test_knee_is_found_exactly():
    # from 6 on every point is within 0.03 of the pooled level 0.85; p5 = 0.60 < 0.85 - 0.03, and
    # its interval (about 0.57..0.63 for 600/1000) ends below 0.85 -> the curve reaches the plateau at 6
    assert loyalty_visit(curve_of(KNEE_AT_6, [1000] * 10)) == 6


def test_flat_curve_has_no_threshold():
    # on the plateau from visit 1: nothing to reach -> None
    assert loyalty_visit(curve_of([0.8] * 10, [1000] * 10)) is None


def test_one_off_line_has_no_threshold():
    # only visit 1 has 30+ eligible customers: no plateau is supported -> None
    assert loyalty_visit(curve_of([0.05, 0.5, 0.5, 0.5], [500, 20, 5, 2])) is None


def test_sparse_noisy_tail_does_not_break_the_knee():
    p = KNEE_AT_6[:8] + [0.75, 0.20, 0.90]
    e = [1000] * 8 + [40, 10, 50]
    # n=9: 30/40 = 0.75 is 0.10 below the level, about 1.7 standard errors: noise;
    # n=10 has 10 < 30 eligible: the supported points stop there (n=11 is ignored too)
    assert loyalty_visit(curve_of(p, e)) == 6
    # with 2/10 = 0.2 supported too, one outlying point of the tail weighs a few standard errors
    # (Huber loss), it does not break the knee (toolkit.loyalty.threshold)
    assert loyalty_visit(curve_of(p, e), min_eligible=5) == 6


def test_falling_curve_has_no_threshold():
    # plateau 0.5 from visit 3, but the curve comes from above: no loyalty threshold
    assert loyalty_visit(curve_of([0.9, 0.9, 0.5, 0.5, 0.5, 0.5], [1000] * 6)) is None


def test_tolerance_parameter_moves_the_knee():
    p = [0.40, 0.50, 0.70, 0.78, 0.80, 0.80, 0.80, 0.80]
    # the tolerance is the smallest rise into the plateau that counts as a threshold:
    # 0.03: 0.70 -> plateau 0.796 from visit 4 (a rise of about 0.10) -> 4
    assert loyalty_visit(curve_of(p, [5000] * 8), tolerance=0.03) == 4
    # 0.15: that rise is too small; the rise from 0.50 to the level from visit 3 (0.78) counts -> 3
    assert loyalty_visit(curve_of(p, [5000] * 8), tolerance=0.15) == 3


def test_loyalty_stages_and_labels():
    assert loyalty_stages(6) == [1, 2, 6]
    assert loyalty_stages(None) == [1, 2]
    assert loyalty_stages(2) == [1, 2]
    assert loyalty_stages(6, [3, 7, 23]) == [1, 3, 7, 23]  # the parameter wins; 1 always starts
    assert [stage_label([1, 2, 6], i) for i in range(3)] == ["1", "2-5", "6+"]


# -- LTV ----------------------------------------------------------------------------------------------
# A: dentistry 2023-03-01 100, 2023-06-01 100, surgery 2024-02-01 1000 (surgery refund -200)
# B: surgery 2024-05-01 800      C: dentistry 2024-07-01 50
LTV = tx(
    [
        ("A", "2023-03-01", 100, "dentistry", None),
        ("A", "2023-06-01", 100, "dentistry", None),
        ("A", "2024-02-01", 1000, "surgery", None),
        ("B", "2024-05-01", 800, "surgery", None),
        ("C", "2024-07-01", 50, "dentistry", None),
    ]
)
LTV_REFUNDS = tx([("A", "2024-03-01", -200, "surgery", None)])


def test_lifetime_value_by_scope_and_cohort():
    h = sales_history(LTV, LTV_REFUNDS, as_of=AS_OF)
    v = lifetime_value(h).set_index(["scope", "cohort"])
    # whole history: 3 customers, 5 visits, 100 + 100 + 1000 - 200 + 800 + 50 = 1850
    assert v.loc[(ALL_LINES, "all"), "customers"] == 3
    assert v.loc[(ALL_LINES, "all"), "visits_per_customer"] == pytest.approx(5 / 3)
    assert v.loc[(ALL_LINES, "all"), "revenue_per_customer"] == pytest.approx(1850 / 3)
    # cohorts by first visit: A in 2023 (3 visits, 1000 net); B, C in 2024 (2 visits, 850)
    assert v.loc[(ALL_LINES, "2023"), "visits"] == 3 and v.loc[(ALL_LINES, "2023"), "revenue"] == 1000
    assert v.loc[(ALL_LINES, "2024"), "visits_per_customer"] == 1.0
    assert v.loc[(ALL_LINES, "2024"), "revenue_per_customer"] == 425.0
    # the one-off line: 1 visit per customer; revenue (1000 - 200 + 800) / 2 = 800
    assert v.loc[("surgery", "all"), "visits_per_customer"] == 1.0
    assert v.loc[("surgery", "all"), "revenue_per_customer"] == 800.0
    # dentistry: A (2 visits) + C (1) -> 1.5 visits, (200 + 50) / 2 = 125
    assert v.loc[("dentistry", "all"), "visits_per_customer"] == 1.5
    assert v.loc[("dentistry", "2023"), "customers"] == 1


def test_lifetime_value_quarter_cohorts():
    v = lifetime_value(sales_history(LTV, as_of=AS_OF), cohort="quarter", per_line=False)
    assert v["cohort"].tolist() == ["all", "2023Q1", "2024Q2", "2024Q3"]


# -- cross-penetration -------------------------------------------------------------------------------
# c1: x 01-01 then y 02-01 (y after x)     c2: y 01-01 then x 03-01 (x after y)
# c3: x and y on the same day 01-01 (neither after)     c4: x 01-01 then z 05-01     c5: y only
CROSS = tx(
    [
        ("c1", "2024-01-01", 10, "x", None), ("c1", "2024-02-01", 10, "y", None),
        ("c2", "2024-01-01", 10, "y", None), ("c2", "2024-03-01", 10, "x", None),
        ("c3", "2024-01-01", 10, "x", None), ("c3", "2024-01-01", 10, "y", None),
        ("c4", "2024-01-01", 10, "x", None), ("c4", "2024-05-01", 10, "z", None),
        ("c5", "2024-04-01", 10, "y", None),
    ]
)
# c1 F born 1980 (44 at as_of 2024 -> 35-44), c2 F no birth year, age 50 (45-54),
# c3 M born 2000 (24 -> <25), c5 F born 1980; c4 is not in the customers table (unknown)
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": pd.array(["c1", "c2", "c3", "c5"], dtype="str"),
        "gender": pd.array(["F", "F", "M", "F"], dtype="str"),
        "birth_year": pd.array([1980, None, 2000, 1980], dtype="Int64"),
        "age": pd.array([None, 50, None, None], dtype="Int64"),
    }
)


def test_cross_penetration_also_and_after():
    cp = cross_penetration(sales_history(CROSS, as_of=AS_OF), min_segment_size=1).set_index(["from_line", "to_line"])
    # x: c1, c2, c3, c4 -> base 4; also y: c1, c2, c3 = 3/4; y AFTER x: only c1 = 1/4
    assert cp.loc[("x", "y"), "base"] == 4
    assert cp.loc[("x", "y"), "share_also"] == 0.75
    assert cp.loc[("x", "y"), "share_after"] == 0.25
    # y: c1, c2, c3, c5 -> also x 3/4; x AFTER y: only c2 = 1/4
    assert cp.loc[("y", "x"), "share_also"] == 0.75 and cp.loc[("y", "x"), "bought_after"] == 1
    # z: c4 only, who bought x before z -> also 1/1, after 0/1
    assert (cp.loc[("z", "x"), "share_also"], cp.loc[("z", "x"), "share_after"]) == (1.0, 0.0)
    assert cp.loc[("y", "z"), "share_also"] == 0.0  # a real zero (base 4), not suppressed
    lo, hi = wilson_interval(3, 4)
    assert cp.loc[("x", "y"), "share_also_ci_lo"] == pytest.approx(lo)
    assert cp.loc[("x", "y"), "share_also_ci_hi"] == pytest.approx(hi)
    assert len(cp) == 6  # 3 lines x 2 other lines


def test_cross_penetration_suppresses_small_bases():
    cp = cross_penetration(sales_history(CROSS, as_of=AS_OF), min_segment_size=2).set_index(["from_line", "to_line"])
    # z has a base of 1 customer < 2: shares are null with the reason, never 0
    assert np.isnan(cp.loc[("z", "y"), "share_also"]) and np.isnan(cp.loc[("z", "y"), "share_after"])
    assert cp.loc[("z", "y"), "suppressed"] == "base 1 < min_segment_size 2"
    assert cp.loc[("z", "y"), "also_bought"] == 0  # the count itself is kept
    assert cp.loc[("x", "y"), "share_also"] == 0.75 and pd.isna(cp.loc[("x", "y"), "suppressed"])


def test_cross_penetration_first_line_only():
    cp = cross_penetration(sales_history(CROSS, as_of=AS_OF), min_segment_size=1, first_line_only=True)
    cp = cp.set_index(["from_line", "to_line"])
    # first visits with the company: c1 x, c2 y, c3 x and y (same day), c4 x, c5 y
    # x's base: c1, c3, c4 = 3; also y: c1, c3; y after x: c1
    assert tuple(cp.loc[("x", "y"), ["base", "also_bought", "bought_after"]]) == (3, 2, 1)
    # y's base: c2, c3, c5 = 3; x after y: c2
    assert (cp.loc[("y", "x"), "base"], cp.loc[("y", "x"), "bought_after"]) == (3, 1)
    # nobody started with z: base 0, kept as a suppressed row (never a silent 0 share)
    assert cp.loc[("z", "x"), "base"] == 0 and np.isnan(cp.loc[("z", "x"), "share_also"])
    assert cp.loc[("z", "x"), "suppressed"] == "base 0 < min_segment_size 1"


def test_cross_penetration_follow_up_window():
    # as_of 2024-03-10, F = 45 days: bases are customers whose first visit to the line is on or
    # before 2024-01-25; "after" counts a first visit to the other line within 45 days
    h = sales_history(CROSS, as_of="2024-03-10")
    cp = cross_penetration(h, min_segment_size=1, min_follow_up_days=45).set_index(["from_line", "to_line"])
    # x: c1, c3, c4 (c2's first x visit 03-01 is too recent); c1's y came 31 days after x -> 1
    assert tuple(cp.loc[("x", "y"), ["base", "also_bought", "bought_after"]]) == (3, 2, 1)
    # y: c2, c3 (c1's y on 02-01 is too recent); c2's x came 60 > 45 days after y -> not counted
    assert tuple(cp.loc[("y", "x"), ["base", "also_bought", "bought_after"]]) == (2, 2, 0)


def test_cross_penetration_by_gender_and_age_band():
    h = sales_history(CROSS, customers=CUSTOMERS, as_of=AS_OF)
    g = cross_penetration(h, by=["gender"], min_segment_size=1)
    g = g[(g["from_line"] == "x") & (g["to_line"] == "y")].set_index("gender")
    # x's women: c1, c2 -> both bought y (2/2), c1 after x (1/2); men: c3 (1/1, 0 after); c4: unknown
    assert g.loc["F", "base"] == 2 and g.loc["F", "share_also"] == 1.0 and g.loc["F", "share_after"] == 0.5
    assert g.loc["M", "base"] == 1 and g.loc["M", "share_after"] == 0.0
    assert g.loc["unknown", "base"] == 1 and g.loc["unknown", "share_also"] == 0.0
    ga = cross_penetration(h, by=["gender", "age_band"], min_segment_size=1)
    ga = ga[(ga["from_line"] == "x") & (ga["to_line"] == "y")].set_index(["gender", "age_band"])
    # age: birth_year first (2024 - 1980 = 44), else age (50)
    assert ga.loc[("F", "35-44"), "bought_after"] == 1
    assert ga.loc[("F", "45-54"), "also_bought"] == 1 and ga.loc[("F", "45-54"), "bought_after"] == 0
    assert ga.loc[("M", "<25"), "base"] == 1
    assert ga.loc[("unknown", "unknown"), "base"] == 1


def test_cross_penetration_unknown_attribute_is_a_clear_error():
    h = sales_history(CROSS, customers=CUSTOMERS, as_of=AS_OF)
    with pytest.raises(ValueError, match="no attribute 'income'"):
        cross_penetration(h, by=["income"])


def test_cross_penetration_metrics_shape():
    h = sales_history(CROSS, as_of=AS_OF)
    m = cross_penetration_metrics(h, Parameters(min_segment_size=2))
    assert m == {"x": {"y": 0.75, "z": 0.25}, "y": {"x": 0.75, "z": 0.0}, "z": {"x": None, "y": None}}


# -- staff dependency ---------------------------------------------------------------------------------
# line x (each visit 100, T's 200):
#   P: s1, s1, s2 -> s1 led 2 of 3 > half: attached to s1     Q: s1, s2 -> 1 of 2 is not > half
#   R: s2, s2 -> s2      S: one visit (not a repeat customer)
#   T: s1, s1, s1, blank -> 3 of 3 known -> s1      U: s3, blank -> 1 of 1 known -> s3
#   V: blank, blank -> no known staff: left out of the base
# line y: W1 s9, s9; W2 s8, s8 -> one customer each: tie -> the smaller id s8
def _staff_rows():
    plan = {
        "P": ["s1", "s1", "s2"], "Q": ["s1", "s2"], "R": ["s2", "s2"], "S": ["s1"],
        "T": ["s1", "s1", "s1", None], "U": ["s3", None], "V": [None, None],
    }
    rows = []
    for c, staff in plan.items():
        for i, s in enumerate(staff):
            rows.append((c, pd.Timestamp("2024-01-01") + pd.Timedelta(days=10 * i), 200 if c == "T" else 100, "x", s))
    for c, s in (("W1", "s9"), ("W2", "s8")):
        rows += [(c, pd.Timestamp("2024-01-01"), 50, "y", s), (c, pd.Timestamp("2024-02-01"), 50, "y", s)]
    # line z: one customer with two visits and no staff named at all
    rows += [("Z", pd.Timestamp("2024-01-01"), 10, "z", None), ("Z", pd.Timestamp("2024-03-01"), 10, "z", None)]
    return tx(rows)


def test_staff_dependency():
    d = staff_dependency(sales_history(_staff_rows(), as_of=AS_OF), min_segment_size=1).set_index("business_line")
    # x: repeat customers with a known staff member: P, Q, R, T, U = 5; attached: P, R, T, U = 4
    assert d.loc["x", "repeat_customers"] == 5
    assert d.loc["x", "attached_customers"] == 4 and d.loc["x", "attached_share"] == 0.8
    # top staff s1 (P and T) -> 2/5; the revenue that follows them: P 300 + T 800 = 1100 of the
    # line's 300 + 200 + 200 + 100 + 800 + 200 + 200 = 2000 -> 0.55
    assert d.loc["x", "top_staff"] == "s1" and d.loc["x", "top_staff_customers"] == 2
    assert d.loc["x", "top_staff_share_of_repeat_customers"] == 0.4
    assert d.loc["x", "top_staff_revenue"] == 1100.0
    assert d.loc["x", "top_staff_revenue_share"] == 0.55
    lo, hi = wilson_interval(2, 5)
    assert d.loc["x", "top_staff_share_of_repeat_customers_ci_lo"] == pytest.approx(lo)
    assert d.loc["x", "top_staff_share_of_repeat_customers_ci_hi"] == pytest.approx(hi)
    # y: s8 and s9 have one attached customer each -> the smaller id
    assert d.loc["y", "top_staff"] == "s8" and d.loc["y", "top_staff_share_of_repeat_customers"] == 0.5
    # z: nobody can be judged -> no repeat customer with a known staff member, no top staff, suppressed
    assert d.loc["z", "repeat_customers"] == 0 and pd.isna(d.loc["z", "top_staff"])
    assert d.loc["z", "suppressed"] == "repeat customers 0 < min_segment_size 1"


def test_staff_attachment_table():
    a = staff_attachment(sales_history(_staff_rows(), as_of=AS_OF))
    x = a[a["business_line"] == "x"]
    assert list(zip(x["staff_id"], x["attached_customers"])) == [("s1", 2), ("s2", 1), ("s3", 1)]
    assert x.set_index("staff_id").loc["s2", "attached_revenue"] == 200.0  # R


def test_staff_dependency_suppressed_below_min_size():
    d = staff_dependency(sales_history(_staff_rows(), as_of=AS_OF), min_segment_size=10).set_index("business_line")
    assert np.isnan(d.loc["x", "top_staff_share_of_repeat_customers"])
    assert d.loc["x", "suppressed"] == "repeat customers 5 < min_segment_size 10"
    m = staff_dependency_metrics(sales_history(_staff_rows(), as_of=AS_OF), Parameters(min_segment_size=10))
    assert m["x"]["top_staff_share_of_repeat_customers"] is None and m["x"]["top_staff"] == "s1"


def test_staff_dependency_metrics_shape():
    m = staff_dependency_metrics(sales_history(_staff_rows(), as_of=AS_OF), Parameters(min_segment_size=1))
    assert m["x"]["top_staff"] == "s1"
    assert m["x"]["top_staff_share_of_repeat_customers"] == 0.4
    assert set(m) == {"x", "y", "z"} and m["z"]["top_staff"] is None
    json.dumps(m, allow_nan=False)


# -- metrics.json -------------------------------------------------------------------------------------


def test_loyalty_metrics_shape(curve_sales):
    p = Parameters(return_window_days=30, max_visit_number=4, min_segment_size=1)
    m = loyalty_metrics(curve_sales, p)
    json.dumps(m, allow_nan=False)  # plain JSON, no NaN
    o = m["overall"]
    assert o["customers"] == 4
    assert o["visits_per_customer"] == 1.75  # 7 visits / 4 customers
    assert o["revenue_per_customer"] == 220.0  # 880 / 4
    assert o["p_return"] == {"1": 0.6667, "2": 0.0, "3": 0.0, "4": None}
    assert o["eligible"] == {"1": 3, "2": 1, "3": 1, "4": 0}
    assert o["p_return_ci"]["1"] == [0.2077, 0.9385]
    assert o["p_return_ci"]["4"] is None
    assert o["median_gap_days"] == {"2": 19.5, "3": None, "4": None}
    assert o["loyalty_visit"] is None
    assert o["return_window_days"] == 30
    assert set(m["by_line"]) == {"dentistry"}
    assert m["by_line"]["dentistry"]["eligible"] == o["eligible"]


def _staff_reference(rows: pd.DataFrame, refunds: pd.DataFrame) -> pd.DataFrame:
    """staff_attachment by the definitions, in plain pandas (one customer-day = one visit)."""
    r = rows[rows["business_line"].notna()].assign(day=rows["date"].dt.normalize())
    key = ["business_line", "customer_id", "day"]
    visits = r.groupby(key).size().rename("n").reset_index()
    paid = r[r["staff_id"].notna()].groupby(key + ["staff_id"], as_index=False)["amount"].sum()
    paid = paid.sort_values(key + ["amount", "staff_id"], ascending=[True, True, True, False, True])
    main = paid.drop_duplicates(key)[key + ["staff_id"]]
    line = ["business_line", "customer_id"]
    per = visits.groupby(line).size().rename("visits").to_frame()
    per["staffed"] = main.groupby(line).size().reindex(per.index).fillna(0)
    line_money = r.groupby(line)["amount"].sum() + refunds.groupby(line)["amount"].sum().reindex(per.index).fillna(0)
    per["monetary"] = line_money.reindex(per.index)
    all_money = rows.groupby("customer_id")["amount"].sum().add(refunds.groupby("customer_id")["amount"].sum(),
                                                                fill_value=0)
    led = main.groupby(line + ["staff_id"]).size().rename("led").reset_index().join(per, on=line)
    att = led[(led["visits"] >= 2) & (2 * led["led"] > led["staffed"])].copy()
    att["all_lines"] = att["customer_id"].map(all_money)
    out = att.groupby(["business_line", "staff_id"]).agg(
        attached_customers=("customer_id", "size"), attached_revenue=("monetary", "sum"),
        attached_revenue_all_lines=("all_lines", "sum")).reset_index()
    per = per.reset_index()
    totals = per.groupby("business_line").agg(
        repeat_customers=("visits", lambda v: int(((v >= 2) & (per.loc[v.index, "staffed"] >= 1)).sum())),
        line_revenue=("monetary", "sum"))
    out = out.join(totals, on="business_line")
    return out.sort_values(["business_line", "attached_customers", "staff_id"], ascending=[True, False, True])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("cache", [True, False], ids=["cached", "inline"])
def test_staff_attachment_matches_the_definition_on_varied_visits(seed, cache):
    """Random histories where a visit may have several staff members, blank ones, ties of amount
    between staff members and rows without a line, plus line and line-less refunds: the table
    equals a plain pandas reading of the definitions."""
    rng = np.random.default_rng(seed)
    n = 1500
    customers = rng.integers(0, 120, n).astype(str)
    rows = pd.DataFrame({
        "customer_id": np.char.add("c", customers),
        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D")
        + pd.to_timedelta(rng.integers(0, 10, n), unit="h"),
        "amount": rng.choice([50.0, 100.0, 100.0, 150.0, 200.0], n),
        "business_line": rng.choice(["x", "y", "z", None], n, p=[0.45, 0.3, 0.2, 0.05]),
        "staff_id": rng.choice(["s1", "s2", "s3", "s4", None], n, p=[0.3, 0.25, 0.2, 0.15, 0.1]),
    })
    rows["business_line"] = rows["business_line"].astype("str")
    rows["staff_id"] = rows["staff_id"].astype("str")
    m = 60
    refunds = pd.DataFrame({
        "customer_id": np.char.add("c", rng.integers(0, 120, m).astype(str)),
        "date": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 20, m), unit="D"),
        "amount": -rng.choice([10.0, 25.0], m),
        "business_line": pd.Series(rng.choice(["x", "y", None], m), dtype="str"),
    })
    got = staff_attachment(sales_history(rows, refunds, as_of="2024-12-31", cache=cache))
    want = _staff_reference(rows, refunds)
    assert len(want) > 5  # the histories do attach customers
    # several staff members on one visit, and ties of amount between them, do occur
    day = rows.assign(day=rows["date"].dt.normalize())
    per_visit = day.dropna(subset=["business_line", "staff_id"]).groupby(["business_line", "customer_id", "day"])
    assert (per_visit["staff_id"].nunique() > 1).sum() > 20
    paid = day.dropna(subset=["business_line", "staff_id"]).groupby(
        ["business_line", "customer_id", "day", "staff_id"])["amount"].sum()
    top = paid.groupby(level=[0, 1, 2]).transform("max")
    assert ((paid == top).groupby(level=[0, 1, 2]).sum() > 1).sum() > 5  # tied main staff members
    assert list(got["business_line"]) == list(want["business_line"])
    assert list(got["staff_id"]) == list(want["staff_id"])
    for c in ("attached_customers", "repeat_customers"):
        assert got[c].tolist() == want[c].astype("int64").tolist(), c
    for c in ("attached_revenue", "attached_revenue_all_lines", "line_revenue"):
        np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float), rtol=1e-12, err_msg=c)
