"""Step 04: barriers ranked by evidence and by the revenue at stake at their stage."""

from __future__ import annotations

import pandas as pd

from toolkit.barriers import charts
from toolkit.barriers.ranking import barrier_metrics, barrier_table, load_recommendations, missing_recommendations
from toolkit.stage_mapping.funnel import lost_by_journey_stage
from toolkit.loyalty.repeat import lifetime_value, loyalty_visit, repeat_curve
from toolkit.core.metrics import skipped
from toolkit.pipeline.notebook import StepContext
from toolkit.core.sales import sales_history_for_case
from toolkit.stage_mapping.journey import case_code_labels, stage_model


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


def post_purchase_losses(case, sales) -> dict[str, float]:
    """Customers lost after a purchase, filed under the journey stage that should have
    kept them, from the repeat curve of all lines (censoring handled there):

    - ``experience``: customers eligible after their 1st visit who did not return;
    - ``trigger``: eligible after visits 2 .. k-1 who did not return (k = the loyalty visit;
      without one, after visits 2 .. N);
    - ``loyalty_loop``: eligible after visits k .. N who did not return;

    with N = ``max_visit_number``. For a custom stage list without these ids, all the
    post-purchase losses go to the last journey stage when it comes after the stage of
    the last funnel stage (the purchase); otherwise nothing is attributed.
    """
    curve = repeat_curve(sales, per_line=False, max_visit_number=case.parameters.max_visit_number,
                         return_window_days=case.parameters.return_window_days, confidence=case.parameters.confidence)
    curve = curve[curve["scope"] == "all_lines"]
    k = loyalty_visit(curve, tolerance=case.parameters.plateau_tolerance, min_eligible=case.parameters.min_segment_size)
    lost = (curve["eligible"] - curve["returned"]).to_numpy()
    n = curve["visit_number"].to_numpy()
    upper = k if k else int(n.max()) + 1
    by_stage = {
        "experience": float(lost[n == 1].sum()),
        "trigger": float(lost[(n >= 2) & (n < upper)].sum()),
        "loyalty_loop": float(lost[n >= upper].sum()) if k else 0.0,
    }
    ids = case.stage_ids()
    if all(s in ids for s in by_stage):
        return by_stage
    if case.funnel_stages:
        purchase = case.funnel_stages[-1].journey_stage
        if ids.index(ids[-1]) > ids.index(purchase):
            return {ids[-1]: float(lost.sum())}
    return {}


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
    lost = {}
    if leads is not None and len(leads) and case.funnel_stages:
        funnel_lost = lost_by_journey_stage(leads, model)
        lost.update(funnel_lost.dropna(subset=["lost"]).set_index("stage")["lost"].to_dict())
    value = value_per_customer(ctx, data)
    if "transactions" in t:
        sales = sales_history_for_case(case, data)
        try:
            for stage, n in post_purchase_losses(case, sales).items():
                lost[stage] = lost.get(stage, 0.0) + n
        finally:
            sales.close()
    lost = lost or None
    library = load_recommendations(case.case_dir)
    labels = case_code_labels(case)
    table = barrier_table(codes, model, respondents=t.get("respondents"), lost_by_stage=lost,
                          value_per_customer=value, library=library, labels=labels)
    metrics = barrier_metrics(codes, model, table=table)
    ctx.run.save_table("barriers", table)
    ctx.run.save_table("barriers_without_actions", missing_recommendations(table))
    ctx.run.save_metrics_part("barriers", metrics)
    ctx.run.save_json("barrier_inputs", {"value_per_customer": value})
    if lost is not None:
        ctx.run.save_table("lost_by_stage", pd.DataFrame({"stage": list(lost), "lost": list(lost.values())}))
    names = model.stage_names()
    fig = charts.barriers_chart(metrics, language=lang, stage_names=names, stage_order=case.stage_ids())
    ctx.figure("barriers", fig)
    out.update(barriers=table, metrics=metrics, value_per_customer=value)
    out["figures"]["barriers"] = fig
    return out
