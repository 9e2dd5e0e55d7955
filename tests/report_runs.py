"""Case-study runs shared by the report tests (test_report_structure, test_release_gate,
test_report_language): each case is run once per test session into a temporary folder, with the
release gate (``cjm run``'s report step converts to PDF with LibreOffice and checks it)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from toolkit.cli.run import run_case
from toolkit.report.gate import gate_available

ROOT = Path(__file__).resolve().parents[1]
CASES = {"clinic_group": "ru", "fashion_retail": "en"}

needs_office = pytest.mark.skipif(not gate_available(), reason="LibreOffice and poppler are needed for the gate")


@lru_cache(maxsize=None)
def _tmp() -> Path:
    path = Path(tempfile.mkdtemp(prefix="cjm_report_runs_"))
    atexit.register(shutil.rmtree, path, True)
    return path


@lru_cache(maxsize=None)
def case_study_run(name: str) -> Path:
    """The run folder of case_studies/<name> (run once per session)."""
    case_dir = ROOT / "case_studies" / name
    if not (case_dir / "case.yml").exists():
        pytest.skip(f"case study {name} is not generated yet")
    result = run_case(case_dir, out_dir=_tmp() / name, progress=False)
    return Path(result.out_dir)


@lru_cache(maxsize=None)
def transactions_only_run() -> Path:
    """A Russian case with only a sales history: clinic_group's visits export and a case.yml that
    declares transactions only (no survey, no interviews, no leads)."""
    src = ROOT / "case_studies" / "clinic_group"
    full = yaml.safe_load((src / "case.yml").read_text(encoding="utf-8"))
    case_dir = _tmp() / "transactions_only"
    (case_dir / "raw").mkdir(parents=True, exist_ok=True)
    tx = full["sources"]["transactions"]
    shutil.copy(src / tx["path"], case_dir / tx["path"])
    case = {k: full[k] for k in ("client", "language", "currency", "as_of", "brands", "business_lines") if k in full}
    case["sources"] = {"transactions": tx}
    (case_dir / "case.yml").write_text(yaml.safe_dump(case, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = run_case(case_dir, out_dir=_tmp() / "transactions_only_run", progress=False)
    return Path(result.out_dir)
