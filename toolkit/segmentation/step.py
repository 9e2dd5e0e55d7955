"""Step 02: RFM segments from the sales history, personas from the survey, and the
comparison of the premium and budget brands' audiences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.core.metrics import skipped
from toolkit.core.sales import has_sales_history, record_engine, sales_history_for_case
from toolkit.segmentation import charts
from toolkit.segmentation.personas import (
    brand_audience_comparison,
    personas_to_metrics,
    survey_personas,
)
from toolkit.segmentation.rfm import rfm_metrics, rfm_segment_table

if TYPE_CHECKING:  # the notebooks hand the step its context; the step does not import the pipeline
    from toolkit.pipeline.notebook import StepContext


def run(ctx: StepContext) -> dict:
    case, p, lang = ctx.case, ctx.case.parameters, ctx.language
    data = ctx.data()
    out: dict = {"figures": {}}
    segments: dict = {}

    if has_sales_history(case, data):
        # RFM needs one line per customer, not the numbered visit table: no visit cache; only
        # the segment totals come back from the engine (no customer rows)
        sales = sales_history_for_case(case, data, cache=False)
        try:
            table = rfm_segment_table(sales, per_line=True, min_segment_size=p.min_segment_size)
            segments["rfm"] = rfm_metrics(sales, p, table=table)
            record_engine(ctx.run, "segmentation", sales)
        finally:
            sales.close()
        ctx.run.save_table("rfm_segments", table)
        out["rfm_segments"] = table
        fig = charts.rfm_segments_chart(table[table["scope"] == "all_lines"], language=lang)
        ctx.figure("rfm_segments", fig)
        out["figures"]["rfm_segments"] = fig
    else:
        segments["rfm"] = skipped("no sales history (transactions) in this case")

    survey = data.tables.get("survey")
    if survey is not None and any(c.startswith("imp_") for c in survey.columns) and case.choice_factors:
        result = survey_personas(survey, case.choice_factors, p, lang)
        m = personas_to_metrics(result)
        segments["personas"] = m["personas"]
        segments["k"] = m["k"]
        segments["k_method"] = m["k_method"]
        segments["persona_method"] = m["method"]
        ctx.run.save_table("personas", result.personas)
        ctx.run.save_table("persona_assignments", result.assignments)
        ctx.run.save_table("persona_profile", result.profile)
        out.update(personas=result.personas, persona_profile=result.profile)
        fig = charts.persona_profile_chart(result.profile, result.personas, language=lang)
        ctx.figure("persona_profile", fig)
        out["figures"]["persona_profile"] = fig
        premium, budget = case.brand("premium"), case.brand("budget")
        if premium and budget and "brand" in survey.columns:
            comparison, summary = brand_audience_comparison(
                survey, case.choice_factors, premium.id, budget.id, confidence=p.confidence
            )
            ctx.run.save_table("brand_comparison", comparison)
            ctx.run.save_json("brand_comparison", summary)
            segments["brand_comparison"] = summary
            out["brand_comparison"] = comparison
    else:
        segments["personas"] = skipped("no survey with choice-factor importances in this case")
        segments["k"] = skipped("no survey with choice-factor importances in this case")
    ctx.run.save_metrics_part("segments", segments)
    out["metrics"] = segments
    return out
