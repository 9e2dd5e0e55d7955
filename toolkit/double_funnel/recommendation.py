"""The double funnel's recommendation paragraph, built from the numbers of its summary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def _money(x, currency: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:,.0f}".replace(",", "\u00a0") + f"\u00a0{currency}"


def _pct(x, digits: int = 0, language: str = "en") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    text = f"{100 * x:.{digits}f}%"
    return text.replace(".", ",") if language == "ru" else text


def _names(ids: Sequence[str], names: dict[str, str]) -> str:
    return ", ".join(names.get(i, i) for i in ids)


def recommendation_text(s: dict[str, Any], language: str) -> str:
    """The recommendation paragraph, built from the numbers of :func:`double_funnel_analysis`'s
    summary ``s`` (keys as in metrics.json plus the extras)."""
    cur = s["currency"]
    P, B = s["premium_name"], s["budget_name"]
    sc = s.get("headline_scenario") or {}
    ci = s["nontarget_share_ci"]
    now = s["conversion_now"]
    v = s["verdict"]
    fn = s["factor_names"]
    pen = ((s.get("penetration") or {}).get("both") or {}).get("share")
    ru = language == "ru"

    def pct(x, digits: int = 0) -> str:
        return _pct(x, digits, language)

    parts = []
    if ru:
        P, B = f"«{P}»", f"«{B}»"

        parts.append(
            f"Из {s['evidence_leads']} лидов {P}, по которым есть данные о платёжеспособности, "
            f"{pct(s['nontarget_share'])} [{pct(ci[0])}–{pct(ci[1])}] — нецелевые: их бюджет ниже "
            f"порога {_money(s['price_floor'], cur)} или они ушли из-за цены."
        )
        parts.append(
            f"Сейчас они доходят до сделки в {pct(now['nontarget']['rate'], 1)} случаев "
            f"(N={now['nontarget']['n']}) против {pct(now['target']['rate'], 1)} у целевых (N={now['target']['n']})."
        )
        if s.get("budget_avg_check_basis") == "lead_linked_first_visit":
            money = (f"оплачивается {pct(s['budget_paid_share'])} сделок, средний чек первого оплаченного визита "
                     f"после заявки — {_money(s['budget_avg_check'], cur)}")
        else:
            money = f"средний чек первого визита — {_money(s['budget_avg_check'], cur)}"
        parts.append(f"{B} превращает свои лиды в сделки в {pct(s['budget_conversion'], 1)} случаев, {money}.")
        if sc:
            parts.append(
                f"Если инструменты неявного перехвата переведут в {B} {pct(sc['capture_rate'])} нецелевого потока, "
                f"группа сохранит около {sc['leads']:.0f} лидов и {sc['deals']:.0f} сделок в год — "
                f"{_money(sc['revenue'], cur)} выручки в год (от {_money(sc['revenue_low'], cur)} "
                f"до {_money(sc['revenue_high'], cur)})."
            )
        if v["basis"] == "survey_audiences" and v["material"]:
            txt = []
            if v["higher_for_premium"]:
                txt.append(f"аудитория {P} выше ценит: {_names(v['higher_for_premium'], fn)}")
            if v["higher_for_budget"]:
                txt.append(f"аудитория {B} — {_names(v['higher_for_budget'], fn)}")
            parts.append("Аудитории различаются: " + "; ".join(txt) + ".")
        if pen is not None:
            parts.append(f"Оба бренда покупали лишь {pct(pen, 1)} клиентов.")
        parts.append(
            f"Объединять бренды не стоит: развивайте {B} как вторую воронку для ценочувствительной аудитории."
            if not v["merge_brands"]
            else "Существенных различий аудиторий не видно: объединение брендов можно рассматривать."
        )
    else:
        parts.append(
            f"Of the {s['evidence_leads']} {P} leads with evidence on what they can pay, "
            f"{pct(s['nontarget_share'])} [{pct(ci[0])}–{pct(ci[1])}] are non-target: their budget is below "
            f"the {_money(s['price_floor'], cur)} floor or they left over price."
        )
        parts.append(
            f"Today they reach a deal {pct(now['nontarget']['rate'], 1)} of the time (N={now['nontarget']['n']}) "
            f"against {pct(now['target']['rate'], 1)} for target leads (N={now['target']['n']})."
        )
        if s.get("budget_avg_check_basis") == "lead_linked_first_visit":
            money = (f"{pct(s['budget_paid_share'])} of its deals are paid, at an average check of "
                     f"{_money(s['budget_avg_check'], cur)} for the first paid visit after the lead")
        else:
            money = f"its average first-visit check is {_money(s['budget_avg_check'], cur)}"
        parts.append(f"{B} converts its own leads at {pct(s['budget_conversion'], 1)}; {money}.")
        if sc:
            parts.append(
                f"If implicit-capture tools move {pct(sc['capture_rate'])} of the non-target flow to {B}, the group "
                f"keeps about {sc['leads']:.0f} leads and {sc['deals']:.0f} deals a year, "
                f"{_money(sc['revenue'], cur)} of revenue a year (range {_money(sc['revenue_low'], cur)} "
                f"to {_money(sc['revenue_high'], cur)})."
            )
        if v["basis"] == "survey_audiences" and v["material"]:
            txt = []
            if v["higher_for_premium"]:
                txt.append(f"{P} respondents rate {_names(v['higher_for_premium'], fn)} higher")
            if v["higher_for_budget"]:
                txt.append(f"{B} respondents rate {_names(v['higher_for_budget'], fn)} higher")
            parts.append("The audiences differ: " + "; ".join(txt) + ".")
        if pen is not None:
            parts.append(f"Only {pct(pen, 1)} of customers bought from both brands.")
        parts.append(
            f"Keep the brands separate and develop {B} as the second funnel for the price-sensitive audience."
            if not v["merge_brands"]
            else "The audiences do not differ materially: merging the brands can be considered."
        )
    return " ".join(parts)
