"""The lead funnel (METHOD.md §§1, 3, 6): counts per stage, conversions, bottleneck, lost reasons.

Terms used below
----------------
funnel stage
    One of the case's ordered ``funnel_stages`` (e.g. request -> consultation ->
    deal); each belongs to a journey stage (``journey_stage`` in case.yml).
stage reached
    ``leads.stage_reached``: the furthest funnel stage a lead got to. The funnel is
    cumulative: a lead that reached stage k also passed every stage before k, so
    ``reached[k]`` = leads whose ``stage_reached`` is k or later.
conversion (k -> k+1)
    ``reached[k+1] / reached[k]``, with a Wilson interval on n = ``reached[k]``
    (the leads that entered stage k). Listed on stage k; the last stage has none.
lost at stage k
    A lead whose furthest stage is k and k is not the last stage: it stopped there.
    Every such lead is counted as lost, whether or not a ``lost_reason`` was
    written (an export has no "still open" flag; very recent leads may still move
    on, so a case should cut its leads at a date old enough for them to have
    closed). Its loss belongs to the journey stage of funnel stage k (the stage
    where it stopped and the barrier stopped it).
traffic -> lead
    Leads created in the months covered by the brand's traffic rows, divided by
    the sessions in those months (n = sessions). Sessions are not people (one
    person makes several), so this is a rate per session, not a conversion of
    visitors.
bottleneck
    For each group (brand, source, persona) and transition, the *reference* is the
    best conversion at the same transition among the groups with at least
    ``min_n`` leads entering it (or the ``benchmark`` conversion when one is
    given). shortfall = max(0, reference - conversion); *lost leads* = shortfall x
    leads entering the transition (leads that would have moved on at the
    reference rate). *Lost finishers* = lost leads x the group's own conversion
    from the next stage to the last funnel stage: a lead regained early still has
    to pass the later stages, so a shortfall at the first transition is worth
    fewer final outcomes than the same shortfall just before the deal. A group's
    bottleneck is its transition with the most lost finishers (ties: the earlier
    transition), reported with its lost leads. A group that is itself the best
    everywhere (or has no peer and no benchmark) falls back to its transition with
    the lowest conversion (``basis = 'lowest_conversion'``), the narrowest neck of
    its own funnel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from toolkit.core.stages import StageModel, norm_key, stage_model
from toolkit.core.stats import share_with_ci
from toolkit.core.run_folder import to_jsonable as jsonable  # the toolkit's one JSON converter

NOT_RECORDED = {"ru": "(не указана)", "en": "(not recorded)"}


def stage_index(leads: pd.DataFrame, model: StageModel) -> pd.Series:
    """Order of each lead's ``stage_reached`` in the funnel (by id, name or alias); NaN if unknown."""
    order = dict(zip(model.funnel["funnel_stage"], model.funnel["order"]))
    stages = leads["stage_reached"]
    direct = stages.map(order)
    # labels normalised once per distinct value (a million leads carry a handful of labels)
    by_label = {v: order.get(model.funnel_lookup.get(norm_key(v))) for v in stages.dropna().unique()}
    via_label = stages.map(by_label)
    return direct.astype(float).fillna(via_label.astype(float))


def attach_personas(leads: pd.DataFrame, personas) -> pd.DataFrame:
    """Add a ``persona`` column to leads through ``customer_id`` where linkable.

    ``personas``: Series indexed by customer id, or a DataFrame with ``customer_id,
    persona`` (e.g. interview/survey respondents that carry the customer id of the
    CRM). Leads without a linked persona get NA.
    """
    if personas is None or "customer_id" not in leads.columns:
        return leads.assign(persona=pd.Series(pd.NA, index=leads.index, dtype="string"))
    p = personas
    if isinstance(p, pd.DataFrame):
        p = p.dropna(subset=["customer_id"]).drop_duplicates("customer_id").set_index("customer_id")["persona"]
    p.index = p.index.astype("string")
    return leads.assign(persona=leads["customer_id"].astype("string").map(p).astype("string"))


