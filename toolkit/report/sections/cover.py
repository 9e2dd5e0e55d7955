"""Cover, method summary and appendix of parameters and inputs."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import DASH, ci_label, fmt_int, fmt_pct
from toolkit.report.common import _w, fmt_date


def meta_section(case, metrics: Mapping, language: str, prepared_by: str | None) -> dict:
    c = metrics.get("case") if isinstance(metrics.get("case"), Mapping) else {}
    client = (case.client if case is not None else None) or c.get("client") or c.get("name") or DASH
    as_of = (case.as_of if case is not None else None) or c.get("as_of")
    version = c.get("toolkit_version")
    if not version:
        from toolkit import __version__ as version
    title = case.title if case is not None and case.title else _w(
        language, "Карта пути клиента (CJM): выводы и рекомендации", "Customer journey map (CJM): findings and recommendations")
    currency = (case.currency if case is not None else None) or c.get("currency") or "RUB"
    return {
        "client": client,
        "title": title,
        "date": fmt_date(as_of, language, long=True),
        "as_of": fmt_date(as_of, language),
        "as_of_iso": str(as_of) if as_of is not None else "",
        "prepared_by": prepared_by or _w(language, f"CJM-инструментарий, версия {version}", f"CJM toolkit, version {version}"),
        "version": str(version),
        "currency": currency,
        "case_name": c.get("name") or (case.name if case is not None else DASH),
        "language": language,
    }

def method_section(case, language: str) -> dict:
    from toolkit.core.config import Parameters

    p = case.parameters if case is not None else Parameters()
    visit = _w(language, "один клиенто-день (все услуги клиента за день — один визит)",
               "one customer-day (all of a customer's services on one day make one visit)") \
        if p.visit_definition == "customer_day" else _w(language, "одна строка выгрузки", "one row of the export")
    return {
        "confidence": fmt_pct(p.confidence, language, 0),
        "ci": ci_label(p.confidence, language),
        "min_segment": fmt_int(p.min_segment_size, language),
        "evidence_min": fmt_int(p.evidence_min_respondents, language),
        "visit": visit,
        "max_visit": fmt_int(p.max_visit_number, language),
    }

def appendix_section(case, metrics: Mapping, meta: dict, language: str) -> dict:
    params = []
    if case is not None:
        for k, v in case.parameters.model_dump().items():
            if isinstance(v, (list, tuple)):
                v = ", ".join(str(x) for x in v) or DASH
            params.append({"name": k, "value": DASH if v is None else str(v)})
    inputs = []
    c = metrics.get("case") if isinstance(metrics.get("case"), Mapping) else {}
    for t, v in (c.get("inputs") or {}).items():
        if isinstance(v, Mapping):
            inputs.append({"table": t, "file": str(v.get("file") or DASH), "sha256": str(v.get("sha256") or DASH),
                           "rows": fmt_int(v.get("rows"), language)})
    return {"parameters": params, "inputs": inputs, "version": meta["version"], "case_name": str(meta["case_name"])}
