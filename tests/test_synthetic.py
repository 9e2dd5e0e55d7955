"""The synthetic case generator: reproducible to the byte, scalable parquet output, small pieces.

The planted values themselves are checked in test_synthetic_truth.py.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from toolkit.synthetic import DEFAULT_SEEDS, case_file_path, generate_case
from toolkit.synthetic.common import ru_money
from toolkit.synthetic.funnel import BrandFunnel, Segment, planted_conversions, simulate_leads
from toolkit.synthetic.interviews import _exact_counts
from toolkit.synthetic.process import median_gap_schedule, simulate_journeys
from toolkit.synthetic.reproducible import dump_yaml, fix_zip
from toolkit.synthetic.truth import expected_visits, nps_index

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "case_studies"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", ["clinic_group", "fashion_retail"])
def test_committed_case_is_reproduced_byte_for_byte(name, tmp_path):
    committed = CASES / name
    out = generate_case(name, tmp_path / name, seed=DEFAULT_SEEDS[name])
    want, got = _files(committed), _files(out)
    assert sorted(got) == sorted(want)
    differ = [f for f in want if want[f] != got[f]]
    assert not differ, f"regenerated files differ from the committed ones: {differ}"


@pytest.mark.parametrize("name", ["clinic_group", "fashion_retail"])
def test_committed_case_yml_is_the_packaged_one_and_loads(name):
    from toolkit.core.config import load_case

    assert (CASES / name / "case.yml").read_bytes() == case_file_path(name).read_bytes()
    case = load_case(CASES / name)
    assert case.brand("premium") is not None and case.brand("budget") is not None
    assert case.parameters.price_lost_reasons
    truth = yaml.safe_load((CASES / name / "truth.yml").read_text(encoding="utf-8"))
    assert str(case.as_of) == truth["as_of"]
    assert {b.id for b in case.brands} == set(truth["brands"])
    assert {ln.id for ln in case.business_lines} == set(truth["loyalty"]["by_line"])
    assert [f.id for f in case.funnel_stages] == truth["funnel"]["stages"]
    for table, reasons in truth["data_quality"].items():
        assert 1 <= min(reasons.values()) and max(reasons.values()) <= 40, table


def test_existing_case_yml_is_never_overwritten(tmp_path):
    (tmp_path / "case.yml").write_text("# my own edits\n", encoding="utf-8")
    generate_case("clinic_group", tmp_path, scale=0.02)
    assert (tmp_path / "case.yml").read_text(encoding="utf-8") == "# my own edits\n"


def test_scaled_parquet_output(tmp_path):
    """scale=0.1 -> about a tenth of the committed case's customers and rows, canonical columns."""
    from toolkit.core.config import load_case

    out = generate_case("clinic_group", tmp_path / "p", scale=0.1, fmt="parquet")
    tx = pd.read_parquet(out / "transactions.parquet")
    cust = pd.read_parquet(out / "customers.parquet")
    assert list(tx.columns) == ["customer_id", "date", "amount", "transaction_id", "brand", "business_line",
                                "service", "location", "staff_id", "channel"]
    assert list(cust.columns) == ["customer_id", "gender", "birth_year", "city", "first_source"]
    full = yaml.safe_load((CASES / "clinic_group" / "truth.yml").read_text(encoding="utf-8"))["counts"]
    assert abs(len(cust) / full["customers"] - 0.1) < 0.02
    assert abs(len(tx) / full["transaction_rows_clean"] - 0.1) < 0.025
    assert str(tx["date"].dtype).startswith("datetime64") and tx["amount"].dtype == "float64"
    assert tx["customer_id"].isin(cust["customer_id"]).all() and tx["transaction_id"].is_unique
    assert (tx["amount"] > 0).all() and tx["date"].max() <= pd.Timestamp("2025-12-31")
    assert set(tx["business_line"]) == set(full["visits_by_line"])
    assert tx["date"].is_monotonic_increasing
    case = load_case(out)  # the generated parquet case.yml is valid
    assert case.sources.transactions.path == "transactions.parquet"
    # deterministic too
    again = generate_case("clinic_group", tmp_path / "q", scale=0.1, fmt="parquet")
    assert (out / "transactions.parquet").read_bytes() == (again / "transactions.parquet").read_bytes()


