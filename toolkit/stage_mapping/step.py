"""Step 03: the journey matrix per segment, the emotion curve, choice factors and the
lead funnel with its bottleneck."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.core.metrics import skipped
from toolkit.core.stages import stage_model
from toolkit.core.vocabulary import load_recommendations
from toolkit.stage_mapping import charts
from toolkit.stage_mapping.emotions import emotion_curve
from toolkit.stage_mapping.factors import choice_factor_summary, choice_factors
from toolkit.stage_mapping.funnel import (
    bottleneck,
    funnel_metrics,
    funnel_table,
    lost_reasons,
    stage_kpis,
)
from toolkit.stage_mapping.journey import (
    case_code_labels,
    journey_matrix,
    stage_problems,
)
from toolkit.stage_mapping.quotes import segment_quotes

if TYPE_CHECKING:  # the notebooks hand the step its context; the step does not import the pipeline
    from toolkit.pipeline.notebook import StepContext


def run(ctx: StepContext) -> dict:
    case, p, lang = ctx.case, ctx.case.parameters, ctx.language
    data = ctx.data()
    t = data.tables
    model = stage_model(case)
    out: dict = {"figures": {}}
    leads, codes, respondents, survey = t.get("leads"), t.get("codes"), t.get("respondents"), t.get("survey")

    problems = stage_problems(model, codes=codes, leads=leads, survey=survey)
    ctx.run.save_table("stage_problems", problems)
    out["stage_problems"] = problems

    kpis = None
    if leads is not None and len(leads) and case.funnel_stages:
        traffic = t.get("traffic")
        fm = funnel_metrics(leads, model, traffic=traffic, min_n=p.min_segment_size)
        by_brand = funnel_table(leads, model, by=("brand",))
        overall = funnel_table(leads, model, by=())
        by_source = funnel_table(leads, model, by=("brand", "source")) if "source" in leads.columns else None
        kpis = stage_kpis(overall, model, lang)
        ctx.run.save_table("funnel", by_brand)
        ctx.run.save_table("funnel_bottleneck", bottleneck(by_brand, by=("brand",), min_n=p.min_segment_size))
        ctx.run.save_table("lost_reasons", lost_reasons(leads, model, by=("brand",)))
        if by_source is not None:
            ctx.run.save_table("funnel_by_source", by_source)
        ctx.run.save_metrics_part("funnel", fm)
        names = {b.id: b.label for b in case.brands}
        fig = charts.funnel_chart(fm, language=lang, brand_names=names)
        ctx.figure("funnel", fig)
        out.update(funnel=by_brand, funnel_metrics=fm)
        out["figures"]["funnel"] = fig
    else:
        ctx.run.save_metrics_part("funnel", skipped("no leads table or no funnel stages in this case"))

    if codes is not None and len(codes):
        library = load_recommendations(case.case_dir, case.industry)
        matrix = journey_matrix(codes, model, respondents=respondents, kpis=kpis, library=library,
                                labels=case_code_labels(case), min_segment_size=p.evidence_min_respondents)
        curve = emotion_curve(codes, model, respondents=respondents, survey=survey)
        factors = choice_factors(codes, model, respondents=respondents)
        factor_summary = choice_factor_summary(codes, model, respondents=respondents)
        quotes = segment_quotes(codes, respondents, min_respondents=p.evidence_min_respondents)
        for name, frame in (("journey_matrix", matrix), ("emotion_curve", curve), ("choice_factors", factors),
                            ("choice_factor_summary", factor_summary), ("segment_quotes", quotes)):
            ctx.run.save_table(name, frame)
        out.update(journey_matrix=matrix, emotion_curve=curve, choice_factors=factors)
        names = {b.id: b.label for b in case.business_lines}
        if ctx.run.has_table("personas"):
            personas = ctx.run.load_table("personas")
            names.update(dict(zip(personas["persona"].astype(str), personas["name"].astype(str))))
        for name, fig in charts.journey_figures(matrix, curve, lang, segment_names=names).items():
            ctx.figure(name, fig)
            out["figures"][name] = fig
    return out
