"""Who the clients are: RFM segments and survey personas."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import fmt_int, fmt_pct, fmt_pct_ci, is_number, ru_plural
from toolkit.core.run_folder import RunFolder
from toolkit.segmentation.rfm import SEGMENTS, segment_name
from toolkit.report.common import Names, _w, figure_ref, is_skipped, metrics_part, not_available


def rfm_section(metrics: Mapping, run: RunFolder, language: str) -> dict:
    seg, na = metrics_part(metrics, "segments", language)
    rfm = seg.get("rfm") if isinstance(seg, Mapping) else None
    if is_skipped(rfm):
        na, rfm = not_available(rfm.get("skipped"), language), None
    elif seg is not None and not rfm:
        na = not_available(_w(language, "RFM-сегментация не выполнялась", "the RFM segmentation has not run"), language)
    out = {"available": bool(rfm), "na": na, "figure": figure_ref(run, "rfm_segments"), "rows": [], "text": ""}
    if not rfm:
        return out
    i = 0 if language == "ru" else 1
    total = sum(v.get("customers") or 0 for v in rfm.values() if isinstance(v, Mapping))
    small = {"customers": 0, "customer_share": 0.0, "revenue_share": 0.0, "n": 0}
    for s, v in rfm.items():
        if not isinstance(v, Mapping) or not v.get("customers"):
            continue
        if v.get("small"):
            small["customers"] += v.get("customers") or 0
            small["customer_share"] += v.get("customer_share") or 0
            small["revenue_share"] += v.get("revenue_share") or 0
            small["n"] += 1
            continue
        cs = v.get("customer_share") if is_number(v.get("customer_share")) else (v["customers"] / total if total else None)
        out["rows"].append({"name": segment_name(s, language) if s in SEGMENTS else str(s), "customers": fmt_int(v["customers"], language),
                            "customer_share": fmt_pct(cs, language), "revenue_share": fmt_pct(v.get("revenue_share"), language)})
    if small["n"]:
        out["rows"].append({"name": _w(language, "Прочие (малые сегменты)", "Other (small segments)"),
                            "customers": fmt_int(small["customers"], language),
                            "customer_share": fmt_pct(small["customer_share"], language),
                            "revenue_share": fmt_pct(small["revenue_share"], language)})
    out["text"] = _w(
        language,
        f"Клиентская база ({fmt_int(total, 'ru')} клиентов) разделена на RFM-сегменты по давности последнего визита, "
        "частоте визитов и сумме покупок на дату анализа.",
        f"The customer base ({fmt_int(total, 'en')} customers) is split into RFM segments by recency of the last "
        "visit, frequency of visits and money spent at the analysis date.",
    )
    return out

def personas_section(metrics: Mapping, run: RunFolder, names: Names, language: str) -> dict:
    seg, na = metrics_part(metrics, "segments", language)
    personas = seg.get("personas") if isinstance(seg, Mapping) else None
    if is_skipped(personas):
        na, personas = not_available(personas.get("skipped"), language), None
    elif seg is not None and not personas:
        na = not_available(_w(language, "персоны не строились (нет опроса)", "no personas were built (no survey)"), language)
    out = {"available": bool(personas), "na": na, "figure": figure_ref(run, "persona_profile"), "rows": [], "text": ""}
    if not personas:
        return out
    for p in personas:
        factors = p.get("top_factor_names") or [names.factors.get(f, f) for f in p.get("top_factors") or []]
        out["rows"].append({
            "id": str(p.get("persona", p.get("id", ""))),
            "name": str(p.get("name") or ""),
            "share": fmt_pct_ci(p.get("share"), p.get("share_ci"), language, 0),
            "respondents": fmt_int(p.get("respondents"), language),
            "factors": ", ".join(map(str, factors)),
            "price": _w(language, "да", "yes") if p.get("price_driven") else "",
        })
    k = seg.get("k") or len(personas)
    out["text"] = _w(
        language,
        f"По важности факторов выбора в опросе выделено {fmt_int(k, 'ru')} "
        f"{ru_plural(k, 'персона', 'персоны', 'персон')}; число персон выбрано по коэффициенту силуэта, группы "
        "меньше минимального размера не показываются отдельно.",
        f"The importance of choice factors in the survey gives {fmt_int(k, 'en')} persona{'s' if k != 1 else ''}; "
        "their number is chosen by the silhouette score and groups below the minimum size are not shown separately.",
    )
    return out
