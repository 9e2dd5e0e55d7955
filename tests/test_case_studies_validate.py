"""`cjm validate` on the generated case studies: the planted dirty rows are reported with
the planted counts, and no personal data from the raw exports is printed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.test_pipeline import _personal_values
from toolkit.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["clinic_group", "fashion_retail"])
def test_validate_reports_planted_dirty_rows_and_no_personal_data(name, capsys):
    case_dir = ROOT / "case_studies" / name
    truth = yaml.safe_load((case_dir / "truth.yml").read_text(encoding="utf-8"))["data_quality"]
    assert main(["validate", str(case_dir)]) == 0
    out = capsys.readouterr().out
    lines = [ln.split() for ln in out.splitlines() if ln.startswith("  ") and ln.strip().endswith("quarantined")]
    reported = {(parts[0], parts[1]): int(parts[2].replace(",", "")) for parts in lines}
    planted = {(t, r): n for t, reasons in truth.items() if isinstance(reasons, dict) for r, n in reasons.items()}
    assert reported == planted
    secrets = _personal_values(case_dir)
    assert len(secrets) > 100
    assert [s for s in secrets if s in out] == []
