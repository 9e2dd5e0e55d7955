"""The non-target share's interval covers the leads whose lost reason is unknown (issue 15).

Generated lead flows: a planted non-target share; leads with a budget are classified by it; lost
leads without a budget have a recorded reason or a blank one, the blank rate differing between
non-target and target leads (so "the unknown leads have the same mix" fails). The truth is the
planted share over all leads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.core.stats import wilson_interval
from toolkit.double_funnel.nontarget import NO_EVIDENCE, NO_EVIDENCE_ASSUMPTION, nontarget_share


def _classified(budget_nt, budget_t, reason_nt, reason_t, unknown, deal=0):
    ev = (["budget"] * (budget_nt + budget_t) + ["lost_reason"] * (reason_nt + reason_t) + ["deal"] * deal
          + [NO_EVIDENCE] * unknown)
    nt = [True] * budget_nt + [False] * budget_t + [True] * reason_nt + [False] * reason_t + [False] * deal + [None] * unknown
    return pd.DataFrame({"evidence": ev, "nontarget": pd.array(nt, dtype="boolean")})


def test_bounds_and_interval_by_hand():
    r = nontarget_share(_classified(10, 50, 20, 20, 50))
    assert r["share"] == pytest.approx(30 / 100)
    assert r["assumption"] == NO_EVIDENCE_ASSUMPTION
    assert r["priced_out_rate"] == pytest.approx(0.5)
    assert r["bounds"] == pytest.approx({"none": 30 / 150, "lost_rate": 55 / 150, "same_mix": 45 / 150})
    assert r["ci"][0] == pytest.approx(wilson_interval(30, 150)[0])
    assert r["ci"][1] == pytest.approx(max(wilson_interval(55, 150)[1], wilson_interval(30, 100)[1]))
    assert r["ci"][0] <= r["share"] <= r["ci"][1]


def test_without_unknown_leads_the_interval_is_wilson():
    r = nontarget_share(_classified(10, 50, 20, 20, 0))
    assert r["ci"] == pytest.approx(list(wilson_interval(30, 100))) and r["bounds"] == {}


def _flow(rng):
    n = int(rng.integers(300, 5000))
    share = rng.uniform(0.1, 0.5)
    nontarget = rng.random(n) < share
    has_budget = rng.random(n) < rng.uniform(0.2, 0.7)
    deal = ~nontarget & ~has_budget & (rng.random(n) < rng.uniform(0.1, 0.4))
    lost = ~has_budget & ~deal
    blank_nt, blank_t = rng.uniform(0.05, 0.5, size=2)
    blank = lost & (rng.random(n) < np.where(nontarget, blank_nt, blank_t))
    reason = lost & ~blank
    c = _classified(int((has_budget & nontarget).sum()), int((has_budget & ~nontarget).sum()),
                    int((reason & nontarget).sum()), int((reason & ~nontarget).sum()), int(blank.sum()),
                    deal=int(deal.sum()))
    theta = nontarget[blank].mean() if blank.any() else 0.0
    return c, nontarget.mean(), theta


def test_the_interval_covers_the_truth_when_the_unknown_lie_within_the_model():
    rng = np.random.default_rng(15)
    inside = covered = old_covered = 0
    for _ in range(400):
        c, truth, theta = _flow(rng)
        r = nontarget_share(c)
        if theta <= max(r["priced_out_rate"], r["share"]):  # the model's range: none .. max(rate, same mix)
            inside += 1
            covered += r["ci"][0] <= truth <= r["ci"][1]
            has = c["evidence"] != NO_EVIDENCE
            lo, hi = wilson_interval(int(c["nontarget"].fillna(False)[has].sum()), int(has.sum()))
            old_covered += lo <= truth <= hi
    assert inside >= 150
    assert covered / inside >= 0.95, (covered, inside)
    assert old_covered / inside < covered / inside  # the plain Wilson interval of the evidence leads covers less