def funnel_table(
    leads: pd.DataFrame,
    model,
    by: Sequence[str] = ("brand",),
    personas=None,
) -> pd.DataFrame:
    """Leads that reached each funnel stage and the conversion to the next, per group.

    ``by``: grouping columns of leads (``brand``, ``source``, ``persona``; ``()`` for
    all leads together). ``persona`` is linked through ``attach_personas`` when the
    leads have no such column. Leads whose stage is not a funnel stage are left out
    (``toolkit.stage_mapping.journey.stage_problems`` lists them).

    Columns: ``*by, stage, stage_name, order, journey_stage, reached, next_stage,
    next_reached, lost_here, conversion, ci_lo, ci_hi`` (conversion from this stage
    to the next; NaN on the last stage).
    """
    model = stage_model(model)
    by = list(by)
    fn = model.funnel.sort_values("order")
    k = len(fn)
    if "persona" in by and "persona" not in leads.columns:
        leads = attach_personas(leads, personas)
    idx = stage_index(leads, model)
    ok = leads.loc[idx.notna()].assign(_order=idx[idx.notna()].astype(int))
    if by:
        ok = ok.dropna(subset=by)
        counts = pd.crosstab([ok[c] for c in by], ok["_order"]).reindex(columns=range(k), fill_value=0)
    else:
        counts = pd.DataFrame([np.bincount(ok["_order"], minlength=k)], columns=range(k), index=pd.Index(["all"], name="_all"))
    # cumulative: reached k = stopped at k or later
    reached = counts.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]
    stopped = counts
    long = reached.stack().rename("reached").reset_index()
    long = long.rename(columns={long.columns[len(long.columns) - 2]: "order"})
    long["lost_here"] = stopped.stack().to_numpy()
    long["lost_here"] = np.where(long["order"] == k - 1, 0, long["lost_here"])
    if not by:
        long = long.drop(columns="_all")
    long = long.sort_values([*by, "order"], kind="stable").reset_index(drop=True)
    g = long.groupby(by, sort=False) if by else None
    long["next_reached"] = (g["reached"].shift(-1) if by else long["reached"].shift(-1))
    long["stage"] = long["order"].map(dict(zip(fn["order"], fn["funnel_stage"])))
    long["next_stage"] = long["order"].map(dict(zip(fn["order"] - 1, fn["funnel_stage"])))
    long["stage_name"] = long["order"].map(dict(zip(fn["order"], fn["name"])))
    long["journey_stage"] = long["order"].map(dict(zip(fn["order"], fn["journey_stage"])))
    sh = share_with_ci(long["next_reached"], long["reached"].where(long["next_reached"].notna()), model.confidence)
    long["conversion"] = sh["share"].to_numpy()
    long["ci_lo"] = sh["ci_lo"].to_numpy()
    long["ci_hi"] = sh["ci_hi"].to_numpy()
    long["reached"] = long["reached"].astype(int)
    cols = [*by, "stage", "stage_name", "order", "journey_stage", "reached", "next_stage", "next_reached", "lost_here",
            "conversion", "ci_lo", "ci_hi"]
    return long[cols]


def traffic_to_lead(leads: pd.DataFrame, traffic: pd.DataFrame, by_source: bool = False, confidence: float = 0.95) -> pd.DataFrame:
    """Leads per session per brand over the months the brand's traffic covers.

    With ``by_source`` and a ``source`` column on both tables, per brand and source
    (sources matched after lower-casing). Columns: ``brand[, source], months,
    first_month, last_month, sessions, leads, rate, ci_lo, ci_hi``.
    """
    keys = ["brand"]
    t = traffic.assign(month=pd.to_datetime(traffic["period"]).dt.to_period("M").dt.start_time)
    ld = leads.assign(month=pd.to_datetime(leads["created_at"]).dt.to_period("M").dt.start_time)
    if by_source and "source" in t.columns and "source" in ld.columns:
        t = t.assign(source=t["source"].map(norm_key, na_action="ignore"))
        ld = ld.assign(source=ld["source"].map(norm_key, na_action="ignore"))
        keys = ["brand", "source"]
    t = t.dropna(subset=keys)
    sess = t.groupby([*keys, "month"], sort=True)["sessions"].sum().rename("sessions").reset_index()
    n_leads = ld.dropna(subset=keys).groupby([*keys, "month"], sort=True).size().rename("leads").reset_index()
    m = sess.merge(n_leads, on=[*keys, "month"], how="left").fillna({"leads": 0})
    out = m.groupby(keys, sort=True).agg(
        months=("month", "nunique"),
        first_month=("month", "min"),
        last_month=("month", "max"),
        sessions=("sessions", "sum"),
        leads=("leads", "sum"),
    ).reset_index()
    out["leads"] = out["leads"].astype(int)
    out["sessions"] = out["sessions"].astype(int)
    return pd.concat([out, share_with_ci(out["leads"], out["sessions"], confidence).rename(columns={"share": "rate"})], axis=1)


