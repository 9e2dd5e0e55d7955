"""The one writer of every spreadsheet the toolkit hands to a client: safe and byte-identical.

- **No live content from data.** Every text value is written as a string cell, never a
  formula or a hyperlink (xlsxwriter's ``strings_to_formulas`` / ``strings_to_urls`` are
  off, and strings go through ``write_string``). A text value that begins with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return is *neutralised* as OWASP recommends for
  CSV/spreadsheet injection: a single quote is put in front (``=cmd|...`` is written
  ``'=cmd|...``), so that even a copy-paste or a re-save as CSV does not turn it into a
  formula. ``unneutralise`` takes the quote off again when the toolkit reads back a sheet
  it wrote (the coding review, the codes table); readers of client workbooks do the same.
- **Byte-identical.** Document dates and zip entry times are fixed
  (``toolkit.core.zipfiles``), so the same tables give the same bytes.
- **Atomic.** Written to a temporary file and renamed, with the user's umask.

CSV outputs go through ``write_csv`` with the same neutralisation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from toolkit.core.run_folder import atomic_path
from toolkit.core.zipfiles import fix_zip

# OWASP "CSV Injection": cells beginning with these characters are interpreted by spreadsheets
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
FIXED_CREATED = dt.datetime(2025, 1, 1)
WORKBOOK_OPTIONS = {
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": False,
}


def neutralise(value: str) -> str:
    """``value`` with a single quote in front when it begins with a character a spreadsheet
    would interpret (``= + - @``, tab, carriage return); other strings unchanged."""
    if isinstance(value, str) and value[:1] in DANGEROUS_FIRST:
        return "'" + value
    return value


def unneutralise(value):
    """The inverse of ``neutralise`` for text read back from a sheet: ``'=x`` -> ``=x``.
    A quote before any other character is the user's own and stays."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in DANGEROUS_FIRST:
        return value[1:]
    return value


def safe_workbook(path: str | Path, title: str | None = None):
    """An xlsxwriter ``Workbook`` at ``path`` that never turns strings into formulas, links
    or numbers, with fixed document dates. Write text with ``write_value``/``write_text``."""
    wb = xlsxwriter.Workbook(str(path), dict(WORKBOOK_OPTIONS))
    props = {"created": FIXED_CREATED}
    if title:
        props["title"] = title
    wb.set_properties(props)
    return wb


def _is_missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return True
    return False


def write_text(ws, row: int, col: int, value, fmt=None) -> None:
    """One text cell, neutralised, always a string cell."""
    ws.write_string(row, col, neutralise(str(value)), fmt)


def write_value(ws, row: int, col: int, value, fmt=None, date_fmt=None) -> None:
    """One cell: blanks skipped, numbers and booleans as such, dates as dates (``date_fmt``),
    everything else as neutralised text."""
    if _is_missing(value):
        return
    if isinstance(value, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(value), fmt)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        if math.isinf(f):
            write_text(ws, row, col, str(value), fmt)
        else:
            ws.write_number(row, col, value.item() if hasattr(value, "item") else value, fmt)
    elif isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        ws.write_datetime(row, col, ts.to_pydatetime(), date_fmt or fmt)
    else:
        write_text(ws, row, col, value, fmt)


def write_frames(
    path: str | Path,
    sheets: Mapping[str, pd.DataFrame],
    widths: Mapping[str, list[float] | float] | float | None = None,
    freeze_header: bool = True,
    title: str | None = None,
) -> Path:
    """Write each frame as a sheet (header row bold, then the rows), atomically and
    byte-identically; ``widths`` per sheet (a list per column or one width for all)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        wb = safe_workbook(tmp, title)
        head = wb.add_format({"bold": True})
        dates = wb.add_format({"num_format": "yyyy-mm-dd"})
        for name, frame in sheets.items():
            ws = wb.add_worksheet(str(name)[:31])
            for j, col in enumerate(frame.columns):
                write_text(ws, 0, j, col, head)
            columns = [frame[c].tolist() for c in frame.columns]
            for j, values in enumerate(columns):
                for i, v in enumerate(values, start=1):
                    write_value(ws, i, j, v, date_fmt=dates)
            w = widths.get(name) if isinstance(widths, Mapping) else widths
            if isinstance(w, (int, float)):
                ws.set_column(0, max(len(frame.columns) - 1, 0), w)
            elif w:
                for j, width in enumerate(w):
                    ws.set_column(j, j, width)
            if freeze_header:
                ws.freeze_panes(1, 0)
        wb.close()
        fix_zip(tmp)
    return path


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells are neutralised (numbers, dates and blanks unchanged)."""
    out = {}
    for c in frame.columns:
        col = frame[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out[c] = col.map(lambda v: neutralise(v) if isinstance(v, str) else v)
        else:
            out[c] = col
    return pd.DataFrame(out, index=frame.index)


def write_csv(frame: pd.DataFrame, path: str | Path, **to_csv) -> Path:
    """A CSV for a client, atomically, with every text cell (and header) neutralised."""
    path = Path(path)
    safe = neutralise_frame(frame)
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    to_csv.setdefault("index", False)
    with atomic_path(path) as tmp:
        safe.to_csv(tmp, **to_csv)
    return path
