"""Planted-truth tests: the sales analytics recover what the synthetic case generator planted.

Each case folder holds ``truth.yml`` (written by ``toolkit.synthetic``). Its ``loyalty`` section
plants, per business line, ``p_return`` (P(visit n+1 | visit n)), ``median_gap_days`` (gap
before visit n), ``loyalty_stages``, ``loyalty_visit`` and ``expected_visits_per_customer``, and
reports what was ``observed`` on the clean simulated data with the eligibility rule
"visit n at least ``max_gap_days`` before as_of" (= our return window W). ``cross_penetration``
plants rates of crossing from a first-ever line to another within ``max_delay_days``;
``staff_dependency`` the top staff member and their share of repeat customers. Every expected
value below is read from truth.yml, never typed in.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from toolkit.core.config import load_case
from toolkit.loyalty.repeat import (
    cross_penetration,
    intervals_by_stage,
    lifetime_value,
    loyalty_metrics,
    loyalty_tables,
    repeat_curve,
)
from toolkit.core.sales import ALL_LINES, sales_history_for_case

ROOT = Path(__file__).resolve().parents[1]
CASES = ["clinic_group", "fashion_retail"]

P_TOLERANCE = 0.03  # return probabilities
GAP_TOLERANCE = 0.10  # median intervals, relative
VISITS_TOLERANCE = 0.05  # visits per customer of a one-off line
MIN_ELIGIBLE = 30  # points of the curve compared with the observed truth
MIN_ELIGIBLE_PLANTED = 1000  # points compared with the planted value (sampling SE <= 0.016)
MIN_GAPS = 100  # medians compared with the planted value

# Lines whose planted loyalty_visit is not what the documented plateau rule defines (see
# toolkit.loyalty.repeat.loyalty_visit): fashion_retail/shoes plants a gentle ramp 0.30, 0.35, 0.40,
# 0.42 ... with loyalty_visit null; the rule (tolerance 0.03) reaches that plateau at visit 3 on
# the planted values and at visit 2 on the sampled data (observed 0.292, 0.363, 0.335, 0.481 with
# 2386, 609, 191, 52 eligible). The generator's "null" means "no sharp knee", which the rule does
# not require. Reported to the lead rather than bending the rule.
LOYALTY_VISIT_NOT_PLANTED_BY_THE_RULE = {("fashion_retail", "shoes")}


def _missing(case_dir: Path) -> str | None:
    """What is not there yet (the cases and the loader land during the work), or None."""
    for name in ("case.yml", "truth.yml"):
        if not (case_dir / name).is_file():
            return f"{case_dir.relative_to(ROOT)}/{name} is not generated yet"
    truth = yaml.safe_load((case_dir / "truth.yml").read_text(encoding="utf-8")) or {}
    for key in ("loyalty", "cross_penetration", "staff_dependency"):
        if key not in truth:
            return f"{case_dir.relative_to(ROOT)}/truth.yml has no '{key}' section"
    try:
        import toolkit.data.load  # noqa: F401
    except ImportError:
        return "the loader toolkit.data.load is not written yet"
    return None


@pytest.fixture(scope="module", params=CASES)
def planted(request):
    case_dir = ROOT / "case_studies" / request.param
    why = _missing(case_dir)
    if why:
        pytest.skip(why)
    from toolkit.data.load import load_case_data

    case = load_case(case_dir)
    data = load_case_data(case, tables=["transactions", "customers"])
    sales = sales_history_for_case(case, data)
    truth = yaml.safe_load((case_dir / "truth.yml").read_text(encoding="utf-8"))
    tables = loyalty_tables(sales, case.parameters)
    yield request.param, case, sales, truth, tables
    sales.close()


def _lines(truth):
    return truth["loyalty"]["by_line"].items()


def _curve(tables, line):
    c = tables["repeat_curve"]
    return c[c["scope"] == line].set_index("visit_number")


def test_case_uses_the_truths_window(planted):
    # the case file sets W to the generator's max gap, so "eligible" means the same on both sides
    name, case, _, truth, _ = planted
    assert case.parameters.return_window_days == truth["loyalty"]["max_gap_days"]


def test_loyalty_visit_is_found_exactly(planted):
    name, _, _, truth, tables = planted
    found = tables["loyalty_visits"]
    for line, t in _lines(truth):
        if (name, line) in LOYALTY_VISIT_NOT_PLANTED_BY_THE_RULE:
            continue
        assert found[line] == t["loyalty_visit"], f"{name}/{line}: found {found[line]}, planted {t['loyalty_visit']}"


def test_repeat_curve_equals_the_observed_truth_with_the_same_window(planted):
    # same data, same eligibility (W = max_gap_days): counts and rates must agree exactly
    name, _, _, truth, tables = planted
    for line, t in _lines(truth):
        c = _curve(tables, line)
        for n, e in t["observed"]["eligible"].items():
            n = int(n)
            if n not in c.index:
                continue
            assert c.loc[n, "eligible"] == e, f"{name}/{line} eligible after visit {n}"
            p = t["observed"]["p_return"][str(n)]
            if p is not None:
                assert c.loc[n, "p_return"] == pytest.approx(p, abs=1e-4), f"{name}/{line} p_return[{n}]"


def test_repeat_curve_is_within_tolerance_of_the_planted_probabilities(planted):
    name, _, _, truth, tables = planted
    checked = 0
    for line, t in _lines(truth):
        c = _curve(tables, line)
        for n, p in t["p_return"].items():
            n = int(n)
            if n in c.index and c.loc[n, "eligible"] >= MIN_ELIGIBLE_PLANTED:
                assert abs(c.loc[n, "p_return"] - p) <= P_TOLERANCE, f"{name}/{line} p_return[{n}]"
                checked += 1
    assert checked >= 5


def test_default_return_window_is_not_biased(planted):
    # without the case's W, the default (99th percentile of gaps) must still give the observed
    # return probabilities within the tolerance wherever 30+ customers are eligible
    name, _, sales, truth, _ = planted
    c = repeat_curve(sales, max_visit_number=12)
    for line, t in _lines(truth):
        cl = c[c["scope"] == line].set_index("visit_number")
        for n, p in t["observed"]["p_return"].items():
            n = int(n)
            if p is not None and cl.loc[n, "eligible"] >= MIN_ELIGIBLE:
                assert abs(cl.loc[n, "p_return"] - p) <= P_TOLERANCE, f"{name}/{line} p_return[{n}] (default W)"


def test_median_gaps_within_ten_percent(planted):
    name, _, _, truth, tables = planted
    g = tables["gap_intervals"]
    checked = 0
    for line, t in _lines(truth):
        gl = g[g["scope"] == line].set_index("visit_number")
        for n, d in t["median_gap_days"].items():
            n = int(n)
            if n in gl.index and gl.loc[n, "gaps"] >= MIN_GAPS:
                assert abs(gl.loc[n, "gap_median"] / d - 1) <= GAP_TOLERANCE, f"{name}/{line} gap before {n}"
                checked += 1
    assert checked >= 5


def test_stage_medians_within_ten_percent(planted):
    # the planted stages start at visit 2 (gap before visit n belongs to visit n's stage)
    name, case, sales, truth, _ = planted
    stages = {line: [1] + [s["from_visit"] for s in t["loyalty_stages"]] for line, t in _lines(truth)}
    s = intervals_by_stage(sales, stages, return_window_days=case.parameters.return_window_days)
    checked = 0
    for line, t in _lines(truth):
        sl = s[s["scope"] == line].set_index("first_visit")
        for stage in t["loyalty_stages"]:
            row = sl.loc[stage["from_visit"]]
            if row["gaps"] >= MIN_GAPS:
                assert abs(row["gap_median"] / stage["median_gap_days"] - 1) <= GAP_TOLERANCE, f"{name}/{line} {stage}"
                checked += 1
    assert checked >= 3


def test_one_off_lines_have_about_one_visit_per_customer(planted):
    name, _, sales, truth, _ = planted
    ltv = lifetime_value(sales, cohort=None).set_index("scope")
    one_off = [(line, t) for line, t in _lines(truth) if t["repeat_kind"] == "one_off"]
    assert one_off
    for line, t in one_off:
        got = ltv.loc[line, "visits_per_customer"]
        assert abs(got - t["expected_visits_per_customer"]) <= VISITS_TOLERANCE, f"{name}/{line}: {got}"


def test_loyalty_metrics_carry_the_threshold(planted):
    name, case, sales, truth, tables = planted
    m = loyalty_metrics(sales, case.parameters, tables=tables)
    for line, t in _lines(truth):
        if (name, line) in LOYALTY_VISIT_NOT_PLANTED_BY_THE_RULE:
            continue
        assert m["by_line"][line]["loyalty_visit"] == t["loyalty_visit"]
    assert m["overall"]["customers"] == len(sales.query(f"SELECT DISTINCT customer_id FROM sale_rows"))
    assert set(m["by_line"]) == {line for line, _ in _lines(truth)}


# -- cross-penetration -----------------------------------------------------------------------------

_GROUP = re.compile(r"^(women|men)\s+(aged\s+(\d+)\+|under\s+(\d+))$")
_BANDS = {"<25": (0, 25), "25-34": (25, 35), "35-44": (35, 45), "45-54": (45, 55), "55+": (55, 200)}


def _group_cells(label: str):
    """(gender, age bands) of a planted group label such as 'women aged 45+' or 'men under 35'."""
    m = _GROUP.match(label.strip())
    if not m:
        return None
    gender = "F" if m.group(1) == "women" else "M"
    if m.group(3):
        lo = int(m.group(3))
        bands = [b for b, (a, _) in _BANDS.items() if a >= lo]
    else:
        hi = int(m.group(4))
        bands = [b for b, (_, z) in _BANDS.items() if z <= hi]
    return gender, bands


def test_planted_cross_penetration_is_found(planted):
    # the truth's rate: customers whose first-ever visit was in from_line (at least max_delay_days
    # before as_of) who visit to_line within max_delay_days: first_line_only + min_follow_up_days
    name, _, sales, truth, _ = planted
    cp_truth = truth["cross_penetration"]
    follow_up = cp_truth["max_delay_days"]
    overall = cross_penetration(sales, first_line_only=True, min_follow_up_days=follow_up).set_index(
        ["from_line", "to_line"]
    )
    split = cross_penetration(sales, by=["gender", "age_band"], first_line_only=True, min_follow_up_days=follow_up)
    for rule in cp_truth["rules"]:
        key = (rule["from_line"], rule["to_line"])
        if rule["group"] == "all":
            got = overall.loc[key, "share_after"]
            assert abs(got - rule["group_rate"]) <= P_TOLERANCE + 0.02, f"{name} {key}: {got}"
            continue
        cells = _group_cells(rule["group"])
        assert cells, f"cannot read the planted group '{rule['group']}'"
        gender, bands = cells
        pair = split[(split["from_line"] == key[0]) & (split["to_line"] == key[1])]
        known = pair[(pair["gender"] != "unknown") & (pair["age_band"] != "unknown")]
        in_group = known["gender"].eq(gender) & known["age_band"].isin(bands)
        group = known[in_group]
        others = known[~in_group]
        group_share = group["bought_after"].sum() / group["base"].sum()
        other_share = others["bought_after"].sum() / others["base"].sum()
        # the planted pattern: the group crosses at its rate, everyone else at the other rate
        assert abs(group_share - rule["group_rate"]) <= P_TOLERANCE + 0.02, f"{name} {key} {rule['group']}"
        assert abs(other_share - rule["other_rate"]) <= P_TOLERANCE, f"{name} {key} others"
        # and every sizeable cell sits with its side of the pattern
        mid = (rule["group_rate"] + rule["other_rate"]) / 2
        big = known["base"] >= 100
        assert (known.loc[big & in_group, "share_after"] > mid).all(), f"{name} {key}"
        assert (known.loc[big & ~in_group, "share_after"] < mid).all(), f"{name} {key}"


def test_cross_penetration_matches_the_observed_truth_where_attributes_are_complete(planted):
    # the clinic knows every patient's gender and birth year: the counts must agree exactly
    name, _, sales, truth, _ = planted
    if name != "clinic_group":
        pytest.skip("fashion_retail leaves gender or birth year blank for some customers: pattern test only")
    cp_truth = truth["cross_penetration"]
    follow_up = cp_truth["max_delay_days"]
    overall = cross_penetration(sales, first_line_only=True, min_follow_up_days=follow_up).set_index(
        ["from_line", "to_line"]
    )
    for rule in cp_truth["rules"]:
        obs = rule["observed"]
        row = overall.loc[(rule["from_line"], rule["to_line"])]
        customers = sum(v["customers"] for v in obs.values())
        buyers = sum(v["buyers"] for v in obs.values())
        assert (row["base"], row["bought_after"]) == (customers, buyers), rule["from_line"] + "->" + rule["to_line"]


# -- staff dependency --------------------------------------------------------------------------------


def test_planted_staff_dependency_is_found(planted):
    name, case, sales, truth, _ = planted
    from toolkit.loyalty.repeat import staff_dependency

    d = staff_dependency(sales, min_segment_size=case.parameters.min_segment_size).set_index("business_line")
    for line, t in truth["staff_dependency"]["by_line"].items():
        assert d.loc[line, "top_staff"] == t["top_staff"], f"{name}/{line}"
        # the truth counts repeat customers by their hidden doctor; ours by the staff named on their
        # visits (a customer whose visits all lack a staff member cannot be judged): same share
        got = d.loc[line, "top_staff_share_of_repeat_customers"]
        assert abs(got - t["top_staff_share_of_repeat_customers"]) <= 0.02, f"{name}/{line}: {got}"
    head = truth["staff_dependency"]["headline"]
    assert d.loc[head["business_line"], "top_staff"] == head["top_staff"]
    if name == "clinic_group":  # every visit names its doctor: the repeat customers agree exactly
        for line, t in truth["staff_dependency"]["by_line"].items():
            assert d.loc[line, "repeat_customers"] == t["repeat_customers"]


def test_all_lines_scope_is_present(planted):
    _, _, _, _, tables = planted
    assert ALL_LINES in set(tables["repeat_curve"]["scope"])
    assert np.isfinite(tables["repeat_curve"]["p_return"].iloc[0])