def test_retail_parquet_has_online_visits_without_staff(tmp_path):
    out = generate_case("fashion_retail", tmp_path, scale=0.05, fmt="parquet")
    tx = pd.read_parquet(out / "transactions.parquet")
    online = tx["channel"] == "online"
    assert online.any() and (~online).any()
    assert tx.loc[online, "staff_id"].isna().all() and (tx.loc[online, "location"] == "Webshop").all()
    assert tx.loc[~online, "staff_id"].notna().all()


def test_cli(tmp_path, capsys):
    from toolkit.synthetic.__main__ import main

    assert main(["fashion_retail", "--out", str(tmp_path), "--scale", "0.02", "--seed", "7", "--format", "parquet"]) == 0
    assert (tmp_path / "transactions.parquet").is_file() and (tmp_path / "truth.yml").is_file()
    assert "fashion_retail" in capsys.readouterr().out
    with pytest.raises(ValueError):
        generate_case("no_such_case", tmp_path)


# -- small pieces, hand-computed --------------------------------------------------------------

def test_simulate_journeys_certain_returns_and_fixed_gaps():
    # p = 1, sigma = 0: every journey returns every 30 days until the horizon (70).
    # journey 0 starts day 0 -> visits 0, 30, 60; journey 1 starts day 10 -> 10, 40, 70.
    v = simulate_journeys(np.array([0, 10]), np.array([1.0]), np.array([30.0]), 0.0, 1, 100, 70,
                          np.random.default_rng(0))
    assert v.journey.tolist() == [0, 0, 0, 1, 1, 1]
    assert v.visit_no.tolist() == [1, 2, 3, 1, 2, 3]
    assert v.day.tolist() == [0, 30, 60, 10, 40, 70]
    # p = 0: only the first visits
    v = simulate_journeys(np.array([5, 6]), np.array([0.0]), np.array([30.0]), 0.0, 1, 100, 70,
                          np.random.default_rng(0))
    assert v.day.tolist() == [5, 6]


def test_simulate_journeys_caps_gaps_and_keeps_the_median():
    rng = np.random.default_rng(1)
    v = simulate_journeys(np.zeros(20_000, dtype=int), np.array([1.0, 0.0]), np.array([50.0]), 0.8, 10, 90, 10_000, rng)
    gaps = v.day[v.visit_no == 2]
    assert gaps.min() >= 10 and gaps.max() <= 90  # clipped on both sides...
    assert abs(np.median(gaps) - 50) <= 2  # ...which leaves the median where it was planted
    with pytest.raises(ValueError):
        simulate_journeys(np.zeros(1, dtype=int), np.array([0.5]), np.array([120.0]), 0.3, 10, 90, 100, rng)


def test_median_gap_schedule():
    # stages start at visits 2, 4, 7: gaps before visits 2..8 = 90 90 74 74 74 55 55
    assert median_gap_schedule([2, 4, 7], [90, 74, 55], 8).tolist() == [90, 90, 74, 74, 74, 55, 55]


def test_ru_money_formats_like_an_accounting_export():
    out = ru_money(np.array([12500, 950, 1234567.5, -300.0]), np.array([" ", "\u00a0", " ", ""], dtype=object))
    assert out.tolist() == ["12 500,00", "950,00", "1 234 567,50", "-300,00"]


def test_expected_visits_and_nps_index():
    # 1 + 0.11 + 0.11*0.08 + 0.11*0.08^2 + ... = 1 + 0.11 + 0.11*0.08/(1-0.08) = 1.1195652
    assert abs(expected_visits((0.11, 0.08)) - 1.1195652) < 1e-6
    # promoters 9,10 (2 of 5) minus detractors 0..6 (1 of 5) = 0.2
    assert abs(nps_index(np.array([10, 9, 8, 7, 3])) - 0.2) < 1e-12


