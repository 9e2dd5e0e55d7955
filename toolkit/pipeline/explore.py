"""Live what-ifs for the notebooks' controls: an analysis recomputed in memory with one
parameter changed (the return window, the capture rate), nothing written to any run folder.

The analyses themselves are the steps' own functions; this module only swaps the parameter
in a copy of the case and keeps what is slow to build (the sales history) for the next move
of the control.
"""

from __future__ import annotations

from types import SimpleNamespace

from toolkit.core.sales import sales_history_for_case
from toolkit.double_funnel.nontarget import double_funnel_for_case
from toolkit.loyalty.repeat import loyalty_metrics, loyalty_tables

_sales_cache: dict = {}


def with_parameters(case, **changes):
    """A copy of ``case`` with some analysis parameters changed (validated like case.yml)."""
    params = case.parameters.model_validate({**case.parameters.model_dump(), **changes})
    copy = case.model_copy(update={"parameters": params})
    copy.case_dir = case.case_dir
    return copy


def return_window_options(current: int) -> list[int]:
    """The return windows the control offers: a few usual ones around the case's own."""
    usual = {60, 90, 120, 180, 270, 365, 540, 730}
    return sorted(usual | {int(current)})


def _sales(ctx):
    key = (str(ctx.run.root), id(ctx.case))
    if key not in _sales_cache:
        for old in _sales_cache.values():
            old.close()
        _sales_cache.clear()
        _sales_cache[key] = sales_history_for_case(ctx.case, ctx.data())
    return _sales_cache[key]


def repeat_curve_for_window(ctx, days: int):
    """The loyalty tables and metrics with the return window set to ``days``."""
    case = with_parameters(ctx.case, return_window_days=int(days))
    sales = _sales(ctx)
    tables = loyalty_tables(sales, case.parameters)
    return tables, loyalty_metrics(sales, case.parameters, tables)


def capture_rate_options(case) -> list[float]:
    """Capture rates from 5 % to 60 % in steps of 5, plus the case's own scenarios."""
    rates = {round(x / 100, 2) for x in range(5, 65, 5)} | {round(float(r), 4) for r in case.parameters.capture_rates}
    return sorted(rates)


def double_funnel_for_rate(ctx, rate: float):
    """The double funnel with one scenario, the budget brand capturing ``rate`` of the
    non-target flow."""
    case = with_parameters(ctx.case, capture_rates=[float(rate)])
    personas = None  # as the step does: the survey personas of step 02 for the persona rule
    if ctx.run.has_table("persona_assignments"):
        personas = SimpleNamespace(assignments=ctx.run.load_table("persona_assignments"),
                                   personas=ctx.run.load_table("personas"))
    return double_funnel_for_case(case, ctx.data(), personas)


IMPACT_COLUMNS = ("annual_impact", "annual_impact_low", "annual_impact_high")


def recoverable_fraction_options(case) -> list[float]:
    """Recoverable fractions from 5 % to 60 %, plus the case's own and its sensitivity table's."""
    p = case.parameters
    own = [getattr(p, "recoverable_fraction", None), *getattr(p, "recoverable_fraction_sensitivity", [])]
    return sorted({round(x / 100, 2) for x in range(5, 65, 5)} | {round(float(f), 4) for f in own if f})


def barriers_for_fraction(ctx, table, fraction: float):
    """The barriers' annual impacts at another recoverable fraction: the step allocates each
    stage's loss by mentions times the fraction (``toolkit.barriers.impact.allocate``), so the
    impacts scale with it and the order of the measured barriers stays."""
    k = float(fraction) / float(ctx.case.parameters.recoverable_fraction)
    out = table.copy()
    for c in IMPACT_COLUMNS:
        if c in out:
            out[c] = out[c] * k
    return out
