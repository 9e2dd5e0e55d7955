"""Step 04: repeat curve, loyalty visit, intervals, LTV, cross-penetration and staff
dependency, from the sales history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.core.metrics import skipped
from toolkit.core.sales import has_sales_history, record_engine, sales_history_for_case
from toolkit.loyalty import charts
from toolkit.loyalty.repeat import (
    cross_penetration,
    cross_penetration_metrics,
    loyalty_metrics,
    loyalty_tables,
    staff_dependency,
    staff_dependency_metrics,
)

if TYPE_CHECKING:  # the notebooks hand the step its context; the step does not import the pipeline
    from toolkit.pipeline.notebook import StepContext


NO_LINE = "skip.no_business_line"  # the sales history has no business-line column
NO_STAFF = "skip.no_staff"  # ... no staff column


def run(ctx: StepContext) -> dict:
    case, p, lang = ctx.case, ctx.case.parameters, ctx.language
    data = ctx.data()
    out: dict = {"figures": {}}
    if not has_sales_history(case, data):
        for key in ("loyalty", "cross_penetration", "staff_dependency"):
            ctx.run.save_metrics_part(key, skipped("no sales history (transactions) in this case"))
        return out
    sales = sales_history_for_case(case, data)
    try:
        tables = loyalty_tables(sales, p)
        loyalty = loyalty_metrics(sales, p, tables)
        by_attribute = ["gender", "age_band"] if "customers" in data.tables else None
        cross = cross_penetration(sales, min_segment_size=p.min_segment_size, confidence=p.confidence)
        cross_by = None
        if by_attribute:
            try:
                cross_by = cross_penetration(sales, by=by_attribute, min_segment_size=p.min_segment_size,
                                             confidence=p.confidence)
            except ValueError:  # the customers table has neither gender nor age
                cross_by = None
        cross_m = (cross_penetration_metrics(sales, p, table=cross) if sales.has_business_line
                   else skipped(NO_LINE))
        staff = staff_dependency(sales, min_segment_size=p.min_segment_size, confidence=p.confidence)
        staff_m = (staff_dependency_metrics(sales, p, table=staff) if sales.has_business_line and sales.has_staff
                   else skipped(NO_LINE if not sales.has_business_line else NO_STAFF))
        record_engine(ctx.run, "loyalty", sales)
    finally:
        sales.close()
    for name in ("repeat_curve", "gap_intervals", "average_check", "lifetime_value"):
        ctx.run.save_table(name, tables[name])
    ctx.run.save_table("loyalty_stages", tables["stages"])
    ctx.run.save_table("cross_penetration", cross)
    if cross_by is not None:
        ctx.run.save_table("cross_penetration_by_attribute", cross_by)
    ctx.run.save_table("staff_dependency", staff)
    ctx.run.save_metrics_part("loyalty", loyalty)
    ctx.run.save_metrics_part("cross_penetration", cross_m)
    ctx.run.save_metrics_part("staff_dependency", staff_m)

    lines = {b.id: b.label for b in case.business_lines}
    figs = {
        "repeat_curve": charts.repeat_curve_chart(tables["repeat_curve"], tables["loyalty_visits"], language=lang,
                                                  line_names=lines, min_eligible=p.min_segment_size),
        "gap_intervals": charts.gap_chart(tables["gap_intervals"], language=lang, line_names=lines,
                                          min_gaps=p.min_segment_size),
        "cross_penetration": charts.cross_penetration_chart(cross_m, language=lang, line_names=lines),
        "staff_dependency": charts.staff_dependency_chart(staff_m, language=lang, line_names=lines),
    }
    for name, fig in figs.items():
        ctx.figure(name, fig)
    out.update(tables=tables, loyalty=loyalty, cross_penetration=cross, cross_by_attribute=cross_by,
               staff_dependency=staff, figures=figs)
    return out
