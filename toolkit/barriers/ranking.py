"""Barrier ranking (METHOD.md §4): what stops clients, how many, how badly, and what it costs.

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
    of the segment (everyone with a row in ``codes``), not only those who talked
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
revenue at stake
    customers lost at the stage (``lost_by_stage``, e.g. leads that stopped at a
    funnel stage of this journey stage, ``toolkit.stage_mapping.funnel.lost_by_journey_stage``,
    plus any post-purchase losses from the loyalty analysis)
    x expected value per customer (``value_per_customer``, from the loyalty step)
    x mention share. It assumes every lost customer was stopped by one of the
    named barriers, so it is an upper bound of what fixing the barrier can win
    back, not a forecast. A stage whose losses are not measured (no funnel stage
    there and nothing passed in from the loyalty analysis) has NaN, not 0.
    Computed on the overall segment only (losses are not split by persona);
    persona rows carry NaN.
priority (rank)
    Within a segment: revenue at stake desc (unmeasured = 0), then share desc, then
    severity asc (more negative first; missing last), then stage order, then code.
representative quotes
    Up to ``n_quotes`` non-empty quotes from distinct respondents and with distinct
    texts: most negative sentiment first, then the shortest quote, then respondent
    id, then the text (fully deterministic; a respondent's best quote is the one
    kept).

Recommendation library
----------------------
A YAML file with two sections, ``barriers`` and ``touchpoints``, each a mapping
``key -> {name: {ru, en}, aliases: [...], actions: [{ru, en}, ...]}``. The package
default is ``toolkit/resources/recommendations.yml``; a case may put its own
``recommendations.yml`` in its folder. Merge rule: a case entry replaces the
default entry with the same key, unless it says ``extend: true``, in which case
its aliases and actions are added after the default's; new keys are added. A
barrier code finds its entry by key, name or alias (normalised: lower case, ё->е,
spaces -> _); case entries win alias clashes. A barrier with no entry of its own
gets the entry of its most frequent touchpoint; a barrier with neither is listed by
``missing_recommendations`` for the consultant to fill.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats as _st

from toolkit.stage_mapping.funnel import jsonable
from toolkit.stage_mapping.journey import (
    OVERALL,
    _segment_key,
    code_labels,
    column,
    share_evidence,
    match_touchpoints,
    norm_key,
    respondent_segments,
    segmented,
    share_with_ci,
    stage_model,
)

LIBRARY_FILE = "recommendations.yml"
SECTIONS = ("barriers", "touchpoints")


# -- recommendation library -------------------------------------------------------


def default_library() -> dict:
    """The package's default recommendation library."""
    text = resources.files("toolkit").joinpath("resources", LIBRARY_FILE).read_text(encoding="utf-8")
    return _normalise_library(yaml.safe_load(text) or {}, source="default")


def _normalise_library(lib: Mapping, source: str) -> dict:
    out = {}
    for section in SECTIONS:
        entries = (lib or {}).get(section) or {}
        out[section] = {}
        for key, entry in entries.items():
            e = dict(entry or {})
            e["aliases"] = list(e.get("aliases") or [])
            e["actions"] = [a if isinstance(a, Mapping) else {"ru": str(a), "en": str(a)} for a in e.get("actions") or []]
            e["_source"] = source
            out[section][str(key)] = e
    return out


def merge_recommendations(base: Mapping, override: Mapping) -> dict:
    """``override`` merged over ``base`` (see the module docstring for the rule)."""
    out = copy.deepcopy(dict(base))
    for section in SECTIONS:
        out.setdefault(section, {})
        for key, entry in (override.get(section) or {}).items():
            if entry.get("extend") and key in out[section]:
                old = out[section][key]
                old["aliases"] = list(dict.fromkeys([*old.get("aliases", []), *entry.get("aliases", [])]))
                old["actions"] = [*old.get("actions", []), *entry.get("actions", [])]
                if entry.get("name"):
                    old["name"] = entry["name"]
                old["_source"] = entry.get("_source", "case")
            else:
                out[section][key] = copy.deepcopy(dict(entry))
    return out


