"""metrics.json's contract: a part whose inputs are missing holds {"skipped": reason} (issue 15):
cross_penetration and staff_dependency without a business-line or staff column, segments.k
without a survey."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import write_case
from toolkit.core.config import load_case
from toolkit.core.metrics import is_skipped
from toolkit.core.run_folder import RunFolder
from toolkit.data import step as data_step
from toolkit.loyalty import step as loyalty_step
from toolkit.pipeline.notebook import StepContext
from toolkit.segmentation import step as segmentation_step


def _case(tmp_path, with_line: bool, with_staff: bool):
    rng = np.random.default_rng(15)
    raw = tmp_path / "raw"
    raw.mkdir()
    header = ["id", "date", "client", "amount"] + (["line"] if with_line else []) + (["staff"] if with_staff else [])
    rows, tid = [";".join(header)], 0
    for c in range(300):
        day = int(rng.integers(0, 300))
        for _ in range(int(rng.integers(1, 5))):
            tid += 1
            d = np.datetime64("2024-01-01") + np.timedelta64(day, "D")
            row = [str(tid), str(d), f"C{c}", str(int(rng.integers(1000, 9000)))]
            row += ["Косметология" if c % 2 else "Стоматология"] if with_line else []
            row += [f"S{c % 3}"] if with_staff else []
            rows.append(";".join(row))
            day += int(rng.integers(20, 90))
            if day > 700:
                break
    (raw / "sales.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    columns = {"id": "transaction_id", "date": "date", "client": "customer_id", "amount": "amount"}
    if with_line:
        columns["line"] = "business_line"
    if with_staff:
        columns["staff"] = "staff_id"
    write_case(tmp_path, {"transactions": {"path": "raw/sales.csv", "columns": columns}})
    case = load_case(tmp_path)
    ctx = StepContext(case=case, run=RunFolder(tmp_path / "out").make(), language="ru")
    data_step.run(ctx)
    return ctx


@pytest.mark.parametrize("with_line,with_staff,cross_reason,staff_reason", [
    (False, False, "skip.no_business_line", "skip.no_business_line"),
    (True, False, None, "skip.no_staff"),
])
def test_missing_columns_are_skipped(tmp_path, with_line, with_staff, cross_reason, staff_reason):
    ctx = _case(tmp_path, with_line, with_staff)
    loyalty_step.run(ctx)
    parts = ctx.run.load_metrics_parts()
    if cross_reason:
        assert parts["cross_penetration"] == {"skipped": cross_reason}
    else:
        assert not is_skipped(parts["cross_penetration"])
    assert parts["staff_dependency"] == {"skipped": staff_reason}
    assert not is_skipped(parts["loyalty"])


def test_segments_k_is_skipped_without_a_survey(tmp_path):
    ctx = _case(tmp_path, True, True)
    segmentation_step.run(ctx)
    seg = ctx.run.load_metrics_parts()["segments"]
    assert is_skipped(seg["personas"]) and is_skipped(seg["k"])
