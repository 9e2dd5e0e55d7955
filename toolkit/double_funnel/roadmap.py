"""The roadmap (metrics.json ``roadmap``): what to do first, from the barriers and the double funnel.

Rules
-----
- Items: every barrier of the overall ranking (``toolkit.barriers``: fix it) and, when it is
  material (``double_funnel.material`` true), the double funnel at its headline capture rate.
  A double funnel that is not material is not recommended and is not an item.
- Only figures on the same basis are compared: a barrier's ``annual_impact`` and the double
  funnel's ``incremental_annual_revenue`` are both a year's revenue gained against today
  (``toolkit.core.money``). Items with such a figure are ranked by it (``rank_basis: money``).
- Items without a money figure (a barrier whose stage's loss is not measured) keep the place
  their evidence gives them in the barriers' ranking (share x severity; ``rank_basis:
  evidence``), never last only because nothing measured them; the double funnel takes the
  place its money gives it among the money items.
- ``owner`` is the team that usually owns the stage (a catalog key ``money.roadmap.owner.*``:
  marketing for framing/evaluation, sales for deal, operations for experience, CRM for trigger
  and loyalty loop; ``None`` for a custom stage); ``effort`` and ``horizon`` are not measured by
  the data (``None``: to agree with the client).
- ``kpi``: for a measured barrier, the stage's annual loss now and after the fix (now - impact);
  for an unmeasured one, the share of respondents naming it (target: none set); for the double
  funnel, the non-target leads kept a year (now 0, target the headline scenario's leads).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OWNERS = {"framing": "marketing", "evaluation": "marketing", "deal": "sales", "experience": "operations",
          "trigger": "crm", "loyalty_loop": "crm"}


def _barrier_item(b: Mapping) -> dict[str, Any]:
    impact = b.get("annual_impact")
    owner = OWNERS.get(str(b.get("stage")))
    if impact is not None:
        now = b.get("stage_annual_loss")
        kpi = {"name": "money.roadmap.kpi.stage_annual_loss", "now": now,
               "target": now - impact["estimate"] if now is not None else None}
    else:
        kpi = {"name": "money.roadmap.kpi.share_naming", "now": b.get("share"), "target": None}
    return {
        "action": {"key": "money.roadmap.action.fix_barrier", "code": b.get("code"), "label": b.get("label"),
                   "stage": b.get("stage")},
        "owner": f"money.roadmap.owner.{owner}" if owner else None,
        "effort": None, "horizon": None, "kpi": kpi, "annual_impact": impact,
        "evidence": {"share": b.get("share"), "severity": b.get("severity"), "score": b.get("evidence_score"),
                     "respondents": b.get("respondents")},
        "rank_basis": "money" if impact is not None else "evidence",
    }


def _double_funnel_item(d: Mapping) -> dict[str, Any] | None:
    if not isinstance(d, Mapping) or "skipped" in d or d.get("material") is not True:
        return None
    impact = d.get("headline_incremental_annual_revenue")
    if not impact:
        return None
    sc = next((s for s in d.get("scenarios") or [] if s.get("capture_rate") == d.get("headline_capture_rate")), {})
    return {
        "action": {"key": "money.roadmap.action.double_funnel", "budget": d.get("budget_brand"),
                   "capture_rate": d.get("headline_capture_rate")},
        "owner": "money.roadmap.owner.marketing", "effort": None, "horizon": None,
        "kpi": {"name": "money.roadmap.kpi.leads_kept", "now": 0.0, "target": sc.get("leads")},
        "annual_impact": impact,
        "evidence": {"nontarget_share": d.get("nontarget_share"), "n": d.get("evidence_leads")},
        "rank_basis": "money",
    }


def roadmap(barriers, double_funnel) -> list[dict[str, Any]]:
    """metrics.json's ``roadmap`` (module doc). ``barriers``: metrics.json's ``barriers`` (ranked
    list, or a skipped mapping); ``double_funnel``: its ``double_funnel``."""
    items = [_barrier_item(b) for b in barriers] if isinstance(barriers, list) else []
    df = _double_funnel_item(double_funnel)
    if df is not None:
        est = df["annual_impact"]["estimate"]
        at = next((i for i, it in enumerate(items)
                   if it["annual_impact"] is not None and it["annual_impact"]["estimate"] < est), len(items))
        items.insert(at, df)
    for i, it in enumerate(items, start=1):
        it["rank"] = i
    return items
