"""case.yml validation: every problem at once, each with its YAML path."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from toolkit.core.casefile import starter_case_text
from toolkit.core.config import load_case, parse_case
from toolkit.core.errors import CaseConfigError

BASE = {
    "client": "Клиника",
    "as_of": "31.12.2025",
    "brands": [{"id": "prem", "role": "premium", "price_floor": 150000}],
    "sources": {},
}


def problems_of(data) -> list[str]:
    with pytest.raises(CaseConfigError) as e:
        parse_case(data)
    return e.value.problems


def test_valid_case_gets_the_normative_six_stages_in_its_language():
    case = parse_case(BASE)
    assert case.as_of == dt.date(2025, 12, 31)
    assert case.stage_ids() == ["framing", "evaluation", "deal", "experience", "trigger", "loyalty_loop"]
    assert case.journey_stages[0].name == "Первичное осмысление"
    en = parse_case({**BASE, "language": "en"})
    assert en.journey_stages[5].name == "Loyalty loop"
    assert case.brand("premium").price_floor == 150000
    assert case.parameters.visit_definition == "customer_day"


def test_any_ordered_stage_list_is_accepted():
    stages = [{"id": i} for i in ["store_visit", "trying_on", "decision", "payment", "after_sale"]]
    case = parse_case({**BASE, "journey_stages": stages})
    assert case.stage_ids()[-1] == "after_sale"


def test_unknown_keys_wrong_types_and_missing_fields_are_all_reported_with_paths():
    data = {
        "as_of": "2025-12-31",
        "brands": [{"id": "a", "role": "luxury"}, {"id": "b", "colour": "red"}],
        "sources": {"transactions": {"path": "x.csv", "columns": {"Дата": "date"}, "encodng": "cp1251"}},
        "parameters": {"min_segment_size": "many"},
    }
    p = problems_of(data)
    assert "client: Field required" in p
    assert "brands[0].role: Input should be 'premium', 'budget' or 'other'" in p
    assert "brands[1].colour: unknown key (check the spelling)" in p
    assert "sources.transactions.encodng: unknown key (check the spelling)" in p
    assert any(x.startswith("parameters.min_segment_size: Input should be a valid integer") for x in p)
    assert len(p) == 5


def test_cross_checks_report_every_problem():
    data = {
        **BASE,
        "brands": [{"id": "a", "role": "premium"}, {"id": "a", "role": "premium"}],
        "funnel_stages": [{"id": "lead", "journey_stage": "nowhere"}],
        "sources": {
            "transactions": {"path": "x.csv", "columns": {"Код": "customer_id", "Дата": "dat", "ФИО": "city"}, "personal": ["ФИО"]},
            "survey": {"path": "s.xlsx", "columns": {"ID": "respondent_id", "Цена": "imp_price"}},
        },
    }
    p = problems_of(data)
    assert "brands[1].id: 'a' is declared twice" in p
    assert "brands: 2 brands have role 'premium'; at most one may" in p
    assert any(x.startswith("funnel_stages[0].journey_stage: 'nowhere' is not a journey stage") for x in p)
    assert any(x.startswith("sources.transactions.columns['Дата']: 'dat' is not a column of the transactions table") for x in p)
    assert "sources.transactions.columns['ФИО']: 'ФИО' is declared personal and cannot be mapped" in p
    assert "sources.transactions.columns: required canonical column 'amount' is not mapped" in p
    assert "sources.survey.columns['Цена']: 'imp_price' names no declared choice factor ('price')" in p


def test_leads_need_funnel_stages():
    data = {**BASE, "sources": {"leads": {"path": "l.xlsx", "columns": {
        "ID": "lead_id", "Дата": "created_at", "Бренд": "brand", "Этап": "stage_reached"}}}}
    assert "funnel_stages: leads are given, so the ordered funnel stages must be declared" in problems_of(data)


def test_yaml_syntax_error_names_the_line(tmp_path):
    (tmp_path / "case.yml").write_text("client: X\nbrands: [\n  - id: a\n", encoding="utf-8")
    with pytest.raises(CaseConfigError) as e:
        load_case(tmp_path)
    assert "line " in str(e.value) and "case.yml has 1 problem(s)" in str(e.value)


def test_missing_case_file(tmp_path):
    with pytest.raises(CaseConfigError, match="no case.yml in"):
        load_case(tmp_path)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_starter_case_is_valid_and_commented(lang):
    text = starter_case_text("acme", lang, dt.date(2025, 6, 30))
    case = parse_case(yaml.safe_load(text))
    assert case.language == lang and case.as_of == dt.date(2025, 6, 30)
    assert text.count("#") > 20  # every section is explained
