"""Real export quirks (issue 16): Excel "Unicode text" (UTF-16), 1C reports with title rows
and totals, a UTF-8 byte-order mark over a cp1251 body, ids that differ only in letter case.
Every file is built here."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import Workbook

from tests.conftest import TRANSACTIONS_COLUMNS, write_case
from toolkit.cli.main import main
from toolkit.core.config import load_case
from toolkit.data.load import load_case_data
from toolkit.data.readers import read_raw

ROWS = [
    ["Дата", "Код клиента", "Направление", "Сумма"],
    ["01.02.2024", "C1", "Косметология", "12 500,50"],
    ["13.02.2024", "C2", "Стоматология", "300"],
    ["20.03.2024", "C3", "Косметология", "1 000"],
]


def _text(rows, sep="\t") -> str:
    return "\r\n".join(sep.join(r) for r in rows) + "\r\n"


def _case(tmp_path, name: str, data: bytes, **extra):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / name).write_bytes(data)
    return write_case(tmp_path, {"transactions": {"path": f"raw/{name}", "columns": dict(TRANSACTIONS_COLUMNS)}},
                      **extra)


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                          ("utf-16-le", b""), ("utf-16-be", b"")])
def test_utf16_unicode_text_export_is_read(tmp_path, encoding, bom):
    data = bom + _text(ROWS).encode(encoding)
    case = load_case(_case(tmp_path, "unicode.txt", data))
    loaded = load_case_data(case)
    t = loaded.tables["transactions"]
    assert t["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert t["amount"].tolist() == [12500.5, 300.0, 1000.0]
    assert loaded.quality["transactions"].notes[0] == f"encoding {encoding}, separator tab"


def test_bom_over_cp1251_body_reads_the_russian_column_names(tmp_path):
    data = b"\xef\xbb\xbf" + _text(ROWS, ";").encode("cp1251")
    raw = read_raw(_case(tmp_path, "bom.csv", data) / "raw" / "bom.csv")
    assert list(raw.frame.columns) == ROWS[0]
    assert raw.frame["Направление"].tolist() == ["Косметология", "Стоматология", "Косметология"]
    assert any("byte-order mark but its text is not UTF-8; read as cp1251" in n for n in raw.notes)


def test_1c_report_title_rows_and_totals_are_skipped_and_counted_csv(tmp_path, capsys):
    lines = [["Отчет по продажам"], ["Период: 01.01.2024 - 31.03.2024"], [""], ["Организация: ООО Клиника", "", ""],
             *ROWS, ["Итого", "", "", "13 800,50"], ["Всего строк: 3"]]
    case_dir = _case(tmp_path, "report.csv", _text(lines, ";").encode("cp1251"))
    loaded = load_case_data(load_case(case_dir))
    q = loaded.quality["transactions"]
    assert q.rows_read == 3 and q.rows_used == 3
    assert "3 title row(s) above the header (row 5) skipped" in q.notes
    assert "2 totals row(s) at the end (row 9) skipped" in q.notes
    assert main(["validate", str(case_dir)]) == 0
    assert "title row(s) above the header" in capsys.readouterr().out


def test_1c_report_title_rows_and_totals_are_skipped_xlsx(tmp_path):
    wb = Workbook()
    ws = wb.active
    for r in [["Отчет о визитах за I квартал 2024"], [None], ["Клиника: Эстетика"], ROWS[0]]:
        ws.append(r)
    for r in ROWS[1:]:
        ws.append([r[0], r[1], r[2], float(r[3].replace(" ", "").replace(",", "."))])
    ws.append(["Итого:", None, None, 13800.5])
    wb.save(tmp_path / "v.xlsx")
    raw = read_raw(tmp_path / "v.xlsx", expect=list(TRANSACTIONS_COLUMNS))
    assert raw.rows.tolist() == [5, 6, 7]
    assert raw.frame["Код клиента"].tolist() == ["C1", "C2", "C3"]
    assert "2 title row(s) above the header (row 4) skipped" in raw.notes
    assert "1 totals row(s) at the end (row 8) skipped" in raw.notes


def test_a_totals_word_inside_the_data_is_data(tmp_path):
    rows = [ROWS[0], ["Итого", "C9", "Косметология", "5"], *ROWS[1:]]
    raw = read_raw(_case(tmp_path, "t.csv", _text(rows, ";").encode("utf-8")) / "raw" / "t.csv")
    assert len(raw.frame) == 4 and not any("totals" in n for n in raw.notes)


def _ids_case(tmp_path, **extra):
    rows = [ROWS[0], ["01.02.2024", "C-01", "Косметология", "100"], ["02.02.2024", "c-01", "Косметология", "200"],
            ["03.02.2024", "C- 01", "Стоматология", "300"], ["04.02.2024", "C-02", "Стоматология", "400"]]
    return _case(tmp_path, "ids.csv", _text(rows, ";").encode("utf-8"), **extra)


def test_ids_differing_only_in_case_are_warned_about_when_not_normalised(tmp_path):
    loaded = load_case_data(load_case(_ids_case(tmp_path)))
    assert loaded.tables["transactions"]["customer_id"].nunique() == 4
    notes = loaded.quality["transactions"].notes
    assert any(n.startswith("warning: 1 id(s) differ from another id only in letter case") for n in notes)
    assert any("normalise_ids: true" in n for n in notes)


def test_normalise_ids_merges_and_reports(tmp_path):
    loaded = load_case_data(load_case(_ids_case(tmp_path, normalise_ids=True)))
    ids = loaded.tables["transactions"]["customer_id"]
    assert ids.tolist() == ["C-01", "C-01", "C-01", "C-02"]
    assert ("normalise_ids: 2 id(s) written in another letter case or with inner spaces merged into the same id "
            "(4 written forms -> 2 ids), e.g. 'C-01' = 'c-01' = 'C- 01'") in loaded.quality["transactions"].notes
    assert not any(n.startswith("warning:") for n in loaded.quality["transactions"].notes)


def test_rows_read_equals_used_plus_quarantined_with_title_and_totals(tmp_path):
    lines = [["Выгрузка"], ROWS[0], *ROWS[1:], ["32.13.2024", "C4", "Косметология", "5"], ["Итого", "", "", "1"]]
    loaded = load_case_data(load_case(_case(tmp_path, "q.csv", _text(lines, ";").encode("utf-8"))))
    q = loaded.quality["transactions"]
    assert q.rows_read == 4 and q.rows_read == q.rows_used + sum(q.quarantined.values())
    assert q.quarantined == {"bad_date": 1}
    assert pd.Timestamp("2024-03-20") in set(loaded.tables["transactions"]["date"])
