"""Choice factors (METHOD.md §§2-3): hard and soft factors on the three levels, from the
coded interviews and the survey's importances."""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.core.stages import OVERALL, column, share_evidence, stage_model, match_factors
from toolkit.core.stats import share_with_ci
from toolkit.stage_mapping.journey import respondent_segments, segmented, _segment_key


def _mode(values: pd.Series) -> pd.Series:
    """Most frequent non-missing value per group key (index level 0); ties alphabetical."""
    v = values.dropna()
    if not len(v):
        return pd.Series(dtype="string")
    counts = v.groupby([v.index, v.values]).size().rename("n").reset_index()
    counts.columns = ["key", "value", "n"]
    counts = counts.sort_values(["key", "n", "value"], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("key").set_index("key")["value"].astype("string")


def _factor_rows(codes: pd.DataFrame, include_tagged: bool) -> pd.Series:
    is_factor = codes["code_type"] == "choice_factor"
    if include_tagged:
        tagged = column(codes, "factor_kind").notna() | column(codes, "level").notna()
        is_factor = is_factor | tagged
    return is_factor.fillna(False).astype(bool)


def choice_factors(
    codes: pd.DataFrame,
    model,
    respondents: pd.DataFrame | None = None,
    personas=None,
    include_tagged: bool = True,
) -> pd.DataFrame:
    """How often each choice factor comes up in the interviews, per segment.

    A factor is a ``choice_factor`` code and, with ``include_tagged``, any other
    code the coder tagged with a ``factor_kind`` or ``level`` (a barrier such as
    "high price" or a motivator such as "doctor's portfolio" is what the client
    weighs when comparing options). Codes are matched to a declared choice factor
    by id, name or alias (an undeclared code is kept under its own name);
    ``code_type`` lists the code types behind the factor. Its *kind*
    (hard: the company cannot move it, e.g. budget; soft: shaped while the client
    studies the options) and its *evaluation level* (strategic_group / company /
    doctor) come from the codes' ``factor_kind`` / ``level`` (most frequent value
    per factor), else from the case's declaration (``kind_source``/``level_source``
    say which). respondents = interviewed respondents of the segment mentioning
    the factor; share = respondents / base with a Wilson interval, base = the
    segment's interviewed respondents (everyone coded, not only those who talked
    about choice).

    Columns: ``segment_type, segment, factor, factor_name, kind, kind_source, level,
    level_source, respondents, base, share, ci_lo, ci_hi, evidence``, sorted by
    segment then share desc.
    """
    model = stage_model(model)
    c = codes.assign(respondent_id=codes["respondent_id"].astype("string"))
    segs = respondent_segments(respondents, personas)
    seg = segmented(c, segs)
    base = seg.groupby(["segment_type", "segment"], sort=True)["respondent_id"].nunique().rename("base").reset_index()
    f = seg.loc[_factor_rows(seg, include_tagged)]
    fid = match_factors(f["code"].astype("string"), model).combine_first(f["code"].astype("string"))
    f = f.assign(factor=fid)
    g = f.groupby(["segment_type", "segment", "factor"], sort=True)["respondent_id"].nunique().rename("respondents").reset_index()
    g = g.merge(base, on=["segment_type", "segment"], how="left")
    types = f.groupby("factor", sort=True)["code_type"].agg(lambda x: ",".join(sorted(set(x.astype(str)))))
    g["code_type"] = g["factor"].map(types)
    # kind and level: codes first (the coder saw the context), the case's declaration second
    over = f.loc[f["segment_type"] == OVERALL[0]]
    kind_codes = _mode(column(over, "factor_kind").astype("string").set_axis(over["factor"].to_numpy()))
    level_codes = _mode(column(over, "level").astype("string").set_axis(over["factor"].to_numpy()))
    decl = model.factors.set_index("factor")
    g["kind"] = g["factor"].map(kind_codes).astype("string")
    g["kind_source"] = np.where(g["kind"].notna(), "codes", None)
    g["kind"] = g["kind"].combine_first(g["factor"].map(decl["kind"]).astype("string"))
    g["kind_source"] = np.where(g["kind_source"].isna() & g["kind"].notna(), "case", g["kind_source"])
    g["level"] = g["factor"].map(level_codes).astype("string")
    g["level_source"] = np.where(g["level"].notna(), "codes", None)
    g["level"] = g["level"].combine_first(g["factor"].map(decl["level"]).astype("string"))
    g["level_source"] = np.where(g["level_source"].isna() & g["level"].notna(), "case", g["level_source"])
    g["factor_name"] = g["factor"].map(decl["name"]).astype("string").combine_first(g["factor"])
    sh = share_with_ci(g["respondents"], g["base"], model.confidence)
    g = pd.concat([g.reset_index(drop=True), sh], axis=1)
    g["evidence"] = share_evidence(g["respondents"], g["ci_lo"], model.evidence_min_respondents)
    g = g.assign(_seg=_segment_key(g)).sort_values(["_seg", "segment", "share", "factor"], ascending=[True, True, False, True], kind="stable")
    cols = ["segment_type", "segment", "factor", "factor_name", "code_type", "kind", "kind_source", "level", "level_source",
            "respondents", "base", "share", "ci_lo", "ci_hi", "evidence"]
    return g[cols].reset_index(drop=True)


def choice_factor_summary(
    codes: pd.DataFrame,
    model,
    respondents: pd.DataFrame | None = None,
    personas=None,
    include_tagged: bool = True,
) -> pd.DataFrame:
    """Share of respondents per segment naming any hard / soft factor and any factor of
    each evaluation level (strategic_group, company, doctor), with Wilson intervals.

    Columns: ``segment_type, segment, dimension ('kind'|'level'), value, respondents,
    base, share, ci_lo, ci_hi``. A respondent naming two company-level factors counts once.
    """
    model = stage_model(model)
    table = choice_factors(codes, model, respondents, personas, include_tagged)
    c = codes.assign(respondent_id=codes["respondent_id"].astype("string"))
    seg = segmented(c, respondent_segments(respondents, personas))
    base = seg.groupby(["segment_type", "segment"], sort=True)["respondent_id"].nunique().rename("base").reset_index()
    f = seg.loc[_factor_rows(seg, include_tagged)]
    f = f.assign(factor=match_factors(f["code"].astype("string"), model).combine_first(f["code"].astype("string")))
    over = table.loc[table["segment_type"] == OVERALL[0]].set_index("factor")
    parts = []
    for dim in ("kind", "level"):
        v = f.assign(value=f["factor"].map(over[dim]).astype("string")).dropna(subset=["value"])
        g = v.groupby(["segment_type", "segment", "value"], sort=True)["respondent_id"].nunique().rename("respondents").reset_index()
        parts.append(g.assign(dimension=dim))
    out = pd.concat(parts, ignore_index=True).merge(base, on=["segment_type", "segment"], how="left")
    out = pd.concat([out, share_with_ci(out["respondents"], out["base"], model.confidence)], axis=1)
    out = out.assign(_seg=_segment_key(out)).sort_values(["_seg", "segment", "dimension", "value"], kind="stable")
    return out[["segment_type", "segment", "dimension", "value", "respondents", "base", "share", "ci_lo", "ci_hi"]].reset_index(drop=True)
