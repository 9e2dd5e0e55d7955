"""Readers: encodings, separators, xlsx sheets, row numbers as the user sees them."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import Workbook

from toolkit.data.readers import read_raw
from toolkit.core.errors import InputFileError


def write(path, text, encoding):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8", "utf-8-sig"])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_encoding_and_separator_are_detected(tmp_path, encoding, sep):
    rows = [["Дата", "Код пациента", "Сумма, руб."], ["01.02.2024", "П-001", "12 500,50"], ["02.02.2024", "П-002", "300"]]
    quote = (lambda v: f'"{v}"') if sep == "," else (lambda v: v)
    text = "\r\n".join(sep.join(quote(v) for v in r) for r in rows) + "\r\n"
    raw = read_raw(write(tmp_path / "v.csv", text, encoding))
    assert list(raw.frame.columns) == rows[0]
    assert raw.frame.iloc[0].tolist() == rows[1]
    assert raw.rows.tolist() == [2, 3]
    expected_enc = {"cp1251": "cp1251", "utf-8": "utf-8", "utf-8-sig": "utf-8-sig"}[encoding]
    assert raw.notes[0].startswith(f"encoding {expected_enc}, separator")


def test_cp1251_semicolon_decimal_commas_load_as_numbers(tmp_path):
    """The classic Russian 1C/МИС export."""
    from tests.conftest import write_case
    from toolkit.core.config import load_case
    from toolkit.data.load import load_case_data

    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw / "v.csv", "Дата;Код клиента;Направление;Сумма\r\n01.02.2024;C1;Косметология;12 500,50\r\n"
                         "03.02.2024;C2;Стоматология;1\u00a0000,25 руб.\r\n", "cp1251")
    write_case(tmp_path, {"transactions": {"path": "raw/v.csv", "columns": {
        "Дата": "date", "Код клиента": "customer_id", "Направление": "business_line", "Сумма": "amount"}}})
    t = load_case_data(load_case(tmp_path)).tables["transactions"]
    assert t["amount"].tolist() == [12500.5, 1000.25]
    assert t["business_line"].tolist() == ["cosmetology", "dentistry"]
    assert t["date"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-03")]


def test_blank_lines_do_not_shift_row_numbers(tmp_path):
    raw = read_raw(write(tmp_path / "v.csv", "a;b\n1;2\n\n3;4\n", "utf-8"))
    assert raw.rows.tolist() == [2, 4]


def test_xlsx_named_sheet_and_first_sheet_note(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Сводка"
    ws.append(["ignore"])
    ws2 = wb.create_sheet("Лиды")
    ws2.append(["ID", "Дата"])
    ws2.append([1, 45292])
    ws2.append([None, None])
    ws2.append([2, "05.01.2024"])
    wb.save(tmp_path / "l.xlsx")
    raw = read_raw(tmp_path / "l.xlsx", sheet="лиды")
    assert raw.frame["ID"].tolist() == [1, 2]
    assert raw.rows.tolist() == [2, 4]  # the blank Excel row 3 is skipped, numbering kept
    first = read_raw(tmp_path / "l.xlsx")
    assert "first of 2" in first.notes[0]
    with pytest.raises(InputFileError, match=r"has no sheet 'Визиты'; its sheets are: 'Сводка', 'Лиды'\."):
        read_raw(tmp_path / "l.xlsx", sheet="Визиты")


def test_excel_serial_dates_from_a_two_sheet_workbook(bad_case):
    from toolkit.core.config import load_case
    from toolkit.data.load import load_case_data

    case_dir = bad_case("serial_dates.xlsx", sheet="Визиты")
    t = load_case_data(load_case(case_dir)).tables["transactions"]
    # 45323 = 2024-02-01, 45324 = 2024-02-02; the numeric id 1002 is read as text "1002"
    assert t["date"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-02")]
    assert t["customer_id"].tolist() == ["C1", "1002"]
    assert t["amount"].tolist() == [100.5, 2000.0]


def test_parquet(tmp_path):
    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "t.parquet")
    raw = read_raw(tmp_path / "t.parquet")
    assert raw.frame["a"].tolist() == [1, 2] and raw.rows.tolist() == [1, 2]


def test_explicit_wrong_encoding_is_a_clear_error(tmp_path):
    write(tmp_path / "v.csv", "Дата;Код\n01.02.2024;П\n", "cp1251")
    with pytest.raises(InputFileError, match="cannot be read as utf-8"):
        read_raw(tmp_path / "v.csv", encoding="utf-8")
