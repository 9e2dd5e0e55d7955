"""Cover, method summary and the appendix of parameters and inputs."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit import __version__ as TOOLKIT_VERSION
from toolkit.core.config import Parameters
from toolkit.core.fmt import DASH, fmt_int, fmt_num, fmt_pct
from toolkit.core.words import has_word
from toolkit.report.common import fmt_date, k_method_text, w

# parameters shown in the appendix in words: name -> how the value is written
_PCT = {"confidence", "recoverable_fraction", "materiality_share", "capture_rate", "min_share", "leak_to_competitors"}


def meta_section(case, metrics: Mapping, language: str, prepared_by: str | None) -> dict:
    c = metrics.get("case") if isinstance(metrics.get("case"), Mapping) else {}
    client = (case.client if case is not None else None) or c.get("client") or c.get("name") or DASH
    as_of = (case.as_of if case is not None else None) or c.get("as_of")
    version = c.get("toolkit_version") or TOOLKIT_VERSION
    title = (getattr(case, "engagement_title", None) or (case.title if case is not None else None)
             or w(language, "cover.default_title"))
    consultancy = getattr(case, "consultancy", None) or prepared_by or (case.prepared_by if case is not None else None)
    currency = (case.currency if case is not None else None) or c.get("currency") or "RUB"
    confidentiality = getattr(case, "confidentiality", None) or w(language, "cover.confidential", client=client)
    return {
        "client": client,
        "title": title,
        "consultancy": consultancy or "",
        "prepared_line": w(language, "cover.prepared_by", who=consultancy) if consultancy else "",
        "confidentiality": confidentiality,
        "date": fmt_date(as_of, language, long=True),
        "as_of": fmt_date(as_of, language),
        "as_of_iso": str(as_of) if as_of is not None else "",
        "version": str(version),
        "currency": currency,
        "case_name": c.get("name") or (case.name if case is not None else DASH),
        "language": language,
        "industry": getattr(case, "industry", None) or "neutral",
    }


def method_section(case, metrics: Mapping, language: str) -> dict:
    p = case.parameters if case is not None else Parameters()
    seg = metrics.get("segments") if isinstance(metrics.get("segments"), Mapping) else {}
    k_text = k_method_text(seg, language)
    return {
        "visit": w(language, f"method.visit_{'day' if p.visit_definition == 'customer_day' else 'row'}"),
        "confidence": fmt_pct(p.confidence, language, 0),
        "min_segment": fmt_int(p.min_segment_size, language),
        "evidence_min": fmt_int(p.evidence_min_respondents, language),
        "k_text": k_text,
        "text": [w(language, "method.visit", visit=w(language, f"method.visit_{'day' if p.visit_definition == 'customer_day' else 'row'}")),
                 w(language, "method.intervals", confidence=fmt_pct(p.confidence, language, 0)),
                 w(language, "method.small", n=p.min_segment_size, n_txt=fmt_int(p.min_segment_size, language)),
                 w(language, "method.evidence", n=p.evidence_min_respondents,
                   n_txt=fmt_int(p.evidence_min_respondents, language)),
                 w(language, "method.personas", k_text=k_text),
                 w(language, "method.privacy")],
    }


def _param_value(name: str, v, language: str) -> str:
    if v is None:
        return DASH
    if isinstance(v, bool):
        return w(language, "yes" if v else "no")
    if isinstance(v, (list, tuple)):
        return ", ".join(_param_value(name, x, language) for x in v) or DASH
    if isinstance(v, (int, float)):
        if name in _PCT or (isinstance(v, float) and 0 < v <= 1
                            and name.endswith(("share", "fraction", "rate", "rates", "sensitivity"))):
            return fmt_pct(v, language, 0 if float(v * 100).is_integer() else 1)
        return fmt_int(v, language) if float(v).is_integer() else fmt_num(v, language, 2)
    if isinstance(v, str) and has_word(f"report.param_value.{v}", language):
        return w(language, f"param_value.{v}")
    return str(v)


def appendix_section(case, metrics: Mapping, meta: dict, language: str) -> dict:
    """Parameters in words (a parameter without a catalog name keeps its own name in the
    appendix's last table only), inputs with checksums."""
    params = []
    if case is not None:
        for k, v in case.parameters.model_dump().items():
            if not has_word(f"report.param.{k}", language):
                continue
            if isinstance(v, Mapping):
                continue
            params.append({"name": w(language, f"param.{k}"), "value": _param_value(k, v, language)})
    inputs = []
    c = metrics.get("case") if isinstance(metrics.get("case"), Mapping) else {}
    for t, v in (c.get("inputs") or {}).items():
        if isinstance(v, Mapping):
            table = w(language, f"table.{t}") if has_word(f"report.table.{t}", language) else t
            inputs.append({"table": table, "file": str(v.get("file") or DASH), "sha256": str(v.get("sha256") or DASH)[:16],
                           "rows": fmt_int(v.get("rows"), language)})
    return {"parameters": params, "inputs": inputs, "version": meta["version"], "case_name": str(meta["case_name"])}
