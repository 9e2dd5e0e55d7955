"""Barrier shares over everyone interviewed (issue 15): the respondents table is the base where
given, not only the respondents with a coded row."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.test_barriers import codes_frame, make_case
from toolkit.barriers import ranking as B
from toolkit.core import stages as ST
from toolkit.core.stats import wilson_interval


def _codes():
    # 40 interviewed; 37 have coded rows; 22 of them name the price barrier at evaluation
    rows = []
    for i in range(1, 38):
        rid = f"r{i:02d}"
        rows.append((rid, "framing", "motivator", "friend", None, 1.0, None))
        if i <= 22:
            rows.append((rid, "evaluation", "barrier", "high_price", None, -1.0, "дорого"))
    return codes_frame(rows)


def test_share_base_is_everyone_interviewed():
    model = ST.stage_model(make_case())
    respondents = pd.DataFrame({"respondent_id": [f"r{i:02d}" for i in range(1, 41)],
                                "persona": ["A"] * 20 + ["B"] * 20}).astype("string")
    t = B.barrier_table(_codes(), model, respondents)
    hp = t[(t["segment"] == "all") & (t["code"] == "high_price")].iloc[0]
    assert (hp["respondents"], hp["base"]) == (22, 40)
    assert hp["share"] == pytest.approx(0.55)
    assert (hp["ci_lo"], hp["ci_hi"]) == pytest.approx(wilson_interval(22, 40))
    # persona B: r21..r40, of whom r21, r22 name it and r38..r40 have no coded row
    b = t[(t["segment"] == "B") & (t["code"] == "high_price")].iloc[0]
    assert (b["respondents"], b["base"]) == (2, 20)


def test_without_a_respondents_table_the_coded_respondents_are_the_base():
    t = B.barrier_table(_codes(), ST.stage_model(make_case()))
    hp = t[(t["segment"] == "all") & (t["code"] == "high_price")].iloc[0]
    assert (hp["respondents"], hp["base"]) == (22, 37)
    assert hp["share"] == pytest.approx(22 / 37)


def test_a_coded_respondent_missing_from_the_respondents_table_still_counts():
    respondents = pd.DataFrame({"respondent_id": [f"r{i:02d}" for i in range(2, 41)]}).astype("string")
    t = B.barrier_table(_codes(), ST.stage_model(make_case()), respondents)
    hp = t[(t["segment"] == "all") & (t["code"] == "high_price")].iloc[0]
    assert hp["base"] == 40
