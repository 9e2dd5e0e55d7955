"""The executive summary: the key findings, each one sentence with its number."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import fmt_int, fmt_money_short, fmt_pct, fmt_pct_ci, is_number, ordinal, ru_plural
from toolkit.segmentation.rfm import SEGMENTS, segment_name
from toolkit.report.common import Names, _w, is_skipped, metrics_part
from toolkit.report.sections.brands import headline_scenario


def summary_findings(ctx_parts: dict, metrics: Mapping, names: Names, language: str, currency: str, conf: float,
                     limit: int = 7) -> list[str]:
    """5-7 findings, each one sentence with its number, in a fixed order of importance:
    loyalty threshold, top barrier, funnel bottleneck, double funnel, RFM, personas,
    cross-penetration, staff dependency (each only when its part is available)."""
    out: list[str] = []
    loy, _ = metrics_part(metrics, "loyalty", language)
    if loy is not None and isinstance(loy.get("overall"), Mapping):
        d = loy["overall"]
        p, ci = d.get("p_return") or {}, d.get("p_return_ci") or {}
        k = d.get("loyalty_visit")
        if is_number(k):
            out.append(_w(language,
                          f"Клиент становится лояльным после {ordinal(k, 'ru', genitive=True)} визита: после него возвращаются "
                          f"{fmt_pct_ci(p.get(str(k)), ci.get(str(k)), 'ru', 0, conf)} клиентов, а после первого визита — "
                          f"лишь {fmt_pct_ci(p.get('1'), ci.get('1'), 'ru', 0, conf)}.",
                          f"A customer becomes loyal after the {ordinal(k, 'en')} visit: "
                          f"{fmt_pct_ci(p.get(str(k)), ci.get(str(k)), 'en', 0, conf)} return after it, against only "
                          f"{fmt_pct_ci(p.get('1'), ci.get('1'), 'en', 0, conf)} after the first visit."))
        elif is_number(p.get("1")):
            out.append(_w(language,
                          f"После первого визита возвращаются {fmt_pct_ci(p.get('1'), ci.get('1'), 'ru', 0, conf)} клиентов; "
                          "устойчивого порога лояльности по всей базе нет.",
                          f"{fmt_pct_ci(p.get('1'), ci.get('1'), 'en', 0, conf)} of customers return after the first "
                          "visit; the whole base shows no stable loyalty threshold."))
    bars, _ = metrics_part(metrics, "barriers", language)
    bars = [b for b in (bars or []) if isinstance(b, Mapping)]
    if bars:
        b = bars[0]
        money = b.get("revenue_at_stake")
        out.append(_w(language,
                      f"Главный барьер — «{b.get('label') or b.get('code')}» на этапе «{names.stage(b.get('stage'))}»: его "
                      f"называют {fmt_pct_ci(b.get('share'), b.get('ci'), 'ru', 0, conf)} опрошенных"
                      + (f"; под угрозой до {fmt_money_short(money, currency, 'ru')} выручки" if is_number(money) else "") + ".",
                      f"The main barrier is “{b.get('label') or b.get('code')}” at the “{names.stage(b.get('stage'))}” "
                      f"stage: {fmt_pct_ci(b.get('share'), b.get('ci'), 'en', 0, conf)} of interviewees name it"
                      + (f"; up to {fmt_money_short(money, currency, 'en')} of revenue is at stake" if is_number(money) else "")
                      + "."))
    fb = ctx_parts["funnel"]["bottlenecks"]
    if fb:
        out.append(fb[0])
    d, _ = metrics_part(metrics, "double_funnel", language)
    if d is not None and is_number(d.get("nontarget_share")):
        sc = headline_scenario(d)
        P, B = names.brand(d.get("premium_brand")), names.brand(d.get("budget_brand"))
        s = _w(language,
               f"{fmt_pct_ci(d['nontarget_share'], d.get('nontarget_share_ci'), 'ru', 0, conf)} лидов бренда «{P}» — нецелевые по цене",
               f"{fmt_pct_ci(d['nontarget_share'], d.get('nontarget_share_ci'), 'en', 0, conf)} of {P} leads are priced out")
        if sc and is_number(sc.get("revenue")):
            s += _w(language,
                    f"; перехват {fmt_pct(sc.get('capture_rate'), 'ru', 0)} этого потока брендом «{B}» сохранит в группе "
                    f"около {fmt_money_short(sc.get('revenue'), currency, 'ru')} выручки в год",
                    f"; capturing {fmt_pct(sc.get('capture_rate'), 'en', 0)} of this flow with {B} keeps about "
                    f"{fmt_money_short(sc.get('revenue'), currency, 'en')} of revenue a year in the group")
        out.append(s + ".")
    seg, _ = metrics_part(metrics, "segments", language)
    rfm = seg.get("rfm") if isinstance(seg, Mapping) else None
    if isinstance(rfm, Mapping) and not is_skipped(rfm):
        cand = [(s, v) for s, v in rfm.items() if isinstance(v, Mapping) and is_number(v.get("revenue_share"))
                and not v.get("small")]
        if cand:
            s, v = max(cand, key=lambda x: (x[1]["revenue_share"], x[0]))
            nm = segment_name(s, language) if s in SEGMENTS else str(s)
            out.append(_w(language,
                          f"Сегмент «{nm}» — {fmt_pct(v.get('customer_share'), 'ru', 0)} клиентов — приносит "
                          f"{fmt_pct(v['revenue_share'], 'ru', 0)} выручки.",
                          f"The “{nm}” segment, {fmt_pct(v.get('customer_share'), 'en', 0)} of customers, brings "
                          f"{fmt_pct(v['revenue_share'], 'en', 0)} of revenue."))
    personas = seg.get("personas") if isinstance(seg, Mapping) else None
    if isinstance(personas, list) and personas:
        top = max(personas, key=lambda p: (p.get("share") or 0))
        k = seg.get("k") or len(personas)
        out.append(_w(language,
                      f"Аудитория делится на {fmt_int(k, 'ru')} {ru_plural(k, 'персону', 'персоны', 'персон')}; крупнейшая — "
                      f"«{top.get('name')}», {fmt_pct_ci(top.get('share'), top.get('share_ci'), 'ru', 0, conf)} опрошенных.",
                      f"The audience splits into {fmt_int(k, 'en')} persona{'s' if k != 1 else ''}; the largest is "
                      f"“{top.get('name')}”, {fmt_pct_ci(top.get('share'), top.get('share_ci'), 'en', 0, conf)} of respondents."))
    if ctx_parts["loyalty"]["cross"]["text"]:
        out.append(ctx_parts["loyalty"]["cross"]["text"].split(";")[0].rstrip(".") + ".")
    if ctx_parts["loyalty"]["staff"]["text"]:
        out.append(ctx_parts["loyalty"]["staff"]["text"].split(". ")[0].rstrip(".") + ".")
    return out[:limit]
