"""Reading client exports: CSV (any of UTF-8, UTF-8 with BOM, cp1251, a UTF-8 BOM over a
cp1251 body, UTF-16 LE/BE with or without BOM as Excel's "Unicode text"; separator ``,`` ``;``
tab or ``|``), xlsx (a named sheet) and parquet. Title rows above the header and totals rows
at the end are skipped and counted (``toolkit.data.layout``); every size is bounded by the
case's ``limits`` (``toolkit.core.limits``).

Readers return every cell as the file holds it (text for CSV, Python objects for
xlsx) with the row number a user sees in Excel or a text editor (header = row 1),
so that every later problem can be reported as "file, row, column". A file that
cannot be read at all raises ``InputFileError`` with one sentence saying why.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openpyxl import load_workbook

from toolkit.core.config import Limits
from toolkit.core.errors import InputFileError
from toolkit.core.limits import DEFAULTS, check_file_size, check_zip
from toolkit.core.text import normalise
from toolkit.core.xlsx import unneutralise
from toolkit.data.layout import HEADER_SEARCH_ROWS, pick_header, trailing_totals

SEPARATORS = (";", ",", "\t", "|")
_SEP_NAMES = {";": "';'", ",": "','", "\t": "tab", "|": "'|'"}


@dataclass
class RawTable:
    """A file's cells before any parsing."""

    file: Path
    frame: pd.DataFrame  # columns = the file's header, unique
    rows: np.ndarray  # row number of each frame row in the file (header = 1)
    notes: list[str] = field(default_factory=list)  # how it was read (encoding, separator, sheet)
    duplicated_columns: dict[str, list[int]] = field(default_factory=dict)  # name -> 1-based positions
    malformed_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, what is wrong)


def read_raw(path: Path, sheet: str | None = None, encoding: str | None = None, sep: str | None = None,
             expect: list[str] | None = None, limits: Limits = DEFAULTS, keep: list[str] | None = None) -> RawTable:
    """Read one export by its extension; see the module docstring. ``expect``: the column
    names the case maps, to find the header row below title rows. ``keep``: the columns the case
    uses (mapped and personal); a parquet file, whose columns can be read one by one, is read for
    those only when every ``expect`` column is there."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"File {path.name} does not exist.")
    if path.is_dir():
        raise InputFileError(f"{path.name} is a folder, not a file.")
    check_file_size(path, limits)
    ext = path.suffix.lower()
    if ext in (".xlsx", ".xlsm"):
        return read_xlsx(path, sheet, expect=expect, limits=limits)
    if ext == ".xls":
        raise InputFileError(f"File {path.name} is an old .xls workbook; open it in Excel and save it as .xlsx.")
    if ext == ".parquet":
        return read_parquet(path, expect=expect, keep=keep)
    if ext in (".csv", ".txt", ".tsv", ""):
        return read_csv(path, encoding=encoding, sep=sep, expect=expect, limits=limits)
    raise InputFileError(f"File {path.name} has extension '{ext}'; expected .csv, .xlsx or .parquet.")


# --------------------------------------------------------------------------- CSV
def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    control = sum(b < 9 or 13 < b < 32 for b in head)
    return len(head) > 0 and control / len(head) > 0.05


def decode_text(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str, list[str]]:
    """Decode bytes as UTF-8 (with or without BOM) or cp1251; returns (text, encoding, notes).

    A file mixing UTF-8 and cp1251 lines (two exports pasted together) is decoded
    line by line and said so in the notes, rather than turning half of it into mojibake.
    """
    notes: list[str] = []
    if encoding:
        try:
            return data.decode(encoding), encoding, notes
        except (UnicodeDecodeError, LookupError) as e:
            raise InputFileError(
                f"File {name} cannot be read as {encoding} (byte {getattr(e, 'start', '?')}); "
                "remove 'encoding' from case.yml to detect it automatically."
            ) from None
    utf16 = utf16_encoding(data)
    if utf16:
        text = data.decode(utf16, errors="replace").lstrip("\ufeff")
        return text, utf16, notes
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", notes
        except UnicodeDecodeError:  # a UTF-8 byte-order mark written over a cp1251 body
            text, enc, notes = decode_text(data[3:], name)
            notes.append("the file starts with a UTF-8 byte-order mark but its text is not UTF-8; read as " + enc)
            return text, enc, notes
    try:
        return data.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError:
        pass
    # one lazy pass: does any line read as UTF-8 with non-ASCII letters (two exports pasted together)?
    kinds = Counter()
    for line in io.BytesIO(data):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            kinds["utf-8"] += 1
        except UnicodeDecodeError:
            kinds["cp1251"] += 1
    if kinds["utf-8"]:
        decoded = []
        for line in data.split(b"\n"):
            try:
                decoded.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                decoded.append(line.decode("cp1251", errors="replace"))
        notes.append(
            f"mixed encodings: {kinds['cp1251']} line(s) in cp1251 and {kinds['utf-8']} in UTF-8; each line was decoded on its own"
        )
        return "\n".join(decoded), "mixed", notes
    return data.decode("cp1251", errors="replace"), "cp1251", notes


def utf16_encoding(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' for UTF-16 text (Excel's "Unicode text" export): by its
    byte-order mark, or without one by the zero bytes of ASCII characters falling on odd
    (LE) or even (BE) positions; None otherwise."""
    if data[:2] == b"\xff\xfe":
        return "utf-16-le"
    if data[:2] == b"\xfe\xff":
        return "utf-16-be"
    head = data[:4096]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even_zero = head[0 : 2 * pairs : 2].count(0)
    odd_zero = head[1 : 2 * pairs : 2].count(0)
    if odd_zero > 0.3 * pairs and even_zero < 0.05 * pairs:
        return "utf-16-le"
    if even_zero > 0.3 * pairs and odd_zero < 0.05 * pairs:
        return "utf-16-be"
    return None


