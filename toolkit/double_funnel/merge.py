"""Merge the two brands or keep them separate.

Merge or keep separate
----------------------
Audiences: ``toolkit.segmentation.personas.brand_audience_comparison`` (Cliff's delta, Holm-corrected
Mann-Whitney, *material* = |delta| >= 0.33 and p_holm < alpha). Cross-brand penetration:
``toolkit.loyalty.repeat.cross_penetration`` with the brand in place of the business line (share of a
brand's customers who also bought the other brand), plus the share of both brands' customers
who bought both. Verdict ``merge_brands`` is **False** when the audiences differ materially on
the price factor, on a brand factor (id or name says brand/бренд), or on factors pointing
in opposite directions (each audience rates some factor materially higher); **True** when
the survey compares both audiences and none of these holds. Without a survey comparison the
verdict falls back on penetration: True when at least ``MERGE_MIN_OVERLAP`` of the two brands'
customers bought both (the customers already treat the brands as one), else False.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from toolkit.core.sales import SalesHistory, as_sales_history
from toolkit.core.stats import rate_with_ci
from toolkit.loyalty.repeat import cross_penetration

MERGE_MIN_OVERLAP = 0.25  # without a survey: merge when this share of customers bought both brands
_BRAND_FACTOR = re.compile(r"brand|бренд", re.IGNORECASE)


def brand_penetration(sales, premium: str, budget: str, *, as_of=None,
                      confidence: float = 0.95) -> dict[str, Any]:
    """Cross-brand penetration (module doc): ``{premium_to_budget: {share, ci, base, also_bought,
    bought_after}, budget_to_premium: {...}, both: {share, ci, k, n}}``. ``sales``: the sales
    history (``toolkit.core.sales``; a transactions DataFrame is also accepted, with ``as_of``)."""
    empty = {"premium_to_budget": None, "budget_to_premium": None, "both": None}
    if sales is None or (isinstance(sales, pd.DataFrame) and ("brand" not in sales.columns or not len(sales))):
        return empty
    own = not isinstance(sales, SalesHistory)
    history = as_sales_history(sales, as_of=as_of)
    try:
        if not set(history.brands()) & {premium, budget}:
            return empty
        # the brand takes the place of the business line, so the loyalty module's definition
        # applies; its line visits are then the two brands' own visit tables (kept for the step)
        for b in (premium, budget):
            if history.cache and b in history.brands():
                history.subset(brands=[b]).visits("all")
        pair = history.subset(brands=[premium, budget], brand_as_line=True)
        cp = cross_penetration(pair, min_segment_size=1, confidence=confidence)
        s = pair.sale_rows
        per = s.group_by("customer_id").aggregate(brands=s.brand.nunique())
        counts = history.execute(per.aggregate(customers=per.count(), both=(per.brands >= 2).sum())).iloc[0]
    finally:
        if own:
            history.close()
    out = dict(empty)
    for key, a, b in (("premium_to_budget", premium, budget), ("budget_to_premium", budget, premium)):
        r = cp[(cp["from_line"] == a) & (cp["to_line"] == b)]
        if len(r):
            r = r.iloc[0]
            out[key] = {"share": float(r["share_also"]), "ci": [float(r["share_also_ci_lo"]), float(r["share_also_ci_hi"])],
                        "base": int(r["base"]), "also_bought": int(r["also_bought"]), "bought_after": int(r["bought_after"])}
    out["both"] = rate_with_ci(int(counts["both"] or 0), int(counts["customers"]), confidence)
    out["both"]["share"] = out["both"].pop("rate")
    return out


def merge_verdict(comparison: pd.DataFrame | None, price_factor: str | None, premium: str, budget: str,
                  penetration: dict | None = None) -> dict[str, Any]:
    """``merge_brands`` and the evidence behind it (rule in the module doc).

    ``comparison``: ``brand_audience_comparison`` table with brand_a = premium, brand_b = budget.
    Returns ``{merge_brands, basis, differ_on_price, differ_on_brand, opposite_directions,
    material: [...], higher_for_premium: [...], higher_for_budget: [...], evidence: [...]}``.
    """
    both = (penetration or {}).get("both") or {}
    overlap = both.get("share")
    if comparison is None or not len(comparison) or comparison["cliffs_delta"].notna().sum() == 0:
        merge = bool(overlap is not None and not math.isnan(overlap) and overlap >= MERGE_MIN_OVERLAP)
        return {"merge_brands": merge, "basis": "penetration_only", "differ_on_price": None, "differ_on_brand": None,
                "opposite_directions": None, "material": [], "higher_for_premium": [], "higher_for_budget": [],
                "evidence": [f"no survey comparison; customers of both brands who bought both: {overlap}"]}
    mat = comparison[comparison["material"].fillna(False).astype(bool)]
    mat = mat.sort_values("cliffs_delta", key=np.abs, ascending=False, kind="stable")
    up = list(mat.loc[mat["cliffs_delta"] > 0, "factor_id"])
    down = list(mat.loc[mat["cliffs_delta"] < 0, "factor_id"])
    brand_ids = [f for f, nm in zip(comparison["factor_id"], comparison["name"]) if _BRAND_FACTOR.search(f"{f} {nm}")]
    on_price = bool(price_factor is not None and price_factor in set(mat["factor_id"]))
    on_brand = bool(set(brand_ids) & set(mat["factor_id"]))
    opposite = bool(up and down)
    evidence = [
        f"{r.factor_id}: Cliff's delta {r.cliffs_delta:+.2f} [{r.delta_lo:+.2f}; {r.delta_hi:+.2f}], "
        f"p_holm {r.p_holm:.3g}, higher for {r.higher_for}"
        for r in mat.itertuples(index=False)
    ]
    if overlap is not None:
        evidence.append(f"customers who bought both brands: {overlap:.1%}")
    return {"merge_brands": not (on_price or on_brand or opposite), "basis": "survey_audiences",
            "differ_on_price": on_price, "differ_on_brand": on_brand, "opposite_directions": opposite,
            "material": list(mat["factor_id"]), "higher_for_premium": up, "higher_for_budget": down,
            "evidence": evidence}
