"""The stage model (METHOD.md §3): the case's journey stages with touchpoints, funnel stages
and choice factors attached, the rows of the journey map, and the evidence rules every
step uses (see :mod:`toolkit.stage_mapping.journey` for the definitions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit.core.text import key
from toolkit.core.words import word
from toolkit.core.stats import DEFAULT_CONFIDENCE, wilson_interval

ROWS = (
    "goals",
    "expectations",
    "touchpoints",
    "motivators",
    "choice_factors",
    "emotions",
    "barriers",
    "opportunities",
    "kpis",
)

def row_label(row: str, language: str) -> str:
    """Display name of a map row (word catalog ``map.row.<row>``)."""
    return word(f"map.row.{row}", language)


# which matrix row a code type feeds
ROW_OF_CODE_TYPE = {
    "jtbd": "goals",
    "expectation": "expectations",
    "touchpoint": "touchpoints",
    "motivator": "motivators",
    "choice_factor": "choice_factors",
    "emotion": "emotions",
    "barrier": "barriers",
    "idea": "opportunities",
}



def channel_label(channel: str, language: str) -> str:
    """"online"/"offline" in the report language (word catalog ``map.channel.<channel>``)."""
    return word(f"map.channel.{channel}", language)

EVIDENCE_LEVELS = ("strong", "partial", "none")
EVIDENCE_MARKS = {"strong": "●", "partial": "◐", "none": "○"}
STRONG_SHARE_FLOOR = 0.10  # share cells: Wilson lower end at least this
MAX_MEAN_WIDTH = 0.30  # mean cells: t-interval at most this fraction of the scale
MAX_RATE_WIDTH = 0.10  # KPI rates: interval at most ten percentage points wide
SENTIMENT_RANGE = 4.0  # -2..+2

OVERALL = ("overall", "all")


# -- small shared helpers ---------------------------------------------------------


def norm_key(value) -> str:
    """Normalised form for matching labels (``toolkit.core.text.key``): case-folded, ё->е,
    quotes dropped, spaces/hyphens/slashes -> '_'."""
    return key(value)


def column(df: pd.DataFrame, name: str, dtype=None) -> pd.Series:
    """``df[name]`` or an all-missing column of the same length when the column is absent."""
    if name in df.columns:
        return df[name]
    return pd.Series(pd.NA, index=df.index, dtype=dtype or "object")


def evidence_level(n, width, min_respondents: int, max_width: float = MAX_MEAN_WIDTH):
    """Evidence level from an interval's width (vectorised): mean and KPI cells.

    ``n``: respondents (or records) behind the cell; ``width``: the interval width on
    the cell's scale (NaN = unknown, which can never be ``strong``). See the module
    docstring.
    """
    n = np.nan_to_num(np.asarray(n, dtype=float), nan=0.0)
    w = np.nan_to_num(np.asarray(width, dtype=float), nan=np.inf)
    out = np.where(n > 0, "partial", "none").astype(object)
    out[(n >= min_respondents) & (w <= max_width + 1e-9)] = "strong"  # 1e-9: 0.45 - 0.35 is 0.1000...03
    return str(out) if out.ndim == 0 else out


def share_evidence(n, ci_lo, min_respondents: int, floor: float = STRONG_SHARE_FLOOR):
    """Evidence level of a share cell (vectorised): ``strong`` needs ``n >= min_respondents``
    and the Wilson lower end ``ci_lo >= floor``. See the module docstring."""
    n = np.nan_to_num(np.asarray(n, dtype=float), nan=0.0)
    lo = np.nan_to_num(np.asarray(ci_lo, dtype=float), nan=-np.inf)
    out = np.where(n > 0, "partial", "none").astype(object)
    out[(n >= min_respondents) & (lo >= floor - 1e-12)] = "strong"
    return str(out) if out.ndim == 0 else out


# -- the stage model --------------------------------------------------------------


@dataclass(frozen=True)
class StageModel:
    """The case's journey stages with touchpoints, funnel stages and choice factors attached."""

    stages: pd.DataFrame  # stage, name, order
    funnel: pd.DataFrame  # funnel_stage, name, order, journey_stage
    touchpoints: pd.DataFrame  # touchpoint, name, channel, stage
    factors: pd.DataFrame  # factor, name, kind, level
    language: str = "ru"
    confidence: float = DEFAULT_CONFIDENCE
    evidence_min_respondents: int = 5
    touchpoint_lookup: dict = field(default_factory=dict)  # normalised id/name/alias -> touchpoint id
    factor_lookup: dict = field(default_factory=dict)  # normalised id/name/alias -> factor id
    funnel_lookup: dict = field(default_factory=dict)  # normalised id/name/alias -> funnel stage id

    def stage_ids(self) -> list[str]:
        return list(self.stages["stage"])

    def stage_names(self) -> dict[str, str]:
        return dict(zip(self.stages["stage"], self.stages["name"]))

    def stage_order(self) -> dict[str, int]:
        return dict(zip(self.stages["stage"], self.stages["order"]))


