"""Step 05: barriers ranked by evidence and by the annual revenue impact of fixing them
(money basis: ``toolkit.core.money``; stage losses and allocation: ``toolkit.barriers.impact``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from toolkit.barriers import charts
from toolkit.barriers.impact import (
    case_stage_losses,
    revenue_at_risk,
    sensitivity,
    stage_losses,
)
from toolkit.barriers.ranking import (
    barrier_metrics,
    barrier_table,
    load_recommendations,
    missing_recommendations,
)
from toolkit.core.metrics import skipped
from toolkit.core.money import assumption, case_money, money_range, period_from_dict
from toolkit.core.sales import has_sales_history, record_engine, sales_history_for_case
from toolkit.core.stages import stage_model
from toolkit.stage_mapping.funnel import jsonable
from toolkit.stage_mapping.journey import case_code_labels

if TYPE_CHECKING:  # the notebooks hand the step its context; the step does not import the pipeline
    from toolkit.pipeline.notebook import StepContext

LOYALTY_TABLES = ("repeat_curve", "average_check", "gap_intervals")


def measured_losses(ctx: StepContext, data, money: dict, sales) -> tuple[pd.DataFrame, list[str]]:
    """The annual loss of each journey stage (``toolkit.barriers.impact``): the lead funnel's
    losses, and the post-purchase losses READ from the loyalty step's tables (step 04), with
    notes (keys) on what could not be measured. ``sales``: the step's sales history (None without one)."""
    if "skipped" in money or sales is None:
        return stage_losses(), ["money.note.no_sales_history"]
    loyalty, k = None, None
    if all(ctx.run.has_table(n) for n in LOYALTY_TABLES):
        loyalty = {n: ctx.run.load_table(n) for n in LOYALTY_TABLES}
        loy = ctx.run.load_metrics_parts().get("loyalty") or {}
        k = ((loy.get("overall") or {}) if isinstance(loy, dict) else {}).get("loyalty_visit")
    return case_stage_losses(ctx.case, sales, data.tables.get("leads"), period_from_dict(money["period"]), loyalty, k)


def run(ctx: StepContext) -> dict:
    case = ctx.case
    data = ctx.data()
    sales = sales_history_for_case(case, data) if has_sales_history(case, data) else None
    try:
        return _run(ctx, data, sales)
    finally:
        if sales is not None:
            record_engine(ctx.run, "barriers", sales)
            sales.close()


def _run(ctx: StepContext, data, sales) -> dict:
    case, lang, p = ctx.case, ctx.language, ctx.case.parameters
    t = data.tables
    money = case_money(case, data, sales)
    ctx.run.save_metrics_part("money", money)
    codes = t.get("codes")
    out: dict = {"figures": {}, "money": money}
    if codes is None or not len(codes):
        ctx.run.save_metrics_part("barriers", skipped("no coded interviews in this case"))
        ctx.run.save_metrics_part("barrier_impact", skipped("no coded interviews in this case"))
        return out
    model = stage_model(case)
    losses, notes = measured_losses(ctx, data, money, sales)
    library = load_recommendations(case.case_dir, case.industry)
    labels = case_code_labels(case)
    table = barrier_table(codes, model, respondents=t.get("respondents"), stage_losses=losses,
                          recoverable_fraction=p.recoverable_fraction, library=library, labels=labels)
    metrics = barrier_metrics(codes, model, table=table)
    sens = sensitivity(table, p.recoverable_fraction_sensitivity, p.recoverable_fraction)
    overall = table[table["segment_type"] == "overall"]
    named = set(overall["stage"])
    at_risk = revenue_at_risk(losses)
    impact = {
        "revenue_at_risk": at_risk,
        "revenue_at_risk_named_stages": revenue_at_risk(losses[losses["stage"].isin(named)]),
        "sum_of_impacts": money_range(overall["annual_impact"].sum(min_count=1),
                                      overall["annual_impact_low"].sum(min_count=1),
                                      overall["annual_impact_high"].sum(min_count=1)),
        "annual_revenue": money.get("annual_revenue"),
        "stages": losses.to_dict(orient="records"),
        "assumptions": [assumption("recoverable_fraction", p.recoverable_fraction)],
        "sensitivity": sens.to_dict(orient="records"),
        "not_measured": sorted(set(overall.loc[overall["annual_impact"].isna(), "stage"])),
        "notes": notes,
    }
    ctx.run.save_table("barriers", table)
    ctx.run.save_table("barriers_without_actions", missing_recommendations(table))
    ctx.run.save_table("stage_losses", losses)
    ctx.run.save_table("barrier_sensitivity", sens)
    ctx.run.save_metrics_part("barriers", metrics)
    ctx.run.save_metrics_part("barrier_impact", jsonable(impact))
    names = model.stage_names()
    fig = charts.barriers_chart(metrics, language=lang, stage_names=names, stage_order=case.stage_ids())
    ctx.figure("barriers", fig)
    out.update(barriers=table, metrics=metrics, stage_losses=losses, sensitivity=sens, impact=impact)
    out["figures"]["barriers"] = fig
    return out
