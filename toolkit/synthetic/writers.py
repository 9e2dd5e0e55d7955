"""Writers of the raw exports: CSV in a client's encoding, xlsx with typed cells, docx transcripts.

Every xlsx/docx goes through ``toolkit.core.zipfiles.fix_zip`` so a seed gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.core.zipfiles import fix_zip

FIXED_PROPERTIES_TIME = dt.datetime(2025, 1, 1, 0, 0, 0)


def write_csv(path: Path, frame: pd.DataFrame, *, sep: str, encoding: str, crlf: bool) -> None:
    """Write a frame whose cells are already formatted text (blank = empty string)."""
    text = frame.to_csv(index=False, sep=sep, lineterminator="\r\n" if crlf else "\n")
    path.write_bytes(text.encode(encoding))


@dataclass
class Sheet:
    """One worksheet: a header and columns of cells.

    A cell is ``None`` (blank), ``str`` (text cell), ``int``/``float`` (number) or
    ``datetime.date`` (a real Excel date shown with ``date_format``).
    """

    name: str
    header: list[str]
    columns: list[list]
    date_format: str = "dd.mm.yyyy"
    widths: list[float] = field(default_factory=list)


def frame_sheet(name: str, frame: pd.DataFrame, **options) -> Sheet:
    """A worksheet of a frame's columns, leaving out the private ones (named '_...');
    ``options``: ``date_format``, ``widths``."""
    cols = [c for c in frame.columns if not c.startswith("_")]
    return Sheet(name, cols, [list(frame[c]) for c in cols], **options)


def _cell(value):
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) else v
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def write_xlsx(path: Path, sheets: list[Sheet]) -> None:
    """Write typed cells with xlsxwriter, then fix the zip for byte-identical output."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"author": "CRM export", "created": FIXED_PROPERTIES_TIME})
    bold = wb.add_format({"bold": True})
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.name)
        date_fmt = wb.add_format({"num_format": sheet.date_format})
        for j, title in enumerate(sheet.header):
            ws.write_string(0, j, title, bold)
            if j < len(sheet.widths):
                ws.set_column(j, j, sheet.widths[j])
        for j, column in enumerate(sheet.columns):
            for i, raw in enumerate(column, start=1):
                v = _cell(raw)
                if v is None:
                    continue
                if isinstance(v, str):
                    ws.write_string(i, j, v)
                elif isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, (int, float)):
                    ws.write_number(i, j, v)
                elif isinstance(v, (dt.date, dt.datetime)):
                    if not isinstance(v, dt.datetime):
                        v = dt.datetime(v.year, v.month, v.day)
                    ws.write_datetime(i, j, v, date_fmt)
                else:
                    raise TypeError(f"cannot write {type(v)} to xlsx")
    wb.close()
    fix_zip(path)


def write_transcript_docx(path: Path, title: str, turns: list[tuple[str, str]]) -> None:
    """A speaker-labelled transcript: a title, then one paragraph per turn ``Label: text``."""
    import docx

    doc = docx.Document()
    props = doc.core_properties
    props.author = "Интервьюер"
    props.last_modified_by = ""
    props.created = FIXED_PROPERTIES_TIME
    props.modified = FIXED_PROPERTIES_TIME
    props.last_printed = FIXED_PROPERTIES_TIME
    props.revision = 1
    props.title = title
    doc.add_heading(title, level=1)
    for speaker, text in turns:
        p = doc.add_paragraph()
        p.add_run(f"{speaker}:").bold = True
        p.add_run(f" {text}")
    doc.save(str(path))
    fix_zip(path)
