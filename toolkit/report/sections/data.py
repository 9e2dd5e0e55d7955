"""The data section: sources, rows read and used, quarantine reasons."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.fmt import DASH, fmt_int, is_number, ru_plural
from toolkit.core.run_folder import RunFolder
from toolkit.report.common import TABLE_LABELS, _w, fmt_date, metrics_part, read_json, read_table, reason_label


def data_section(metrics: Mapping, run: RunFolder, language: str) -> dict:
    dq, na = metrics_part(metrics, "data_quality", language)
    out = {"available": dq is not None, "na": na, "sources": [], "quality": [], "text": ""}
    if dq is None:
        return out
    inputs = ((metrics.get("case") or {}).get("inputs") or {}) if isinstance(metrics.get("case"), Mapping) else {}
    periods = read_json(run, "periods") or {}
    i = 0 if language == "ru" else 1
    total_read = total_used = 0
    for table, q in dq.items():
        if not isinstance(q, Mapping):
            continue
        quarantined = q.get("quarantined") or {}
        n_q = sum(v for v in quarantined.values() if is_number(v))
        p = periods.get(table) or {}
        period = f"{fmt_date(p.get('from'), language)} – {fmt_date(p.get('to'), language)}" if p.get("from") else DASH
        out["sources"].append({
            "table": TABLE_LABELS.get(table, (table, table))[i],
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
                out["quality"].append({"table": TABLE_LABELS.get(table, (table, table))[i],
                                       "reason": reason_label(reason, language), "code": reason,
                                       "rows": fmt_int(n, language),
                                       "kind": _w(language, "строка отложена", "row quarantined")})
    quality = read_table(run, "quality")
    if quality is not None and len(quality) and {"kind", "problem", "rows"} <= set(quality.columns):
        warn = quality[quality["kind"].astype(str) == "value blanked/kept"]
        for r in warn.itertuples(index=False):
            out["quality"].append({"table": TABLE_LABELS.get(r.table, (r.table, r.table))[i],
                                   "reason": reason_label(str(r.problem), language), "code": str(r.problem),
                                   "rows": fmt_int(r.rows, language),
                                   "kind": _w(language, "значение очищено, строка в анализе",
                                              "value blanked, row kept")})
    n_q = total_read - total_used
    out["text"] = _w(
        language,
        f"Прочитано {fmt_int(total_read, 'ru')} строк из {len(out['sources'])} "
        f"{ru_plural(len(out['sources']), 'источника', 'источников', 'источников')}; в анализ вошли "
        f"{fmt_int(total_used, 'ru')}, ещё {fmt_int(n_q, 'ru')} отложены с указанием причины (таблица ниже, "
        "построчно — в файле data_quality.xlsx). Ни одна строка не отброшена молча.",
        f"{fmt_int(total_read, 'en')} rows were read from {len(out['sources'])} "
        f"source{'s' if len(out['sources']) != 1 else ''}; {fmt_int(total_used, 'en')} entered the analysis and "
        f"{fmt_int(n_q, 'en')} were set aside with their reason (table below; row by row in data_quality.xlsx). "
        "No row was dropped silently.",
    )
    return out
