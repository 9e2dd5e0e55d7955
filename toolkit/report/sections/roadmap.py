"""The action roadmap: actions from barriers, the double funnel and loyalty, ranked."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import fmt_days, fmt_money_short, fmt_pct, fmt_pct_ci, is_number, ordinal
from toolkit.report.common import EVIDENCE_WORDS, Names, _w, metrics_part, one_line
from toolkit.report.inputs import ALL_LINES, MAX_ROADMAP_BARRIERS
from toolkit.report.sections.brands import headline_scenario


EVIDENCE_RANK = {"strong": 0, "partial": 1, "none": 2}

SOURCE_RANK = {"barrier": 0, "double_funnel": 1, "loyalty": 2}

ROADMAP_RULE = (
    "Порядок: сначала пункты с денежной оценкой, от большей к меньшей (для барьера — выручка под угрозой, верхняя "
    "оценка; для двойной воронки — выручка в год в центральном сценарии перехвата); затем пункты без денежной оценки. "
    "При равенстве выше пункт с более сильными данными (сильные, частичные, нет), затем по источнику (барьер, "
    "двойная воронка, лояльность) и по исходному порядку (ранг барьера, размер направления).",
    "Order: first the items with a money estimate, largest first (a barrier: revenue at stake, an upper bound; the "
    "double funnel: revenue a year in the central capture scenario); then the items without one. Ties go to the "
    "stronger evidence (strong, partial, none), then by source (barrier, double funnel, loyalty) and by the original "
    "order (barrier rank, size of the line).",
)

def roadmap_items(metrics: Mapping, names: Names, language: str, currency: str, conf: float) -> list[dict]:
    """The prioritised roadmap (rule: ``ROADMAP_RULE``): top barriers, the double funnel, loyalty
    triggers per line with a loyalty visit; each item with the number that justifies it."""
    items = []
    bars, _ = metrics_part(metrics, "barriers", language)
    for b in [b for b in (bars or []) if isinstance(b, Mapping)][:MAX_ROADMAP_BARRIERS]:
        label = b.get("label") or b.get("code")
        actions = [a for a in (b.get("actions") or []) if one_line(a)]
        action = one_line(actions[0]) if actions else _w(language, f"Найти и проверить решение барьера «{label}»",
                                                        f"Find and test a fix for the barrier “{label}”")
        money = b.get("revenue_at_stake") if is_number(b.get("revenue_at_stake")) else None
        why = _w(language,
                 f"Барьер «{label}» ({names.stage(b.get('stage'))}): {fmt_pct_ci(b.get('share'), b.get('ci'), 'ru', 0, conf)} респондентов",
                 f"Barrier “{label}” ({names.stage(b.get('stage'))}): {fmt_pct_ci(b.get('share'), b.get('ci'), 'en', 0, conf)} of respondents")
        items.append({"action": action, "why": why, "money": money, "evidence": str(b.get("evidence") or "none"),
                      "source": "barrier", "order": int(b.get("rank") or 0)})
    d, _ = metrics_part(metrics, "double_funnel", language)
    if d is not None and is_number(d.get("nontarget_share")) and d.get("merge_brands") is not True:
        sc = headline_scenario(d)
        P, B = names.brand(d.get("premium_brand")), names.brand(d.get("budget_brand"))
        ci = d.get("nontarget_share_ci") or [None, None]
        width = (ci[1] - ci[0]) if is_number(ci[0]) and is_number(ci[1]) else None
        items.append({
            "action": _w(language, f"Двойная воронка: неявно перенаправлять ценочувствительные лиды бренда «{P}» в «{B}»",
                         f"Double funnel: route price-sensitive {P} leads to {B} by implicit capture"),
            "why": _w(language, f"{fmt_pct_ci(d['nontarget_share'], ci, 'ru', 0, conf)} лидов бренда «{P}» нецелевые по цене",
                      f"{fmt_pct_ci(d['nontarget_share'], ci, 'en', 0, conf)} of {P} leads are priced out"),
            "money": sc.get("revenue") if sc and is_number(sc.get("revenue")) else None,
            "evidence": "strong" if width is not None and width <= 0.3 else "partial",
            "source": "double_funnel", "order": 0,
        })
    loy, _ = metrics_part(metrics, "loyalty", language)
    if loy is not None:
        lines = [(s, v) for s, v in (loy.get("by_line") or {}).items() if isinstance(v, Mapping)]
        if not lines and isinstance(loy.get("overall"), Mapping):
            lines = [(ALL_LINES, loy["overall"])]
        lines = sorted(lines, key=lambda x: (-(x[1].get("customers") or 0), x[0]))
        for pos, (scope, v) in enumerate(lines):
            k = v.get("loyalty_visit")
            if not is_number(k):
                continue
            gap = (v.get("median_gap_days") or {}).get("2")
            p1 = (v.get("p_return") or {}).get("1")
            items.append({
                "action": _w(language,
                             f"{names.line(scope)}: триггерные напоминания до {ordinal(k, 'ru', genitive=True)} визита (порог лояльности)"
                             + (f"; медианный интервал до 2-го визита — {fmt_days(gap, 'ru')}" if is_number(gap) else ""),
                             f"{names.line(scope)}: trigger reminders up to the {ordinal(k, 'en')} visit (loyalty threshold)"
                             + (f"; median gap to the 2nd visit: {fmt_days(gap, 'en')}" if is_number(gap) else "")),
                "why": _w(language, f"после первого визита возвращаются {fmt_pct(p1, 'ru', 0)} клиентов",
                          f"{fmt_pct(p1, 'en', 0)} of customers return after the first visit"),
                "money": None, "evidence": "strong", "source": "loyalty", "order": pos,
            })
    items.sort(key=lambda it: (it["money"] is None, -(it["money"] or 0.0), EVIDENCE_RANK.get(it["evidence"], 3),
                               SOURCE_RANK[it["source"]], it["order"]))
    i = 0 if language == "ru" else 1
    src_words = {"barrier": ("барьер", "barrier"), "double_funnel": ("двойная воронка", "double funnel"),
                 "loyalty": ("лояльность", "loyalty")}
    return [
        {"priority": str(n), "action": it["action"], "why": it["why"],
         "money": fmt_money_short(it["money"], currency, language), "evidence": EVIDENCE_WORDS.get(it["evidence"], ("", ""))[i],
         "source": src_words[it["source"]][i]}
        for n, it in enumerate(items, start=1)
    ]
