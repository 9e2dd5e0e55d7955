"""The profit formula per brand and line, and the CRM specification."""

from __future__ import annotations

from collections.abc import Mapping
import re

from toolkit.core.fmt import DASH, fmt_int, fmt_money, fmt_num, fmt_pct, is_number
from toolkit.core.run_folder import RunFolder
from toolkit.core.words import has_word
from toolkit.report.inputs import ALL_LINES
from toolkit.report.common import Names, figure_ref, is_skipped, missing_artifact, not_available, one_line, read_table, w


def profit_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str) -> dict:
    pr = metrics.get("profit")
    if pr is None:
        na = not_available("skip.not_run", language)
        pr = None
    elif is_skipped(pr):
        na, pr = not_available(pr.get("skipped"), language), None
    else:
        na = ""
    brands = (pr or {}).get("brands") or {}
    out = {"available": bool(brands), "na": na or (not_available("skip.empty", language) if not brands else ""),
           "figure": figure_ref(run, "profit_what_if"), "rows": [], "text": ""}
    if not brands:
        return out
    step = pr.get("what_if_improvement")
    for brand, lines in brands.items():
        r = (lines or {}).get("all")
        if not isinstance(r, Mapping):
            continue
        src = r.get("traffic_source")
        src_txt = w(language, f"profit.source_{src}") if src in ("sessions", "leads") else ""
        out["rows"].append({
            "brand": w(language, "profit.all_brands") if brand == "all" else names.brand(brand),
            "traffic": fmt_int(r.get("traffic"), language) + (f" ({src_txt})" if src_txt else ""),
            "conversion": fmt_pct(r.get("conversion"), language, 2),
            "check": fmt_money(r.get("average_check"), currency, language),
            "purchases": fmt_num(r.get("purchases_per_customer"), language, 2),
            "formula": fmt_money(r.get("formula_revenue"), currency, language),
            "measured": fmt_money(r.get("measured_revenue"), currency, language),
            "reconciliation": fmt_pct(r.get("reconciliation"), language, 0),
        })
    if is_number(step):
        out["text"] = w(language, "profit.text", step=fmt_pct(step, language, 0))
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
