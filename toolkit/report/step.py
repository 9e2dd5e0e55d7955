"""Step 07: assemble metrics.json, fill the Word report, and check it with the release gate
(``toolkit.report.release``: the findings go to ``report_gate.json``; ``cjm run`` prints them
as warnings naming the page and the text)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.core.metrics import assemble_metrics
from toolkit.report.release import release_report
from toolkit.report.render import REPORT_NAME

if TYPE_CHECKING:  # the notebooks hand the step its context; the step does not import the pipeline
    from toolkit.pipeline.notebook import StepContext


def run(ctx: StepContext) -> dict:
    metrics = assemble_metrics(ctx.run, ctx.case)
    findings = release_report(ctx.run.root, ctx.case, ctx.language, prepared_by=ctx.case.prepared_by)
    return {"metrics": metrics, "report": ctx.run.root / REPORT_NAME, "gate": findings}