def load_recommendations(case_dir: str | Path | None = None) -> dict:
    """The default library, with ``<case_dir>/recommendations.yml`` merged over it when present."""
    lib = default_library()
    if case_dir is not None:
        path = Path(case_dir) / LIBRARY_FILE
        if path.is_file():
            own = _normalise_library(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, source="case")
            lib = merge_recommendations(lib, own)
    return lib


def _index(library: Mapping, section: str) -> dict:
    """normalised key/name/alias -> entry key; exact keys first, case entries win clashes."""
    entries = (library or {}).get(section) or {}
    idx: dict[str, str] = {}
    ordered = sorted(entries.items(), key=lambda kv: kv[1].get("_source") == "case")
    for key, e in ordered:
        names = e.get("name") or {}
        labels = [*(names.values() if isinstance(names, Mapping) else [names]), *e.get("aliases", [])]
        for label in labels:
            k = norm_key(label)
            if k:
                idx[k] = key
    for key in entries:
        idx[norm_key(key)] = key
    return idx


def library_key(code, library: Mapping, section: str = "barriers") -> str | None:
    """The library entry a code (or touchpoint) belongs to, or None."""
    return _index(library, section).get(norm_key(code))


def library_names(library: Mapping, language: str) -> dict:
    """normalised barrier/touchpoint label -> display name in ``language``."""
    out = {}
    for section in SECTIONS:
        entries = (library or {}).get(section) or {}
        for label, key in _index(library, section).items():
            name = (entries[key].get("name") or {})
            if isinstance(name, Mapping) and name.get(language):
                out.setdefault(label, name[language])
    return out


def actions_for(code, library: Mapping, language: str = "ru", touchpoint=None) -> list[str]:
    """Suggested actions (texts in ``language``) for a barrier code, falling back to its touchpoint."""
    if not library:
        return []
    for section, value in (("barriers", code), ("touchpoints", touchpoint)):
        if value is None or value is pd.NA:
            continue
        key = library_key(value, library, section)
        if key:
            acts = library[section][key].get("actions") or []
            texts = [a.get(language) or a.get("en") or a.get("ru") for a in acts]
            return [t for t in texts if t]
    return []


# -- the ranking ------------------------------------------------------------------


def _t_interval(mean, sd, n, confidence):
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _st.t.ppf(0.5 + confidence / 2.0, df=np.where(n > 1, n - 1, np.nan))
        half = t * np.asarray(sd, dtype=float) / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    return mean - half, mean + half


def _as_series(x) -> pd.Series:
    if x is None:
        return pd.Series(dtype=float)
    if isinstance(x, pd.DataFrame):
        return x.set_index("stage")["lost"].astype(float)
    return pd.Series(dict(x) if isinstance(x, Mapping) else x, dtype=float)


