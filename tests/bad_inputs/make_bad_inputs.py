"""Writes the malformed exports of this folder (run once; the files are committed).

    python tests/bad_inputs/make_bad_inputs.py

Each file is what a real client export sometimes looks like; test_bad_inputs.py
asserts the exact message or quarantine count each one gives.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
HEADER = "Дата;Код клиента;Направление;Сумма"


def csv(name: str, lines: list[str], encoding: str = "cp1251") -> None:
    (HERE / name).write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def xlsx(name: str, sheets: dict[str, list[list]]) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.properties.created = wb.properties.modified = __import__("datetime").datetime(2025, 1, 1)
    wb.save(HERE / name)


def main() -> None:
    (HERE / "empty.csv").write_bytes(b"")
    csv("header_only.csv", [HEADER])
    (HERE / "binary_garbage.csv").write_bytes(bytes(range(256)) * 8)
    csv("all_dates_bad.csv", [HEADER, "вчера;C1;Косметология;100", "??;C2;Косметология;200", "завтра;C3;Стоматология;300"])
    # two exports pasted together: a cp1251 part and a UTF-8 part
    part1 = ("\r\n".join([HEADER, "01.02.2024;C1;Косметология;100", "02.02.2024;C2;Стоматология;200"]) + "\r\n").encode("cp1251")
    part2 = ("\r\n".join(["03.02.2024;C3;Косметология;300", "04.02.2024;C4;Стоматология;400"]) + "\r\n").encode("utf-8")
    (HERE / "mixed_encodings.csv").write_bytes(part1 + part2)
    csv("duplicated_columns.csv", ["Дата;Код клиента;Дата;Сумма", "01.02.2024;C1;05.02.2024;100"])
    csv("amount_all_text.csv", [HEADER, "01.02.2024;C1;Косметология;много", "02.02.2024;C2;Косметология;н/д"])
    csv("missing_column.csv", ["Дата;Код клиента;Направление;Сумма, руб.", "01.02.2024;C1;Косметология;100"])
    csv("ragged_rows.csv", [HEADER, "01.02.2024;C1;Косметология;100", "02.02.2024;C2;Косметология;1;лишнее;поле",
                            "03.02.2024;C3", "04.02.2024;C4;Стоматология;400"])
    with zipfile.ZipFile(HERE / "excel_renamed.csv", "w") as z:
        z.writestr(zipfile.ZipInfo("xl/workbook.xml", (2025, 1, 1, 0, 0, 0)), "<workbook/>")
    (HERE / "text_renamed.xlsx").write_text("Дата;Код клиента\n01.02.2024;C1\n", encoding="utf-8")
    csv("blank_ids.csv", [HEADER, "01.02.2024;;Косметология;100", "02.02.2024; ;Косметология;200"])
    csv("all_future.csv", [HEADER, "01.02.2031;C1;Косметология;100", "02.02.2032;C2;Косметология;200"])
    csv("refunds_and_duplicates.csv", [HEADER, "01.02.2024;C1;Косметология;1 000,00", "01.02.2024;C1;Косметология;1 000,00",
                                       "05.02.2024;C1;Косметология;-1 000,00", "06.02.2024;C2;Стоматология;500"])
    (HERE / "old_format.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    xlsx("wrong_sheet.xlsx", {"Продажи": [["Дата", "Код клиента", "Направление", "Сумма"], ["01.02.2024", "C1", "Косметология", 100]],
                              "Справочник": [["x"]]})
    # Excel serial dates as numbers, two sheets, the data on the second one
    xlsx("serial_dates.xlsx", {"Сводка": [["итого", 1]],
                               "Визиты": [["Дата", "Код клиента", "Направление", "Сумма"], [45323, "C1", "Косметология", 100.5],
                                          [45324, 1002, "Стоматология", "2 000,00"]]})
    csv("quoted_multiline.csv", [HEADER + ";Комментарий", '01.02.2024;C1;Косметология;100;"первая строка', 'вторая строка"',
                                 "02.02.2024;C2;Стоматология;200;ok"])
    csv("numbers_as_text.csv", [HEADER, "01.02.2024;C1;Косметология;100", "02.02.2024;C2;Косметология;сто",
                                "03.02.2024;C3;Косметология;300"])


if __name__ == "__main__":
    main()
