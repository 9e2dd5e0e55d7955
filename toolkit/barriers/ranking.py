"""Barrier ranking (METHOD.md §4): what stops clients, how many, how badly, and what fixing it is worth a year.

Terms used below
----------------
barrier
    A code with ``code_type == 'barrier'`` at a journey stage (the same code at two
    stages is two barriers: the fix differs).
respondents
    Distinct interviewed respondents with at least one fragment of the barrier at
    the stage.
share
    respondents / base with a Wilson interval. *Base* = all interviewed respondents
    of the segment: everyone in the ``respondents`` table where it is given (an
    interviewee whose transcript yielded no coded fragment still met or did not meet
    each barrier), plus anyone with a row in ``codes``; not only those who talked
    about that stage: interviews cover the whole journey, so silence about a
    barrier is read as "did not meet it". For a persona row the base is the
    interviewed respondents of that persona.
severity
    Mean sentiment of the barrier's fragments, per respondent first, then over
    respondents (t-interval ``severity_lo``/``severity_hi``); -2 is the most severe.
mention share (attribution rule)
    The barrier's respondents / the sum of respondents over all barriers of the
    same stage and segment (a respondent naming two barriers at a stage counts
    once for each). It splits the stage's losses between its barriers in
    proportion to how often each is named.
annual impact
    The stage's measured annual loss x mention share x the recoverable fraction, with a
    range (``annual_impact``, ``annual_impact_low``, ``annual_impact_high``; rules in
    ``toolkit.barriers.impact``). NaN where the stage's loss is not measured ("not
    measured", never 0), and on persona rows (losses are not split by persona).
evidence score
    share x severity weight, the weight = -severity / 2 clipped to [0, 1] (missing
    severity: 0.5).
priority (rank)
    Within a segment, every barrier is first placed by its evidence score (desc, then
    share desc, severity asc, stage order, code); the places held by barriers with a
    measured annual impact are then refilled with those barriers in annual-impact order
    (``rank_basis = 'money'``). A barrier whose stage has no measured loss keeps the place
    its evidence gives it (``rank_basis = 'evidence'``): it is never put last only because
    nothing measured it.
representative quotes
    Up to ``n_quotes`` non-empty quotes from distinct respondents and with distinct
    texts: most negative sentiment first, then the shortest quote, then respondent
    id, then the text (fully deterministic; a respondent's best quote is the one
    kept).

The recommendation library lives in :mod:`toolkit.core.vocabulary`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from toolkit.barriers.impact import allocate
from toolkit.core.money import money_range
from toolkit.stage_mapping.funnel import jsonable
from toolkit.core.vocabulary import LIBRARY_FILE, SECTIONS, default_library, merge_recommendations, load_recommendations, library_key, library_names, actions_for
from toolkit.core.stages import OVERALL, column, share_evidence, match_touchpoints, norm_key, stage_model
from toolkit.core.stats import share_with_ci, t_interval
from toolkit.stage_mapping.journey import _segment_key, code_labels, respondent_segments, segmented

def barrier_table(
    codes: pd.DataFrame,
    model,
    respondents: pd.DataFrame | None = None,
    personas=None,
    stage_losses: pd.DataFrame | None = None,
    recoverable_fraction: float = 0.25,
    library: Mapping | None = None,
    labels: Mapping | None = None,
    n_quotes: int = 3,
) -> pd.DataFrame:
    """Barriers per segment (overall, persona, business line) and stage, ranked.

    ``stage_losses``: the annual loss of each journey stage (``toolkit.barriers.impact``:
    columns stage, lost_per_year, annual_loss, low, high); ``recoverable_fraction``: the share
    of the allocated loss fixing a barrier wins back. Columns: ``segment_type, segment, rank,
    rank_basis, stage, stage_name, stage_order, code, label, respondents, fragments, base,
    share, ci_lo, ci_hi, severity, severity_lo, severity_hi, evidence_score, mention_share,
    lost_at_stage, stage_annual_loss, annual_impact, annual_impact_low, annual_impact_high,
    evidence, touchpoint, quotes (list), library_key, actions (list)``. Rules in the module
    docstring.
    """
    model = stage_model(model)
    lang = model.language
    order = model.stage_order()
    all_codes = codes.loc[codes["stage"].isin(order)].assign(respondent_id=lambda d: d["respondent_id"].astype("string"))
    segs = respondent_segments(respondents, personas)
    seg_all = segmented(all_codes, segs)
    people = all_codes[["respondent_id"]]
    if respondents is not None and "respondent_id" in respondents.columns and len(respondents):
        # everyone interviewed, also those with no coded fragment at a known stage
        people = pd.concat([people, respondents[["respondent_id"]].dropna().astype("string")], ignore_index=True)
    base = (segmented(people.drop_duplicates(), segs).groupby(["segment_type", "segment"], sort=True)["respondent_id"]
            .nunique().rename("base").reset_index())
    b = seg_all.loc[seg_all["code_type"] == "barrier"].copy()
    b["code"] = b["code"].astype("string")
    b["sentiment"] = pd.to_numeric(column(b, "sentiment"), errors="coerce").astype(float)
    keys = ["segment_type", "segment", "stage", "code"]
    cols_out = ["segment_type", "segment", "rank", "stage", "stage_name", "stage_order", "code", "label", "respondents",
                "fragments", "base", "share", "ci_lo", "ci_hi", "severity", "severity_lo", "severity_hi", "evidence_score",
                "mention_share", "lost_at_stage", "stage_annual_loss", "annual_impact", "annual_impact_low",
                "annual_impact_high", "rank_basis", "evidence", "touchpoint", "quotes", "library_key", "actions"]
    if not len(b):
        return pd.DataFrame(columns=cols_out)

    g = b.groupby(keys, sort=True).agg(respondents=("respondent_id", "nunique"), fragments=("respondent_id", "size")).reset_index()
    g = g.merge(base, on=["segment_type", "segment"], how="left")
    g = pd.concat([g, share_with_ci(g["respondents"], g["base"], model.confidence)], axis=1)

    # severity: respondent mean first, then over respondents
    per_resp = b.dropna(subset=["sentiment"]).groupby([*keys, "respondent_id"], sort=True)["sentiment"].mean()
    sev = per_resp.groupby(level=list(range(len(keys))), sort=True).agg(["mean", "std", "count"]).reset_index()
    sev["severity_lo"], sev["severity_hi"] = t_interval(sev["mean"].to_numpy(), sev["std"].to_numpy(), sev["count"].to_numpy(), model.confidence)
    g = g.merge(sev.rename(columns={"mean": "severity"})[[*keys, "severity", "severity_lo", "severity_hi"]], on=keys, how="left")

    # attribution: the barrier's share of barrier mentions at its stage and segment
    stage_total = g.groupby(["segment_type", "segment", "stage"], sort=True)["respondents"].transform("sum")
    g["mention_share"] = g["respondents"] / stage_total
    g = allocate(g, stage_losses, recoverable_fraction, model.confidence, overall=OVERALL[0])
    weight = (-g["severity"] / 2.0).clip(lower=0.0, upper=1.0).fillna(0.5)
    g["evidence_score"] = g["share"] * weight

    # most frequent touchpoint of the barrier (ties alphabetical), for the library fallback
    tp_raw = column(b, "touchpoint").astype("string")
    tp = match_touchpoints(tp_raw, model).combine_first(tp_raw)
    bt = b.assign(tp=tp).dropna(subset=["tp"])
    if len(bt):
        tpc = bt.groupby([*keys, "tp"], sort=True)["respondent_id"].nunique().rename("n").reset_index()
        tpc = tpc.sort_values([*keys, "n", "tp"], ascending=[True] * len(keys) + [False, True], kind="stable").drop_duplicates(keys)
        g = g.merge(tpc[[*keys, "tp"]].rename(columns={"tp": "touchpoint"}), on=keys, how="left")
    else:
        g["touchpoint"] = pd.NA

    # quotes: most negative first, then shortest, distinct respondents
    q = b.assign(quote=column(b, "quote").astype("string").str.strip())
    q = q.loc[q["quote"].notna() & (q["quote"] != "")]
    if len(q):
        q = q.assign(_len=q["quote"].str.len(), _sent=q["sentiment"].fillna(np.inf))
        q = q.sort_values([*keys, "_sent", "_len", "respondent_id", "quote"], kind="stable")
        # distinct respondents and distinct texts (a coding sheet may repeat a stock phrase)
        q = q.drop_duplicates([*keys, "respondent_id"]).drop_duplicates([*keys, "quote"])
        q = q.groupby(keys, sort=False).head(n_quotes)
        quotes = q.groupby(keys, sort=True)["quote"].agg(list).rename("quotes").reset_index()
        g = g.merge(quotes, on=keys, how="left")
    else:
        g["quotes"] = None
    g["quotes"] = [x if isinstance(x, list) else [] for x in g["quotes"]]

    g["evidence"] = share_evidence(g["respondents"], g["ci_lo"], model.evidence_min_respondents)
    g["stage_name"] = g["stage"].map(model.stage_names())
    g["stage_order"] = g["stage"].map(order).astype(int)
    g["label"] = code_labels(g["code"], library, lang, labels)
    if library:
        g["library_key"] = [library_key(c, library, "barriers") or (library_key(t, library, "touchpoints") if isinstance(t, str) else None)
                            for c, t in zip(g["code"], g["touchpoint"].astype(object))]
        g["actions"] = [actions_for(c, library, lang, t if isinstance(t, str) else None) for c, t in zip(g["code"], g["touchpoint"].astype(object))]
    else:
        g["library_key"] = None
        g["actions"] = [[] for _ in range(len(g))]

    g = rank_barriers(g)
    return g[cols_out]


def rank_barriers(table: pd.DataFrame) -> pd.DataFrame:
    """Sort by the priority rule (module docstring) and number the barriers 1.. within each segment."""
    t = table.assign(_seg=_segment_key(table), _sev=table["severity"].fillna(np.inf))
    t = t.sort_values(
        ["_seg", "segment", "evidence_score", "share", "_sev", "stage_order", "code"],
        ascending=[True, True, False, False, True, True, True],
        kind="stable",
    ).reset_index(drop=True)
    measured = t["annual_impact"].notna()
    t["rank_basis"] = np.where(measured, "money", "evidence")
    parts = []
    for _, seg in t.groupby(["_seg", "segment"], sort=False):
        is_m = seg["annual_impact"].notna().to_numpy()
        by_money = seg[is_m].sort_values(["annual_impact", "evidence_score", "stage_order", "code"],
                                         ascending=[False, False, True, True], kind="stable").index
        idx = seg.index.to_numpy().copy()
        idx[is_m] = by_money  # the measured barriers' places, refilled in money order
        parts.append(seg.loc[idx])
    t = pd.concat(parts, ignore_index=True) if parts else t
    t["rank"] = t.groupby(["segment_type", "segment"], sort=False).cumcount() + 1
    return t.drop(columns=["_seg", "_sev"]).reset_index(drop=True)


def top_barriers_by_stage(table: pd.DataFrame, n: int = 3, segment: str = "all") -> pd.DataFrame:
    """The ``n`` most-mentioned barriers of each stage for one segment (respondents desc,
    then severity, then code): the journey matrix's barrier row in table form."""
    t = table.loc[table["segment"] == segment]
    t = t.assign(_sev=t["severity"].fillna(np.inf)).sort_values(
        ["stage_order", "respondents", "_sev", "code"], ascending=[True, False, True, True], kind="stable"
    )
    return t.groupby("stage", sort=False).head(n).drop(columns="_sev").reset_index(drop=True)


