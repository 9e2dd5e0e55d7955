"""Resource limits (issue 16): zip bombs (.docx transcript, .xlsx export), a 50 MB single-line
CSV, an over-long field, too many columns, a file over the size limit, a YAML alias bomb in the
codebook. Each gives one sentence naming its setting and exit 2; peak memory of the command,
measured in a fresh process (``resource.getrusage``), stays under 1 GB."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.conftest import TRANSACTIONS_COLUMNS, write_case
from tests.test_coding import CODEBOOK_YAML

ROOT = Path(__file__).resolve().parents[1]
GB_KB = 1024 * 1024  # ru_maxrss is in kilobytes on Linux

RUN = """
import json, resource, sys
from toolkit.cli.main import main
rc = main(sys.argv[1:])
sys.stderr.flush()
print(json.dumps({"rc": rc, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _cjm(*args) -> tuple[int, int, str]:
    """(exit code, peak RSS in KB, stderr) of a cjm command in a fresh process."""
    p = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, cwd=ROOT)
    result = json.loads(p.stdout.strip().splitlines()[-1])
    return result["rc"], result["peak_kb"], p.stderr


def _transactions_case(tmp_path, filename: str, **extra) -> Path:
    return write_case(tmp_path / "case", {"transactions": {"path": f"raw/{filename}",
                                                           "columns": dict(TRANSACTIONS_COLUMNS)}}, **extra)


def _raw(tmp_path) -> Path:
    raw = tmp_path / "case" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    return raw


def _bomb_member(z: zipfile.ZipFile, name: str, head: bytes, filler: bytes, size: int, tail: bytes) -> None:
    """Write a member of ``size`` bytes (mostly ``filler``) without holding it in memory."""
    info = zipfile.ZipInfo(name, (2025, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with z.open(info, "w", force_zip64=True) as f:
        f.write(head)
        chunk = filler * (1 << 20)
        left = size - len(head) - len(tail)
        while left > 0:
            f.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
        f.write(tail)


def test_docx_zip_bomb_transcript_is_refused_before_parsing(tmp_path):
    case = tmp_path / "case"
    (case / "raw" / "transcripts").mkdir(parents=True)
    (case / "raw" / "codebook.yml").write_text(CODEBOOK_YAML, encoding="utf-8")
    # 256 MB of document.xml in well under 1 MB, as measured in the issue
    with zipfile.ZipFile(case / "raw" / "transcripts" / "R1.docx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("[Content_Types].xml", (2025, 1, 1, 0, 0, 0)), "<Types/>")
        _bomb_member(z, "word/document.xml", b"<w:document><w:body><w:p><w:r><w:t>", b" ", 256 << 20,
                     b"</w:t></w:r></w:p></w:body></w:document>")
    assert (case / "raw" / "transcripts" / "R1.docx").stat().st_size < 1 << 20
    write_case(case, {"transcripts": {"path": "raw/transcripts", "codebook": "raw/codebook.yml"}})
    rc, peak, err = _cjm("code", str(case))
    assert rc == 2 and "Traceback" not in err, err
    assert err.startswith("Error: File R1.docx unpacks to 256 MB, more than the 50 MB allowed "
                          "(limits.max_docx_unzipped_mb in case.yml); it is refused before it is read.")
    assert peak < GB_KB, peak


def test_xlsx_zip_bomb_is_refused_by_its_ratio(tmp_path):
    raw = _raw(tmp_path)
    wb = Workbook()
    wb.active.append(list(TRANSACTIONS_COLUMNS))
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(raw / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                _bomb_member(z, info.filename, b"<worksheet>", b" ", 100 << 20, b"</worksheet>")
            else:
                z.writestr(info, src.read(info.filename))
    rc, peak, err = _cjm("validate", str(_transactions_case(tmp_path, "bomb.xlsx")))
    assert rc == 2 and "Traceback" not in err
    assert err.startswith("Error: File bomb.xlsx looks like a zip bomb: its part xl/worksheets/sheet1.xml is "
                          "compressed")
    assert "limits.max_zip_ratio = 200 in case.yml" in err
    assert peak < GB_KB, peak


def test_50_mb_single_line_csv_is_refused_with_the_line_limit(tmp_path):
    raw = _raw(tmp_path)
    with open(raw / "one_line.csv", "wb") as f:
        f.write(b"\xc4\xe0\xf2\xe0;" * (50 * (1 << 20) // 5))  # "Дата;" in cp1251, no newline
    rc, peak, err = _cjm("validate", str(_transactions_case(tmp_path, "one_line.csv")))
    assert rc == 2 and "Traceback" not in err
    assert err.startswith("Error: File one_line.csv, line 1 is 52,428,800 characters long, more than the 1,000,000 "
                          "allowed (limits.max_line_chars in case.yml)")
    assert peak < GB_KB, peak


def test_an_unclosed_quote_hits_the_field_limit_not_a_csv_error(tmp_path):
    raw = _raw(tmp_path)
    lines = ["Дата;Код клиента;Направление;Сумма", '01.02.2024;C1;"Косметология;100']
    lines += [f"0{1 + i % 9}.02.2024;C{i};Косметология;100" for i in range(30_000)]
    (raw / "quote.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc, peak, err = _cjm("validate", str(_transactions_case(tmp_path, "quote.csv")))
    assert rc == 2 and "Traceback" not in err and "unexpected" not in err
    assert err.startswith("Error: File quote.csv has a field longer than 131,072 characters "
                          "(limits.max_field_chars in case.yml)")
    assert peak < GB_KB, peak


def test_too_many_columns_and_a_file_over_the_size_limit(tmp_path):
    raw = _raw(tmp_path)
    (raw / "wide.csv").write_text(";".join(f"c{i}" for i in range(5000)) + "\n" + "1;" * 4999 + "1\n",
                                  encoding="utf-8")
    rc, peak, err = _cjm("validate", str(_transactions_case(tmp_path, "wide.csv")))
    assert rc == 2 and err.startswith("Error: File wide.csv has 5,000 columns in its header, more than the 1,000 "
                                      "allowed (limits.max_columns in case.yml)")
    assert peak < GB_KB, peak
    (raw / "big.csv").write_text("Дата;Код клиента;Направление;Сумма\n" + "01.02.2024;C1;Косметология;1\n" * 40_000,
                                 encoding="utf-8")
    case_dir = _transactions_case(tmp_path, "big.csv", limits={"max_input_mb": 1})
    rc, peak, err = _cjm("validate", str(case_dir))
    assert rc == 2 and err.startswith("Error: File big.csv is 1 MB, more than the 1 MB the toolkit reads "
                                      "(limits.max_input_mb in case.yml)") or "more than the 1 MB" in err, err
    assert peak < GB_KB, peak


def test_yaml_alias_bomb_in_the_codebook_is_refused(tmp_path):
    case = tmp_path / "case"
    (case / "raw" / "transcripts").mkdir(parents=True)
    (case / "raw" / "transcripts" / "R1.txt").write_text("Интервьюер: Как?\nРеспондент: Дорого.\n", encoding="utf-8")
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    lines += ["codes:", "  price_high: {keywords: *a9}"]
    (case / "raw" / "codebook.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_case(case, {"transcripts": {"path": "raw/transcripts", "codebook": "raw/codebook.yml"}})
    rc, peak, err = _cjm("code", str(case))
    assert rc == 2 and "Traceback" not in err
    assert "The codebook codebook.yml is not valid YAML" in err and "YAML aliases (*a0) are not accepted" in err
    assert peak < GB_KB, peak


@pytest.mark.parametrize("setting,value", [("max_line_chars", 10), ("max_zip_ratio", 1)])
def test_limits_are_checked_settings(tmp_path, setting, value):
    from toolkit.core.errors import CaseConfigError
    from toolkit.core.config import load_case

    case_dir = _transactions_case(tmp_path, "x.csv", limits={setting: value})
    with pytest.raises(CaseConfigError, match=f"limits.{setting}"):
        load_case(case_dir)