def longest_line(text: str) -> tuple[int, int]:
    """(length, 1-based number) of the longest line of ``text``, without splitting it."""
    longest, where, start, line = 0, 1, 0, 1
    for m in _NEWLINE.finditer(text):
        if m.start() - start > longest:
            longest, where = m.start() - start, line
        start, line = m.end(), line + 1
    if len(text) - start > longest:
        longest, where = len(text) - start, line
    return longest, where


_NEWLINE = re.compile("\n")
_LINE_ENDS = re.compile("\r\n?")
# a line holding nothing but spaces, tabs or carriage returns (bytes of the UTF-8 body)
_BLANK_LINE = re.compile(rb"(?<![^\n])[ \t\r]*(?=\n|\Z)")


def sniff_separator(text: str) -> str:
    """Pick the separator that splits the first lines into the most consistent,
    widest rows (a `;` file with decimal commas still reads as `;`)."""
    sample = text[:65536].splitlines()[:50]
    sample = [ln for ln in sample if ln.strip()]
    best, best_score = ",", (-1.0, 0)
    for sep in SEPARATORS:
        try:
            counts = [len(r) for r in csv.reader(sample, delimiter=sep)]
        except csv.Error:
            continue
        if not counts:
            continue
        modal, freq = Counter(counts).most_common(1)[0]
        if modal < 2:
            continue
        score = (freq / len(counts), modal)
        if score > best_score:
            best, best_score = sep, score
    return best


