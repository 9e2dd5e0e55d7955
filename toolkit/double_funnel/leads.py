"""Lead outcomes shared by the double funnel and the profit formula: the deal stage, whether a
lead reached it, lost reasons, rates with their intervals, lead -> persona links.

Definitions (lead, deal stage, price reason, lead -> persona link): see
``toolkit.double_funnel.nontarget``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit.core.stats import rate_with_ci
from toolkit.core.text import normalise
from toolkit.stage_mapping.funnel import stage_index, attach_personas
from toolkit.core.stages import stage_model

DAYS_PER_YEAR = 365.25


def normalise_reason(values: pd.Series) -> pd.Series:
    """Lost reasons in a comparable form (``toolkit.core.text.normalise``, punctuation dropped).

    Blank or missing values become NA.
    """
    s = pd.Series(values, dtype="string")
    forms = {v: normalise(v, drop_punctuation=True) for v in s.dropna().unique()}  # each distinct reason once
    s = s.map(forms).astype("string")
    return s.where(s.str.len() > 0)


def is_price_reason(values: pd.Series, price_reasons: Sequence[str]) -> pd.Series:
    """True where the lost reason is one of ``price_reasons`` after normalising both (see
    :func:`normalise_reason`); False for other reasons and for blanks."""
    wanted = set(normalise_reason(pd.Series(list(price_reasons), dtype="string")).dropna())
    norm = normalise_reason(values)
    return norm.isin(wanted).fillna(False).astype(bool)


_PURCHASE = re.compile(r"deal|payment|purchase|order|checkout|сделк|оплат|покупк|заказ|договор", re.IGNORECASE)


def deal_stage(model) -> tuple[str | None, int | None, str]:
    """``(funnel_stage_id, order, rule)`` of the deal stage (module doc); rule is
    ``'journey_stage_deal'``, ``'purchase_journey_stage'`` or ``'last_funnel_stage'``;
    ``(None, None, 'no_funnel')`` without a funnel."""
    model = stage_model(model)
    fn = model.funnel.sort_values("order")
    if not len(fn):
        return None, None, "no_funnel"
    hit = fn[fn["journey_stage"] == "deal"]
    rule = "journey_stage_deal"
    if not len(hit):
        st = model.stages.sort_values("order")
        words = st["stage"].astype(str) + " " + st["name"].astype(str)
        buying = [s for s, w in zip(st["stage"], words) if _PURCHASE.search(w) and (fn["journey_stage"] == s).any()]
        hit = fn[fn["journey_stage"] == buying[0]] if buying else fn.iloc[0:0]
        rule = "purchase_journey_stage"
    if len(hit):
        return str(hit["funnel_stage"].iloc[-1]), int(hit["order"].iloc[-1]), rule
    return str(fn["funnel_stage"].iloc[-1]), int(fn["order"].iloc[-1]), "last_funnel_stage"


def lead_outcomes(leads: pd.DataFrame, model) -> pd.DataFrame:
    """``leads`` plus ``stage_order`` (NaN: not a funnel stage), ``reached_deal`` and ``lost``."""
    model = stage_model(model)
    idx = stage_index(leads, model)  # the funnel module's reading of stage_reached
    _, deal_order, _ = deal_stage(model)
    last = len(model.funnel) - 1
    known = idx.notna()
    return leads.assign(
        stage_order=idx,
        reached_deal=(known & (idx >= (deal_order if deal_order is not None else np.inf))).astype(bool),
        lost=(known & (idx < last)).astype(bool),
    )


def lead_personas(
    leads: pd.DataFrame,
    assignments: pd.DataFrame | None,
    link: pd.DataFrame | None,
) -> tuple[pd.Series, str | None]:
    """Persona of each lead through the CRM customer id (module doc), and a note.

    ``assignments``: ``respondent_id, persona`` (the persona step's assignments);
    ``link``: a table with ``respondent_id`` and ``customer_id`` (the survey or the respondents
    table). Returns a string Series aligned with ``leads`` (NA = no link) and a note saying why
    no lead could be linked, or None.
    """
    empty = pd.Series(pd.NA, index=leads.index, dtype="string")
    if assignments is None or not len(assignments):
        return empty, "no survey personas: the persona rule contributes nothing"
    if link is None or "customer_id" not in link.columns:
        return empty, (
            "the survey carries no CRM customer_id, so no lead can be linked to a persona: "
            "the persona rule contributes nothing"
        )
    if "customer_id" not in leads.columns:
        return empty, "the leads carry no customer_id: the persona rule contributes nothing"
    pairs = link[["respondent_id", "customer_id"]].dropna().merge(assignments, on="respondent_id", how="inner")
    pairs = pairs.sort_values(["customer_id", "respondent_id"], kind="stable")
    out = attach_personas(leads, pairs[["customer_id", "persona"]])["persona"]
    note = None if out.notna().any() else "no lead's customer_id matches a surveyed customer"
    return out, note


def lead_to_deal(leads: pd.DataFrame, model, confidence: float = 0.95) -> dict[str, Any]:
    """Lead -> deal conversion of a set of leads (leads with an unknown stage left out)."""
    o = lead_outcomes(leads, model)
    known = o["stage_order"].notna()
    return rate_with_ci(int(o.loc[known, "reached_deal"].sum()), int(known.sum()), confidence)


def leads_per_year(created_at: pd.Series) -> tuple[float, int]:
    """``(leads per year, period_days)``: leads x 365.25 / days from the first to the last lead
    (inclusive). NaN with no dates."""
    d = pd.to_datetime(created_at).dropna()
    if not len(d):
        return float("nan"), 0
    days = int((d.max() - d.min()).days) + 1
    return len(d) * DAYS_PER_YEAR / days, days
