"""The journey maps: one landscape page per persona (the overall map when the interviews were not
assigned to personas), and the evidence table of the overall map for the appendix.

Rule for segment maps: a persona's map is shown for every persona with at least
``min_segment_size`` respondents behind it; maps by business line stay in the run folder
(figures/) and are not repeated in the report.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from toolkit.core.fmt import is_number
from toolkit.core.run_folder import RunFolder
from toolkit.report.common import Names, evidence_word, figure_ref, missing_artifact, one_line, w
from toolkit.stage_mapping.charts import journey_figure_name


LANDSCAPE_WIDTH_MM = 257.0  # A4 landscape, 2 cm margins
LANDSCAPE_HEIGHT_MM = 140.0  # leaves room for the title and the legend on the page


def _appendix_rows(m: pd.DataFrame, names: Names, language: str) -> list[dict]:
    label_col = f"row_label_{language}" if f"row_label_{language}" in m.columns else "row"
    rows, last_stage = [], None
    for r in m.sort_values(["stage_order", "row_order"], kind="stable").itertuples(index=False):
        text = one_line(r.text)
        if not text:
            continue
        rows.append({"stage": names.stage(r.stage) if r.stage != last_stage else "", "row": str(getattr(r, label_col)),
                     "text": text, "evidence": evidence_word(r.evidence, language)})
        last_stage = r.stage
    return rows


def journeys_section(run: RunFolder, matrix: pd.DataFrame | None, metrics: Mapping, names: Names, language: str,
                     min_segment: int = 30) -> dict:
    if matrix is None or not len(matrix):
        return {"available": False, "na": missing_artifact("journey_matrix", language), "maps": [], "appendix": [],
                "rule": ""}
    segs = matrix[["segment_type", "segment", "segment_respondents"]].drop_duplicates(["segment_type", "segment"])
    personas = segs[segs["segment_type"] == "persona"]
    personas = personas[[is_number(n) and n >= min_segment for n in personas["segment_respondents"]]]
    chosen = [("persona", str(s)) for s in personas["segment"]] or [("overall", "all")]
    items = []
    for seg_type, seg in chosen:
        if seg_type == "persona":
            title = w(language, "journey.persona_title", persona=names.personas.get(seg, seg))
        else:
            title = w(language, "journey.overall_title")
        items.append({
            "title": title,
            "map_figure": figure_ref(run, journey_figure_name("journey_map", seg_type, seg), LANDSCAPE_WIDTH_MM,
                                     LANDSCAPE_HEIGHT_MM)
            or figure_ref(run, journey_figure_name("journey_matrix", seg_type, seg), LANDSCAPE_WIDTH_MM,
                          LANDSCAPE_HEIGHT_MM),
        })
    overall = matrix[matrix["segment_type"] == "overall"]
    return {"available": bool(items), "na": "", "maps": items,
            "appendix": _appendix_rows(overall, names, language),
            "rule": w(language, "journey.rule", n=min_segment)}