def read_csv(path: Path, encoding: str | None = None, sep: str | None = None, expect: list[str] | None = None,
             limits: Limits = DEFAULTS) -> RawTable:
    data = path.read_bytes()
    name = path.name
    if not data or data.isspace():  # (no stripped copy of a large file)
        raise InputFileError(f"File {name} is empty.")
    if data[:4] == b"PK\x03\x04":
        raise InputFileError(f"File {name} is an Excel/zip file, not CSV text; give it the .xlsx extension.")
    if not encoding and utf16_encoding(data):
        encoding = None  # decoded below; its zero bytes are not binary data
    elif _looks_binary(data[:65536]):
        raise InputFileError(f"File {name} is not a text CSV file (it contains binary data).")
    text, enc, notes = decode_text(data, name, encoding)
    del data
    if not text.strip("\ufeff\x00 \r\n\t"):
        raise InputFileError(f"File {name} is empty.")
    if "\r" in text:
        text = _LINE_ENDS.sub("\n", text)
    length, line_no = longest_line(text)
    if length > limits.max_line_chars:
        raise InputFileError(
            f"File {name}, line {line_no} is {length:,} characters long, more than the {limits.max_line_chars:,} "
            "allowed (limits.max_line_chars in case.yml); check that the file is a table with one record per line."
        )
    sep = sep or sniff_separator(text)
    notes.insert(0, f"encoding {enc}, separator {_SEP_NAMES.get(sep, repr(sep))}")

    with _field_limit(name, limits):
        records = csv.reader(io.StringIO(text[: _offset_of_line(text, HEADER_SEARCH_ROWS * 4 + 1)]), delimiter=sep)
        first_rows, first_lines = [], []
        for rec in records:
            first_rows.append(rec)
            first_lines.append(records.line_num)
            if len(first_rows) >= HEADER_SEARCH_ROWS:
                break
    at = pick_header(first_rows, expect)
    if at is None:
        raise InputFileError(f"File {name} has no header row.")
    header = first_rows[at]
    header_row = first_lines[at]
    skipped = sum(1 for r in first_rows[:at] if any(c.strip() for c in r))
    if skipped:
        notes.append(f"{skipped} title row(s) above the header (row {header_row}) skipped")
    header = [h.strip().lstrip("\ufeff") for h in header]
    if len(header) > limits.max_columns:
        raise InputFileError(
            f"File {name} has {len(header):,} columns in its header, more than the {limits.max_columns:,} allowed "
            "(limits.max_columns in case.yml); check the separator ('sep' in case.yml)."
        )
    columns, dupes = _unique_columns(header)
    width = len(header)

    # Fast path: the C parser; it needs every record to have the header's width.
    end_of_header = text.find("\n", _offset_of_line(text, header_row))
    body = "" if end_of_header < 0 else text[end_of_header + 1 :]
    del text
    # the C parser reads UTF-8 bytes: half the memory of the text held as a StringIO
    encoded = body.encode("utf-8", errors="surrogatepass")
    del body
    try:
        frame = _parse_body(encoded, sep, columns)
        ok = frame is not None
    except (pd.errors.ParserError, ValueError, csv.Error):
        ok = False
    malformed: list[tuple[int, str]] = []
    if ok:
        rows = _row_numbers(encoded, header_row, len(frame))
        if rows is None:
            ok = False
    if not ok:
        # read lazily from the bytes: no second copy of the whole text
        body = io.TextIOWrapper(io.BytesIO(encoded), encoding="utf-8", errors="replace", newline="")
        # Slow path for files with ragged rows: each record is checked and ragged
        # ones are reported with their row number instead of failing the file.
        good, parts, rows_list = [], [], array("q")
        with _field_limit(name, limits):
            reader = csv.reader(body, delimiter=sep)
            for rec in reader:
                line = header_row + reader.line_num
                if not rec or not any(c.strip() for c in rec):
                    continue
                if len(rec) != width:
                    if len(rec) > width and not any(c.strip() for c in rec[width:]):
                        rec = rec[:width]
                    else:
                        malformed.append((line, f"{len(rec)} fields where the header has {width}"))
                        continue
                good.append(rec)
                rows_list.append(line)
                if len(good) >= CSV_CHUNK_ROWS:  # a chunk of Python strings at a time, as the fast path
                    parts.append(_text_frame(good, columns))
                    good = []
        del body
        parts.append(_text_frame(good, columns))
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        del parts, good
        rows = np.frombuffer(rows_list, dtype=np.int64).copy() if rows_list else np.zeros(0, dtype=np.int64)
    del encoded
    frame, rows = _drop_totals(frame, rows, notes)
    frame = _few_valued_as_categories(frame)
    return RawTable(path, frame.reset_index(drop=True), rows, notes, dupes, malformed)


