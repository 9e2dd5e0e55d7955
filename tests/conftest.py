"""Shared fixtures: tiny cases built inside tmp folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BAD_INPUTS = ROOT / "tests" / "bad_inputs"

TRANSACTIONS_COLUMNS = {"Дата": "date", "Код клиента": "customer_id", "Направление": "business_line", "Сумма": "amount"}


def write_case(folder: Path, sources: dict, **extra) -> Path:
    """Write a minimal valid case.yml into ``folder`` with the given sources."""
    folder.mkdir(parents=True, exist_ok=True)
    case = {
        "client": "Тестовая клиника",
        "language": "ru",
        "currency": "RUB",
        "as_of": "2025-12-31",
        "brands": [{"id": "main", "name": "Клиника", "role": "other"}],
        "business_lines": [
            {"id": "cosmetology", "name": "Косметология"},
            {"id": "dentistry", "name": "Стоматология"},
        ],
        "sources": sources,
    }
    case.update(extra)
    (folder / "case.yml").write_text(yaml.safe_dump(case, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def bad_case(tmp_path):
    """Build a case whose transactions come from one file of tests/bad_inputs."""

    def make(filename: str, columns: dict | None = None, sheet: str | None = None) -> Path:
        raw = tmp_path / "case" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        src = BAD_INPUTS / filename
        if src.exists():
            shutil.copy(src, raw / filename)
        source = {"path": f"raw/{filename}", "columns": columns or dict(TRANSACTIONS_COLUMNS)}
        if sheet:
            source["sheet"] = sheet
        return write_case(tmp_path / "case", {"transactions": source})

    return make