def _benchmark_by_stage(benchmark: Mapping | None) -> dict:
    """Benchmark conversions keyed by the transition's first stage.

    Accepted keys: the first stage id (``"consultation"``), ``"a->b"`` / ``"a→b"``, or
    a tuple ``(a, b)``.
    """
    if not benchmark:
        return {}
    out = {}
    for key, rate in benchmark.items():
        if isinstance(key, tuple):
            key = key[0]
        key = str(key).replace("→", "->").split("->")[0].strip()
        out[key] = float(rate)
    return out


def bottlenecks(
    table: pd.DataFrame,
    by: Sequence[str] = ("brand",),
    benchmark: Mapping | None = None,
    min_n: int = 30,
) -> pd.DataFrame:
    """Every transition of every group with its reference conversion and lost leads.

    ``table``: ``funnel_table`` output grouped by ``by``. See the module docstring for
    the rule. Columns: ``*by, stage, next_stage, reached, next_reached, conversion,
    reference, reference_group, shortfall, lost_leads, to_last, lost_finishers, drop_out, basis``.
    """
    by = list(by)
    t = table.loc[table["next_stage"].notna()].copy()
    t["drop_out"] = (t["reached"] - t["next_reached"]).astype(float)
    bench = _benchmark_by_stage(benchmark)
    if bench:
        t["reference"] = t["stage"].map(bench).astype(float)
        t["reference_group"] = "benchmark"
        basis = "vs_benchmark"
    else:
        eligible = t.loc[t["reached"] >= min_n]
        if by and len(eligible):
            best = eligible.sort_values(["stage", "conversion", *by], ascending=[True, False, *[True] * len(by)], kind="stable")
            best = best.drop_duplicates("stage")
            label = best[by].astype(str).agg(" / ".join, axis=1)
            t["reference"] = t["stage"].map(dict(zip(best["stage"], best["conversion"])))
            t["reference_group"] = t["stage"].map(dict(zip(best["stage"], label)))
        else:
            t["reference"] = np.nan
            t["reference_group"] = None
        basis = "vs_best"
    t["shortfall"] = np.clip(t["reference"] - t["conversion"], 0, None)
    t["lost_leads"] = t["shortfall"] * t["reached"]
    # own conversion from the next stage to the last: product of the later conversions
    t = t.sort_values([*by, "order"], kind="stable")
    logc = np.log(t["conversion"].clip(lower=1e-12))
    later = (logc.groupby([t[c] for c in by], sort=False) if by else logc).transform(lambda x: x[::-1].cumsum()[::-1]) - logc
    t["to_last"] = np.exp(later)
    t["lost_finishers"] = t["lost_leads"] * t["to_last"]
    t["basis"] = basis
    cols = [*by, "stage", "next_stage", "order", "reached", "next_reached", "conversion", "reference", "reference_group",
            "shortfall", "lost_leads", "to_last", "lost_finishers", "drop_out", "basis"]
    return t[cols].reset_index(drop=True)


def bottleneck(
    table: pd.DataFrame,
    by: Sequence[str] = ("brand",),
    benchmark: Mapping | None = None,
    min_n: int = 30,
) -> pd.DataFrame:
    """One row per group: its bottleneck transition (most lost finishers against the
    reference; fallback: lowest conversion), see the module docstring."""
    by = list(by)
    b = bottlenecks(table, by, benchmark, min_n)
    if not len(b):
        return b
    # rounded so that float noise (0.9 - 0.8 = 0.0999...) cannot break a tie
    b = b.assign(_lost=b["lost_finishers"].round(9), _conv=b["conversion"].round(12))
    has_gap = b["_lost"].fillna(0) > 0
    asc = [True] * len(by)
    gap = b.loc[has_gap].sort_values([*by, "_lost", "order"], ascending=[*asc, False, True], kind="stable")
    gap = gap.drop_duplicates(by) if by else gap.head(1)
    if by:
        rest = b.loc[~b.set_index(by).index.isin(gap.set_index(by).index)]
    else:
        rest = b if not len(gap) else b.iloc[0:0]
    low = rest.sort_values([*by, "_conv", "order"], ascending=[*asc, True, True], kind="stable")
    low = (low.drop_duplicates(by) if by else low.head(1)).assign(basis="lowest_conversion")
    out = pd.concat([gap, low], ignore_index=True).drop(columns=["_lost", "_conv"])
    return out.sort_values(by or ["order"], kind="stable").reset_index(drop=True)


