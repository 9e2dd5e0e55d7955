"""Step 01: load every export, quarantine bad rows, save the canonical tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from toolkit.core.metrics import case_block
from toolkit.core.xlsx import write_frames
from toolkit.data.load import CaseData, load_case_data, quality_table

if TYPE_CHECKING:  # the notebooks hand the step its context; the step does not import the pipeline
    from toolkit.pipeline.notebook import StepContext


def write_data_quality_xlsx(data: CaseData, path) -> None:
    """``data_quality.xlsx``: a summary sheet and the quarantined rows (file row,
    reason, column, scrubbed value) for the client's IT to fix at the source."""
    summary = quality_table(data)
    notes = pd.DataFrame(
        [{"table": t, "note": n} for t, q in data.quality.items() for n in q.notes], columns=["table", "note"]
    )
    quarantine = data.quarantine.sort_values(["table", "row"], kind="stable")
    write_frames(path, {"summary": summary, "quarantine": quarantine, "how_read": notes}, widths=18)


def run(ctx: StepContext) -> dict:
    data = load_case_data(ctx.case)
    tables = ctx.run.artifacts / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    for name, frame in data.tables.items():
        ctx.run.save_table(f"tables/{name}", frame)
    ctx.run.save_table("refunds", data.refunds)
    ctx.run.save_table("quarantine", data.quarantine)
    quality = quality_table(data)
    ctx.run.save_table("quality", quality)
    write_data_quality_xlsx(data, ctx.run.root / "data_quality.xlsx")
    ctx.run.save_metrics_part("case", case_block(ctx.case, data.inputs()))
    ctx.run.save_metrics_part("data_quality", data.data_quality_metrics())
    periods = {
        name: {"from": f[col].min(), "to": f[col].max(), "rows": len(f)}
        for name, f in data.tables.items()
        for col in ("date", "created_at", "period")
        if col in f
    }
    ctx.run.save_json("periods", periods)
    return {"data": data, "quality": quality, "periods": periods}
