"""The two brands: non-target share, the double funnel and its scenarios, keep or merge."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import DASH, fmt_int, fmt_money, fmt_money_short, fmt_pct, fmt_pct_ci, is_number
from toolkit.core.run_folder import RunFolder
from toolkit.report.common import Names, _w, end_sentence, figure_ref, metrics_part, not_available


def headline_scenario(d: Mapping) -> dict | None:
    from toolkit.double_funnel.charts import headline_scenario

    return headline_scenario(d)

def double_funnel_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str, conf: float) -> dict:
    d, na = metrics_part(metrics, "double_funnel", language)
    ok = d is not None and is_number(d.get("nontarget_share"))
    if d is not None and not ok:
        na = not_available(_w(language, "доля нецелевых лидов не измерена", "the non-target share is not measured"), language)
    out = {"available": ok, "na": na, "figure": figure_ref(run, "double_funnel"),
           "scenario_figure": figure_ref(run, "double_funnel_scenarios"), "facts": [], "rows": [], "recommendation": ""}
    if not ok:
        return out
    P, B = names.brand(d.get("premium_brand")), names.brand(d.get("budget_brand"))
    share = fmt_pct_ci(d["nontarget_share"], d.get("nontarget_share_ci"), language, 0, conf)
    ev = d.get("evidence_leads")
    out["facts"].append(_w(
        language,
        f"Нецелевые лиды бренда «{P}» (бюджет ниже порога цены или отказ из-за цены): {share}"
        + (f" из {fmt_int(ev, 'ru')} лидов, по которым это известно" if is_number(ev) else "") + ".",
        f"Non-target {P} leads (budget below the price floor or lost over price): {share}"
        + (f" of the {fmt_int(ev, 'en')} leads where this is known" if is_number(ev) else "") + ".",
    ))
    if is_number(d.get("nontarget_conversion_now")):
        tgt = d.get("target_conversion_now")
        out["facts"].append(_w(
            language,
            f"Сейчас нецелевые лиды доходят до сделки в {fmt_pct(d['nontarget_conversion_now'], 'ru')} случаев"
            + (f" против {fmt_pct(tgt, 'ru')} у целевых" if is_number(tgt) else "") + ".",
            f"Today non-target leads reach a deal {fmt_pct(d['nontarget_conversion_now'], 'en')} of the time"
            + (f" against {fmt_pct(tgt, 'en')} for target leads" if is_number(tgt) else "") + ".",
        ))
    if is_number(d.get("budget_conversion")):
        out["facts"].append(_w(
            language,
            end_sentence(f"«{B}» превращает свои лиды в сделки в {fmt_pct_ci(d['budget_conversion'], d.get('budget_conversion_ci'), 'ru', 1, conf)} "
                 f"случаев; средний чек первого визита — {fmt_money(d.get('budget_avg_check'), currency, 'ru')}"),
            end_sentence(f"{B} converts its own leads at {fmt_pct_ci(d['budget_conversion'], d.get('budget_conversion_ci'), 'en', 1, conf)}; "
                 f"the average first-visit check is {fmt_money(d.get('budget_avg_check'), currency, 'en')}"),
        ))
    for s in d.get("scenarios") or []:
        rng = (f"{fmt_money(s.get('revenue_low'), currency, language)} – {fmt_money(s.get('revenue_high'), currency, language)}"
               if is_number(s.get("revenue_low")) and is_number(s.get("revenue_high")) else DASH)
        out["rows"].append({
            "capture": fmt_pct(s.get("capture_rate"), language, 0),
            "leads": fmt_int(s.get("leads"), language),
            "deals": fmt_int(s.get("deals"), language),
            "revenue": fmt_money(s.get("revenue"), currency, language),
            "range": rng,
        })
    sc = headline_scenario(d)
    parts = []
    if sc and is_number(sc.get("revenue")):
        parts.append(_w(
            language,
            f"Если инструменты неявного перехвата переведут в «{B}» {fmt_pct(sc.get('capture_rate'), 'ru', 0)} нецелевого "
            f"потока, группа сохранит около {fmt_int(sc.get('leads'), 'ru')} лидов и {fmt_int(sc.get('deals'), 'ru')} "
            f"сделок в год — {fmt_money_short(sc.get('revenue'), currency, 'ru')} выручки в год.",
            f"If implicit-capture tools move {fmt_pct(sc.get('capture_rate'), 'en', 0)} of the non-target flow to {B}, "
            f"the group keeps about {fmt_int(sc.get('leads'), 'en')} leads and {fmt_int(sc.get('deals'), 'en')} deals a "
            f"year, {fmt_money_short(sc.get('revenue'), currency, 'en')} of revenue a year.",
        ))
    verdict = d.get("verdict") if isinstance(d.get("verdict"), Mapping) else {}
    diff = []
    for key, whose in (("higher_for_premium", P), ("higher_for_budget", B)):
        ids = verdict.get(key) or []
        if ids:
            diff.append(_w(language, f"аудитория «{whose}» выше ценит: {', '.join(names.factors.get(f, f) for f in ids)}",
                           f"{whose} respondents rate {', '.join(names.factors.get(f, f) for f in ids)} higher"))
    if diff:
        parts.append(_w(language, "Аудитории брендов различаются: ", "The brands' audiences differ: ") + "; ".join(diff) + ".")
    if d.get("merge_brands") is False:
        parts.append(_w(language,
                        f"Рекомендация: бренды не объединять, а развивать «{B}» как вторую воронку для ценочувствительной "
                        "аудитории, чтобы тёплые контакты оставались внутри группы.",
                        f"Recommendation: keep the brands separate and develop {B} as the second funnel for the "
                        "price-sensitive audience, so that warm contacts stay inside the group."))
    elif d.get("merge_brands") is True:
        parts.append(_w(language, "Существенных различий аудиторий не видно: объединение брендов можно рассматривать.",
                        "The audiences do not differ materially: merging the brands can be considered."))
    out["recommendation"] = " ".join(parts)
    return out