def lost_reasons(leads: pd.DataFrame, model, by: Sequence[str] = ("brand",)) -> pd.DataFrame:
    """Why leads were lost, per group and funnel stage where they stopped.

    Lost leads = leads whose furthest stage is not the last. A blank reason is its
    own category ``(not recorded)``, so shares over a stage add up to 1.
    share = leads with the reason / lost leads at that stage (Wilson interval).
    Columns: ``*by, stage, stage_name, journey_stage, lost_reason, leads, lost_at_stage, share, ci_lo, ci_hi``.
    """
    model = stage_model(model)
    by = list(by)
    fn = model.funnel
    k = len(fn)
    idx = stage_index(leads, model)
    lost = leads.loc[idx.notna() & (idx < k - 1)].assign(_order=idx[idx.notna() & (idx < k - 1)].astype(int))
    if by:
        lost = lost.dropna(subset=by)
    reason = lost["lost_reason"].astype("string") if "lost_reason" in lost.columns else pd.Series(pd.NA, index=lost.index, dtype="string")
    reason = reason.str.strip().replace("", pd.NA).fillna(NOT_RECORDED[model.language])
    lost = lost.assign(lost_reason=reason)
    g = lost.groupby([*by, "_order", "lost_reason"], sort=True).size().rename("leads").reset_index()
    tot = lost.groupby([*by, "_order"], sort=True).size().rename("lost_at_stage").reset_index()
    g = g.merge(tot, on=[*by, "_order"], how="left")
    g = pd.concat([g, share_with_ci(g["leads"], g["lost_at_stage"], model.confidence)], axis=1)
    g["stage"] = g["_order"].map(dict(zip(fn["order"], fn["funnel_stage"])))
    g["stage_name"] = g["_order"].map(dict(zip(fn["order"], fn["name"])))
    g["journey_stage"] = g["_order"].map(dict(zip(fn["order"], fn["journey_stage"])))
    g = g.sort_values([*by, "_order", "leads", "lost_reason"], ascending=[*[True] * len(by), True, False, True], kind="stable")
    return g[[*by, "stage", "stage_name", "journey_stage", "lost_reason", "leads", "lost_at_stage", "share", "ci_lo", "ci_hi"]].reset_index(drop=True)


def lost_by_journey_stage(leads: pd.DataFrame, model, by: Sequence[str] = ()) -> pd.DataFrame:
    """Leads lost per journey stage (the journey stage of the funnel stage where they stopped).

    Every journey stage is listed. ``lost`` is NaN where the funnel does not
    measure losses: journey stages with no funnel stage, or whose only funnel
    stage is the last one (a lead there has finished the funnel). Columns:
    ``*by, stage, lost, entered`` where entered = leads that reached the first
    funnel stage of that journey stage (NaN where the funnel has none). For
    ``toolkit.barriers.ranking``, pass ``lost_by_journey_stage(...).set_index('stage')['lost']``
    as ``lost_by_stage``.
    """
    model = stage_model(model)
    by = list(by)
    t = funnel_table(leads, model, by)
    last = model.funnel["order"].max()
    t = t.assign(_measured=t["order"] < last)
    agg = t.groupby([*by, "journey_stage"], sort=True).agg(
        lost=("lost_here", "sum"), entered=("reached", "max"), measured=("_measured", "any")
    ).reset_index()
    agg["lost"] = agg["lost"].astype(float).where(agg["measured"])
    agg = agg.rename(columns={"journey_stage": "stage"})
    stages = model.stages[["stage", "order"]]
    if by:
        grid = agg[by].drop_duplicates().merge(stages, how="cross")
    else:
        grid = stages
    out = grid.merge(agg, on=[*by, "stage"], how="left")
    return out.sort_values([*by, "order"], kind="stable")[[*by, "stage", "lost", "entered"]].reset_index(drop=True)


