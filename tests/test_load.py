"""The loader: each row problem gets its reason, nothing vanishes, personal data goes."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import Workbook

from tests.conftest import write_case
from toolkit.cli.main import main
from toolkit.core.config import load_case
from toolkit.data.load import load_case_data, quality_table

NAMES = ["Иванова Анна Сергеевна", "Петров Иван", "Сидорова Мария"]
PHONES = ["+7 916 123-45-67", "8 (926) 000-11-22", "+79031234567"]


def csv(path, lines):
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))


def xlsx(path, sheets):
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)


@pytest.fixture
def clinic(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    csv(raw / "visits.csv", [
        "№;Дата;Код пациента;ФИО;Телефон;Направление;Врач;Сумма, руб.",
        f"1;01.02.2024;P1;{NAMES[0]};{PHONES[0]};Косметология;Д1;12 500,00",   # row 2 ok
        f"2;01.02.2024;P1;{NAMES[0]};{PHONES[0]};Косметология;Д1;1 000,50",    # row 3 ok (same visit)
        f"3;15.03.2024;P2;{NAMES[1]};{PHONES[1]};Стоматология;Д2;3000",        # row 4 ok
        f"3;15.03.2024;P2;{NAMES[1]};{PHONES[1]};Стоматология;Д2;3000",        # row 5 duplicate
        f"4;31.02.2024;P3;{NAMES[2]};;Стоматология;Д2;3000",                   # row 6 bad_date
        "5;01.04.2024;;;;Стоматология;Д2;100",                                  # row 7 missing_customer_id
        "6;01.04.2030;P4;;;Стоматология;Д2;100",                                # row 8 future_date
        f"7;01.05.2024;P1;{NAMES[0]};;Косметология;Д1;-1 000,50",              # row 9 refund
        "8;01.05.2024;P5;;;Массаж;Д3;абв",                                      # row 10 bad_amount
        "9;02.05.2024;P5;;;Массаж;Д3;700",                                      # row 11 ok, undeclared line kept
        "3;16.03.2024;P2;;;Стоматология;Д2;3000",                               # row 12 duplicate_id
        "10;03.05.2024;P6;;;;;",                                                 # row 13 missing_amount
    ])
    xlsx(raw / "leads.xlsx", {"Лиды": [
        ["ID", "Дата заявки", "Бренд", "Этап", "Причина отказа", "Бюджет", "E-mail"],
        ["L1", 45323, "Эстетика", "Заявка", "Дорого", "100 000", "a@b.ru"],            # ok
        ["L2", "02.02.2024", "эстетика", "Консультация", None, None, "c@d.ru"],      # ok
        ["L3", "03.02.2024", "Эстетика", "Операция?", None, None, None],             # unknown_stage
        ["L4", "04.02.2024", "Неизвестный бренд", "Заявка", None, None, None],       # unknown_brand
        ["L1", "05.02.2024", "Эстетика", "Заявка", None, None, None],                # duplicate_id
        ["L5", "06.02.2024", "Эстетика", "Заявка", "Перезвонить +7 916 555-44-33", "много", None],  # ok, bad budget blanked
    ]})
    xlsx(raw / "interviews.xlsx", {
        "Респонденты": [["Респондент", "Клиент"], ["R1", "да"], ["R2", "нет"]],
        "Коды": [
            ["Респондент", "Этап", "Тип", "Код", "Тональность", "Цитата"],
            ["R1", "Оценка", "barrier", "high_price", -2, "Цена < ожиданий & звоните 8-916-123-45-67"],
            ["R2", "Опыт", "motivator", "kind_staff", 5, "Очень мило"],            # sentiment_out_of_range
            ["R2", "Покупка", "barrier", "x", -1, "..."],                          # unknown_stage
            ["R2", "Опыт", "complaint", "x", -1, "..."],                           # unknown_code_type
        ],
    })
    xlsx(raw / "survey.xlsx", {"Анкета": [
        ["ID", "Важность цены", "NPS", "Пол", "Возраст"],
        ["S1", 5, 9, "Ж", 46], ["S2", 2, 11, "М", 30], ["S2", 3, 5, "М", 31], ["S3", "", 7, "Ж", 50],
    ]})
    xlsx(raw / "traffic.xlsx", {"Трафик": [["Месяц", "Бренд", "Визиты"], ["янв 2024", "Эстетика", 1200], ["02.2024", "Эстетика", "1 300"]]})
    write_case(tmp_path, {
        "transactions": {"path": "raw/visits.csv", "columns": {
            "№": "transaction_id", "Дата": "date", "Код пациента": "customer_id", "Направление": "business_line",
            "Врач": "staff_id", "Сумма, руб.": "amount"}, "personal": ["ФИО", "Телефон"]},
        "leads": {"path": "raw/leads.xlsx", "sheet": "Лиды", "columns": {
            "ID": "lead_id", "Дата заявки": "created_at", "Бренд": "brand", "Этап": "stage_reached",
            "Причина отказа": "lost_reason", "Бюджет": "budget"}, "personal": ["E-mail"]},
        "respondents": {"path": "raw/interviews.xlsx", "sheet": "Респонденты", "columns": {"Респондент": "respondent_id", "Клиент": "is_client"}},
        "codes": {"path": "raw/interviews.xlsx", "sheet": "Коды", "columns": {
            "Респондент": "respondent_id", "Этап": "stage", "Тип": "code_type", "Код": "code",
            "Тональность": "sentiment", "Цитата": "quote"}},
        "survey": {"path": "raw/survey.xlsx", "columns": {"ID": "respondent_id", "Важность цены": "imp_price", "NPS": "nps",
                                                          "Пол": "gender", "Возраст": "age"}},
        "traffic": {"path": "raw/traffic.xlsx", "columns": {"Месяц": "period", "Бренд": "brand", "Визиты": "sessions"}},
    },
        brands=[{"id": "aesthetic", "name": "Эстетика", "role": "premium", "price_floor": 150000}],
        funnel_stages=[{"id": "lead", "name": "Заявка", "journey_stage": "evaluation"},
                       {"id": "consultation", "name": "Консультация", "journey_stage": "evaluation"},
                       {"id": "contract", "name": "Договор", "journey_stage": "deal"}],
        choice_factors=[{"id": "price", "name": "Цена", "kind": "hard"}],
    )
    return tmp_path


def test_transactions_reasons_counts_and_rows(clinic):
    d = load_case_data(load_case(clinic))
    q = d.quality["transactions"]
    assert q.rows_read == 12 and q.rows_used == 4  # rows 2, 3, 4, 11
    assert q.quarantined == {"bad_amount": 1, "bad_date": 1, "duplicate": 1, "duplicate_id": 1, "future_date": 1,
                             "missing_amount": 1, "missing_customer_id": 1, "refund": 1}
    assert q.rows_read == q.rows_used + sum(q.quarantined.values())
    rows = d.quarantine[d.quarantine.table == "transactions"].set_index("row")["reason"].to_dict()
    assert rows == {5: "duplicate", 6: "bad_date", 7: "missing_customer_id", 8: "future_date", 9: "refund",
                    10: "bad_amount", 12: "duplicate_id", 13: "missing_amount"}
    t = d.tables["transactions"]
    assert t["amount"].sum() == pytest.approx(12500 + 1000.5 + 3000 + 700)
    assert t["business_line"].tolist() == ["cosmetology", "cosmetology", "dentistry", "Массаж"]
    assert q.warnings == {"unknown_business_line": 1}
    # refund kept aside with its sign, to be netted against P1
    assert d.refunds[["customer_id", "amount"]].values.tolist() == [["P1", -1000.5]]


def test_leads_codes_survey_traffic(clinic):
    d = load_case_data(load_case(clinic))
    assert d.quality["leads"].quarantined == {"duplicate_id": 1, "unknown_brand": 1, "unknown_stage": 1}
    leads = d.tables["leads"]
    assert leads["stage_reached"].tolist() == ["lead", "consultation", "lead"]
    assert leads["brand"].unique().tolist() == ["aesthetic"]
    assert leads["created_at"].iloc[0] == pd.Timestamp("2024-02-01")  # Excel serial 45323
    assert leads["budget"].iloc[0] == 100000 and pd.isna(leads["budget"].iloc[2])
    assert d.quality["leads"].warnings == {"bad_budget": 1}
    assert "+7 916 555-44-33" not in leads["lost_reason"].str.cat()

    assert d.quality["codes"].quarantined == {"sentiment_out_of_range": 1, "unknown_code_type": 1, "unknown_stage": 1}
    codes = d.tables["codes"]
    assert codes["stage"].tolist() == ["evaluation"]
    assert codes["quote"].iloc[0] == "Цена < ожиданий & звоните [телефон]"  # scrubbed, < and & kept literally

    s = d.tables["survey"]
    assert d.quality["survey"].quarantined == {"duplicate_id": 1}
    assert d.quality["survey"].warnings == {"nps_out_of_range": 1}
    assert s["gender"].tolist() == ["F", "M", "F"]
    assert s["imp_price"].tolist()[:2] == [5.0, 2.0] and pd.isna(s["imp_price"].iloc[2])
    assert d.tables["respondents"]["is_client"].tolist() == [True, False]
    tr = d.tables["traffic"]
    assert tr["period"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert tr["sessions"].tolist() == [1200, 1300]


def test_personal_data_never_reaches_tables_or_quarantine(clinic):
    d = load_case_data(load_case(clinic))
    dump = "\n".join(df.astype(str).to_csv() for df in [*d.tables.values(), d.quarantine, d.refunds])
    for secret in NAMES + PHONES + ["a@b.ru", "c@d.ru"]:
        assert secret not in dump


def test_validate_prints_no_personal_data(clinic, capsys):
    # this small dirty case loses half its rows: validate prints the table, then fails (exit 2)
    assert main(["validate", str(clinic)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("Error: The case is not usable: the transactions table loses 6 of its 12 rows")
    out = captured.out + captured.err
    assert "bad_date" in out and "row 6, column 'Дата': '31.02.2024' -> bad_date" in out
    for secret in NAMES + PHONES + ["a@b.ru"] + [n.split()[0] for n in NAMES]:
        assert secret not in out


def test_pseudonymised_ids_are_keyed_stable_and_joinable(clinic):
    import yaml

    path = clinic / "case.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["privacy"] = {"pseudonymise_ids": True}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    first = load_case_data(load_case(clinic))
    ids = first.tables["transactions"]["customer_id"]
    assert "P1" not in set(ids) and ids.str.fullmatch(r"[0-9a-f]{16}").all()
    assert (clinic / ".secrets.yml").exists()
    again = load_case_data(load_case(clinic)).tables["transactions"]["customer_id"]
    assert ids.tolist() == again.tolist()
    assert first.refunds["customer_id"].iloc[0] == ids.iloc[0]  # refund joins its customer
    (clinic / ".secrets.yml").write_text("pseudonymisation_key: other\n", encoding="utf-8")
    other = load_case_data(load_case(clinic)).tables["transactions"]["customer_id"]
    assert other.iloc[0] != ids.iloc[0]


def test_quality_table_and_metrics_shape(clinic):
    d = load_case_data(load_case(clinic))
    m = d.data_quality_metrics()
    assert set(m) == {"transactions", "leads", "respondents", "codes", "survey", "traffic"}
    assert m["transactions"]["quarantined"]["refund"] == 1
    qt = quality_table(d)
    assert set(qt["table"]) == set(m)
    assert len(d.inputs()["transactions"]["sha256"]) == 64


def test_deterministic(clinic):
    a = load_case_data(load_case(clinic))
    b = load_case_data(load_case(clinic))
    for t in a.tables:
        pd.testing.assert_frame_equal(a.tables[t], b.tables[t])
    pd.testing.assert_frame_equal(a.quarantine, b.quarantine)
