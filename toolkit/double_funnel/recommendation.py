"""The double funnel's recommendation: a decision (data) and its sentences (word-catalog keys).

:func:`recommendation` decides from the numbers of the analysis' summary and returns
``{action, sentences: [catalog keys]}``:

- ``merge_considered``: the audiences do not differ materially (``merge_brands`` true);
- ``not_material``: the brands stay separate, but the second funnel's incremental annual revenue
  at the headline capture rate is under the case's materiality share of annual revenue
  (``material`` false): it is **not recommended**, and the sentence says so;
- ``develop_budget_funnel``: the brands stay separate and the opportunity is material (or its
  materiality cannot be judged without a sales history: ``material`` null, said in the text).

:func:`recommendation_text` turns it into a paragraph in a language, reading every number from
the metrics (``toolkit.core.fmt`` formats them; ``money.df.*`` keys of the word catalog hold the
sentences).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.core.fmt import fmt_int, fmt_money, fmt_money_short, fmt_pct, is_number
from toolkit.core.words import word

ACTIONS = ("develop_budget_funnel", "not_material", "merge_considered")


def recommendation(s: Mapping[str, Any]) -> dict[str, Any]:
    """The decision and the keys of its sentences, from the double funnel's summary ``s``."""
    keys = ["money.df.nontarget"]
    if is_number(s.get("nontarget_conversion_now")):
        keys.append("money.df.conversion_now")
    if is_number(s.get("budget_conversion")):
        keys.append("money.df.budget_linked" if s.get("budget_avg_check_basis") == "lead_linked_first_visit"
                    else "money.df.budget_all")
    if s.get("headline_incremental_annual_revenue"):
        keys.append("money.df.scenario")
    leak = s.get("leak_to_competitors") or {}
    if leak:
        keys.append("money.df.leak_measured" if leak.get("measured") else "money.df.leak_assumed")
    v = s.get("verdict") or {}
    if v.get("basis") == "survey_audiences" and v.get("material"):
        keys.append("money.df.audiences_differ")
    if is_number(((s.get("penetration") or {}).get("both") or {}).get("share")):
        keys.append("money.df.penetration")
    if s.get("merge_brands"):
        action = "merge_considered"
    elif s.get("material") is False:
        action = "not_material"
    else:
        action = "develop_budget_funnel"
    keys.append(f"money.df.action.{action}")
    if action == "develop_budget_funnel" and s.get("material") is None:
        keys.append("money.df.materiality_unknown")
    return {"action": action, "recommended": action == "develop_budget_funnel", "sentences": keys}


def _names(ids, names: Mapping[str, str]) -> str:
    return ", ".join(str(names.get(i, i)) for i in ids)


def recommendation_text(m: Mapping[str, Any], language: str) -> str:
    """The recommendation paragraph of metrics.json's ``double_funnel`` ``m`` in ``language``."""
    rec = m.get("recommendation")
    if not isinstance(rec, Mapping):
        return ""
    cur = m.get("currency") or "RUB"
    P, B = m.get("premium_name") or m.get("premium_brand"), m.get("budget_name") or m.get("budget_brand")
    ci = m.get("nontarget_share_ci") or [None, None]
    inc = m.get("headline_incremental_annual_revenue") or {}
    sc = next((x for x in m.get("scenarios") or [] if x.get("capture_rate") == m.get("headline_capture_rate")), {})
    leak = m.get("leak_to_competitors") or {}
    v = m.get("verdict") or {}
    fn = m.get("factor_names") or {}
    pen = ((m.get("penetration") or {}).get("both") or {}).get("share")

    def pct(x, digits=0):
        return fmt_pct(x, language, digits)

    def money(x):
        return fmt_money(x, cur, language)

    values = {
        "premium": P, "budget": B, "evidence": fmt_int(m.get("evidence_leads"), language),
        "share": pct(m.get("nontarget_share")), "lo": pct(ci[0]), "hi": pct(ci[1]), "floor": money(m.get("price_floor")),
        "nt": pct(m.get("nontarget_conversion_now"), 1), "nt_n": fmt_int(m.get("nontarget_conversion_now_n"), language),
        "t": pct(m.get("target_conversion_now"), 1), "t_n": fmt_int(m.get("target_conversion_now_n"), language),
        "conv": pct(m.get("budget_conversion"), 1), "paid": pct(m.get("budget_paid_share")),
        "check": money(m.get("budget_avg_check")),
        "capture": pct(m.get("headline_capture_rate")),
        "deals": fmt_int(sc.get("incremental_deals"), language),
        "revenue": fmt_money_short(inc.get("estimate"), cur, language),
        "low": fmt_money_short(inc.get("low"), cur, language), "high": fmt_money_short(inc.get("high"), cur, language),
        "revenue_share": pct(m.get("incremental_share_of_annual_revenue"), 2),
        "threshold": pct(m.get("materiality_share"), 1),
        "leak": pct(leak.get("value")), "leak_lo": pct(leak.get("low")), "leak_hi": pct(leak.get("high")),
        "both": pct(pen, 1),
        "higher": "; ".join(
            word(f"money.df.higher_for_{side}", language, brand=who, factors=_names(v.get(f"higher_for_{side}") or [], fn))
            for side, who in (("premium", P), ("budget", B)) if v.get(f"higher_for_{side}")),
    }
    if leak.get("basis") and leak.get("basis") != "assumption":
        values["leak_basis"] = word(f"money.df.leak_basis.{leak['basis']}", language)
    sentences = (word(k, language, **values) for k in rec.get("sentences") or [])
    return " ".join(t[:-1] if t.endswith("..") else t for t in sentences)  # "руб." closing a sentence
