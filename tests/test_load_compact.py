"""The loader's compact paths give the plain answers: few-valued text kept as codes into its
distinct values, tables written a row group at a time, id checks in Arrow, duplicates searched
among rows sharing a key, row reasons kept as codes."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import write_case
from toolkit.core.config import load_case
from toolkit.core.errors import InputFileError
from toolkit.data import compact as C
from toolkit.data import parsing as P
from toolkit.data import rows as R
from toolkit.data.ids import id_keys, ids_differing_in_case_only, normalise_ids, upper
from toolkit.data.load import finish_table, load_case_data
from toolkit.data.readers import read_raw
from toolkit.data.rows import RowReasons
from toolkit.data.save import write_table

TEXT = pd.StringDtype()


def _compact(values: list, categories: list) -> pd.Series:
    codes = np.array([-1 if v is None else categories.index(v) for v in values], dtype=np.int32)
    return C.compact_strings(codes, pd.Series(categories, dtype=object), pd.RangeIndex(len(values)), "x")


def test_compact_strings_merge_equal_values_and_expand_like_plain_text():
    # categories 0 and 2 parse to the same value, category 3 to missing
    parsed = pd.Series(["cosmetology", "dentistry", "cosmetology", None], dtype=TEXT)
    codes = np.array([0, 1, 2, -1, 3, 2, 1], dtype=np.int8)
    col = C.compact_strings(codes, parsed, pd.RangeIndex(7), "line")
    assert C.is_compact(col)
    assert list(col.cat.categories) == ["cosmetology", "dentistry"]  # distinct, none missing
    plain = pd.Series(["cosmetology", "dentistry", "cosmetology", None, None, "cosmetology", "dentistry"],
                      dtype=TEXT, name="line")
    pd.testing.assert_series_equal(C.expand(col), plain)
    assert C.expand(col).dtype == pd.StringDtype("pyarrow")
    assert C.used_values(col).tolist() == ["cosmetology", "dentistry"]


def test_compact_column_of_missing_cells_only():
    col = C.compact_strings(np.array([-1, -1], dtype=np.int8), pd.Series([None], dtype=object), pd.RangeIndex(2))
    assert C.expand(col).isna().all() and C.expand(col).dtype == TEXT
    assert C.used_values(col).empty


def test_map_distinct_and_put_equal_the_plain_operations():
    col = _compact(["Анна у окна", "b", None, "Анна у окна", "c"], ["Анна у окна", "b", "c"])
    plain = C.expand(col)
    # a change that merges two values and blanks one
    change = {"Анна у окна": "[имя] у окна", "b": "[имя] у окна", "c": None}
    mapped = C.map_distinct(col, lambda v: v.map(change).astype(TEXT))
    pd.testing.assert_series_equal(C.expand(mapped), plain.map(change).astype(TEXT))
    assert len(mapped.cat.categories) == 1
    other = _compact(["z", None, "b", "y", "z"], ["y", "z", "b"])
    where = np.array([True, True, False, True, False])
    expected = plain.copy()
    expected[where] = C.expand(other)[where]
    pd.testing.assert_series_equal(C.expand(C.put(col, where, other)), expected)


def test_expand_frame_leaves_other_columns_alone():
    frame = pd.DataFrame({"a": _compact(["x", "y"], ["x", "y"]), "b": [1.0, 2.0]})
    out = C.expand_frame(frame)
    assert out["a"].tolist() == ["x", "y"] and out["a"].dtype == TEXT
    assert out["b"] is frame["b"] or out["b"].equals(frame["b"])


def test_write_table_gives_the_file_to_parquet_gives(tmp_path):
    n = 23
    frame = pd.DataFrame({
        "customer_id": pd.array([f"C{i % 5}" for i in range(n)], dtype=TEXT),
        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="D"),
        "amount": np.arange(n) * 1.5,
        "service": _compact([["Чистка", "Пилинг", None][i % 3] for i in range(n)], ["Чистка", "Пилинг"]),
    })
    finish = lambda rows: finish_table("transactions", rows, check=False)
    for per_group in (4, 23, 100):  # several row groups, one exactly full, one larger than the table
        write_table(tmp_path / "rows.parquet", frame, finish, rows_per_group=per_group)
        finish(frame).to_parquet(tmp_path / "plain.parquet", index=False, row_group_size=per_group)
        assert (tmp_path / "rows.parquet").read_bytes() == (tmp_path / "plain.parquet").read_bytes()
    assert pq.ParquetFile(tmp_path / "rows.parquet").metadata.num_row_groups == 1
    write_table(tmp_path / "rows.parquet", frame, finish, rows_per_group=4)
    assert pq.ParquetFile(tmp_path / "rows.parquet").metadata.num_row_groups == 6
    empty = frame.iloc[0:0]
    write_table(tmp_path / "empty.parquet", empty, finish)
    finish(empty).to_parquet(tmp_path / "plain_empty.parquet", index=False)
    assert (tmp_path / "empty.parquet").read_bytes() == (tmp_path / "plain_empty.parquet").read_bytes()


def _ids():
    # ASCII ids with every ASCII whitespace Python's \s knows (\v and \x1c-\x1f too), and
    # non-ASCII ones whose upper case Python and Arrow write differently (ß, ﬁ)
    return pd.Series(["c-01", "C-01", "c 01", "C\x0b01", "C\x1c01", "a\u00a0b", "straße", "STRASSE", "ﬁx", "FIX",
                      "Ив-1", "ИВ-1", "x\ty"], dtype=TEXT)


def test_id_case_checks_equal_the_pandas_string_methods():
    ids = _ids()
    # the ids were compared by pandas' string methods: the same answers, ASCII ids through Arrow
    assert upper(ids).tolist() == ids.str.upper().tolist()
    assert id_keys(ids).tolist() == ids.str.replace(r"\s+", "", regex=True).str.upper().tolist()
    ascii_ids = [v for v in ids if v.isascii()]
    assert id_keys(pd.Series(ascii_ids, dtype=TEXT)).tolist() == [re.sub(r"\s+", "", v).upper() for v in ascii_ids]


def test_normalise_ids_on_compact_and_plain_ids_agree():
    ids = _ids()
    rows = pd.concat([ids, ids.iloc[::-1], pd.Series([None], dtype=TEXT)], ignore_index=True)
    compact = _compact([None if pd.isna(v) else v for v in rows], list(dict.fromkeys(ids)))
    blank = rows.isna()
    for normalise in (True, False):
        case = SimpleNamespace(normalise_ids=normalise, privacy=SimpleNamespace(pseudonymise_ids=False))
        plain_notes, compact_notes = [], []
        plain = normalise_ids(P.Parsed(rows, blank, ~blank & False), case, plain_notes).values
        small = normalise_ids(P.Parsed(compact, blank, ~blank & False), case, compact_notes).values
        assert plain_notes == compact_notes and len(plain_notes) == 1
        assert plain.tolist() == C.expand(small).tolist()
        expected = rows.str.replace(r"\s+", "", regex=True).str.upper() if normalise else rows
        assert plain.tolist() == expected.tolist()


def test_row_reasons_keep_the_first_reason_its_column_and_value():
    r = RowReasons(6)
    r.flag(pd.Series([False, True, False, False, True, False]), "missing_date", "Дата")
    r.flag(np.array([True, True, False, False, False, False]), "bad_amount", "Сумма",
           pd.Series(["abc", "x", "y", "z", "w", "v"], dtype=object))
    r.flag(np.array([False, False, False, True, True, False]), "duplicate", None)
    gone = ~r.standing()
    assert gone.tolist() == [True, True, False, True, True, False]
    assert r.why(gone).tolist() == ["bad_amount", "missing_date", "duplicate", "missing_date"]
    assert [None if v is pd.NA else v for v in r.column(gone)] == ["Сумма", "Дата", None, "Дата"]
    assert r.value(gone).tolist() == ["abc", pd.NA, pd.NA, pd.NA]


def _transactions_case(folder, n=120, **extra):
    raw = folder / "raw"
    raw.mkdir(parents=True)
    i = np.arange(n)
    frame = pd.DataFrame({
        "customer_id": [f"C{k % 11}" for k in i],
        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(i % 40, unit="D"),
        "amount": np.where(i % 17 == 0, -100.0, (i % 9) * 100.0),
        "transaction_id": [f"T{k}" for k in i],
        "business_line": np.array(["Косметология", "Стоматология", "Массаж"], dtype=object)[i % 3],
    })
    frame.loc[[10, 30], :] = frame.loc[[5, 25], :].to_numpy()  # exact repeats of earlier rows
    frame.loc[50, "transaction_id"] = "T7"  # a repeated id with other content
    frame.loc[60, "transaction_id"] = None
    frame.loc[61, "transaction_id"] = None
    frame.loc[70, "transaction_id"] = "t 9"  # the same id as T9 under normalise_ids
    frame.to_parquet(raw / "tx.parquet", index=False)
    columns = {c: c for c in frame.columns}
    return write_case(folder, {"transactions": {"path": "raw/tx.parquet", "columns": columns}}, **extra)


@pytest.mark.parametrize("normalise", [False, True])
def test_duplicates_through_the_key_hash_equal_the_plain_search(tmp_path, monkeypatch, normalise):
    case = load_case(_transactions_case(tmp_path / "c", normalise_ids=normalise))
    plain = load_case_data(case)
    monkeypatch.setattr(R, "EXACT_DUPLICATE_CHECK_ROWS", 0)  # large-table path: key hash first
    hashed = load_case_data(case)
    assert plain.quality["transactions"].quarantined == hashed.quality["transactions"].quarantined
    assert {"duplicate", "duplicate_id", "refund"} <= set(plain.quality["transactions"].quarantined)
    # under normalise_ids, "t 9" repeats T9's id (the fingerprints are of the normalised key)
    assert plain.quality["transactions"].quarantined["duplicate_id"] == (2 if normalise else 1)
    pd.testing.assert_frame_equal(plain.quarantine, hashed.quarantine)
    pd.testing.assert_frame_equal(plain.tables["transactions"], hashed.tables["transactions"])


def test_written_tables_equal_the_loaded_ones(tmp_path):
    case = load_case(_transactions_case(tmp_path / "c"))
    loaded = load_case_data(case)
    written = load_case_data(case, write_to=tmp_path / "tables")
    path = tmp_path / "tables" / "transactions.parquet"
    assert written.paths == {"transactions": path}
    loaded.tables["transactions"].to_parquet(tmp_path / "plain.parquet", index=False)
    assert path.read_bytes() == (tmp_path / "plain.parquet").read_bytes()
    pd.testing.assert_frame_equal(written.tables["transactions"], loaded.tables["transactions"])
    pd.testing.assert_frame_equal(written.refunds, loaded.refunds)
    pd.testing.assert_frame_equal(written.quarantine, loaded.quarantine)


def test_ids_differing_in_case_only_equals_counting_all_distinct_ids():
    rng = np.random.default_rng(7)
    letters = np.array(list("aAbBcC1-éÉßẞﬁ") + ["FI", " "])
    for trial in range(60):
        n = int(rng.integers(1, 400))
        length = int(rng.integers(1, 4))
        ids = ["".join(rng.choice(letters[: int(rng.integers(2, len(letters) + 1))], length)) for _ in range(n)]
        values = pd.Series(ids, dtype=TEXT)
        values[rng.random(n) < 0.1] = None
        distinct = pd.Series(values.dropna().unique(), dtype=TEXT)
        expected = int(len(distinct) - distinct.str.upper().nunique())
        assert ids_differing_in_case_only(values) == expected, (trial, ids)
        compact = _compact([None if pd.isna(v) else v for v in values], list(dict.fromkeys(values.dropna())))
        assert ids_differing_in_case_only(compact) == expected
    assert ids_differing_in_case_only(pd.Series(["A1", "B2", None], dtype=TEXT)) == 0


def test_a_failed_load_leaves_no_table_written(tmp_path):
    case_dir = _transactions_case(tmp_path / "c")
    case = load_case(case_dir)
    # transactions load (and are handed to the writer), then the customers file is missing
    text = (case_dir / "case.yml").read_text(encoding="utf-8")
    (case_dir / "case.yml").write_text(text.replace("sources:\n", "sources:\n  customers:\n    path: raw/none.csv\n"
                                                    "    columns: {customer_id: customer_id}\n", 1), encoding="utf-8")
    case = load_case(case_dir)
    assert "customers" in case.sources.tables()
    with pytest.raises(InputFileError, match="does not exist"):
        load_case_data(case, write_to=tmp_path / "tables")
    assert not (tmp_path / "tables" / "transactions.parquet").exists()


def test_parquet_read_for_the_used_columns_only(tmp_path):
    frame = pd.DataFrame({"Клиент": ["C1", "C2"], "Дата ": ["01.02.2024", "02.02.2024"], "ФИО": ["Иванов", "Петров"],
                          "unused": [1, 2], "other": ["x", "y"]})
    path = tmp_path / "tx.parquet"
    frame.to_parquet(path, index=False)
    keep = ["Клиент", "дата", "ФИО"]
    raw = read_raw(path, expect=["Клиент", "дата"], keep=keep)
    assert list(raw.frame.columns) == ["Клиент", "Дата ", "ФИО"]  # "дата" matches "Дата " as the loader does
    assert list(read_raw(path).frame.columns) == list(frame.columns)
    # a mapped column is missing: every column is read, so the message can list them all
    raw = read_raw(path, expect=["Клиент", "Сумма"], keep=["Клиент", "Сумма"])
    assert list(raw.frame.columns) == list(frame.columns)


def test_written_tables_with_names_to_mask_equal_the_loaded_ones(tmp_path):
    # customers declare a personal column; the leads' lost reasons name those people: the leads
    # are written after every table is loaded (names masked), the others at once
    raw = tmp_path / "c" / "raw"
    raw.mkdir(parents=True)
    n = 300
    pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                  "ФИО": [["Иванова Анна", "Петров Пётр", "Зуева Клара"][i % 3] for i in range(n)],
                  "city": [["Москва", "Химки"][i % 2] for i in range(n)]}).to_parquet(raw / "c.parquet", index=False)
    pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)],
                  "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) % 30, unit="D"),
                  "brand": "Клиника", "stage_reached": "Заявка",
                  "lost_reason": [["Дорого", "Звонила Зуева, не дозвонились", "Петров передумал", None][i % 4]
                                  for i in range(n)]}).to_parquet(raw / "l.parquet", index=False)
    case_dir = write_case(tmp_path / "c", {
        "customers": {"path": "raw/c.parquet", "columns": {"customer_id": "customer_id", "city": "city"},
                      "personal": ["ФИО"]},
        "leads": {"path": "raw/l.parquet", "columns": {c: c for c in
                                                       ("lead_id", "created_at", "brand", "stage_reached", "lost_reason")}},
    }, funnel_stages=[{"id": "request", "name": "Заявка", "journey_stage": "evaluation"}],
        journey_stages=[{"id": "evaluation", "name": "Оценка"}])
    case = load_case(case_dir)
    loaded = load_case_data(case)
    written = load_case_data(case, write_to=tmp_path / "tables")
    assert list(written.paths) == ["customers", "leads"]
    for t in ("customers", "leads"):
        loaded.tables[t].to_parquet(tmp_path / f"{t}.parquet", index=False)
        assert written.paths[t].read_bytes() == (tmp_path / f"{t}.parquet").read_bytes(), t
    reasons = set(written.tables["leads"]["lost_reason"].dropna())
    assert reasons == {"Дорого", "Звонила [имя], не дозвонились", "[имя] передумал"}