def _lookup(items) -> dict:
    out: dict[str, str] = {}
    for it in items:
        for label in [it.id, it.name, *it.aliases]:
            key = norm_key(label)
            if key and key not in out:
                out[key] = it.id
    return out


def stage_model(case) -> StageModel:
    """Build the stage model of a ``toolkit.core.config.Case`` (a ``StageModel`` is returned as is)."""
    if isinstance(case, StageModel):
        return case
    stages = pd.DataFrame(
        {
            "stage": [s.id for s in case.journey_stages],
            "name": [s.label for s in case.journey_stages],
            "order": range(len(case.journey_stages)),
        }
    )
    funnel = pd.DataFrame(
        {
            "funnel_stage": [f.id for f in case.funnel_stages],
            "name": [f.label for f in case.funnel_stages],
            "order": range(len(case.funnel_stages)),
            "journey_stage": [f.journey_stage for f in case.funnel_stages],
        },
        columns=["funnel_stage", "name", "order", "journey_stage"],
    )
    touchpoints = pd.DataFrame(
        {
            "touchpoint": [t.id for t in case.touchpoints],
            "name": [t.label for t in case.touchpoints],
            "channel": [t.channel for t in case.touchpoints],
            "stage": pd.array([t.stage for t in case.touchpoints], dtype="string"),
        },
        columns=["touchpoint", "name", "channel", "stage"],
    )
    factors = pd.DataFrame(
        {
            "factor": [f.id for f in case.choice_factors],
            "name": [f.label for f in case.choice_factors],
            "kind": [f.kind for f in case.choice_factors],
            "level": pd.array([f.level for f in case.choice_factors], dtype="string"),
        },
        columns=["factor", "name", "kind", "level"],
    )
    stages = stages.astype({"stage": "string", "name": "string"})
    funnel = funnel.astype({"funnel_stage": "string", "name": "string", "journey_stage": "string", "order": int})
    touchpoints = touchpoints.astype({"touchpoint": "string", "name": "string", "channel": "string", "stage": "string"})
    factors = factors.astype({"factor": "string", "name": "string", "kind": "string", "level": "string"})
    return StageModel(
        stages=stages,
        funnel=funnel,
        touchpoints=touchpoints,
        factors=factors,
        language=case.language,
        confidence=case.parameters.confidence,
        evidence_min_respondents=case.parameters.evidence_min_respondents,
        touchpoint_lookup=_lookup(case.touchpoints),
        factor_lookup=_lookup(case.choice_factors),
        funnel_lookup=_lookup(case.funnel_stages),
    )


def match_touchpoints(values: pd.Series, model: StageModel) -> pd.Series:
    """Declared touchpoint id for each free-text touchpoint label (id, name or alias); NA if none."""
    model = stage_model(model)
    keys = values.map(norm_key, na_action="ignore")
    return keys.map(model.touchpoint_lookup).astype("string")


def match_factors(values: pd.Series, model: StageModel) -> pd.Series:
    """Declared choice-factor id for each code label (id, name or alias); NA if none."""
    model = stage_model(model)
    keys = values.map(norm_key, na_action="ignore")
    return keys.map(model.factor_lookup).astype("string")


