"""Writing a commented starter case (``cjm new-case``)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import yaml

from toolkit.core.config import NORMATIVE_STAGES, parse_case
from toolkit.core.errors import CaseError

_WORDS = {
    "ru": dict(currency="RUB", line_name="Направление", lead_name="Заявка", deal_name="Договор",
               c_customer="Код клиента", c_date="Дата", c_amount="Сумма", c_name="ФИО", c_phone="Телефон"),
    "en": dict(currency="EUR", line_name="Line A", lead_name="Lead", deal_name="Contract",
               c_customer="Customer ID", c_date="Date", c_amount="Amount", c_name="Name", c_phone="Phone"),
}


def starter_case_text(name: str, language: str = "ru", as_of: dt.date | None = None) -> str:
    template = resources.files("toolkit").joinpath("templates/case_starter.yml").read_text(encoding="utf-8")
    stages = "\n".join(f"#  - {{id: {i}, name: \"{n}\"}}" for i, n in NORMATIVE_STAGES[language])
    stages = "# journey_stages:\n" + stages
    as_of = as_of or dt.date.today()
    return template.format(
        client=name, language=language, as_of=as_of.isoformat(), case_dir=f"case_studies/{name}",
        stages=stages, **_WORDS[language]
    )


def write_starter_case(name: str, parent: Path, language: str = "ru") -> Path:
    """Create ``parent/name/case.yml`` (and ``raw/``); refuse to overwrite."""
    folder = Path(parent) / name
    path = folder / "case.yml"
    if path.exists():
        raise CaseError(f"{path} already exists; choose another name or edit that file.")
    text = starter_case_text(name, language)

    parse_case(yaml.safe_load(text), str(path))  # the starter itself must be valid
    (folder / "raw").mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
