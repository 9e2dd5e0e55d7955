"""The profit formula per brand and line, and the CRM specification."""

from __future__ import annotations

from collections.abc import Mapping
import re

from toolkit.core.fmt import DASH, fmt_int, fmt_money, fmt_money_short, fmt_num, fmt_pct, is_number
from toolkit.core.run_folder import RunFolder
from toolkit.core.words import has_word, word
from toolkit.report.inputs import ALL_LINES
from toolkit.report.common import (
    Names,
    figure_ref,
    fmt_date,
    is_skipped,
    missing_artifact,
    not_available,
    one_line,
    read_table,
    w,
)


def _profit_rows(pr: Mapping) -> list[tuple[str, Mapping]]:
    """The scopes of metrics.json's ``profit`` in the report's order: the company, each brand, each line."""
    scopes = [(k, v) for k, v in pr.items() if isinstance(v, Mapping) and isinstance(v.get("scope"), Mapping)]
    def order(kv):
        sc = kv[1]["scope"]
        return (0 if kv[0] == "all" else 1 if sc.get("business_line") == "all" else 2, kv[0])
    return sorted(scopes, key=order)


def profit_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str) -> dict:
    """The profit formula on the money basis (``toolkit.double_funnel.profit``): one row per scope
    (the company, each brand, each line) with its factors, the formula against the revenue booked in
    the period and the explicit "other" line; the text states the formula, the reconciliation, what
    "other" is, and the what-if on actual revenue (catalog ``money.profit.*``)."""
    pr = metrics.get("profit")
    if pr is None:
        na = not_available("skip.not_run", language)
        pr = None
    elif is_skipped(pr):
        na, pr = not_available(pr.get("skipped"), language), None
    else:
        na = ""
    scopes = _profit_rows(pr or {})
    out = {"available": bool(scopes), "na": na or (not_available("skip.empty", language) if not scopes else ""),
           "figure": figure_ref(run, "profit_what_if"), "rows": [], "text": ""}
    if not scopes:
        return out

    def f(r, key):
        return ((r.get("factors") or {}).get(key) or {}).get("value")

    for key, r in scopes:
        sc = r["scope"]
        label = (w(language, "profit.all_brands") if key == "all" else
                 names.brand(key) if sc.get("business_line") == "all" else names.line(key))
        leads = f(r, "leads")
        new = fmt_int(f(r, "new_customers"), language)
        if is_number(leads):
            new += f" ({word('money.factor.leads', language).lower()}: {fmt_int(leads, language)})"
        out["rows"].append({
            "scope": label, "new": new,
            "first_check": fmt_money(f(r, "first_visit_check"), currency, language),
            "returning": fmt_int(f(r, "returning_customers"), language),
            "visits": fmt_num(f(r, "visits_per_returning_customer"), language, 2),
            "repeat_check": fmt_money(f(r, "repeat_check"), currency, language),
            "formula": fmt_money(r.get("formula_revenue"), currency, language)
            + f" ({fmt_pct(r.get('reconciliation'), language, 1)})",
            "other": fmt_money(r.get("other"), currency, language),
        })
    company = dict(scopes)["all"] if "all" in dict(scopes) else scopes[0][1]
    period = pr.get("period") if isinstance(pr.get("period"), Mapping) else {}
    parts = [word("money.profit.formula", language),
             word("money.profit.reconciles", language,
                  formula=fmt_money_short(company.get("formula_revenue"), currency, language),
                  actual=fmt_money_short(company.get("actual_revenue"), currency, language),
                  start=fmt_date(period.get("start"), language), end=fmt_date(period.get("end"), language),
                  reconciliation=fmt_pct(company.get("reconciliation"), language, 1))]
    if company.get("other_reason"):
        parts.append(word("money.profit.other_line", language, other=fmt_money(company.get("other"), currency, language),
                          reason=word(company["other_reason"], language)))
    step = pr.get("what_if_improvement")
    wi = company.get("what_if") or {}
    if is_number(step) and wi:
        levers = "; ".join(f"{word('money.factor.' + k, language)} {fmt_money_short(v, currency, language)}"
                           for k, v in sorted(wi.items(), key=lambda kv: -(kv[1] or 0)) if is_number(v))
        parts.append(word("money.profit.what_if", language, step=fmt_pct(step, language, 0)) + " " + levers + ".")
    out["text"] = " ".join(parts)
    return out


def _crm_value(r: Mapping, language: str, currency: str, conf: float) -> str:
    mid = str(r.get("metric_id") or "")
    v = r.get("value")
    if not is_number(v):
        return DASH
    if mid == "traffic":
        return fmt_int(v, language)
    if mid == "average_check":
        return fmt_money(v, currency, language)
    if mid == "purchases_per_customer":
        return fmt_num(v, language, 2)
    return fmt_pct(v, language, 1)

def _crm_what(r: Mapping, names: Names, language: str, industry: str) -> str:
    """What to record / which trigger, in the report's words: metrics from the catalog
    (``crm.metric.<id>``), triggers in the industry's wording (``crm.action.<industry>.<kind>``)."""
    kind, mid = str(r.get("kind")), str(r.get("metric_id") or "")
    if kind in ("metric", "placeholder"):
        if has_word(f"report.crm.metric.{mid}", language):
            return w(language, f"crm.metric.{mid}")
        return re.sub(r"\s*[:(\[].*$", "", one_line(r.get(f"metric_{language}"))) or w(language, "crm.metric.other")
    key = f"crm.action.{industry}.{kind}"
    if has_word(f"report.{key}", language):
        after = str(r.get("after_visits") or "").replace("-", "–")
        return w(language, key, after=after, day=fmt_int(r.get("send_day"), language),
                 n=r.get("send_day") if is_number(r.get("send_day")) else 0)
    return one_line(r.get(f"action_{language}"))


def crm_section(run: RunFolder, names: Names, language: str, currency: str, conf: float,
                industry: str = "neutral") -> dict:
    """The CRM specification for the whole base (per-line triggers stay in crm_spec.xlsx)."""
    spec = read_table(run, "crm_spec")
    if spec is None or not len(spec):
        return {"available": False, "na": missing_artifact("crm_spec", language), "rows": []}
    if "scope" in spec.columns:
        spec = spec[spec["scope"].isna() | spec["scope"].isin(["all_lines", ALL_LINES]) | (spec["kind"] == "cross_sell")]
    rows, last = [], None
    for r in spec.to_dict("records"):
        stage_name = r.get("stage_name") if isinstance(r.get("stage_name"), str) else names.stage(r.get("stage"))
        day = r.get("send_day")
        kind = str(r.get("kind"))
        rows.append({
            "stage": stage_name if r.get("stage") != last else "",
            "kind": w(language, f"crm.kind.{kind}") if has_word(f"report.crm.kind.{kind}", language)
            else w(language, "crm.kind.metric"),
            "what": _crm_what(r, names, language, industry),
            "value": _crm_value(r, language, currency, conf),
            "day": fmt_int(day, language) if is_number(day) and day > 0 else DASH,
        })
        last = r.get("stage")
    return {"available": True, "na": "", "rows": rows}
