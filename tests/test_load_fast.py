"""The loader's large-table paths give the same answers as the plain ones: dictionary-encoded
parquet text parsed on its distinct values, arrow text kept without a copy, duplicates found
through a row hash."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.conftest import write_case
from toolkit.core.config import load_case
from toolkit.data import parsing as P
from toolkit.data import rows as R
from toolkit.data.load import load_case_data
from toolkit.data.readers import read_parquet
from toolkit.data.rows import repeated_rows


def test_repeated_rows_through_the_hash_equals_pandas(monkeypatch):
    monkeypatch.setattr(R, "EXACT_DUPLICATE_CHECK_ROWS", 0)  # force the hash path on a tiny frame
    frame = pd.DataFrame({
        "customer_id": pd.array(["A", "A", "B", None, None, "A", "B"], dtype="string"),
        "amount": [1.0, 1.0, 0.0, np.nan, np.nan, 1.0, -0.0],
        "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02", None, None, "2024-01-03", "2024-01-02"]),
    })
    # row 1 repeats row 0; row 4 repeats row 3 (missing equals missing); row 6 repeats row 2
    # (-0.0 == 0.0); row 5 differs from row 0 in the date
    expected = [False, True, False, False, True, False, True]
    assert repeated_rows(frame).tolist() == expected
    assert frame.duplicated(keep="first").tolist() == expected
    # only the rows still standing count: with row 0 out, row 1 is the first of its kind
    among = np.array([False, True, True, True, True, True, True])
    assert repeated_rows(frame, among).tolist() == [False, False, False, False, True, False, True]


def test_repeated_rows_without_any_repeat(monkeypatch):
    monkeypatch.setattr(R, "EXACT_DUPLICATE_CHECK_ROWS", 0)
    frame = pd.DataFrame({"transaction_id": pd.array([str(i) for i in range(50)], dtype="string")})
    assert not repeated_rows(frame).any()


def test_arrow_text_parse_equals_the_generic_one():
    raw = pd.Series(["a", " b", None, "  ", "c\u00a0", "d"], dtype="string")
    fast = P.parse_text(raw)
    slow_values = P._clean_text(raw.astype(object))
    assert fast.values.tolist() == slow_values.tolist() == ["a", "b", pd.NA, pd.NA, "c", "d"]
    assert fast.blank.tolist() == P.blank_mask(raw.astype(object)).tolist() == [False, False, True, True, False, False]
    clean = pd.Series(["x", "y", None], dtype="string")
    assert P.parse_text(clean).values is clean  # nothing to strip: no copy


def _parquet_case(folder, frame):
    raw = folder / "raw"
    raw.mkdir(parents=True)
    frame.to_parquet(raw / "tx.parquet", index=False)
    columns = {c: c for c in frame.columns}
    return write_case(folder, {"transactions": {"path": "raw/tx.parquet", "columns": columns}})


def test_dictionary_encoded_parquet_loads_like_plain_text(tmp_path, monkeypatch):
    n = 400  # few distinct labels over many rows: read dictionary-encoded
    lines = np.array([" Косметология", "Стоматология", "стоматология ", "Массаж", None], dtype=object)[np.arange(n) % 5]
    services = np.array(["Чистка", "Звонок +7 916 123-45-67", "  "], dtype=object)[np.arange(n) % 3]
    frame = pd.DataFrame({
        "customer_id": [f"C{i % 37}" for i in range(n)],
        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) % 90, unit="D"),
        "amount": (np.arange(n) % 7) * 100.0,
        "business_line": lines,
        "service": services,
    })
    case_dir = _parquet_case(tmp_path / "dict", frame)
    raw = read_parquet(case_dir / "raw" / "tx.parquet")
    assert isinstance(raw.frame["business_line"].dtype, pd.CategoricalDtype)
    assert raw.frame["customer_id"].dtype == pd.StringDtype("pyarrow")
    fast = load_case_data(load_case(case_dir))

    # the same file read as plain text (no dictionary): the result must not change
    monkeypatch.setattr("toolkit.data.readers.DICTIONARY_MAX_DISTINCT_SHARE", 0.0)
    monkeypatch.setattr(R, "EXACT_DUPLICATE_CHECK_ROWS", 0)
    assert not isinstance(read_parquet(case_dir / "raw" / "tx.parquet").frame["business_line"].dtype,
                          pd.CategoricalDtype)
    plain = load_case_data(load_case(case_dir))
    pd.testing.assert_frame_equal(fast.tables["transactions"], plain.tables["transactions"])
    pd.testing.assert_frame_equal(fast.quarantine, plain.quarantine)
    assert fast.quality["transactions"] == plain.quality["transactions"]

    t = fast.tables["transactions"]
    # lines: ' Косметология' -> cosmetology, both spellings of dentistry -> dentistry, an
    # undeclared 'Массаж' kept as written, a missing line stays missing (it is optional)
    assert t["business_line"].value_counts(dropna=False).to_dict() == {
        "cosmetology": 80, "dentistry": 160, "Массаж": 80, pd.NA: 80}
    # the phone in a service label is scrubbed, a blank label is missing
    assert set(t["service"].dropna()) == {"Чистка", "Звонок [телефон]"}
    assert t["service"].isna().sum() == 400 // 3  # rows 2, 5, 8, ... hold the blank label
    # a repeated row needs i = j modulo 37, 90, 7, 5 and 3, i.e. 23310 rows apart: none in 400 rows
    assert fast.quality["transactions"].quarantined == {}
    assert fast.quality["transactions"].warnings == {"unknown_business_line": 80}
