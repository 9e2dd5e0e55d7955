"""A seeded fuzz corpus over the loader (issue 16): 520 mutated CSV and xlsx files, built here
from a few real-looking exports. Every one either loads, with rows_read = rows_used +
quarantined, or stops with one clear sentence (``CaseError``); never any other exception.
Deterministic (fixed seed) and fast (tiny files, one case object)."""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from tests.conftest import write_case
from toolkit.core.config import load_case
from toolkit.core.errors import CaseError
from toolkit.data.load import load_case_data

SEED = 20260416
N_CSV = 380
N_XLSX = 140
COLUMNS = {"Дата": "date", "Код клиента": "customer_id", "Направление": "business_line", "Сумма": "amount",
           "Комментарий": "service"}

ROWS = [
    ["Дата", "Код клиента", "Направление", "Сумма", "Комментарий"],
    ["01.02.2024", "C1", "Косметология", "12 500,50", "Иванова Мария просила перезвонить +7 916 123-45-67"],
    ["13.02.2024", "c1", "Стоматология", "300", ""],
    ["20.03.2024", "C2", "Косметология", "-1 000", "возврат"],
    ["20.03.2024", "C2", "Косметология", "-1 000", "возврат"],
    ["31.02.2024", "C3", "Ортопедия", "1e3", '"кавычки" и ; разделитель'],
    ["45292", "C4", "Стоматология", "(200,00)", "=HYPERLINK(\"x\")"],
    ["2024-05-06", " ", "Косметология", "абв", "x\ny"],
]

JUNK = ["", " ", ";", ",", "\t", "|", '"', '""', "\n", "\r\n", "\r", "\x00", "\ufeff", "Итого", "=1+1", "99/99/9999",
        "13/13/2024", "02/03/2024", "1e309", "-0", "NaN", "None", "ё" * 50, "💥", "\u00a0", "31.12.1899", "01.01.2300",
        "9" * 40, "Дата", "Код клиента", "'", "\\", "\x1a", "\xa0\xa0", "0x10", "1,000.50", "1.000,50"]


def _csv_seeds() -> list[bytes]:
    def text(rows, sep):
        return "\r\n".join(sep.join(f'"{c}"' if ("\n" in c or sep in c or '"' in c) and '"' not in c else c
                                    for c in r) for r in rows) + "\r\n"

    title = [["Отчёт по продажам"], ["Период: I квартал"], []]
    return [
        text(ROWS, ";").encode("cp1251", errors="replace"),
        text(ROWS, ",").encode("utf-8"),
        b"\xef\xbb\xbf" + text(ROWS, ";").encode("utf-8"),
        b"\xff\xfe" + text(ROWS, "\t").encode("utf-16-le"),
        text(ROWS, "\t").encode("utf-16-be"),
        text([*title, *ROWS, ["Итого", "", "", "13 000", ""]], ";").encode("cp1251", errors="replace"),
        b"\xef\xbb\xbf" + text(ROWS, ";").encode("cp1251", errors="replace"),
    ]


def _mutate_bytes(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(7)
        pos = rng.randrange(len(b) + 1) if b else 0
        if op == 0 and b:  # flip a byte
            b[min(pos, len(b) - 1)] = rng.randrange(256)
        elif op == 1:  # insert junk text in one of the encodings
            b[pos:pos] = rng.choice(JUNK).encode(rng.choice(["utf-8", "cp1251", "utf-16-le"]), errors="replace")
        elif op == 2 and b:  # delete a range
            del b[pos : pos + rng.randint(1, 40)]
        elif op == 3 and b:  # repeat a range
            end = min(len(b), pos + rng.randint(1, 200))
            b[pos:pos] = b[pos:end] * rng.randint(1, 5)
        elif op == 4:  # truncate
            b = b[: pos]
        elif op == 5:  # splice another seed
            other = rng.choice(seeds)
            b = b[:pos] + other[rng.randrange(len(other)) :]
        else:  # swap the separator
            b = b.replace(rng.choice([b";", b",", b"\t"]), rng.choice([b";", b",", b"\t", b"|", b""]))
    return bytes(b)


def _xlsx_bytes(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _mutated_xlsx(rng: random.Random) -> bytes:
    kind = rng.randrange(3)
    rows = [list(r) for r in ROWS]
    if kind == 0:  # structure kept, cell values mutated (types too)
        for r in rows[1:]:
            for j in range(len(r)):
                if rng.random() < 0.3:
                    r[j] = rng.choice([ILLEGAL_CHARACTERS_RE.sub("", rng.choice(JUNK)), rng.uniform(-1e6, 1e6),
                                       rng.randint(-5, 80000), None, True])
        if rng.random() < 0.3:
            rows.insert(0, ["Отчёт"])
        if rng.random() < 0.3:
            rows.append(["Итого", None, None, 1.5, None])
        if rng.random() < 0.2:
            rows[0] = [ILLEGAL_CHARACTERS_RE.sub("", rng.choice(JUNK)) for _ in rows[0]]
        return _xlsx_bytes(rows)
    data = _xlsx_bytes(rows)
    if kind == 1:  # bytes mutated: broken zips, CRCs, truncation
        return _mutate_bytes(rng, data, [data])
    # a zip member replaced by junk XML
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    victim = rng.choice(src.namelist())
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == victim:
                cut = rng.randrange(len(blob) + 1)
                blob = blob[:cut] + rng.choice([b"<", b"&bogus;", b"<x/>", b"\x00", b""]) + blob[cut:]
            z.writestr(info, blob)
    return out.getvalue()


def _corpus() -> list[tuple[str, bytes]]:
    rng = random.Random(SEED)
    seeds = _csv_seeds()
    out = [(f"c{i}.csv", _mutate_bytes(rng, rng.choice(seeds), seeds)) for i in range(N_CSV)]
    out += [(f"x{i}.xlsx", _mutated_xlsx(rng)) for i in range(N_XLSX)]
    return out


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


def test_the_corpus_is_seeded_and_large_enough(corpus):
    assert len(corpus) >= 500
    assert [b for _, b in corpus[:5]] == [b for _, b in _corpus()[:5]]
    assert len({b for _, b in corpus}) > 0.9 * len(corpus)


def test_fuzzed_exports_load_or_stop_with_one_sentence(tmp_path, corpus):
    (tmp_path / "raw").mkdir()
    outcomes = {"loaded": 0, "refused": 0}
    for ext in ("csv", "xlsx"):
        write_case(tmp_path / ext, {"transactions": {"path": f"raw/input.{ext}", "columns": dict(COLUMNS)}},
                   limits={"max_rows_lost_share": 1.0})
        (tmp_path / ext / "raw").mkdir()
    cases = {ext: load_case(tmp_path / ext) for ext in ("csv", "xlsx")}
    for name, blob in corpus:
        ext = name.rsplit(".", 1)[1]
        (tmp_path / ext / "raw" / f"input.{ext}").write_bytes(blob)
        try:
            data = load_case_data(cases[ext])
        except CaseError as e:
            msg = str(e)
            assert msg and "Traceback" not in msg, (name, msg)
            outcomes["refused"] += 1
            continue
        except Exception as e:  # pragma: no cover - the failure this test exists to catch
            raise AssertionError(f"{name}: {type(e).__name__}: {e}") from e
        q = data.quality["transactions"]
        assert q.rows_read == q.rows_used + sum(q.quarantined.values()), (name, q)
        assert len(data.tables["transactions"]) == q.rows_used
        outcomes["loaded"] += 1
    # both outcomes occur often: the corpus exercises the loader, not only its first check
    assert outcomes["loaded"] >= 100 and outcomes["refused"] >= 100, outcomes
