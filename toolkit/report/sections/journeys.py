"""The journey maps: one landscape page per persona (the overall map when the interviews were not
assigned to personas), and the evidence table of the overall map for the appendix.

Rule for segment maps: a persona's map is shown for every persona with at least
``min_segment_size`` respondents behind it; maps by business line stay in the run folder
(figures/) and are not repeated in the report.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from toolkit.core.run_folder import RunFolder
from toolkit.core.words import has_word
from toolkit.report.common import SNAKE, Names, evidence_word, figure_ref, missing_artifact, one_line, w
from toolkit.report.journey_map import draw_journey_maps


LANDSCAPE_WIDTH_MM = 257.0  # A4 landscape, 2 cm margins
LANDSCAPE_HEIGHT_MM = 112.0  # the first map: room for the chapter heading, the map's title and its source line
LANDSCAPE_HEIGHT_NEXT_MM = 132.0  # the next maps: room for the map's title and its source line


def _appendix_rows(m: pd.DataFrame, names: Names, language: str) -> list[dict]:
    rows, last_stage = [], None
    for r in m.sort_values(["stage_order", "row_order"], kind="stable").itertuples(index=False):
        text = SNAKE.sub(lambda x: names.code(x.group(0)), one_line(r.text))
        if not text:
            continue
        row = w(language, f"map_row.{r.row}") if has_word(f"report.map_row.{r.row}", language) else names.code(r.row)
        rows.append({"stage": names.stage(r.stage) if r.stage != last_stage else "", "row": row,
                     "text": text, "evidence": evidence_word(r.evidence, language)})
        last_stage = r.stage
    return rows


def journeys_section(run: RunFolder, matrix: pd.DataFrame | None, metrics: Mapping, names: Names, language: str,
                     min_respondents: int = 5, cards: list[Mapping] | None = None) -> dict:
    """One landscape map per survey persona (``toolkit.report.journey_map``; drawn here into the
    run's figures), the rule that says whose interviews each map shows, and the overall map's
    cells for the appendix."""
    if matrix is None or not len(matrix):
        return {"available": False, "na": missing_artifact("journey_matrix", language), "maps": [], "appendix": [],
                "rule": ""}
    seg = metrics.get("segments") if isinstance(metrics.get("segments"), Mapping) else {}
    personas = seg.get("personas") if isinstance(seg.get("personas"), list) else []
    order = sorted(names.stages, key=lambda s: names.stage_order.get(s, 99))
    stages = [(s, names.stage(s)) for s in order]
    drawn = draw_journey_maps(run, personas, {c["id"]: c for c in cards or []}, stages, names, language,
                              min_respondents)
    items = []
    for i, d in enumerate(drawn):
        title = (w(language, "journey.persona_title", persona=d["name"]) if d["name"]
                 else w(language, "journey.overall_title"))
        source = (w(language, "journey.own_interviews") if d["segment_type"] == "persona"
                  else w(language, "journey.all_interviews"))
        items.append({"title": title, "source": source,
                      "map_figure": figure_ref(run, d["figure"], LANDSCAPE_WIDTH_MM,
                                               LANDSCAPE_HEIGHT_MM if i == 0 else LANDSCAPE_HEIGHT_NEXT_MM)})
    overall = matrix[matrix["segment_type"] == "overall"]
    return {"available": bool(items), "na": "" if items else missing_artifact("journey_matrix", language),
            "maps": items, "appendix": _appendix_rows(overall, names, language),
            "rule": w(language, "journey.rule", n=min_respondents)}
