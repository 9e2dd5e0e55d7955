"""The annual revenue impact of fixing a barrier, on the money basis (``toolkit.core.money``).

Terms used below
----------------
stage loss (annual, in the case currency)
    What a journey stage loses in a year, measured from data, with a range:

    - **funnel stages** (``source = 'funnel'``): the leads created in the money period that
      stopped at a funnel stage of the journey stage, each valued at what it would have become
      had it gone one stage further: the conversion from the next funnel stage to the deal
      (Wilson interval; 1 for a lead that stopped at or after the deal stage) times the brand's
      **first-visit check** (the mean amount of its customers' first visit, t-interval). Only the
      first purchase is counted: a won lead's later visits are not (conservative). Annualised over
      the part of the period the leads table covers (its first lead in the period to its last lead).
    - **post-purchase stages** (``source = 'repeat_curve'``), READ from the loyalty step (repeat
      curve, average check and gaps by visit number, loyalty visit; not recomputed): the visits
      numbered n made in the money period (annualised) x (1 - p_return[n]) customers do not come
      back; each is valued at the visit they did not make, in the **next 12 months only**: the
      average check of visit n+1 when its median gap is at most 365 days (0 otherwise). As for
      the funnel, only that one purchase is counted, not the visits a returned customer would
      go on to make (conservative: it keeps the revenue at risk a part of the revenue booked).
      The range takes p_return at its interval ends. Visit 1 losses are filed under ``experience``, visits
      2 .. k-1 under ``trigger`` and k .. N under ``loyalty_loop`` (k = loyalty visit; without one,
      all under ``trigger``); in a custom journey without these ids, every post-purchase loss goes
      to the last journey stage when it comes after the journey stage of the deal, else nowhere.
annual revenue at risk
    The sum of the stage losses of the measured stages. Expected: <= annual revenue.
allocation
    A barrier's share of its stage's loss is its *mention share*: its respondents / the sum of
    respondents over the barriers named at that stage (``toolkit.barriers.ranking``), so the
    barriers of one stage never add up to more than the stage's loss. Range: the mention share
    at its Wilson interval ends (n = the stage's barrier mentions).
recoverable fraction
    The share of the allocated loss fixing the barrier can win back: a case parameter
    (``parameters.recoverable_fraction``, conservative default 0.25) stated as an assumption,
    with a sensitivity table over ``parameters.recoverable_fraction_sensitivity``.
annual impact
    stage loss x mention share x recoverable fraction (``{estimate, low, high}``); ``None`` where
    the stage's loss is not measured. Invariant: sum of impacts <= revenue at risk <= annual revenue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import numpy as np
import pandas as pd

from toolkit.core.money import Period, annualise, sub_period
from toolkit.core.sales import SalesHistory
from toolkit.core.stats import _z, wilson_interval
from toolkit.double_funnel.leads import deal_stage, lead_outcomes
from toolkit.core.stages import stage_model

YEAR_DAYS = 365
LOSS_COLUMNS = ["stage", "source", "lost_per_year", "annual_loss", "low", "high"]


# --------------------------------------------------------------------------- values


def first_visit_checks(sales: SalesHistory, confidence: float = 0.95) -> pd.DataFrame:
    """Per brand: the mean amount of each customer's first visit to the brand (the brand's own
    visit table, ``SalesHistory.subset``), with a normal-approximation interval. Columns brand,
    customers, check, check_lo, check_hi; brand ``all`` is the first visit to the company (the
    visit table of the whole sales history)."""
    parts = []
    for label, history in [("all", sales)] + [(b, sales.subset(brands=[b])) for b in sales.brands()]:
        v = history.visits("all")
        first = v.filter(v.visit_number == 1)
        parts.append(sales.execute(first.aggregate(customers=first.count(), check=first.amount.mean(),
                                                   sd=first.amount.std())).assign(brand=label))
    df = pd.concat(parts, ignore_index=True)
    df["sd"] = df["sd"].astype(float).fillna(0.0)
    half = _z(confidence) * df["sd"] / np.sqrt(df["customers"].astype(float).clip(lower=1))
    df["check"] = df["check"].astype(float)
    df["check_lo"] = (df["check"] - half).clip(lower=0)
    df["check_hi"] = df["check"] + half
    df["brand"] = df["brand"].astype(str)
    return df[["brand", "customers", "check", "check_lo", "check_hi"]].sort_values("brand").reset_index(drop=True)


def visits_in_period(sales: SalesHistory, period: Period, max_visit_number: int) -> pd.Series:
    """Whole-history visits made in the period, counted by visit number (1 .. N)."""
    v = sales.visits("all")
    v = v.filter(v.visit_date.between(ibis.date(period.start), ibis.date(period.end)),
                 v.visit_number <= int(max_visit_number))
    df = sales.execute(v.group_by("visit_number").aggregate(visits=v.count()).order_by("visit_number"))
    return df.set_index("visit_number")["visits"].astype(float)


# --------------------------------------------------------------------------- stage losses


def funnel_losses(leads: pd.DataFrame | None, model, period: Period, checks: pd.DataFrame,
                  confidence: float = 0.95) -> pd.DataFrame:
    """Annual loss of each journey stage that has a funnel stage where leads stop (module doc).
    ``checks``: :func:`first_visit_checks` (a brand missing there takes brand ``all``)."""
    model = stage_model(model)
    fn = model.funnel.sort_values("order")
    if leads is None or not len(leads) or not len(fn):
        return pd.DataFrame(columns=LOSS_COLUMNS)
    created = pd.to_datetime(leads["created_at"])
    inside = leads[(created >= pd.Timestamp(period.start)) & (created <= pd.Timestamp(period.end))]
    if not len(inside):
        return pd.DataFrame(columns=LOSS_COLUMNS)
    # the part of the period the leads table covers: from its first lead in the period to its last lead
    # (an export may end before as_of), as the double funnel's leads a year (toolkit.double_funnel.nontarget)
    covered = sub_period(period, pd.to_datetime(inside["created_at"]).min(), created.max())
    _, d_order, _ = deal_stage(model)
    last = int(fn["order"].max())
    stage_of = dict(zip(fn["order"], fn["journey_stage"]))
    by_brand = checks.set_index("brand")
    rows = []
    brands = inside["brand"].astype("string").fillna("all") if "brand" in inside.columns else pd.Series("all", index=inside.index)
    for brand, bl in inside.groupby(brands, sort=True):
        o = lead_outcomes(bl, model)
        o = o[o["stage_order"].notna()]
        c = by_brand.loc[brand] if brand in by_brand.index else by_brand.loc["all"]
        for i in sorted(fn["order"]):
            if i >= last:
                continue
            lost = int(((o["stage_order"] == i) & o["lost"]).sum())
            if not lost:
                continue
            if d_order is not None and i < d_order:
                reached = o["stage_order"] >= i + 1
                k, n = int((reached & o["reached_deal"]).sum()), int(reached.sum())
                p = k / n if n else 0.0
                lo, hi = wilson_interval(k, n, confidence) if n else (0.0, 0.0)
            else:
                p = lo = hi = 1.0
            rows.append({"stage": stage_of[i], "lost": lost, "deals": lost * p, "value": lost * p * c["check"],
                         "low": lost * lo * c["check_lo"], "high": lost * hi * c["check_hi"]})
    return _stage_losses(rows, "funnel", covered)


def return_value_12m(checks: pd.Series, gaps: pd.Series, n: int) -> float:
    """What a customer who does not return after visit ``n`` would have brought in the next 12
    months, counting only that return (module doc): the average check of visit n+1 when its
    median gap is at most 365 days, else 0. ``checks``/``gaps``: average check and median gap
    before each visit number."""
    check, gap = checks.get(n + 1), gaps.get(n + 1)
    if check is None or pd.isna(check) or gap is None or pd.isna(gap) or float(gap) > YEAR_DAYS:
        return 0.0
    return float(check)


def post_purchase_stages(case, model, loyalty_visit: int | None, max_visit: int) -> dict[int, str]:
    """visit number n -> the journey stage that should have brought the customer back after visit n
    (module doc), for n in 1 .. max_visit."""
    ids = case.stage_ids()
    normative = all(s in ids for s in ("experience", "trigger", "loyalty_loop"))
    out = {}
    if normative:
        for n in range(1, max_visit + 1):
            out[n] = "experience" if n == 1 else ("loyalty_loop" if loyalty_visit and n >= loyalty_visit else "trigger")
        return out
    model = stage_model(model)
    d_id, _, _ = deal_stage(model)
    if d_id is None:
        return {}
    fn = model.funnel
    purchase = str(fn.loc[fn["funnel_stage"] == d_id, "journey_stage"].iloc[0])
    if ids.index(ids[-1]) > ids.index(purchase):
        return {n: ids[-1] for n in range(1, max_visit + 1)}
    return {}


def repeat_losses(curve: pd.DataFrame, average_check: pd.DataFrame, gap_intervals: pd.DataFrame,
                  visits: pd.Series, period: Period, stages: Mapping[int, str]) -> pd.DataFrame:
    """Annual loss of the post-purchase stages from the loyalty step's tables (scope
    ``all_lines``; module doc). ``visits``: :func:`visits_in_period`; ``stages``:
    :func:`post_purchase_stages`."""
    def scope(t):
        return t[t["scope"] == "all_lines"].set_index("visit_number") if "scope" in t.columns else t.set_index("visit_number")

    cv, ck, gp = scope(curve), scope(average_check)["average_check"], scope(gap_intervals)["gap_median"]
    rows = []
    for n, r in cv.iterrows():
        n = int(n)
        if n not in stages or pd.isna(r["p_return"]) or n not in visits.index:
            continue
        made = float(visits[n])
        v = return_value_12m(ck, gp, n)
        rows.append({"stage": stages[n], "lost": made * (1 - r["p_return"]), "value": made * (1 - r["p_return"]) * v,
                     "low": made * (1 - r["ci_hi"]) * v, "high": made * (1 - r["ci_lo"]) * v})
    return _stage_losses(rows, "repeat_curve", period)


def stage_losses(*parts: pd.DataFrame) -> pd.DataFrame:
    """The stage losses of several sources, one row per stage (sources '+'-joined)."""
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return pd.DataFrame(columns=LOSS_COLUMNS)
    t = pd.concat(parts, ignore_index=True)
    g = t.groupby("stage", sort=False).agg(
        source=("source", lambda s: "+".join(dict.fromkeys(s))), lost_per_year=("lost_per_year", "sum"),
        annual_loss=("annual_loss", "sum"), low=("low", "sum"), high=("high", "sum"))
    return g.reset_index()[LOSS_COLUMNS]


# --------------------------------------------------------------------------- allocation


def allocate(table: pd.DataFrame, losses: pd.DataFrame | None, recoverable_fraction: float,
             confidence: float = 0.95, overall: str = "overall") -> pd.DataFrame:
    """``table`` (``toolkit.barriers.ranking.barrier_table`` columns segment_type, stage,
    respondents, mention_share) plus ``lost_at_stage`` (per year), ``stage_annual_loss``,
    ``annual_impact``, ``annual_impact_low``, ``annual_impact_high`` (module doc; NaN where the
    stage's loss is not measured and on every row that is not the overall segment)."""
    t = table.copy()
    ls = (losses if losses is not None else pd.DataFrame(columns=LOSS_COLUMNS)).set_index("stage")
    is_overall = (t["segment_type"] == overall).to_numpy()
    mentions = t.groupby(["segment_type", "segment", "stage"], sort=False)["respondents"].transform("sum")
    lo, hi = wilson_interval(t["respondents"].to_numpy(float), mentions.to_numpy(float), confidence)
    rf = float(recoverable_fraction)

    def per_stage(col):
        return np.where(is_overall, t["stage"].map(ls[col]).astype(float) if len(ls) else np.nan, np.nan)

    t["lost_at_stage"] = per_stage("lost_per_year")
    t["stage_annual_loss"] = per_stage("annual_loss")
    t["annual_impact"] = t["stage_annual_loss"] * t["mention_share"] * rf
    t["annual_impact_low"] = per_stage("low") * np.asarray(lo, float) * rf
    t["annual_impact_high"] = per_stage("high") * np.asarray(hi, float) * rf
    return t


def revenue_at_risk(losses: pd.DataFrame) -> dict | None:
    """The annual revenue at risk: the stage losses added up (``{estimate, low, high}``)."""
    if losses is None or not len(losses):
        return None
    return {"estimate": float(losses["annual_loss"].sum()), "low": float(losses["low"].sum()),
            "high": float(losses["high"].sum())}


def sensitivity(table: pd.DataFrame, fractions: Sequence[float], recoverable_fraction: float,
                overall: str = "overall") -> pd.DataFrame:
    """Sum of the barriers' annual impacts at each recoverable fraction (columns
    recoverable_fraction, annual_impact, low, high); the impacts scale linearly with it."""
    t = table[table["segment_type"] == overall]
    base = {c: float(t[c].sum(min_count=1)) if c in t else np.nan
            for c in ("annual_impact", "annual_impact_low", "annual_impact_high")}
    rows = []
    for f in sorted(set([*fractions, recoverable_fraction])):
        k = f / recoverable_fraction
        rows.append({"recoverable_fraction": f, "annual_impact": base["annual_impact"] * k,
                     "low": base["annual_impact_low"] * k, "high": base["annual_impact_high"] * k})
    return pd.DataFrame(rows)


def case_stage_losses(case, sales: SalesHistory, leads: pd.DataFrame | None, period: Period,
                      loyalty: Mapping[str, pd.DataFrame] | None, loyalty_visit: int | None) -> tuple[pd.DataFrame, list[str]]:
    """The annual loss of each journey stage of a case (module doc) and notes (catalog keys).
    ``loyalty``: the loyalty step's ``repeat_curve``, ``average_check`` and ``gap_intervals``
    tables (None: post-purchase losses not measured); ``loyalty_visit``: its loyalty visit of
    all lines."""
    p = case.parameters
    model = stage_model(case)
    notes: list[str] = []
    checks = first_visit_checks(sales, p.confidence)
    funnel = funnel_losses(leads, model, period, checks, p.confidence)
    repeat = None
    if loyalty is not None:
        stages = post_purchase_stages(case, model, loyalty_visit, p.max_visit_number)
        if not stages:
            notes.append("money.note.no_post_purchase_stage")
        visits = visits_in_period(sales, period, p.max_visit_number)
        repeat = repeat_losses(loyalty["repeat_curve"], loyalty["average_check"], loyalty["gap_intervals"], visits,
                               period, stages)
    else:
        notes.append("money.note.no_loyalty_tables")
    return stage_losses(funnel, repeat), notes


def _stage_losses(rows: list[dict], source: str, period) -> pd.DataFrame:
    """Loss rows (stage, lost, value, low, high over ``period``) summed per stage and annualised:
    the ``LOSS_COLUMNS`` table."""
    if not rows:
        return pd.DataFrame(columns=LOSS_COLUMNS)
    g = pd.DataFrame(rows).groupby("stage", sort=False)[["lost", "value", "low", "high"]].sum().reset_index()
    return pd.DataFrame({
        "stage": g["stage"], "source": source, "lost_per_year": annualise(g["lost"], period),
        "annual_loss": annualise(g["value"], period), "low": annualise(g["low"], period),
        "high": annualise(g["high"], period),
    })
