"""The CRM specification (METHOD.md §7): per journey stage, what to record, its value today, the
touchpoints that move it, and the trigger communications to fire.

Terms used below
----------------
row kinds
    ``metric``: a number to record at the stage (from the profit formula, the lead funnel, the
    loyalty analysis, the double funnel; a profit-formula metric is listed even when the analysis
    that measures it was not given: its value is then empty, it is still what to record);
    ``placeholder``: a stage no metric belongs to (record the satisfaction with its touchpoints
    from now on); ``reminder``, ``win_back``, ``milestone`` and ``cross_sell``: trigger
    communications.
metric at a stage
    Each profit-formula factor is recorded at the journey stages that move it
    (``toolkit.double_funnel.profit.factor_stages``): traffic at the first of its stages; conversion
    traffic -> lead at the first of the conversion stages and lead -> deal at the last; the
    average check at its (first) stage; purchases per customer at the last of its stages. The funnel's step
    conversions (``toolkit.stage_mapping.funnel.stage_kpis``) are filed at the journey stage of their first
    funnel stage; the return probability after the first visit at the first purchases stage,
    the loyalty visit and the share of customers who reach it at the last purchases stage; the
    premium brand's non-target share (double funnel) at the traffic stage. Values are for the
    whole case (brand ``all`` where the profit table has it, else its only brand).
trigger timing (reminder)
    For each loyalty stage of each scope (``toolkit.loyalty.repeat.intervals_by_stage``: ``gap_median``
    = median days *before* a visit of that stage, i.e. from the previous visit, among the
    returns; the first visit has no gap before it, so the stage of visit 1 has none) a
    reminder to book goes to the customers whose *next* visit would fall in that stage: those
    who made visits ``first_visit - 1 .. last_visit - 1`` (``after_visits``). It goes out
    ``send_day = median_gap - lead_days`` days after their last visit, with
    ``lead_days = max(1, round_half_up(lead_share x median_gap))`` (default ``lead_share`` 0.1:
    about a tenth of the usual gap ahead, so the reminder lands just before half of the
    returning customers would have come back by themselves); ``send_day`` is at least 1. The
    measured median is kept beside it (``median_gap_days``), so the timing can be checked.
    A loyalty stage with no measured gap gets no reminder.
win-back
    ``send_day = ceil(gap_q75)``: a customer who has not returned when three quarters of the
    returning customers already had gets a personal offer to come back.
milestone
    At the loyalty visit k of a scope (``loyalty_visit``): the customer has become loyal --
    welcome to the loyalty programme on the day of visit k (``send_day`` 0).
one-off lines
    A business line declared ``repeat_kind: one_off`` gets no reminder or win-back (a second
    operation is not something to remind of). Given ``cross_penetration``, it gets a
    ``cross_sell`` trigger instead: after its visit, offer the line its customers most often
    buy *afterwards* (highest ``share_after``; the share is the row's value, with its interval).
trigger stage
    Triggers are filed at the journey stage ``trigger`` when the case has it, else at the first
    stage that moves purchases per customer (``toolkit.double_funnel.profit.factor_stages``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.core.config import Case
from toolkit.core.sales import ALL_LINES
from toolkit.core.stages import stage_model
from toolkit.core.xlsx import write_frames
from toolkit.double_funnel.profit import ALL, FACTOR_LABELS, factor_stages
from toolkit.stage_mapping.funnel import stage_kpis

LEAD_SHARE = 0.1
COLUMNS = [
    "order", "stage", "stage_name", "kind", "metric_id", "metric_ru", "metric_en", "value", "ci_lo", "ci_hi",
    "n", "touchpoints", "scope", "loyalty_stage", "after_visits", "median_gap_days", "send_day", "action_ru",
    "action_en", "source",
]  # fmt: skip


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def trigger_day(median_gap_days: float, lead_share: float = LEAD_SHARE) -> int | None:
    """Day after the visit to send the reminder (module doc): ``median - max(1, round(lead_share
    x median))``, at least 1; None when the median is unknown."""
    if median_gap_days is None or not np.isfinite(median_gap_days):
        return None
    lead = max(1, _round_half_up(lead_share * median_gap_days))
    return max(1, _round_half_up(median_gap_days - lead))


def _isnum(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x)) and not pd.isna(x)


def _case_row(profit: pd.DataFrame | None) -> dict | None:
    """The profit-table row describing the whole case: brand ``all`` (or the only brand), line ``all``."""
    if profit is None or not len(profit):
        return None
    t = profit[profit["business_line"] == ALL]
    r = t[t["brand"] == ALL]
    if not len(r):
        r = t.head(1) if t["brand"].nunique() == 1 else t.iloc[0:0]
    return r.iloc[0].to_dict() if len(r) else None


def _metric(stage: str, mid: str, ru: str, en: str, value=None, ci=(None, None), n=None, source: str = "") -> dict:
    return {"stage": stage, "kind": "metric", "metric_id": mid, "metric_ru": ru, "metric_en": en, "value": value,
            "ci_lo": ci[0], "ci_hi": ci[1], "n": n, "source": source}


def _profit_metrics(row: dict | None, fs: dict[str, list[str]]) -> list[dict]:
    out = []
    if not fs:
        return out
    L = FACTOR_LABELS
    if fs.get("traffic"):
        v = row.get("traffic") if row else None
        src = row.get("traffic_source") if row else None
        ru = L["traffic"]["ru"] + (" (сессии сайта за период)" if src == "sessions" else " (лиды за период)")
        en = L["traffic"]["en"] + (" (website sessions in the window)" if src == "sessions" else " (leads in the window)")
        out.append(_metric(fs["traffic"][0], "traffic", ru, en, v, source="profit"))
    conv = fs.get("conversion") or []
    if conv:
        if row is not None and row.get("traffic_source") == "sessions":
            out.append(_metric(conv[0], "traffic_to_lead", "Конверсия трафика в лид", "Traffic -> lead conversion",
                               row.get("traffic_to_lead"), tuple(row.get("traffic_to_lead_ci") or (None, None)),
                               int(row["traffic"]) if _isnum(row.get("traffic")) else None, "profit"))
        out.append(_metric(conv[-1], "lead_to_deal", "Конверсия лида в сделку", "Lead -> deal conversion",
                           row.get("lead_to_deal") if row else None,
                           tuple(row.get("lead_to_deal_ci") or (None, None)) if row else (None, None),
                           row.get("leads") if row else None, "profit"))
    for f, stages in (("average_check", fs.get("average_check", [])[:1]),
                      ("purchases_per_customer", fs.get("purchases_per_customer", [])[-1:])):
        for s in stages:
            ci = tuple(row.get("average_check_ci") or (None, None)) if (row and f == "average_check") else (None, None)
            n = row.get("visits") if (row and f == "average_check") else (row.get("customers") if row else None)
            out.append(_metric(s, f, L[f]["ru"], L[f]["en"], row.get(f) if row else None, ci, n, "profit"))
    return out


def _loyalty_metrics(loy: Mapping | None, fs: dict[str, list[str]]) -> list[dict]:
    if not loy or not fs.get("purchases_per_customer"):
        return []
    loy = loy.get("overall", loy)
    stages = fs["purchases_per_customer"]
    out = []
    p1 = (loy.get("p_return") or {}).get("1")
    if p1 is not None:
        ci = (loy.get("p_return_ci") or {}).get("1") or (None, None)
        out.append(_metric(stages[0], "p_return_1", "Доля вернувшихся после первого визита",
                           "Share returning after the first visit", p1, tuple(ci),
                           (loy.get("eligible") or {}).get("1"), "loyalty"))
    k = loy.get("loyalty_visit")
    if k is not None:
        pk = (loy.get("p_return") or {}).get(str(k))
        out.append(_metric(stages[-1], "loyalty_visit", f"Визит лояльности (k = {k}): доля возвратов после него",
                           f"Loyalty visit (k = {k}): share returning after it", pk,
                           tuple((loy.get("p_return_ci") or {}).get(str(k)) or (None, None)),
                           (loy.get("eligible") or {}).get(str(k)), "loyalty"))
    return out


def _triggers(stages_table: pd.DataFrame | None, loyalty: Mapping | None, stage: str, line_names: dict,
              lead_share: float, one_off: set[str] = frozenset()) -> list[dict]:
    """Reminder, win-back and milestone rows from the loyalty stages (module doc)."""
    out: list[dict] = []
    if stages_table is None or not len(stages_table):
        return out
    ks: dict[str, Any] = {}
    if loyalty:
        ks[ALL_LINES] = (loyalty.get("overall") or {}).get("loyalty_visit") if "overall" in loyalty else loyalty.get("loyalty_visit")
        for line, l in (loyalty.get("by_line") or {}).items():
            ks[line] = l.get("loyalty_visit")
    for r in stages_table.to_dict(orient="records"):
        scope = str(r["scope"])
        if scope in one_off:
            continue  # a one-off line: no repeat to remind of (growth comes from other lines)
        who_ru = "все направления" if scope == ALL_LINES else line_names.get(scope, (scope, scope))[0]
        who_en = "all lines" if scope == ALL_LINES else line_names.get(scope, (scope, scope))[1]
        label = str(r["stage"])
        a = int(r["first_visit"]) - 1
        b = None if not _isnum(r.get("last_visit")) else int(r["last_visit"]) - 1
        after = f"{a}+" if b is None else (str(a) if a == b else f"{a}-{b}")
        gap = r.get("gap_median")
        base = {"stage": stage, "scope": scope, "loyalty_stage": label, "source": "loyalty",
                "after_visits": after if a >= 1 else None, "_first_visit": int(r["first_visit"]),
                "n": int(r["gaps"]) if _isnum(r.get("gaps")) else None}
        if _isnum(gap) and a >= 1:
            d = trigger_day(float(gap), lead_share)
            out.append({**base, "kind": "reminder", "median_gap_days": float(gap), "send_day": d,
                        "action_ru": f"{who_ru}, после визита № {after} (следующий — этап {label}): напоминание "
                                     f"о записи на {d}-й день (медианный интервал — {gap:.0f} дн.)",
                        "action_en": f"{who_en}, after visit no. {after} (next: stage {label}): booking reminder on "
                                     f"day {d} (median gap: {gap:.0f} days)"})
        q75 = r.get("gap_q75")
        if _isnum(q75) and a >= 1:
            d = int(math.ceil(float(q75)))
            out.append({**base, "kind": "win_back", "median_gap_days": float(gap) if _isnum(gap) else None,
                        "send_day": d,
                        "action_ru": f"{who_ru}, после визита № {after}: не вернулся за {d} дн. (75% возвратов уже "
                                     "случились) — персональное предложение вернуться",
                        "action_en": f"{who_en}, after visit no. {after}: not back after {d} days (75% of returns have "
                                     "happened by then) -- a personal offer to come back"})
        k = ks.get(scope)
        if k is not None and int(r["first_visit"]) == int(k):
            out.append({**base, "kind": "milestone", "median_gap_days": None, "send_day": 0, "after_visits": str(k),
                        "action_ru": f"{who_ru}: {k}-й визит — клиент стал лояльным, приглашение в программу лояльности",
                        "action_en": f"{who_en}: visit {k} -- the customer has become loyal; invitation to the "
                                     "loyalty programme"})
    return out


def _cross_sell(cross: pd.DataFrame | None, stage: str, line_names: dict, one_off: set[str]) -> list[dict]:
    """Cross-sell rows for one-off lines (module doc)."""
    if cross is None or not len(cross) or not one_off:
        return []
    c = cross[cross["from_line"].isin(one_off) & cross["share_after"].notna() & (cross["share_after"] > 0)]
    c = c.sort_values(["from_line", "share_after", "to_line"], ascending=[True, False, True], kind="stable")
    c = c.drop_duplicates("from_line")
    out = []
    for r in c.to_dict(orient="records"):
        a_ru, a_en = line_names.get(r["from_line"], (r["from_line"],) * 2)
        b_ru, b_en = line_names.get(r["to_line"], (r["to_line"],) * 2)
        out.append({"stage": stage, "kind": "cross_sell", "scope": r["from_line"], "source": "cross_penetration",
                    "value": r["share_after"], "ci_lo": r.get("share_after_ci_lo"),
                    "ci_hi": r.get("share_after_ci_hi"), "n": int(r["base"]), "_first_visit": 1,
                    "after_visits": "1", "metric_ru": f"Доля клиентов «{a_ru}», купивших потом «{b_ru}»",
                    "metric_en": f"Share of {a_en} customers who later bought {b_en}",
                    "action_ru": f"{a_ru}: после визита предложить «{b_ru}» (его уже покупают потом "
                                 f"{100 * r['share_after']:.0f}% клиентов)",
                    "action_en": f"{a_en}: after the visit, offer {b_en} ({100 * r['share_after']:.0f}% of "
                                 "customers already buy it later)"})
    return out


def crm_spec(
    case: Case,
    *,
    profit: pd.DataFrame | None = None,
    funnel: pd.DataFrame | None = None,
    loyalty: Mapping | None = None,
    loyalty_stages: pd.DataFrame | None = None,
    double_funnel: Mapping | None = None,
    cross_penetration: pd.DataFrame | None = None,
    lead_share: float = LEAD_SHARE,
) -> pd.DataFrame:
    """The CRM specification as a DataFrame (module doc), one row per stage and item, in
    journey order; every journey stage has at least one row.

    ``profit``: ``toolkit.double_funnel.profit.profit_table``; ``funnel``: ``toolkit.stage_mapping.funnel.funnel_table`` with
    ``by=()``; ``loyalty``: metrics.json's ``loyalty`` value (``loyalty_metrics``) or one LOY;
    ``loyalty_stages``: ``toolkit.loyalty.repeat.intervals_by_stage`` (``loyalty_tables()["stages"]``);
    ``double_funnel``: ``double_funnel_metrics``; ``cross_penetration``:
    ``toolkit.loyalty.repeat.cross_penetration`` (for the cross-sell triggers of one-off lines).
    Columns: ``COLUMNS``.
    """
    model = stage_model(case)
    fs = factor_stages(case)
    ids = model.stage_ids()
    names = model.stage_names()
    rows: list[dict] = []
    rows += _profit_metrics(_case_row(profit), fs)
    if funnel is not None and len(funnel):
        for lang_rows in [stage_kpis(funnel, model, "ru")]:
            en = stage_kpis(funnel, model, "en")
            for st, items in lang_rows.items():
                tr = funnel.loc[funnel["next_stage"].notna() & (funnel["journey_stage"] == st)].sort_values("order")
                tr = tr[np.isfinite(tr["conversion"].astype(float))]
                for i, (item, r) in enumerate(zip(items, tr.itertuples(index=False))):
                    rows.append(_metric(st, f"funnel_{r.stage}_to_{r.next_stage}", item["text"], en[st][i]["text"],
                                        float(r.conversion), tuple(item["ci"]), item["n"], "funnel"))
    rows += _loyalty_metrics(loyalty, fs)
    if double_funnel and "nontarget_share" in double_funnel and fs.get("traffic"):
        d = double_funnel
        brand = next((b.label for b in case.brands if b.id == d["premium_brand"]), d["premium_brand"])
        rows.append(_metric(fs["traffic"][0], "nontarget_share",
                            f"Доля нецелевых лидов «{brand}» (бюджет ниже порога или отказ из-за цены)",
                            f"Non-target share of {brand} leads (budget below the floor or lost over price)",
                            d.get("nontarget_share"), tuple(d.get("nontarget_share_ci") or (None, None)),
                            d.get("evidence_leads"), "double_funnel"))
    trig_stage = "trigger" if "trigger" in ids else (fs.get("purchases_per_customer") or ids[-1:])[0]
    line_names = {b.id: (b.label, b.label) for b in case.business_lines}
    one_off = {b.id for b in case.business_lines if b.repeat_kind == "one_off"}
    rows += _triggers(loyalty_stages, loyalty, trig_stage, line_names, lead_share, one_off)
    rows += _cross_sell(cross_penetration, trig_stage, line_names, one_off)
    covered = {r["stage"] for r in rows}
    for s in ids:
        if s not in covered:
            rows.append({"stage": s, "kind": "placeholder", "metric_id": "touchpoint_satisfaction",
                         "metric_ru": "Не измеряется: записывать оценку точек контакта этапа",
                         "metric_en": "Not measured: record the rating of the stage's touchpoints", "source": "none"})
    out = pd.DataFrame(rows).reindex(columns=COLUMNS + ["_first_visit"])
    order = model.stage_order()
    out["order"] = out["stage"].map(order)
    out["stage_name"] = out["stage"].map(names)
    tps = model.touchpoints.dropna(subset=["stage"]).groupby("stage", sort=False)["name"].agg("; ".join)
    out["touchpoints"] = out["stage"].map(tps)
    # metrics first (in the order built), then triggers by scope (all lines first), loyalty stage, kind
    kind_rank = {"metric": 0, "placeholder": 0, "reminder": 1, "milestone": 2, "win_back": 3, "cross_sell": 4}
    out["_trigger"] = out["kind"].isin(["reminder", "win_back", "milestone", "cross_sell"])
    out["_k"] = out["kind"].map(kind_rank)
    scope = out["scope"].astype("string").fillna(ALL_LINES)
    out["_scope"] = scope.where(scope != ALL_LINES, "")
    out = out.sort_values(["order", "_trigger", "_scope", "_first_visit", "_k"], kind="stable")
    return out.drop(columns=["_trigger", "_k", "_scope", "_first_visit"]).reset_index(drop=True)


# --------------------------------------------------------------------------- export


HEADERS = {
    "ru": ["Этап", "Что записывать", "Значение сейчас", "Интервал, от", "Интервал, до", "N", "Точки контакта",
           "Триггер", "После визита №", "День после визита", "Медианный интервал, дн.", "Источник"],
    "en": ["Stage", "What to record", "Current value", "Interval, low", "Interval, high", "N", "Touchpoints",
           "Trigger", "After visit no.", "Day after the visit", "Median gap, days", "Source"],
}


def crm_sheet(spec: pd.DataFrame, language: str = "ru") -> pd.DataFrame:
    """The specification as the client sees it: one language, readable column names."""
    lang = "ru" if language == "ru" else "en"
    t = pd.DataFrame({
        "stage": spec["stage_name"].fillna(spec["stage"]),
        "metric": spec[f"metric_{lang}"],
        "value": spec["value"],
        "lo": spec["ci_lo"],
        "hi": spec["ci_hi"],
        "n": spec["n"],
        "touchpoints": spec["touchpoints"],
        "trigger": spec[f"action_{lang}"],
        "after": spec["after_visits"],
        "day": spec["send_day"],
        "gap": spec["median_gap_days"],
        "source": spec["source"],
    })
    t.columns = HEADERS[lang]
    return t


def write_crm_spec(spec: pd.DataFrame, path: str | Path, language: str = "ru") -> Path:
    """Write the specification as one xlsx sheet (``CRM``), byte-identical for the same input.

    Numbers stay numbers (rates as fractions with a percent format would hide n; they are kept
    raw); the zip entries and document dates are fixed so that two runs give the same bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet = crm_sheet(spec, language)
    write_frames(path, {"CRM": sheet}, widths={"CRM": [22, 60, 14, 12, 12, 8, 40, 70, 12, 12, 12, 12]})
    return path