def missing_recommendations(table: pd.DataFrame) -> pd.DataFrame:
    """Barriers with no library entry (no actions): for the consultant to fill in the case's
    ``recommendations.yml``. One row per (stage, code) of the overall segment, in rank order."""
    t = table.loc[(table["segment_type"] == OVERALL[0]) & (table["actions"].map(len) == 0)]
    return t[["rank", "stage", "stage_name", "code", "label", "touchpoint", "respondents", "share"]].reset_index(drop=True)


def barrier_metrics(
    codes: pd.DataFrame,
    model,
    stage_losses: pd.DataFrame | None = None,
    recoverable_fraction: float = 0.25,
    respondents: pd.DataFrame | None = None,
    library: Mapping | None = None,
    limit: int | None = None,
    labels: Mapping | None = None,
    table: pd.DataFrame | None = None,
) -> list[dict]:
    """``metrics.json`` -> ``barriers``: the overall ranking, highest priority first.

    Each item: ``{code, label, stage, respondents, share, ci: [lo, hi], severity,
    annual_impact: {estimate, low, high} or None (stage loss not measured), rank_basis
    ('money' | 'evidence'), rank, base, mention_share, lost_at_stage (per year),
    stage_annual_loss, evidence_score, evidence, quotes, actions}`` (NaN -> None).
    ``table``: an already computed :func:`barrier_table` (the other arguments are then not
    used).
    """
    if table is None:
        table = barrier_table(codes, model, respondents=respondents, stage_losses=stage_losses,
                              recoverable_fraction=recoverable_fraction, library=library, labels=labels)
    t = table
    t = t.loc[t["segment_type"] == OVERALL[0]]
    if limit:
        t = t.head(limit)
    out = []
    for r in t.itertuples(index=False):
        out.append({
            "code": r.code, "label": r.label, "stage": r.stage, "respondents": int(r.respondents),
            "share": r.share, "ci": [r.ci_lo, r.ci_hi], "severity": r.severity,
            "annual_impact": money_range(r.annual_impact, r.annual_impact_low, r.annual_impact_high),
            "rank_basis": r.rank_basis, "rank": int(r.rank), "base": int(r.base),
            "mention_share": r.mention_share, "lost_at_stage": r.lost_at_stage,
            "stage_annual_loss": r.stage_annual_loss, "evidence_score": r.evidence_score, "evidence": r.evidence,
            "quotes": list(r.quotes), "actions": list(r.actions),
        })
    return jsonable(out)