CSV_CHUNK_ROWS = 100_000


def _parse_body(encoded: bytes, sep: str, columns: list[str]) -> pd.DataFrame | None:
    """The records below the header with the C parser, in chunks turned into Arrow-backed text
    at once (missing cells <NA>), so no more than a chunk of cells is ever a Python string;
    None when a record is wider than the header (the slow path then says which)."""
    reader = pd.read_csv(
        io.BytesIO(encoded),
        encoding="utf-8",
        encoding_errors="replace",
        sep=sep,
        header=None,
        names=columns,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        skip_blank_lines=True,
        engine="c",
        quotechar='"',
        chunksize=CSV_CHUNK_ROWS,
    )
    text = pd.StringDtype("pyarrow")
    parts = []
    with reader:
        for chunk in reader:
            if len(chunk.columns) != len(columns):
                return None
            parts.append(chunk.astype(text))
    if not parts:
        return None
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    del parts
    return frame


def _few_valued_as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Few-valued text columns as categories, as the parquet reader does (see below): the loader
    then parses each distinct value once."""
    for c in frame.columns:
        sample = frame[c].iloc[:DICTIONARY_SAMPLE_ROWS]
        if len(frame) > 1000 and sample.nunique() <= max(1, int(DICTIONARY_MAX_DISTINCT_SHARE * len(sample))):
            frame[c] = frame[c].astype("category")
    _release_arrow_memory()
    return frame


def _text_frame(records: list[list[str]], columns: list[str]) -> pd.DataFrame:
    """Records as Arrow-backed text, empty cells missing."""
    frame = pd.DataFrame(records, columns=columns, dtype=object) if records else pd.DataFrame(columns=columns)
    frame = frame.astype(pd.StringDtype("pyarrow"))
    return frame.mask(frame == "")


def _release_arrow_memory() -> None:
    pa.default_memory_pool().release_unused()


class _field_limit:
    """``csv``'s field size limit set to ``limits.max_field_chars`` while reading; a longer
    field is one sentence naming the setting (not csv's "field larger than field limit")."""

    def __init__(self, name: str, limits: Limits):
        self.name, self.limit = name, limits.max_field_chars

    def __enter__(self):
        self.old = csv.field_size_limit(self.limit)
        return self

    def __exit__(self, exc_type, exc, tb):
        csv.field_size_limit(self.old)
        if exc_type is csv.Error:
            if "field larger than field limit" in str(exc):
                raise InputFileError(
                    f"File {self.name} has a field longer than {self.limit:,} characters (limits.max_field_chars "
                    "in case.yml); an unclosed quote (\") usually causes this."
                ) from None
            raise InputFileError(f"File {self.name} cannot be read as CSV ({exc}).") from None
        return False


def _drop_totals(frame: pd.DataFrame, rows: np.ndarray, notes: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The frame without its trailing totals rows (counted in ``notes``)."""
    tail = frame.tail(5)
    n = trailing_totals([list(r) for r in tail.itertuples(index=False)]) if len(tail) else 0
    if n and n < len(frame):
        notes.append(f"{n} totals row(s) at the end (row {rows[len(frame) - n]}) skipped")
        return frame.iloc[: len(frame) - n], rows[: len(frame) - n]
    return frame, rows


def _offset_of_line(text: str, line_no: int) -> int:
    """Character offset of the start of 1-based line ``line_no``."""
    pos = 0
    for _ in range(line_no - 1):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return len(text)
        pos = nxt + 1
    return pos


def _row_numbers(body: bytes, header_row: int, n: int) -> np.ndarray | None:
    """Row numbers of data records when every record is one non-blank line (the usual case);
    None when quoted fields span lines, then the slow path counts. Works on the UTF-8 bytes
    without splitting them into lines."""
    newlines = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 10)
    n_lines = len(newlines) + (1 if body and not body.endswith(b"\n") else 0)
    blank = np.zeros(n_lines + 1, dtype=bool)
    for m in _BLANK_LINE.finditer(body):
        blank[np.searchsorted(newlines, m.start())] = True
    idx = np.flatnonzero(~blank[:n_lines])
    if len(idx) != n:
        return None
    return idx + header_row + 1


def _unique_columns(header: list) -> tuple[list[str], dict[str, list[int]]]:
    seen: dict[str, list[int]] = {}
    for i, h in enumerate(header, start=1):
        seen.setdefault(h, []).append(i)
    dupes = {h: pos for h, pos in seen.items() if len(pos) > 1 and h}
    out, count = [], Counter()
    for i, h in enumerate(header, start=1):
        h = h or f"(column {i})"
        count[h] += 1
        out.append(h if count[h] == 1 else f"{h} (column {i})")
    return out, dupes


# --------------------------------------------------------------------------- xlsx
def read_xlsx(path: Path, sheet: str | None, expect: list[str] | None = None, limits: Limits = DEFAULTS) -> RawTable:
    name = path.name
    check_zip(path, limits.max_unzipped_mb, limits.max_zip_ratio)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise InputFileError(f"File {name} cannot be opened as an Excel workbook ({type(e).__name__}).") from None
    except Exception as e:  # openpyxl raises assorted errors on broken files
        raise InputFileError(f"File {name} cannot be opened as an Excel workbook ({type(e).__name__}).") from None
    try:
        names = wb.sheetnames
        notes = []
        if not names:
            raise InputFileError(f"File {name} has no sheets.")
        if sheet is None:
            target = names[0]
            if len(names) > 1:
                notes.append(f"sheet '{target}' (first of {len(names)}; set 'sheet' in case.yml to pick another)")
        else:
            matches = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
            if not matches:
                raise InputFileError(
                    f"File {name} has no sheet '{sheet}'; its sheets are: {', '.join(repr(n) for n in names)}."
                )
            target = matches[0]
            notes.append(f"sheet '{target}'")
        ws = wb[target]
        try:
            data, rows, columns, dupes = _sheet_cells(ws, name, target, expect, limits, notes)
        except InputFileError:
            raise
        except Exception as e:  # a broken sheet part fails while it is read, not when it is opened
            raise InputFileError(f"File {name}: sheet '{target}' cannot be read ({type(e).__name__}).") from None
    finally:
        wb.close()
    frame = pd.DataFrame(data, columns=columns, dtype=object) if data else pd.DataFrame(columns=columns, dtype=object)
    rows = np.asarray(rows, dtype=np.int64)
    frame, rows = _drop_totals(frame, rows, notes)
    return RawTable(path, frame.reset_index(drop=True), rows, notes, dupes)


def _sheet_cells(ws, name: str, target: str, expect, limits: Limits, notes: list[str]):
    """(records, Excel row numbers, columns, duplicated columns) of a sheet below its header."""
    it = ws.iter_rows(values_only=True)
    first = []
    for rec in it:
        first.append(rec)
        if len(first) >= HEADER_SEARCH_ROWS:
            break
    at = pick_header(first, expect)
    if at is None:
        raise InputFileError(f"Sheet '{target}' of {name} is empty.")
    header_row = at + 1
    skipped = sum(1 for r in first[:at] if r is not None and any(v is not None and str(v).strip() for v in r))
    if skipped:
        notes.append(f"{skipped} title row(s) above the header (row {header_row}) skipped")
    header = list(first[at])
    while header and (header[-1] is None or not str(header[-1]).strip()):
        header.pop()
    if len(header) > limits.max_columns:
        raise InputFileError(
            f"File {name} has {len(header):,} columns in its header, more than the {limits.max_columns:,} allowed "
            "(limits.max_columns in case.yml)."
        )
    width = len(header)
    columns, dupes = _unique_columns([("" if h is None else str(h).strip()) for h in header])
    data, rows = [], []
    for r, rec in enumerate(first[at + 1 :], start=header_row + 1):
        _keep(rec, width, r, data, rows)
    for r, rec in enumerate(it, start=len(first) + 1):
        _keep(rec, width, r, data, rows)
    return data, rows, columns, dupes


def _keep(rec, width: int, r: int, data: list, rows: list) -> None:
    """Append a sheet row cut or padded to the header's width, unless it is blank; text that the
    toolkit neutralised when it wrote the sheet (``'=x``) reads back as written (``=x``)."""
    rec = list(rec[:width]) + [None] * max(0, width - len(rec))
    if all(v is None or (isinstance(v, str) and not v.strip()) for v in rec):
        return
    data.append([unneutralise(v) if isinstance(v, str) else v for v in rec])
    rows.append(r)



# --------------------------------------------------------------------------- parquet
# A text column whose first rows repeat a few values (brand, line, service, staff) is read
# dictionary-encoded, as a pandas Categorical: the loader then parses each distinct value once
# and never hashes or copies millions of equal strings. Sampled, not guessed from the name.
DICTIONARY_SAMPLE_ROWS = 100_000
DICTIONARY_MAX_DISTINCT_SHARE = 0.05


def _parquet_columns(names: list[str], expect: list[str] | None, keep: list[str] | None) -> list[str]:
    """The file's columns to read: those named in ``keep`` when every ``expect`` name is among the
    file's columns (exactly or by ``normalise``), else all of them, in the file's order."""
    if keep is None or len(set(names)) < len(names):
        return list(names)
    present = {normalise(n) for n in names}
    if any(e not in names and normalise(e) not in present for e in expect or []):
        return list(names)
    wanted = {normalise(k) for k in keep} | set(keep)
    return [n for n in names if n in wanted or normalise(n) in wanted]


def _low_cardinality_text_columns(file, names: list[str]) -> list[str]:
    """The text columns among ``names`` with few distinct values in the file's first rows."""
    if not names or file.metadata.num_rows == 0:
        return []
    batch = next(file.iter_batches(batch_size=DICTIONARY_SAMPLE_ROWS, columns=names))
    limit = max(1, int(DICTIONARY_MAX_DISTINCT_SHARE * batch.num_rows))
    return [n for n in names if pc.count_distinct(batch.column(n)).as_py() <= limit]


def read_parquet(path: Path, expect: list[str] | None = None, keep: list[str] | None = None) -> RawTable:
    """Read a parquet export with pyarrow: text columns become pandas ``string`` (arrow-backed,
    no copy into Python objects), few-valued text columns ``category`` (see above); only the
    ``keep`` columns when the file has every ``expect`` column (names compared as the loader
    matches them, ``toolkit.core.text.normalise``), else all (a missing one is then reported
    with every column the file has)."""
    try:
        file = pq.ParquetFile(path)
        columns = _parquet_columns(file.schema_arrow.names, expect, keep)
        text = [f.name for f in file.schema_arrow
                if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)) and f.name in columns]
        dictionary = _low_cardinality_text_columns(file, text)
        table = pq.read_table(path, columns=columns, read_dictionary=dictionary or None)
    except Exception as e:  # pyarrow raises several error types on broken files
        raise InputFileError(f"File {path.name} cannot be read as parquet ({type(e).__name__}).") from None
    strings = pd.StringDtype("pyarrow")
    mapper = {pa.string(): strings, pa.large_string(): strings}.get
    # split_blocks/self_destruct: no consolidated 2-D copy, arrow buffers freed as converted
    frame = table.to_pandas(types_mapper=mapper, split_blocks=True, self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()  # the read buffers, back to the system
    frame = frame.reset_index(drop=True)
    # parquet has no header row: row n is the n-th record
    return RawTable(path, frame, np.arange(1, len(frame) + 1, dtype=np.int64), ["parquet"], {})
