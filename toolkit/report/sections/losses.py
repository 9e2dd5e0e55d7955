"""Where clients are lost: the lead funnel by brand and the ranked barriers."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import DASH, fmt_int, fmt_money, fmt_pct, fmt_pct_ci, fmt_signed, is_number
from toolkit.core.run_folder import RunFolder
from toolkit.report.common import EVIDENCE_WORDS, Names, _w, figure_ref, is_skipped, metrics_part, not_available, one_line, quoted
from toolkit.report.inputs import MAX_BARRIERS_TABLE, MAX_BARRIER_DETAILS


def funnel_section(metrics: Mapping, run: RunFolder, names: Names, language: str, conf: float) -> dict:
    f, na = metrics_part(metrics, "funnel", language)
    brands = {b: v for b, v in (f or {}).items() if isinstance(v, Mapping) and "stages" in v}
    if f is not None and not brands:
        na = not_available(next((v.get("skipped") for v in f.values() if is_skipped(v)), "—"), language)
    out = {"available": bool(brands), "na": na, "figure": figure_ref(run, "funnel"), "rows": [], "bottlenecks": []}
    for brand, v in brands.items():
        stage_names = v.get("stage_names") or [names.funnel.get(s, s) for s in v["stages"]]
        counts = v.get("counts") or []
        conv = v.get("conversion") or []
        cis = v.get("conversion_ci") or []
        for j in range(len(stage_names) - 1):
            out["rows"].append({
                "brand": names.brand(brand) if j == 0 else "",
                "transition": f"{stage_names[j]} → {stage_names[j + 1]}",
                "entered": fmt_int(counts[j] if j < len(counts) else None, language),
                "moved": fmt_int(counts[j + 1] if j + 1 < len(counts) else None, language),
                "conversion": fmt_pct_ci(conv[j] if j < len(conv) else None, cis[j] if j < len(cis) else None,
                                         language, 1, conf),
            })
        bn = v.get("bottleneck")
        if isinstance(bn, Mapping) and bn.get("from"):
            idx = {s: k for k, s in enumerate(v["stages"])}
            a = stage_names[idx[bn["from"]]] if bn["from"] in idx else bn["from"]
            b = stage_names[idx[bn["to"]]] if bn.get("to") in idx else bn.get("to")
            k = idx.get(bn["from"])
            ci = cis[k] if k is not None and k < len(cis) else None
            conv_txt = fmt_pct_ci(bn.get("conversion"), ci, language, 1, conf)
            B = names.brand(brand)
            if bn.get("basis") == "largest_drop":
                s = _w(language,
                       f"{B}: наибольший отток — на переходе «{a} → {b}» (конверсия {conv_txt}, "
                       f"потеряно {fmt_int(bn.get('lost_leads'), 'ru')} лидов).",
                       f"{B}: the largest drop-out is at “{a} → {b}” (conversion {conv_txt}, "
                       f"{fmt_int(bn.get('lost_leads'), 'en')} leads lost).")
            else:
                ref_who = bn.get("reference_group")
                if ref_who and ref_who != "benchmark":
                    ref_who = quoted(names.brand(ref_who), language)
                else:
                    ref_who = _w(language, "ориентира", "the benchmark")
                s = _w(language,
                       f"{B}: узкое место — переход «{a} → {b}»: конверсия {conv_txt} против "
                       f"{fmt_pct(bn.get('reference'), 'ru')} у {ref_who}; разница стоит около "
                       f"{fmt_int(bn.get('lost_leads'), 'ru')} лидов.",
                       f"{B}: the bottleneck is “{a} → {b}”: conversion {conv_txt} against "
                       f"{fmt_pct(bn.get('reference'), 'en')} at {ref_who}; the gap costs about "
                       f"{fmt_int(bn.get('lost_leads'), 'en')} leads.")
            out["bottlenecks"].append(s)
        ttl = v.get("traffic_to_lead")
        if isinstance(ttl, Mapping) and is_number(ttl.get("rate")):
            out["bottlenecks"].append(_w(
                language,
                f"{names.brand(brand)}: из {fmt_int(ttl.get('sessions'), 'ru')} сессий сайта получено "
                f"{fmt_int(ttl.get('leads'), 'ru')} лидов — {fmt_pct_ci(ttl['rate'], ttl.get('ci'), 'ru', 2, conf)} на сессию.",
                f"{names.brand(brand)}: {fmt_int(ttl.get('sessions'), 'en')} website sessions gave "
                f"{fmt_int(ttl.get('leads'), 'en')} leads, {fmt_pct_ci(ttl['rate'], ttl.get('ci'), 'en', 2, conf)} per session."))
    return out

def barriers_section(metrics: Mapping, run: RunFolder, names: Names, language: str, currency: str, conf: float) -> dict:
    bars, na = metrics_part(metrics, "barriers", language)
    bars = [b for b in (bars or []) if isinstance(b, Mapping)]
    out = {"available": bool(bars), "na": na, "figure": figure_ref(run, "barriers"), "rows": [], "details": [], "text": ""}
    if not bars:
        return out
    i = 0 if language == "ru" else 1
    for b in bars[:MAX_BARRIERS_TABLE]:
        out["rows"].append({
            "rank": str(b.get("rank") or ""),
            "label": str(b.get("label") or b.get("code")),
            "stage": names.stage(b.get("stage")),
            "share": fmt_pct_ci(b.get("share"), b.get("ci"), language, 0, conf),
            "respondents": f"{fmt_int(b.get('respondents'), language)}"
                           + (f" / {fmt_int(b.get('base'), language)}" if is_number(b.get("base")) else ""),
            "severity": fmt_signed(b.get("severity"), language, 1),
            "revenue": fmt_money(b.get("revenue_at_stake"), currency, language),
            "evidence": EVIDENCE_WORDS.get(str(b.get("evidence")), (DASH, DASH))[i],
        })
    for b in bars[:MAX_BARRIER_DETAILS]:
        out["details"].append({
            "title": f"{b.get('rank')}. {b.get('label') or b.get('code')} ({names.stage(b.get('stage'))})",
            "quotes": [quoted(one_line(q), language) for q in (b.get("quotes") or []) if one_line(q)],
            "actions": [one_line(a) for a in (b.get("actions") or []) if one_line(a)],
        })
    with_money = [b for b in bars if is_number(b.get("revenue_at_stake"))]
    out["text"] = _w(
        language,
        f"Барьеры упорядочены по выручке под угрозой (верхняя оценка: потерянные на этапе клиенты × ценность клиента × "
        f"доля упоминаний барьера), затем по доле респондентов. Выручка под угрозой оценена для {len(with_money)} "
        f"из {len(bars)} барьеров.",
        f"Barriers are ranked by revenue at stake (an upper bound: customers lost at the stage × value per customer × "
        f"the barrier's share of mentions), then by the share of respondents. Revenue at stake is estimated for "
        f"{len(with_money)} of {len(bars)} barriers.",
    )
    return out
