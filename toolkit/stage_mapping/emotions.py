"""The emotion curve (METHOD.md §4): mean sentiment per stage and segment, from the coded
interviews and the survey's touchpoint satisfaction (definitions: :mod:`toolkit.stage_mapping.journey`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from toolkit.core.stages import MAX_MEAN_WIDTH, SENTIMENT_RANGE, column, evidence_level, stage_model
from toolkit.stage_mapping.journey import respondent_segments, segmented, _segment_key, emotion_fragments, _sentiment_by_stage


def infer_sat_scale(survey: pd.DataFrame) -> tuple[float, float]:
    """The survey's satisfaction scale from its ``sat_`` answers: 1..5, 0..5, 1..7, 1..10, 0..10 or 0..100.

    Rule: the smallest common scale containing every answer (pass ``sat_scale``
    explicitly when the questionnaire says otherwise).
    """
    cols = [c for c in survey.columns if c.startswith("sat_")]
    vals = survey[cols].apply(pd.to_numeric, errors="coerce").to_numpy(float) if cols else np.array([])
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        return (1.0, 5.0)
    lo, hi = float(vals.min()), float(vals.max())
    for a, b in ((1, 5), (0, 5), (1, 7), (1, 10), (0, 10), (0, 100)):
        if lo >= a and hi <= b:
            return (float(a), float(b))
    return (lo, hi)


def rescale_to_sentiment(x, scale: tuple[float, float]):
    """Linear map of [lo, hi] onto -2..+2 (lo -> -2, hi -> +2)."""
    lo, hi = scale
    return -2.0 + 4.0 * (np.asarray(x, dtype=float) - lo) / (hi - lo)


def emotion_curve(
    codes: pd.DataFrame | None,
    model,
    respondents: pd.DataFrame | None = None,
    personas=None,
    survey: pd.DataFrame | None = None,
    code_types: Sequence[str] | None = None,
    sat_scale: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Mean sentiment per stage and segment (overall, persona, business line), from two sources.

    - ``source = 'interviews'``: coded fragments with a sentiment (emotion fragments,
      or ``code_types``; see ``emotion_fragments``); respondent mean first, then mean
      over respondents with a t-interval; n = respondents; ``basis`` names the
      fragments used.
    - ``source = 'survey'``: ``sat_<touchpoint>`` rescaled to -2..+2 (``sat_scale``,
      inferred by ``infer_sat_scale`` when absent), mapped to the touchpoint's stage;
      respondent mean over the stage's touchpoints first, then mean over respondents.
      Survey personas come from ``personas`` (or a ``persona`` column of the survey),
      business lines from the survey's ``business_line``.

    Columns: ``source, segment_type, segment, stage, stage_name, stage_order, mean,
    lo, hi, n, evidence`` (+ ``scale_lo, scale_hi`` for survey rows). Stages without
    data are absent (a curve has gaps rather than invented zeros).
    """
    model = stage_model(model)
    order = model.stage_order()
    parts = []
    if codes is not None and len(codes):
        c, basis = emotion_fragments(codes.loc[codes["stage"].isin(order)], code_types)
        c = c.assign(respondent_id=c["respondent_id"].astype("string"))
        seg = segmented(c, respondent_segments(respondents, personas))
        e = _sentiment_by_stage(seg, model.confidence).drop(columns="row")
        parts.append(e.assign(source="interviews", basis=basis))
    if survey is not None and len(survey):
        tp = model.touchpoints.dropna(subset=["stage"])
        stage_of = {f"sat_{t}": s for t, s in zip(tp["touchpoint"], tp["stage"]) if s in order}
        cols = [c for c in survey.columns if c in stage_of]
        if cols:
            scale = tuple(sat_scale) if sat_scale else infer_sat_scale(survey[cols])
            long = survey[["respondent_id", *cols]].melt(id_vars="respondent_id", var_name="col", value_name="sat")
            long["sat"] = pd.to_numeric(long["sat"], errors="coerce").astype(float)
            long = long.dropna(subset=["sat"])
            long = long.assign(
                respondent_id=long["respondent_id"].astype("string"),
                stage=long["col"].map(stage_of),
                sentiment=rescale_to_sentiment(long["sat"], scale),
            )
            resp = survey[["respondent_id"] + [c for c in ("persona", "business_line") if c in survey.columns]]
            resp = resp.assign(respondent_id=resp["respondent_id"].astype("string"))
            seg = segmented(long, respondent_segments(resp, personas))
            e = _sentiment_by_stage(seg, model.confidence).drop(columns="row")
            parts.append(e.assign(source="survey", basis="sat", scale_lo=scale[0], scale_hi=scale[1]))
    cols = ["source", "basis", "segment_type", "segment", "stage", "stage_name", "stage_order", "mean", "lo", "hi", "n",
            "evidence"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["stage_name"] = out["stage"].map(model.stage_names())
    out["stage_order"] = out["stage"].map(order).astype(int)
    out["n"] = out["n"].astype(int)
    out["evidence"] = evidence_level(out["n"], (out["hi"] - out["lo"]) / SENTIMENT_RANGE, model.evidence_min_respondents,
                                     MAX_MEAN_WIDTH)
    out = out.assign(_seg=_segment_key(out)).sort_values(["source", "_seg", "segment", "stage_order"], kind="stable")
    extra = [c for c in ("scale_lo", "scale_hi") if c in out.columns]
    return out[cols + extra].reset_index(drop=True)


# -- choice factors ---------------------------------------------------------------


