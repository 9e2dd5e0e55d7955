"""Step 06: the two-brand double funnel, the profit formula and the CRM specification."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from toolkit.double_funnel import charts
from toolkit.double_funnel.crm_spec import crm_spec, write_crm_spec
from toolkit.double_funnel.nontarget import double_funnel_analysis
from toolkit.stage_mapping.funnel import funnel_table
from toolkit.pipeline.notebook import StepContext
from toolkit.double_funnel.profit import FACTORS, profit_metrics, profit_table, what_if


def run(ctx: StepContext) -> dict:
    case, p, lang = ctx.case, ctx.case.parameters, ctx.language
    data = ctx.data()
    t = data.tables
    out: dict = {"figures": {}}
    tx, leads = t.get("transactions"), t.get("leads")
    # survey personas (step 02) for the persona rule, loyalty results (step 05) for the CRM triggers
    personas = None
    if ctx.run.has_table("persona_assignments"):
        personas = SimpleNamespace(assignments=ctx.run.load_table("persona_assignments"),
                                   personas=ctx.run.load_table("personas"))
    loy = ctx.run.load_metrics_parts().get("loyalty")
    loy = None if loy is None or "skipped" in loy else loy
    stages = ctx.run.load_table("loyalty_stages") if ctx.run.has_table("loyalty_stages") else None

    result = double_funnel_analysis(case, leads, tx, data.refunds, t.get("survey"), personas, t.get("respondents"))
    ctx.run.save_metrics_part("double_funnel", result.metrics)
    for name, frame in (("double_funnel_scenarios", result.scenarios), ("double_funnel_sensitivity", result.sensitivity),
                        ("double_funnel_comparison", result.comparison)):
        if frame is not None and len(frame):
            ctx.run.save_table(name, frame)
    out.update(double_funnel=result)
    if "skipped" not in result.metrics:
        names = {b.id: b.label for b in case.brands}
        figs = {
            "double_funnel": charts.double_funnel_chart(result.metrics, language=lang, brand_names=names,
                                                        currency=case.currency),
            "double_funnel_scenarios": charts.scenario_revenue_chart(result.metrics.get("scenarios", []), language=lang,
                                                                     currency=case.currency),
        }
        for name, fig in figs.items():
            ctx.figure(name, fig)
        out["figures"].update(figs)

    profit = None
    if tx is not None and len(tx):
        profit = profit_table(case, tx, leads, t.get("traffic"), data.refunds)
        pm = profit_metrics(case, profit)
        ctx.run.save_table("profit_formula", profit)
        # each factor +10 % alone (equal by construction of a product), then all together (compound)
        wi = pd.concat([what_if(profit, 0.1), what_if(profit, {f: 0.1 for f in FACTORS})], ignore_index=True)
        ctx.run.save_table("profit_what_if", wi)
        ctx.run.save_metrics_part("profit", pm)
        fig = charts.profit_whatif_chart(wi, language=lang, currency=case.currency, improvement=0.1)
        ctx.figure("profit_what_if", fig)
        out["figures"]["profit_what_if"] = fig
        out.update(profit=profit, what_if=wi)

    fun = funnel_table(leads, case, by=()) if leads is not None and len(leads) and case.funnel_stages else None
    cross = ctx.run.load_table("cross_penetration") if ctx.run.has_table("cross_penetration") else None
    spec = crm_spec(case, profit=profit, funnel=fun, loyalty=loy, loyalty_stages=stages,
                    double_funnel=result.metrics, cross_penetration=cross)
    ctx.run.save_table("crm_spec", spec)
    write_crm_spec(spec, ctx.run.root / "crm_spec.xlsx", language=lang)
    out["crm_spec"] = spec
    return out
