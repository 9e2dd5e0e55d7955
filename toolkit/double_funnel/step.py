"""Step 06: the two-brand double funnel, the profit formula (money basis), the roadmap and the CRM specification."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from toolkit.core.money import case_money, period_from_dict
from toolkit.core.sales import has_sales_history, record_engine, sales_history_for_case
from toolkit.core.words import word
from toolkit.double_funnel import charts
from toolkit.double_funnel.crm_spec import crm_spec, write_crm_spec
from toolkit.double_funnel.nontarget import double_funnel_analysis
from toolkit.double_funnel.profit import (
    decomposition,
    formula_stages,
    profit_metrics,
    profit_table,
    what_if_actual,
)
from toolkit.double_funnel.roadmap import roadmap
from toolkit.stage_mapping.funnel import funnel_table

if TYPE_CHECKING:  # the notebooks hand the step its context; the step does not import the pipeline
    from toolkit.pipeline.notebook import StepContext


def run(ctx: StepContext) -> dict:
    case = ctx.case
    data = ctx.data()
    t = data.tables
    out: dict = {"figures": {}}
    # one sales history for the whole step: the transactions stay in the engine (the run folder's
    # parquet file or the client's database); only aggregates and lead-linked customers' visits come back
    sales = sales_history_for_case(case, data) if has_sales_history(case, data) else None
    try:
        _double_funnel(ctx, out, sales, data)
        profit = _profit(ctx, out, sales, t) if sales is not None else None
    finally:
        if sales is not None:
            record_engine(ctx.run, "double_funnel", sales)
            sales.close()
    _crm_spec(ctx, out, t.get("leads"), profit)
    return out


def _double_funnel(ctx: StepContext, out: dict, sales, data) -> None:
    case, lang, t = ctx.case, ctx.language, data.tables
    # survey personas (step 02) for the persona rule
    personas = None
    if ctx.run.has_table("persona_assignments"):
        personas = SimpleNamespace(assignments=ctx.run.load_table("persona_assignments"),
                                   personas=ctx.run.load_table("personas"))
    money = case_money(case, data, sales)
    ctx.run.save_metrics_part("money", money)
    annual = None if "skipped" in money else money["annual_revenue"]
    result = double_funnel_analysis(case, t.get("leads"), sales, None, t.get("survey"), personas, t.get("respondents"),
                                    annual_revenue=annual)
    ctx.run.save_metrics_part("double_funnel", result.metrics)
    for name, frame in (("double_funnel_scenarios", result.scenarios), ("double_funnel_sensitivity", result.sensitivity),
                        ("double_funnel_comparison", result.comparison)):
        if frame is not None and len(frame):
            ctx.run.save_table(name, frame)
    out.update(double_funnel=result, money=money)
    if "skipped" not in result.metrics:
        names = {b.id: b.label for b in case.brands}
        figs = {
            "double_funnel": charts.double_funnel_chart(result.metrics, language=lang, brand_names=names,
                                                        currency=case.currency),
            # the decision figure: deals and revenue a year over today's conversion of the same leads
            "double_funnel_scenarios": charts.scenario_revenue_chart(
                [{"capture_rate": r["capture_rate"], "deals": r.get("incremental_deals"),
                  "revenue": r.get("incremental_annual_revenue"), "revenue_low": r.get("incremental_low"),
                  "revenue_high": r.get("incremental_high")} for r in result.scenarios.to_dict(orient="records")],
                language=lang, currency=case.currency, title=word("money.df.chart_title", lang)),
        }
        for name, fig in figs.items():
            ctx.figure(name, fig)
        out["figures"].update(figs)


def _profit(ctx: StepContext, out: dict, sales, t):
    """The profit formula on the money basis, reconciled with the revenue booked in the period;
    returns the funnel form of the formula (traffic x conversion x check x purchases), which
    feeds the CRM specification."""
    case, lang = ctx.case, ctx.language
    period = period_from_dict(out["money"]["period"])
    dec = decomposition(case, sales, t.get("leads"), period)
    ctx.run.save_table("profit_formula", dec)
    ctx.run.save_metrics_part("profit", profit_metrics(case, dec, period, improvement=0.1))
    wi = what_if_actual(dec, 0.1, period, formula_stages(case))
    wi["label"] = [word(f"money.factor.{f}", lang) for f in wi["factor"]]
    ctx.run.save_table("profit_what_if", wi)
    fig = charts.profit_whatif_chart(wi, language=lang, currency=case.currency, improvement=0.1)
    ctx.figure("profit_what_if", fig)
    out["figures"]["profit_what_if"] = fig
    out.update(profit=dec, what_if=wi)
    profit = profit_table(case, sales, t.get("leads"), t.get("traffic"), whole_case_only=True)
    ctx.run.save_table("funnel_formula", profit)
    return profit


def _crm_spec(ctx: StepContext, out: dict, leads, profit) -> None:
    """The roadmap and the CRM specification, from the loyalty results (step 04) and this step's."""
    case, lang = ctx.case, ctx.language
    loy = ctx.run.load_metrics_parts().get("loyalty")
    loy = None if loy is None or "skipped" in loy else loy
    stages = ctx.run.load_table("loyalty_stages") if ctx.run.has_table("loyalty_stages") else None
    parts = ctx.run.load_metrics_parts()
    ctx.run.save_metrics_part("roadmap", roadmap(parts.get("barriers"), out["double_funnel"].metrics))
    fun = funnel_table(leads, case, by=()) if leads is not None and len(leads) and case.funnel_stages else None
    cross = ctx.run.load_table("cross_penetration") if ctx.run.has_table("cross_penetration") else None
    spec = crm_spec(case, profit=profit, funnel=fun, loyalty=loy, loyalty_stages=stages,
                    double_funnel=out["double_funnel"].metrics, cross_penetration=cross)
    ctx.run.save_table("crm_spec", spec)
    write_crm_spec(spec, ctx.run.root / "crm_spec.xlsx", language=lang)
    out["crm_spec"] = spec
