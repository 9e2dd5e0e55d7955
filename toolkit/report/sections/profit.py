"""The profit formula per brand and line, and the CRM specification."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import DASH, NBSP, fmt_int, fmt_money, fmt_num, fmt_pct, fmt_pct_ci, is_number
from toolkit.core.run_folder import RunFolder
from toolkit.report.common import Names, _w, figure_ref, is_skipped, missing_artifact, not_available, one_line, read_table


def profit_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str) -> dict:
    pr = metrics.get("profit")
    if pr is None:
        na = not_available(_w(language, "формула прибыли не рассчитывалась", "the profit formula has not been computed"),
                           language)
        pr = None
    elif is_skipped(pr):
        na, pr = not_available(pr.get("skipped"), language), None
    else:
        na = ""
    brands = (pr or {}).get("brands") or {}
    out = {"available": bool(brands), "na": na or (not_available("—", language) if not brands else ""),
           "figure": figure_ref(run, "profit_what_if"), "rows": [], "text": ""}
    if not brands:
        return out
    step = pr.get("what_if_improvement")
    for brand, lines in brands.items():
        r = (lines or {}).get("all")
        if not isinstance(r, Mapping):
            continue
        src = r.get("traffic_source")
        src_txt = {"sessions": _w(language, "сессии", "sessions"), "leads": _w(language, "лиды", "leads")}.get(src, "")
        out["rows"].append({
            "brand": _w(language, "Все бренды", "All brands") if brand == "all" else names.brand(brand),
            "traffic": fmt_int(r.get("traffic"), language) + (f" ({src_txt})" if src_txt else ""),
            "conversion": fmt_pct(r.get("conversion"), language, 2),
            "check": fmt_money(r.get("average_check"), currency, language),
            "purchases": fmt_num(r.get("purchases_per_customer"), language, 2),
            "formula": fmt_money(r.get("formula_revenue"), currency, language),
            "measured": fmt_money(r.get("measured_revenue"), currency, language),
            "reconciliation": fmt_pct(r.get("reconciliation"), language, 0),
        })
    if is_number(step):
        out["text"] = _w(
            language,
            f"Формула — произведение множителей, поэтому рост любого из них на {fmt_pct(step, 'ru', 0)} даёт такой же "
            "рост выручки по формуле; выбирать, что улучшать, стоит по цене улучшения и по барьерам этапов, которые "
            "двигают множитель.",
            f"The formula is a product, so improving any factor by {fmt_pct(step, 'en', 0)} raises formula revenue by "
            "the same share; choose what to improve by the cost of the improvement and by the barriers of the stages "
            "that move the factor.",
        )
    return out

KIND_WORDS = {
    "metric": ("Метрика", "Metric"),
    "placeholder": ("Начать измерять", "Start measuring"),
    "reminder": ("Напоминание", "Reminder"),
    "win_back": ("Возврат клиента", "Win-back"),
    "milestone": ("Веха лояльности", "Loyalty milestone"),
}

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
    txt = fmt_pct_ci(v, [r.get("ci_low"), r.get("ci_high")], language, 1, conf)
    if is_number(r.get("n")):
        txt += f", n{NBSP}={NBSP}{fmt_int(r.get('n'), language)}"
    return txt

def crm_section(run: RunFolder, names: Names, language: str, currency: str, conf: float) -> dict:
    spec = read_table(run, "crm_spec")
    if spec is None or not len(spec):
        return {"available": False, "na": missing_artifact("crm_spec", language), "rows": []}
    i = 0 if language == "ru" else 1
    rows, last = [], None
    for r in spec.to_dict("records"):
        what = r.get(f"metric_{language}") if r.get("kind") in ("metric", "placeholder") else r.get(f"action_{language}")
        what = one_line(what) or one_line(r.get("metric_ru" if language == "ru" else "metric_en"))
        stage_name = r.get("stage_name") if isinstance(r.get("stage_name"), str) else names.stage(r.get("stage"))
        day = r.get("send_day")
        rows.append({
            "stage": stage_name if r.get("stage") != last else "",
            "kind": KIND_WORDS.get(str(r.get("kind")), (str(r.get("kind")),) * 2)[i],
            "what": what,
            "value": _crm_value(r, language, currency, conf),
            "touchpoints": one_line(r.get("touchpoints")) or DASH,
            "day": fmt_int(day, language) if is_number(day) else DASH,
        })
        last = r.get("stage")
    return {"available": True, "na": "", "rows": rows}
