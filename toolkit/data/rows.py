"""Row bookkeeping of a table being loaded: why rows leave it (``RowReasons``) and which rows
repeat an earlier one (``repeated_rows``)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa


class RowReasons:
    """Why rows leave a table: each row's first reason, its column and the value shown, kept as
    small codes (a 10M-row table holds no column of reason strings)."""

    def __init__(self, n: int):
        self.code = np.zeros(n, dtype=np.int16)  # 0: the row stands; k: self.whys[k - 1]
        self.col = np.zeros(n, dtype=np.int16)  # 0: no column; k: self.cols[k - 1]
        self.whys: list[str] = []
        self.cols: list[str] = []
        self.values: list[tuple[np.ndarray, pd.Series]] = []  # (rows, their values as text)

    def standing(self) -> np.ndarray:
        return self.code == 0

    def flag(self, mask, why: str, col: str | None, values: pd.Series | None = None) -> None:
        """The rows of ``mask`` still standing leave for ``why`` (in ``col``, showing ``values``)."""
        mask = mask.to_numpy(dtype=bool, na_value=False) if isinstance(mask, pd.Series) else np.asarray(mask, bool)
        new = mask & (self.code == 0)
        if not new.any():
            return
        self.code[new] = self._index(self.whys, why)
        if col is not None:
            self.col[new] = self._index(self.cols, col)
        if values is not None:
            rows = np.flatnonzero(new)
            self.values.append((rows, values.iloc[rows].astype("string").reset_index(drop=True)))

    @staticmethod
    def _index(names: list[str], name: str) -> int:
        if name not in names:
            names.append(name)
        return names.index(name) + 1

    def why(self, rows: np.ndarray) -> np.ndarray:
        return np.array([None, *self.whys], dtype=object)[self.code[rows]]

    def column(self, rows: np.ndarray) -> np.ndarray:
        return np.array([pd.NA, *self.cols], dtype=object)[self.col[rows]]

    def value(self, rows: np.ndarray) -> pd.Series:
        """The values shown for ``rows`` (a mask), missing where none was flagged."""
        at = np.flatnonzero(rows)
        out = pd.Series(pd.NA, index=pd.RangeIndex(len(at)), dtype="string")
        for flagged, values in self.values:
            out.iloc[np.searchsorted(at, flagged)] = values.to_numpy()
        return out



EXACT_DUPLICATE_CHECK_ROWS = 200_000


def repeated_rows(frame: pd.DataFrame, among: np.ndarray | None = None) -> np.ndarray:
    """``frame[among].duplicated(keep="first")`` spread back over all rows (False outside ``among``):
    a row is a repeat when an earlier row of ``among`` has the same value in every column
    (missing equals missing).

    Large tables are not compared column by column: a fingerprint of each row (DuckDB's hash)
    finds the few rows that share one with another row, and only those are compared exactly, so
    the answer is exact and no copy of the table is made.
    """
    n = len(frame)
    among = np.ones(n, dtype=bool) if among is None else np.asarray(among, dtype=bool)
    out = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(among)
    if rows.size < 2:
        return out
    if rows.size <= EXACT_DUPLICATE_CHECK_ROWS:
        out[rows] = frame.iloc[rows].duplicated(keep="first").to_numpy()
        return out
    # every row equal to another one is among the candidates, together with it, in file order
    candidates = _rows_sharing_a_hash(frame, among)
    if candidates.size:
        out[candidates] = frame.iloc[candidates].duplicated(keep="first").to_numpy()
    return out


def rows_sharing_a_hash_mask(frame: pd.DataFrame | pa.Table, among: np.ndarray) -> np.ndarray:
    """``_rows_sharing_a_hash`` as a mask over all rows (of a frame, or of an Arrow table, which
    another thread may read while the frame changes)."""
    out = np.zeros(len(frame), dtype=bool)
    out[_rows_sharing_a_hash(frame, among)] = True
    return out


def _rows_sharing_a_hash(frame: pd.DataFrame | pa.Table, among: np.ndarray) -> np.ndarray:
    """Positions (sorted) of the rows in ``among`` whose row fingerprint is shared with another
    such row: a superset of the rows equal to another one. The fingerprint is the top 32 bits of
    DuckDB's 64-bit ``hash`` of all columns, read from an Arrow view of the frame (no copy of the
    strings); equal values, missing ones included, hash equal. 32 bits sort fast and let a few
    unequal rows through (about n^2 / 2^33 pairs), which the exact comparison then sets apart."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    cols = ", ".join(f'"{c}"' for c in (str(name).replace('"', '""') for name in table.column_names))
    con = duckdb.connect()
    try:
        con.register("frame_to_hash", table)
        hashes = con.execute(f"SELECT CAST(hash({cols}) >> 32 AS UINTEGER) AS h FROM frame_to_hash").fetchnumpy()["h"]
    finally:
        con.close()
    hashes = np.asarray(hashes)
    rows = np.flatnonzero(among)
    if rows.size < len(hashes):
        hashes = hashes[rows]
    ordered = np.sort(hashes)
    shared = ordered[1:][ordered[1:] == ordered[:-1]]
    if not shared.size:
        return rows[:0]
    return rows[pd.Series(hashes, copy=False).isin(np.unique(shared)).to_numpy()]
