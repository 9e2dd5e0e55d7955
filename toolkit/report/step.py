"""Step 07: assemble metrics.json and fill the Word report."""

from __future__ import annotations

from toolkit.core.metrics import assemble_metrics
from toolkit.pipeline.notebook import StepContext


def run(ctx: StepContext) -> dict:
    from toolkit.report import render_report

    metrics = assemble_metrics(ctx.run)
    report = render_report(ctx.run.root, ctx.case, ctx.language, prepared_by=ctx.case.prepared_by)
    return {"metrics": metrics, "report": report}