def barrier_table(
    codes: pd.DataFrame,
    model,
    respondents: pd.DataFrame | None = None,
    personas=None,
    lost_by_stage=None,
    value_per_customer: float | None = None,
    library: Mapping | None = None,
    labels: Mapping | None = None,
    n_quotes: int = 3,
) -> pd.DataFrame:
    """Barriers per segment (overall, persona, business line) and stage, ranked.

    ``lost_by_stage``: Mapping/Series journey stage -> customers lost there (or the
    DataFrame of ``toolkit.stage_mapping.funnel.lost_by_journey_stage``); ``value_per_customer``:
    expected revenue per customer. Columns: ``segment_type, segment, rank, stage,
    stage_name, stage_order, code, label, respondents, fragments, base, share, ci_lo,
    ci_hi, severity, severity_lo, severity_hi, mention_share, lost_at_stage,
    revenue_at_stake, evidence, touchpoint, quotes (list), library_key, actions
    (list)``. Rules in the module docstring.
    """
    model = stage_model(model)
    lang = model.language
    order = model.stage_order()
    all_codes = codes.loc[codes["stage"].isin(order)].assign(respondent_id=lambda d: d["respondent_id"].astype("string"))
    segs = respondent_segments(respondents, personas)
    seg_all = segmented(all_codes, segs)
    base = seg_all.groupby(["segment_type", "segment"], sort=True)["respondent_id"].nunique().rename("base").reset_index()
    b = seg_all.loc[seg_all["code_type"] == "barrier"].copy()
    b["code"] = b["code"].astype("string")
    b["sentiment"] = pd.to_numeric(column(b, "sentiment"), errors="coerce").astype(float)
    keys = ["segment_type", "segment", "stage", "code"]
    cols_out = ["segment_type", "segment", "rank", "stage", "stage_name", "stage_order", "code", "label", "respondents",
                "fragments", "base", "share", "ci_lo", "ci_hi", "severity", "severity_lo", "severity_hi", "mention_share",
                "lost_at_stage", "revenue_at_stake", "evidence", "touchpoint", "quotes", "library_key", "actions"]
    if not len(b):
        return pd.DataFrame(columns=cols_out)

    g = b.groupby(keys, sort=True).agg(respondents=("respondent_id", "nunique"), fragments=("respondent_id", "size")).reset_index()
    g = g.merge(base, on=["segment_type", "segment"], how="left")
    g = pd.concat([g, share_with_ci(g["respondents"], g["base"], model.confidence)], axis=1)

    # severity: respondent mean first, then over respondents
    per_resp = b.dropna(subset=["sentiment"]).groupby([*keys, "respondent_id"], sort=True)["sentiment"].mean()
    sev = per_resp.groupby(level=list(range(len(keys))), sort=True).agg(["mean", "std", "count"]).reset_index()
    sev["severity_lo"], sev["severity_hi"] = _t_interval(sev["mean"].to_numpy(), sev["std"].to_numpy(), sev["count"].to_numpy(), model.confidence)
    g = g.merge(sev.rename(columns={"mean": "severity"})[[*keys, "severity", "severity_lo", "severity_hi"]], on=keys, how="left")

    # attribution: the barrier's share of barrier mentions at its stage and segment
    stage_total = g.groupby(["segment_type", "segment", "stage"], sort=True)["respondents"].transform("sum")
    g["mention_share"] = g["respondents"] / stage_total
    lost = _as_series(lost_by_stage)
    overall = g["segment_type"] == OVERALL[0]
    g["lost_at_stage"] = np.where(overall, g["stage"].map(lost).astype(float), np.nan)
    value = np.nan if value_per_customer is None else float(value_per_customer)
    g["revenue_at_stake"] = g["lost_at_stage"] * value * g["mention_share"]

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
    t = table.assign(
        _seg=_segment_key(table),
        _rev=table["revenue_at_stake"].fillna(0.0),
        _sev=table["severity"].fillna(np.inf),
    )
    t = t.sort_values(
        ["_seg", "segment", "_rev", "share", "_sev", "stage_order", "code"],
        ascending=[True, True, False, False, True, True, True],
        kind="stable",
    )
    t["rank"] = t.groupby(["segment_type", "segment"], sort=False).cumcount() + 1
    return t.drop(columns=["_seg", "_rev", "_sev"]).reset_index(drop=True)


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
    lost_by_stage=None,
    value_per_customer: float | None = None,
    respondents: pd.DataFrame | None = None,
    library: Mapping | None = None,
    limit: int | None = None,
    labels: Mapping | None = None,
    table: pd.DataFrame | None = None,
) -> list[dict]:
    """``metrics.json`` -> ``barriers``: the overall ranking, highest priority first.

    Each item: ``{code, label, stage, respondents, share, ci: [lo, hi], severity,
    revenue_at_stake, rank, base, mention_share, lost_at_stage, evidence, quotes,
    actions}`` (NaN -> None). ``table``: an already computed :func:`barrier_table`
    (the other arguments are then not used).
    """
    if table is None:
        table = barrier_table(codes, model, respondents=respondents, lost_by_stage=lost_by_stage,
                              value_per_customer=value_per_customer, library=library, labels=labels)
    t = table
    t = t.loc[t["segment_type"] == OVERALL[0]]
    if limit:
        t = t.head(limit)
    out = []
    for r in t.itertuples(index=False):
        out.append({
            "code": r.code, "label": r.label, "stage": r.stage, "respondents": int(r.respondents),
            "share": r.share, "ci": [r.ci_lo, r.ci_hi], "severity": r.severity,
            "revenue_at_stake": r.revenue_at_stake, "rank": int(r.rank), "base": int(r.base),
            "mention_share": r.mention_share, "lost_at_stage": r.lost_at_stage, "evidence": r.evidence,
            "quotes": list(r.quotes), "actions": list(r.actions),
        })
    return jsonable(out)