def test_planted_conversions_mix_segments_exactly():
    # target 0.6 of leads converting 0.5 then 0.4; nontarget 0.4 converting 0.25 then 0.1; one source.
    # reach stage 1: 0.6*0.5 + 0.4*0.25 = 0.4; stage 2: 0.6*0.5*0.4 + 0.4*0.25*0.1 = 0.13
    # conversions: 0.4 and 0.13 / 0.4 = 0.325
    lost = ((("x", 1.0),),) * 2
    f = BrandFunnel("b", 100, ("a", "b", "c"), (("s", 1.0, 1.0),),
                    (Segment("target", 0.6, (0.5, 0.4), (1, 2), lost), Segment("nontarget", 0.4, (0.25, 0.1), (1, 2), lost)),
                    0.0, 1.0)
    assert np.allclose(planted_conversions(f), [0.4, 0.325])


def test_leads_are_planted_by_exact_quotas():
    # 100 leads: target 0.6 -> 60, nontarget 0.4 -> 40; two sources of weight 0.5 -> 30/30 and 20/20.
    # Source "b" multiplies the first conversion by 1.6. Leads reaching stages 0, 1, 2 per cell,
    # round(n_cell x product of the conversions before the stage):
    #   target a:    30 x (1, 0.5, 0.5*0.4 = 0.2)     = 30, 15, 6
    #   target b:    30 x (1, 0.8, 0.8*0.4 = 0.32)    = 30, 24, 9.6 -> 10
    #   nontarget a: 20 x (1, 0.25, 0.25*0.2 = 0.05)  = 20, 5, 1
    #   nontarget b: 20 x (1, 0.4, 0.4*0.2 = 0.08)    = 20, 8, 1.6 -> 2
    lost = ((("x", 1.0),),) * 2
    f = BrandFunnel("b", 100, ("s0", "s1", "s2"), (("a", 0.5, 1.0), ("b", 0.5, 1.6)),
                    (Segment("target", 0.6, (0.5, 0.4), (1, 2), lost), Segment("nontarget", 0.4, (0.25, 0.2), (1, 2), lost)),
                    0.0, 1.0)
    expected = {("target", "a"): [30, 15, 6], ("target", "b"): [30, 24, 10],
                ("nontarget", "a"): [20, 5, 1], ("nontarget", "b"): [20, 8, 2]}
    for seed in (1, 2):  # any seed: the same counts, only who gets which outcome changes
        leads = simulate_leads((f,), np.random.default_rng(seed), 1.0, 365)
        for (seg, src), reach in expected.items():
            sel = (leads.segment == seg) & (leads.source == src)
            assert [int((leads.stage[sel] >= k).sum()) for k in range(3)] == reach, (seed, seg, src)
    assert not np.array_equal(simulate_leads((f,), np.random.default_rng(1), 1.0, 365).stage,
                              simulate_leads((f,), np.random.default_rng(2), 1.0, 365).stage)


def test_exact_counts_sum_to_n():
    # 40 * (0.33, 0.34, 0.33) = 13.2, 13.6, 13.2 -> floors 13, 13, 13, one left for the largest remainder
    assert _exact_counts(np.array([0.33, 0.34, 0.33]), 40).tolist() == [13, 14, 13]


def test_fix_zip_makes_archives_identical(tmp_path):
    def make(when):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(zipfile.ZipInfo("a.txt", date_time=when), b"same")
            z.writestr(zipfile.ZipInfo("docProps/core.xml", date_time=when),
                       f"<dcterms:created xsi:type='x'>{when[0]}-01-01T00:00:00Z</dcterms:created>".encode())
        return buf.getvalue()

    paths = []
    for i, when in enumerate([(2020, 1, 1, 0, 0, 0), (2024, 5, 6, 7, 8, 10)]):
        p = tmp_path / f"{i}.zip"
        p.write_bytes(make(when))
        fix_zip(p)
        paths.append(p)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_dump_yaml_is_stable_and_readable():
    text = dump_yaml({"b": 0.1 + 0.2, "a": np.int64(3), "c": (1, 2), "d": dt.date(2025, 1, 1).isoformat()})
    assert text == "b: 0.3\na: 3\nc:\n- 1\n- 2\nd: '2025-01-01'\n"
