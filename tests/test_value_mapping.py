"""``values:`` in case.yml: a column's client values mapped onto the values the toolkit expects.

The coding sheet below is written the way a Russian research team fills it: code types in
Russian («барьер», «Мотиватор », «ЭМОЦИЯ»), stages by the clinic's own names («Выбор клиники»,
«Первый визит»), the CRM's brand spelling in the leads. With the value maps nothing is
quarantined as unknown_*; without them, validate lists every unknown value with its count and
the allowed values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import write_case
from toolkit.cli.main import main
from toolkit.core.config import load_case
from toolkit.core.errors import CaseError
from toolkit.data.load import load_case_data
from toolkit.data.values import map_values

CODE_TYPES = {"барьер": "barrier", "мотиватор": "motivator", "эмоция": "emotion", "ожидание": "expectation"}
SPELLINGS = {"барьер": ["барьер", "Барьер", "БАРЬЕР "], "мотиватор": ["мотиватор", "Мотиватор "],
             "эмоция": ["эмоция", "ЭМОЦИЯ"], "ожидание": ["Ожидание"]}
BRANDS = {"ESTETIKA-MED": "estetika_med", "Estetika Med": "estetika_med"}
STAGES = {"Поиск информации": "framing", "Выбор клиники": "evaluation", "Запись и оплата": "deal",
          "Первый визит": "experience", "Повод вернуться": "trigger", "Повторные визиты": "loyalty_loop"}


def _sheet(path, rows_by_sheet):
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in rows_by_sheet.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)


def _case(tmp_path, mapped: bool, nested: bool = False, code_types: dict | None = None):
    rng = np.random.default_rng(15)
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    respondents = [f"R{i:02d}" for i in range(1, 41)]
    codes = [["Респондент", "Этап CJM", "Тип кода", "Код", "Цитата"]]
    for i in range(214):
        kind = rng.choice(list(SPELLINGS))
        spelling = SPELLINGS[kind][i % len(SPELLINGS[kind])]
        stage = list(STAGES)[int(rng.integers(0, len(STAGES)))]
        codes.append([respondents[int(rng.integers(0, 40))], stage if i % 7 else stage.upper(), spelling,
                      f"code_{int(rng.integers(0, 12))}", "…"])
    leads = [["ID", "Дата", "Бренд", "Этап"]] + [
        [f"L{i}", "01.02.2025", ["ESTETIKA-MED", "Эстетика Мед", "estetika med"][i % 3], "Заявка"] for i in range(30)
    ]
    _sheet(raw / "interviews.xlsx", {"Респонденты": [["Респондент"], *[[r] for r in respondents]], "Коды": codes})
    _sheet(raw / "leads.xlsx", {"Лиды": leads})
    code_columns = {"Респондент": "respondent_id", "Этап CJM": "stage", "Тип кода": "code_type", "Код": "code",
                    "Цитата": "quote"}
    codes_src = {"path": "raw/interviews.xlsx", "sheet": "Коды", "columns": code_columns}
    leads_src = {"path": "raw/leads.xlsx", "columns": {"ID": "lead_id", "Дата": "created_at", "Бренд": "brand",
                                                        "Этап": "stage_reached"}}
    if mapped and nested:
        code_columns["Тип кода"] = {"column": "code_type", "values": CODE_TYPES}
        code_columns["Этап CJM"] = {"column": "stage", "values": STAGES}
        leads_src["columns"]["Бренд"] = {"column": "brand", "values": BRANDS}
    elif mapped:
        codes_src["values"] = {"code_type": code_types or CODE_TYPES, "Этап CJM": STAGES}  # canonical or client
        leads_src["values"] = {"brand": {k.lower(): v for k, v in BRANDS.items()}}
    write_case(tmp_path, {
        "respondents": {"path": "raw/interviews.xlsx", "sheet": "Респонденты", "columns": {"Респондент": "respondent_id"}},
        "codes": codes_src,
        "leads": leads_src,
    },
        brands=[{"id": "estetika_med", "name": "Эстетика Мед", "role": "premium"}],
        funnel_stages=[{"id": "lead", "name": "Заявка", "journey_stage": "evaluation"}],
    )
    return tmp_path


@pytest.mark.parametrize("nested", [False, True])
def test_mapped_values_load_with_no_unknown_quarantine(tmp_path, nested):
    data = load_case_data(load_case(_case(tmp_path, mapped=True, nested=nested)))
    for table in ("codes", "leads"):
        q = data.quality[table]
        assert not any(r.startswith("unknown_") for r in q.quarantined), q.quarantined
        assert not any(w.startswith("unknown_") for w in q.warnings), q.warnings
        assert q.unmapped == {}
    codes = data.tables["codes"]
    assert set(data.quality["codes"].quarantined) <= {"duplicate"}  # identical generated rows, nothing else
    assert len(codes) == 214 - sum(data.quality["codes"].quarantined.values())
    assert set(codes["code_type"]) == set(CODE_TYPES.values())
    assert set(codes["stage"]) <= set(STAGES.values())
    assert set(data.tables["leads"]["brand"]) == {"estetika_med"}


def test_without_the_map_validate_lists_unknown_and_allowed_values(tmp_path, capsys):
    case_dir = _case(tmp_path, mapped=False)
    rc = main(["validate", str(case_dir)])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "Values not recognised" in out
    assert "codes.code_type (column 'Тип кода')" in out
    assert "'барьер' (" in out and "'Мотиватор' (" in out
    assert "allowed: barrier, motivator, emotion, jtbd, choice_factor, expectation, touchpoint, idea" in out
    assert "codes.stage (column 'Этап CJM')" in out and "'Выбор клиники' (" in out
    assert "allowed: framing, evaluation, deal, experience, trigger, loyalty_loop" in out
    assert "sources.codes.values" in out
    assert rc == 2  # no coded row is usable: the case is not usable
    assert "The case is usable" not in out


def test_unmapped_counts_are_exact(tmp_path, capsys):
    # only «барьер» mapped: every other code type is listed with its exact count of rows
    case_dir = _case(tmp_path, mapped=True, code_types={"барьер": "barrier"})
    sheet = load_workbook(case_dir / "raw" / "interviews.xlsx")["Коды"]
    written = [str(r[2].value).strip() for r in sheet.iter_rows(min_row=2)]
    left = [v for v in written if v.casefold() != "барьер"]
    data = load_case_data(load_case(case_dir))
    u = data.quality["codes"].unmapped["code_type"]
    assert u["rows"] == len(left) and u["distinct"] == len(set(left))
    assert u["values"] == {v: left.count(v) for v in sorted(set(left), key=lambda v: (-left.count(v), v))}
    assert data.quality["codes"].quarantined["unknown_code_type"] == len(left)
    assert set(data.tables["codes"]["code_type"]) == {"barrier"}
    main(["validate", str(case_dir)])
    out = capsys.readouterr().out
    assert "Values not recognised" in out and f"codes.code_type (column 'Тип кода'): {len(left):,} rows" in out
    assert "allowed: barrier, motivator" in out


def test_a_value_map_must_name_a_mapped_column_and_an_allowed_value(tmp_path):
    case_dir = _case(tmp_path, mapped=True)
    text = (case_dir / "case.yml").read_text(encoding="utf-8")
    (case_dir / "case.yml").write_text(text.replace("barrier", "barier", 1), encoding="utf-8")
    with pytest.raises(CaseError, match="barier.*allowed: barrier"):
        load_case(case_dir)


def test_map_values_on_text_categories_and_numbers():
    text = pd.Series(["Барьер", " барьер", "мотиватор", None, "idea"], dtype="string")
    assert map_values(text, {"БАРЬЕР": "barrier", "Мотиватор": "motivator"}).tolist()[:3] == ["barrier", "barrier",
                                                                                           "motivator"]
    cat = pd.Series(["Выбор клиники", "выбор  клиники", "Оценка"], dtype="category")
    out = map_values(cat, {"Выбор клиники": "evaluation"})
    assert out.astype(str).tolist() == ["evaluation", "evaluation", "Оценка"]
    nums = pd.Series([1, 2, 1], dtype=object)
    assert map_values(nums, {"1": "barrier"}).tolist() == ["barrier", 2, "barrier"]
    assert map_values(text, {}) is text
