"""Step 04: barriers ranked by evidence and by the revenue at stake at their stage."""

from __future__ import annotations

from toolkit import charts
from toolkit.barriers import barrier_metrics, barrier_table, load_recommendations, missing_recommendations
from toolkit.funnel import lost_by_journey_stage
from toolkit.loyalty import lifetime_value
from toolkit.metrics import skipped
from toolkit.notebook import StepContext
from toolkit.sales import sales_history_for_case
from toolkit.stages import stage_model


def value_per_customer(ctx: StepContext, data) -> float | None:
    """Expected value of a customer: net revenue per customer over the whole history
    (the loyalty analysis' LTV to date, all lines)."""
    if "transactions" not in data.tables:
        return None
    sales = sales_history_for_case(ctx.case, data)
    try:
        ltv = lifetime_value(sales, cohort=None, per_line=False)
    finally:
        sales.close()
    row = ltv[(ltv["scope"] == "all_lines") & (ltv["cohort"] == "all")]
    return float(row["revenue_per_customer"].iloc[0]) if len(row) else None


def run(ctx: StepContext) -> dict:
    case, lang = ctx.case, ctx.language
    data = ctx.data()
    t = data.tables
    codes = t.get("codes")
    out: dict = {"figures": {}}
    if codes is None or not len(codes):
        ctx.run.save_metrics_part("barriers", skipped("no coded interviews in this case"))
        return out
    model = stage_model(case)
    leads = t.get("leads")
    lost = lost_by_journey_stage(leads, model) if leads is not None and len(leads) and case.funnel_stages else None
    value = value_per_customer(ctx, data)
    library = load_recommendations(case.case_dir)
    table = barrier_table(codes, model, respondents=t.get("respondents"), lost_by_stage=lost,
                          value_per_customer=value, library=library)
    metrics = barrier_metrics(codes, model, lost_by_stage=lost, value_per_customer=value,
                              respondents=t.get("respondents"), library=library)
    ctx.run.save_table("barriers", table)
    ctx.run.save_table("barriers_without_actions", missing_recommendations(table))
    ctx.run.save_metrics_part("barriers", metrics)
    ctx.run.save_json("barrier_inputs", {"value_per_customer": value})
    if lost is not None:
        ctx.run.save_table("lost_by_stage", lost)
    names = model.stage_names()
    fig = charts.barriers_chart(metrics, language=lang, stage_names=names, stage_order=case.stage_ids())
    ctx.figure("barriers", fig)
    out.update(barriers=table, metrics=metrics, value_per_customer=value)
    out["figures"]["barriers"] = fig
    return out
