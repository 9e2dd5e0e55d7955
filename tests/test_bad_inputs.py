"""Every malformed export in tests/bad_inputs gives a clear error or a counted
quarantine through `cjm validate`, never a traceback."""

from __future__ import annotations

import pytest

from toolkit.cli.main import main

# file -> (exit code, fragments the output must contain)
CASES = {
    "empty.csv": (2, ["File empty.csv is empty."]),
    "header_only.csv": (2, ["File header_only.csv (transactions) has a header but no data rows."]),
    "binary_garbage.csv": (2, ["File binary_garbage.csv is not a text CSV file (it contains binary data)."]),
    "all_dates_bad.csv": (
        2,
        ["File all_dates_bad.csv, column 'Дата' (transactions.date): none of the 3 values can be read as a date "
         "(dd.mm.yyyy, yyyy-mm-dd or an Excel date number) (row 2 has 'вчера')."],
    ),
    "mixed_encodings.csv": (0, ["mixed encodings: 3 line(s) in cp1251 and 2 in UTF-8", "The case is usable."]),
    "duplicated_columns.csv": (
        2,
        ["File duplicated_columns.csv has column 'Дата' 2 times (positions 1, 3), so it is ambiguous which one is transactions.date"],
    ),
    "amount_all_text.csv": (
        2,
        ["File amount_all_text.csv, column 'Сумма' (transactions.amount): none of the 2 values can be read as an amount "
         "such as 12 500,00 (row 2 has 'много')."],
    ),
    "missing_column.csv": (
        2,
        ["File missing_column.csv has no column 'Сумма' (did you mean 'Сумма, руб.'?) mapped in sources.transactions.columns; "
         "the columns it has are: 'Дата', 'Код клиента', 'Направление', 'Сумма, руб.'."],
    ),
    # half the rows lost: the table is printed, then validate fails (issue 16: "usable" means usable)
    "ragged_rows.csv": (2, ["row 3: '6 fields where the header has 4' -> malformed_row",
                            "row 4: '2 fields where the header has 4' -> malformed_row",
                            "Error: The case is not usable: the transactions table loses 2 of its 4 rows (50%), more "
                            "than the 20% allowed (limits.max_rows_lost_share in case.yml): malformed_row: 2"]),
    "excel_renamed.csv": (2, ["File excel_renamed.csv is an Excel/zip file, not CSV text; give it the .xlsx extension."]),
    "text_renamed.xlsx": (2, ["File text_renamed.xlsx cannot be opened as an Excel workbook"]),
    "blank_ids.csv": (2, ["File blank_ids.csv, column 'Код клиента' (transactions.customer_id) is empty in every row"]),
    "all_future.csv": (2, ["File all_future.csv (transactions): no row is usable (future_date: 2)."]),
    "refunds_and_duplicates.csv": (0, ["duplicate", "refund", "row 3 -> duplicate", "row 4, column 'Сумма' -> refund"]),
    "old_format.xls": (2, ["File old_format.xls is an old .xls workbook; open it in Excel and save it as .xlsx."]),
    "no_such_file.csv": (2, ["for the transactions table does not exist (sources.transactions.path in case.yml)."]),
    "quoted_multiline.csv": (0, ["The case is usable."]),
    "numbers_as_text.csv": (2, ["bad_amount", "row 3, column 'Сумма': 'сто' -> bad_amount",
                                "loses 1 of its 3 rows (33%)", "bad_amount: 1 ('Сумма' expected an amount such as 12 500,00"]),
}


@pytest.mark.parametrize("filename", sorted(CASES))
def test_bad_input_gives_clear_message(filename, bad_case, capsys):
    case_dir = bad_case(filename)
    code, fragments = CASES[filename]
    rc = main(["validate", str(case_dir)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    assert rc == code, text
    for frag in fragments:
        assert frag in text, f"missing {frag!r} in:\n{text}"
    if code:
        # one clear sentence on stderr; nothing half-printed on stdout (the data-quality table of a
        # case that loses too many rows is printed whole, before the sentence)
        assert out.err.startswith("Error: ")
        assert out.out == "" or "The case is not usable" in out.err


def test_wrong_sheet_lists_the_sheets(bad_case, capsys):
    case_dir = bad_case("wrong_sheet.xlsx", sheet="Визиты")
    assert main(["validate", str(case_dir)]) == 2
    err = capsys.readouterr().err
    assert "File wrong_sheet.xlsx has no sheet 'Визиты'; its sheets are: 'Продажи', 'Справочник'." in err


def test_at_least_fifteen_distinct_malformed_inputs():
    assert len(CASES) + 1 >= 15
