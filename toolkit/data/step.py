"""Step 01: load every export, quarantine bad rows, save the canonical tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow.parquet as pq

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
    # each canonical table is written as it is finished, a row group at a time (data.tables then
    # reads the files when used): 10M rows of text are never all in memory
    data = load_case_data(ctx.case, write_to=ctx.run.artifacts / "tables")
    ctx.run.save_table("refunds", data.refunds)
    ctx.run.save_table("quarantine", data.quarantine)
    quality = quality_table(data)
    ctx.run.save_table("quality", quality)
    write_data_quality_xlsx(data, ctx.run.root / "data_quality.xlsx")
    ctx.run.save_metrics_part("case", case_block(ctx.case, data.inputs()))
    ctx.run.save_metrics_part("data_quality", data.data_quality_metrics())
    periods = table_periods(data)
    ctx.run.save_json("periods", periods)
    return {"data": data, "quality": quality, "periods": periods}


PERIOD_COLUMNS = ("date", "created_at", "period")


def table_periods(data: CaseData) -> dict:
    """table -> {from, to, rows} of each saved table with a date column (its first and last
    date), reading only the file's date columns."""
    out = {}
    for name, path in data.paths.items():
        if name not in data.tables:
            continue
        file = pq.ParquetFile(path)
        present = [c for c in PERIOD_COLUMNS if c in file.schema_arrow.names]
        frame = pd.read_parquet(path, columns=present) if present else None
        for col in present:
            out[name] = {"from": frame[col].min(), "to": frame[col].max(), "rows": file.metadata.num_rows}
    return out
