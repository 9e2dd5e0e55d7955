"""Where the lost non-target leads go: the leak to competitors, measured where the data allow.

Rules
-----
The leads considered are the premium brand's *lost non-target* leads (non-target by the rules
of ``toolkit.double_funnel.nontarget``, lost, no deal).

1. **Lost reason naming a competitor**: among those with a recorded lost reason that says where
   the lead went or why (a price reason, ``parameters.price_lost_reasons``, says neither, so it is
   left out of the base), the share whose reason is one of ``parameters.competitor_lost_reasons`` (exact match after
   ``normalise_reason``) or, when that list is empty, names a competitor, another clinic, store,
   shop or brand, or "elsewhere" (``COMPETITOR_PATTERN``). Wilson interval. Basis
   ``lost_reason_names_competitor``.
2. **Never seen as customers**: among those linked to a customer (``leads.customer_id``), the
   share with no purchase at the group (any brand; a visit of the sales history up to the
   analysis date, refunds are not purchases) on or after the lead's creation date. They
   bought elsewhere or not at all, so this is an *upper bound* of the leak. Basis
   ``not_seen_in_sales_history``.

A rule *measures* the leak when its base has at least ``parameters.min_segment_size`` leads.
``value``: rule 1 when it measures (``high``: rule 2's share when it is measured too, else the
Wilson upper end); else rule 2 (``low``: its Wilson lower end); else the case's assumption
``parameters.leak_to_competitors`` (``measured: false``, basis ``assumption``, with the range of
``parameters.leak_sensitivity``). The sensitivity lists, for each leak share, the non-target
leads a year that go to competitors today: non-target leads per year x (1 - their conversion
now) x leak.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from toolkit.core.sales import SalesHistory, as_sales_history
from toolkit.double_funnel.leads import is_price_reason, normalise_reason, rate_with_ci

COMPETITOR_PATTERN = re.compile(
    r"competitor|elsewhere|(?:another|other|different) (?:clinic|store|shop|brand|company)|"
    r"конкурент|друг\w* (?:клиник|магазин|бренд|компан|центр|салон)",
    re.IGNORECASE,
)


def _lost_nontarget(classified: pd.DataFrame) -> pd.DataFrame:
    nt = classified["nontarget"].fillna(False).astype(bool)
    return classified[nt & classified["lost"].astype(bool) & ~classified["reached_deal"].astype(bool)]


def competitor_reason_share(classified: pd.DataFrame, competitor_reasons=(), confidence: float = 0.95,
                            price_reasons=()) -> dict:
    """Rule 1 (module doc): ``{rate, k, n, ci}`` (n = lost non-target leads with a recorded reason
    other than a price reason)."""
    lost = _lost_nontarget(classified)
    reasons = lost["lost_reason"] if "lost_reason" in lost.columns else pd.Series(pd.NA, index=lost.index, dtype="string")
    norm = normalise_reason(reasons)
    recorded = norm.notna().to_numpy() & ~is_price_reason(reasons, price_reasons).to_numpy()
    if competitor_reasons:
        named = is_price_reason(reasons, competitor_reasons).to_numpy()
    else:
        named = norm.fillna("").str.contains(COMPETITOR_PATTERN).to_numpy(dtype=bool)
    return rate_with_ci(int((named & recorded).sum()), int(recorded.sum()), confidence)


def not_seen_share(classified: pd.DataFrame, sales, confidence: float = 0.95) -> dict:
    """Rule 2 (module doc): ``{rate, k, n, ci}`` (n = lost non-target leads linked to a customer
    id). ``sales``: the sales history (``toolkit.core.sales``; a transactions DataFrame is also
    accepted); only the visits of the linked customers are read."""
    lost = _lost_nontarget(classified)
    if "customer_id" not in lost.columns or sales is None or (isinstance(sales, pd.DataFrame) and not len(sales)):
        return rate_with_ci(0, 0, confidence)
    linked = lost[["lead_id", "customer_id", "created_at"]].dropna(subset=["customer_id"]).astype({"customer_id": "string"})
    if not len(linked):
        return rate_with_ci(0, 0, confidence)
    own = not isinstance(sales, SalesHistory)
    history = as_sales_history(sales)
    try:
        s = history.subset(customers=linked).sale_rows
        tx = history.execute(s.select("customer_id", date=s.visit_date).distinct())
    finally:
        if own:
            history.close()
    m = linked.merge(tx.astype({"customer_id": "string"}), on="customer_id", how="left")
    seen = m[pd.to_datetime(m["date"]) >= pd.to_datetime(m["created_at"])]["lead_id"].unique()
    k = int((~linked["lead_id"].isin(seen)).sum())
    return rate_with_ci(k, len(linked), confidence)


def leak_to_competitors(classified: pd.DataFrame, sales, parameters,
                        nontarget_leads_per_year: float, nontarget_conversion_now: float) -> dict[str, Any]:
    """metrics.json's ``double_funnel.leak_to_competitors``: ``{value, measured, basis, low, high,
    n, assumption (catalog key) or None, sensitivity: [{leak, leads_per_year}]}`` (module doc)."""
    conf = parameters.confidence
    named = competitor_reason_share(classified, parameters.competitor_lost_reasons, conf, parameters.price_lost_reasons)
    unseen = not_seen_share(classified, sales, conf)
    enough = parameters.min_segment_size
    if named["n"] >= enough:
        value, basis, n = named["rate"], "lost_reason_names_competitor", named["n"]
        low, high = named["ci"][0], unseen["rate"] if unseen["n"] >= enough else named["ci"][1]
        measured, assumed = True, None
    elif unseen["n"] >= enough:
        value, basis, n = unseen["rate"], "not_seen_in_sales_history", unseen["n"]
        low, high = unseen["ci"][0], unseen["rate"]
        measured, assumed = True, None
    else:
        value, basis, n = parameters.leak_to_competitors, "assumption", 0
        grid = [*parameters.leak_sensitivity, value]
        low, high = min(grid), max(grid)
        measured, assumed = False, "money.assumption.leak_to_competitors"
    lost_per_year = float(nontarget_leads_per_year) * (1.0 - float(np.nan_to_num(nontarget_conversion_now)))
    shares = sorted(set([*parameters.leak_sensitivity, float(value)]))
    return {
        "value": float(value), "measured": measured, "basis": basis, "low": float(low), "high": float(max(high, value)),
        "n": int(n), "assumption": assumed,
        "competitor_reason_share": named, "not_seen_share": unseen,
        "sensitivity": [{"leak": s, "leads_per_year": lost_per_year * s} for s in shares],
    }
