"""Step 07: assemble metrics.json and fill the Word report."""

from __future__ import annotations

from toolkit.core.metrics import assemble_metrics
from toolkit.pipeline.notebook import StepContext
from toolkit.report.render import render_report


def run(ctx: StepContext) -> dict:
    metrics = assemble_metrics(ctx.run, ctx.case)
    report = render_report(ctx.run.root, ctx.case, ctx.language, prepared_by=ctx.case.prepared_by)
    return {"metrics": metrics, "report": report}
