"""The data section: sources, rows read and used, quarantine reasons."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import DASH, fmt_int, is_number
from toolkit.core.words import has_word
from toolkit.core.run_folder import RunFolder
from toolkit.report.common import fmt_date, metrics_part, read_json, read_table, reason_label, w


def table_label(table, language: str) -> str:
    t = str(table)
    return w(language, f"table.{t}") if has_word(f"report.table.{t}", language) else w(language, "table.other")


def data_section(metrics: Mapping, run: RunFolder, language: str) -> dict:
    dq, na = metrics_part(metrics, "data_quality", language)
    out = {"available": dq is not None, "na": na, "sources": [], "quality": [], "text": ""}
    if dq is None:
        return out
    inputs = ((metrics.get("case") or {}).get("inputs") or {}) if isinstance(metrics.get("case"), Mapping) else {}
    periods = read_json(run, "periods") or {}
    total_read = total_used = 0
    for table, q in dq.items():
        if not isinstance(q, Mapping):
            continue
        quarantined = q.get("quarantined") or {}
        n_q = sum(v for v in quarantined.values() if is_number(v))
        p = periods.get(table) or {}
        period = f"{fmt_date(p.get('from'), language)} – {fmt_date(p.get('to'), language)}" if p.get("from") else DASH
        out["sources"].append({
            "table": table_label(table, language),
            "file": str((inputs.get(table) or {}).get("file") or DASH),
            "rows_read": fmt_int(q.get("rows_read"), language),
            "rows_used": fmt_int(q.get("rows_used"), language),
            "quarantined": fmt_int(n_q, language),
            "period": period,
        })
        total_read += q.get("rows_read") or 0
        total_used += q.get("rows_used") or 0
        for reason, n in sorted(quarantined.items(), key=lambda kv: (-(kv[1] or 0), kv[0])):
            if n:
                out["quality"].append({"table": table_label(table, language),
                                       "reason": reason_label(reason, language) + " — " + w(language, "data.kind_quarantined"),
                                       "rows": fmt_int(n, language),
                                       "kind": w(language, "data.kind_quarantined")})
    quality = read_table(run, "quality")
    if quality is not None and len(quality) and {"kind", "problem", "rows"} <= set(quality.columns):
        warn = quality[quality["kind"].astype(str) == "value blanked/kept"]
        for r in warn.itertuples(index=False):
            out["quality"].append({"table": table_label(r.table, language),
                                   "reason": reason_label(str(r.problem), language) + " — " + w(language, "data.kind_blanked"),
                                   "rows": fmt_int(r.rows, language),
                                   "kind": w(language, "data.kind_blanked")})
    n_q = total_read - total_used
    out["text"] = w(language, "data.text", read=fmt_int(total_read, language), n=total_read,
                    sources=len(out["sources"]), used=fmt_int(total_used, language),
                    aside=fmt_int(n_q, language), m=n_q)
    return out
