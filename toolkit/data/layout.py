"""Where the table sits in an export: the header row and the totals rows.

Report-style exports (1C, МИС) put a title, a period and blank lines above the header and a
totals row ("Итого", "Total") below the data. The header is the first row, within the first
``HEADER_SEARCH_ROWS``, that holds the most of the column names the case maps; the rows above
it are skipped and counted. Rows at the end whose cell says "Итого"/"Всего"/"Total" are
totals, not data: skipped and counted too. Both are said in the reader's notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd

from toolkit.core.text import normalise

HEADER_SEARCH_ROWS = 30
TOTALS_SEARCH_ROWS = 5
TOTALS = re.compile(r"^(итого|итог|всего|общий итог|итого по отчету|total|totals|grand total|sum total)\b[\s:.]*",
                    re.IGNORECASE)


def _cells(row: Sequence) -> list[str]:
    return ["" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v).strip() for v in row]


def pick_header(rows: Sequence[Sequence], expect: Iterable[str] | None) -> int | None:
    """Index (in ``rows``, the first rows of a file) of the header row: the earliest row holding
    the most of the ``expect`` names (compared as ``toolkit.core.text.normalise``); without names, or when
    no row holds any, the first non-blank row. None when every row is blank."""
    first = next((i for i, r in enumerate(rows) if any(_cells(r))), None)
    wanted = {normalise(e) for e in (expect or []) if str(e).strip()}
    if first is None or not wanted:
        return first
    best, best_score = first, 0
    for i, r in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = len(wanted & {normalise(c) for c in _cells(r) if c})
        if score > best_score:
            best, best_score = i, score
        if best_score == len(wanted):
            break
    return best


def is_totals_row(row: Sequence) -> bool:
    """A row whose first non-blank cell reads "Итого", "Всего", "Total"..."""
    cells = [c for c in _cells(row) if c]
    return bool(cells) and bool(TOTALS.match(normalise(cells[0])))


def trailing_totals(rows: Sequence[Sequence]) -> int:
    """How many of the last rows (at most ``TOTALS_SEARCH_ROWS``) are totals rows; rows after
    the last data row are counted only while they are totals (a totals row in the middle of
    the data is data and is left to the row checks)."""
    n = 0
    for row in reversed(rows[-TOTALS_SEARCH_ROWS:] if len(rows) > TOTALS_SEARCH_ROWS else rows):
        if not is_totals_row(row):
            break
        n += 1
    return n