def stage_kpis(table: pd.DataFrame, model, language: str | None = None) -> dict[str, list[dict]]:
    """KPI items for the journey matrix: each funnel conversion filed under the journey
    stage of its first funnel stage, as ``{text, n, ci}`` (``table`` = ``funnel_table``
    with ``by=()``)."""
    model = stage_model(model)
    lang = language or model.language
    word = {"ru": "конверсия", "en": "conversion"}[lang]
    names = dict(zip(model.funnel["funnel_stage"], model.funnel["name"]))
    out: dict[str, list[dict]] = {}
    for r in table.loc[table["next_stage"].notna()].itertuples(index=False):
        if not np.isfinite(r.conversion):
            continue
        text = (f"{word} {names[r.stage]} → {names[r.next_stage]}: {r.conversion:.0%} "
                f"[{r.ci_lo:.0%}; {r.ci_hi:.0%}], N={int(r.reached)}")
        out.setdefault(r.journey_stage, []).append({"text": text, "n": int(r.reached), "ci": [float(r.ci_lo), float(r.ci_hi)]})
    return out


def funnel_metrics(
    leads: pd.DataFrame | None,
    model,
    traffic: pd.DataFrame | None = None,
    benchmark: Mapping | None = None,
    min_n: int = 30,
) -> dict:
    """``metrics.json`` -> ``funnel``: ``{brand: {stages, counts, conversion, conversion_ci, ...}}``.

    ``stages``: funnel stage ids in order; ``counts``: leads that reached each stage
    (cumulative); ``conversion[i]`` = counts[i+1] / counts[i] (one fewer than
    stages) with ``conversion_ci[i]`` its Wilson interval. Extra keys:
    ``transitions`` ("a->b"), ``stage_names``, ``leads``, ``lost_here``,
    ``bottleneck`` ({from, to, conversion, reference, reference_group, lost_leads,
    lost_finishers, basis}), ``traffic_to_lead`` ({months, sessions, leads, rate, ci}) when traffic
    exists. ``{"skipped": reason}`` without leads or funnel stages.
    """
    model = stage_model(model)
    if leads is None or not len(leads):
        return {"skipped": "no leads table in this case"}
    if not len(model.funnel):
        return {"skipped": "no funnel_stages declared in case.yml"}
    t = funnel_table(leads, model, ("brand",))
    bn = bottleneck(t, ("brand",), benchmark, min_n).set_index("brand")
    ttl = None
    if traffic is not None and len(traffic):
        ttl = traffic_to_lead(leads, traffic, confidence=model.confidence).set_index("brand")
    out = {}
    for brand, g in t.groupby("brand", sort=True):
        g = g.sort_values("order")
        tr = g.loc[g["next_stage"].notna()]
        entry = {
            "stages": list(g["stage"]),
            "stage_names": list(g["stage_name"]),
            "counts": [int(x) for x in g["reached"]],
            "conversion": list(tr["conversion"]),
            "conversion_ci": [[lo, hi] for lo, hi in zip(tr["ci_lo"], tr["ci_hi"])],
            "transitions": [f"{a}->{b}" for a, b in zip(tr["stage"], tr["next_stage"])],
            "leads": int(g["reached"].iloc[0]),
            "lost_here": [int(x) for x in g["lost_here"]],
        }
        if brand in bn.index:
            r = bn.loc[brand]
            entry["bottleneck"] = {
                "from": r["stage"], "to": r["next_stage"], "conversion": r["conversion"], "reference": r["reference"],
                "reference_group": r["reference_group"], "lost_leads": r["lost_leads"],
                "lost_finishers": r["lost_finishers"], "basis": r["basis"],
            }
        if ttl is not None and brand in ttl.index:
            r = ttl.loc[brand]
            entry["traffic_to_lead"] = {
                "months": int(r["months"]), "sessions": int(r["sessions"]), "leads": int(r["leads"]),
                "rate": r["rate"], "ci": [r["ci_lo"], r["ci_hi"]],
            }
        out[str(brand)] = entry
    return jsonable(out)
