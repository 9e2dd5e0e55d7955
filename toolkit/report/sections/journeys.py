"""The journey maps: one per segment (overall, personas, business lines)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from toolkit.core.fmt import NBSP, fmt_int, is_number
from toolkit.core.run_folder import RunFolder
from toolkit.core.stages import row_label
from toolkit.report.common import EVIDENCE_WORDS, Names, _w, figure_ref, missing_artifact, one_line
from toolkit.stage_mapping.charts import journey_figure_name


def journeys_section(run: RunFolder, matrix: pd.DataFrame | None, metrics: Mapping, names: Names, language: str) -> dict:
    if matrix is None or not len(matrix):
        return {"available": False, "na": missing_artifact("journey_matrix", language), "maps": []}
    i = 0 if language == "ru" else 1
    rank = {"overall": 0, "persona": 1, "business_line": 2}
    segs = matrix[["segment_type", "segment"]].drop_duplicates()
    segs = segs.assign(_r=segs["segment_type"].map(rank).fillna(3)).sort_values(["_r", "segment"], kind="stable")
    items = []
    from toolkit.core.figures import EVIDENCE_COLOURS

    for seg_type, seg in segs[["segment_type", "segment"]].itertuples(index=False):
        m = matrix[(matrix["segment_type"] == seg_type) & (matrix["segment"] == seg)]
        n = m["segment_respondents"].iloc[0] if "segment_respondents" in m.columns and len(m) else None
        n_txt = f" (n{NBSP}={NBSP}{fmt_int(n, language)})" if is_number(n) else ""
        if seg_type == "overall":
            title = _w(language, "Общая карта: все респонденты", "Core map: all respondents") + n_txt
        elif seg_type == "persona":
            known = names.personas.get(str(seg))  # a survey persona id (P1) has a name; a name stands alone
            title = _w(language, "Персона", "Persona") + (f" {seg}: {known}" if known and known != str(seg)
                                                             else f": {seg}") + n_txt
        else:
            title = _w(language, "Направление", "Business line") + f": {names.line(seg)}{n_txt}"
        m = m.sort_values(["stage_order", "row_order"], kind="stable")
        rows, last_stage = [], None
        for r in m.itertuples(index=False):
            text = one_line(r.text)
            if not text:
                continue
            ev = str(r.evidence)
            rows.append({
                "stage": names.stage(r.stage) if r.stage != last_stage else "",
                "row": row_label(str(r.row), language),
                "text": text,
                "evidence": EVIDENCE_WORDS.get(ev, (ev, ev))[i],
                "colour": EVIDENCE_COLOURS.get(ev, EVIDENCE_COLOURS["none"]).lstrip("#").upper(),
            })
            last_stage = r.stage
        items.append({
            "title": title,
            "matrix_figure": figure_ref(run, journey_figure_name("journey_matrix", seg_type, seg)),
            "emotion_figure": figure_ref(run, journey_figure_name("emotion_curve", seg_type, seg)),
            "rows": rows,
        })
    return {"available": bool(items), "na": "" if items else missing_artifact("journey_matrix", language), "maps": items}
