"""Load a case's exports into validated canonical tables.

For each source in ``case.yml``: read the file, map the client's columns onto
canonical names, drop personal data, parse every value, and sort rows into

- the clean canonical table (what the analyses use),
- the quarantine (each bad row once, with its first reason, file row and column),
- for transactions, the refunds (negative amounts, see *Refund rule*).

Nothing is dropped silently: ``rows_read = rows_used + sum(quarantined)`` for
every table. Fatal problems (file missing or unreadable, a mapped column absent,
no data rows, a required column with no readable value at all) raise
``InputFileError`` with one sentence naming the file and column.

Row reasons, checked in this order (a row gets the first that applies):
``missing_<column>`` (a required value is blank), ``bad_date`` / ``bad_<column>``
(a required value cannot be read), ``future_date`` (a date after ``as_of``),
``unknown_stage`` / ``unknown_brand`` / ``unknown_<column>`` (a required label that
the case does not declare), ``sentiment_out_of_range`` (outside -2..+2),
``duplicate`` (an exact repeat of an earlier row on every mapped column),
``duplicate_id`` (a repeated key with different content; the first is kept),
``refund`` (transactions with a negative amount).

Optional columns never cost a row: an unreadable or out-of-range optional value
is blanked and counted under ``warnings``; an undeclared optional brand or
business line is kept as written and counted under ``warnings``.

*Refund rule*: a negative amount is a refund. It is not a visit or a purchase, so
it leaves the transactions table; it is kept in ``CaseData.refunds`` and netted
against its customer's monetary value by the sales analytics.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from toolkit.core.config import Case, Source, allowed_values
from toolkit.core.contract import TABLE_ORDER, TABLES
from toolkit.core.errors import InputFileError
from toolkit.core.settings import file_sha256
from toolkit.data import parsing as P
from toolkit.data import rows as R
from toolkit.data.columns import (
    on_distinct_values,
    parse_and_normalise,
    resolve_columns,
)
from toolkit.data.compact import (
    expand_frame,
    is_compact,
    map_distinct,
    put,
)
from toolkit.data.messages import _bad_reason, _expected, _show
from toolkit.data.names import personal_words
from toolkit.data.privacy import load_or_create_key, pseudonymise, scrub_series
from toolkit.data.readers import RawTable, read_raw
from toolkit.data.rows import RowReasons, repeated_rows, rows_sharing_a_hash_mask
from toolkit.data.save import TableWriter
from toolkit.data.schemas import check_contract, coerce_dtypes
from toolkit.data.scrub import free_text_columns, mask_distinct, mask_names, name_masker
from toolkit.data.values import describe_unmapped, unmapped_values

ID_COLUMNS_TO_PSEUDONYMISE = ("customer_id",)


@dataclass
class TableQuality:
    """What happened to one table's rows."""

    table: str
    file: str
    rows_read: int = 0
    rows_used: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # canonical column -> values nothing maps: {column, values: {value: rows}, distinct, rows, allowed}
    unmapped: dict[str, dict] = field(default_factory=dict)
    sha256: str = ""
    # capitalised words of the declared personal columns' values: masked in every table's free text
    personal_words: frozenset = field(default_factory=frozenset, repr=False)

    def as_metrics(self) -> dict:
        return {"rows_read": self.rows_read, "rows_used": self.rows_used, "quarantined": dict(self.quarantined)}


@dataclass
class CaseData:
    case: Case
    tables: dict[str, pd.DataFrame]
    refunds: pd.DataFrame
    quarantine: pd.DataFrame  # table, row, reason, column, value
    quality: dict[str, TableQuality]
    # the parquet file of each table (and of ``refunds``) when the tables come from a run folder:
    # the sales analytics then read the file directly (DuckDB), never a pandas copy of it
    paths: dict[str, Path] = field(default_factory=dict)

    def inputs(self) -> dict:
        """``metrics.json`` → case.inputs: file, sha256 and rows read per table."""
        return {t: {"file": q.file, "sha256": q.sha256, "rows": q.rows_read} for t, q in self.quality.items()}

    def data_quality_metrics(self) -> dict:
        return {t: q.as_metrics() for t, q in self.quality.items()}


class SavedTables(Mapping):
    """The canonical tables saved in a folder as ``<table>.parquet``, read on first use only
    (a step that needs the customers table does not read 10M transactions)."""

    def __init__(self, files: dict[str, Path]):
        self.files = dict(files)
        self._loaded: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._loaded:
            self._loaded[name] = pd.read_parquet(self.files[name])  # KeyError for an absent table
        return self._loaded[name]

    def __iter__(self):
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def __contains__(self, name) -> bool:
        return name in self.files


# --------------------------------------------------------------------------- one table
PARSE_THREADS = 2


def _check_columns(parsing: dict, ordered: list[str], spec, columns: dict[str, str], raw: RawTable, path: Path,
                   table: str, case: Case, q: TableQuality, parsed: dict, clean: pd.DataFrame) -> None:
    """Take each parsed column in canonical order: ids normalised, unmapped values listed, a
    required column with no readable value refused; the values go into ``clean``."""
    for canon in ordered:
        cspec = spec.column(canon)
        client_col = columns[canon]
        rawcol = raw.frame[client_col]
        try:
            p, notes = parsing[canon].result()
        except P.AmbiguousDateOrder as e:
            day, month = e.formats
            raise InputFileError(
                f"File {path.name}, column '{client_col}' ({table}.{canon}): dates such as "
                f"{', '.join(_show(x) for x in e.examples)} can be read day first or month first and no value settles "
                f"it; add the line date_format: \"{day}\" (day first) or date_format: \"{month}\" (month first) "
                f"under sources.{table} in case.yml."
            ) from None
        q.notes.extend(notes)
        parsed[canon] = p
        allowed = allowed_values(case, cspec.kind, cspec.choices)
        if allowed is not None and p.bad.any():
            q.unmapped[canon] = unmapped_values(client_col, rawcol, p.bad, allowed)
        if cspec.required:
            if p.blank.all():
                raise InputFileError(
                    f"File {path.name}, column '{client_col}' ({table}.{canon}) is empty in every row; "
                    f"expected {_expected(cspec, case)}."
                )
            readable = ~p.blank & ~p.bad
            if not readable.any() and cspec.kind not in ("brand", "journey_stage", "funnel_stage", "choice"):
                first = int(np.flatnonzero(~p.blank.to_numpy())[0])
                raise InputFileError(
                    f"File {path.name}, column '{client_col}' ({table}.{canon}): none of the {int((~p.blank).sum())} "
                    f"values can be read as {_expected(cspec, case)} (row {raw.rows[first]} has "
                    f"'{_show(rawcol.iloc[first])}')."
                )
        clean[canon] = p.values


def _check_rows(table: str, spec, ordered: list[str], columns: dict[str, str], parsed: dict, raw: RawTable,
                clean: pd.DataFrame, case: Case, key: bytes | None, q: TableQuality, key_shared: Future | None):
    """The row checks in the documented order, optional values blanked or kept, duplicates, free
    text scrubbed, ids pseudonymised; returns (clean rows, refunds, quarantine)."""
    reasons = RowReasons(len(clean))
    flag = reasons.flag

    # row checks in the documented order
    for canon in ordered:
        cspec, p = spec.column(canon), parsed[canon]
        if cspec.required:
            flag(p.blank, f"missing_{canon}", columns[canon])
    for canon in ordered:
        cspec, p = spec.column(canon), parsed[canon]
        if cspec.required and cspec.kind not in ("brand", "business_line", "journey_stage", "funnel_stage", "choice"):
            flag(p.bad, _bad_reason(cspec), columns[canon], raw.frame[columns[canon]])
    as_of = pd.Timestamp(case.as_of)
    for canon in ordered:
        cspec, p = spec.column(canon), parsed[canon]
        if cspec.required and cspec.kind == "date":
            flag(p.values > as_of, "future_date", columns[canon], raw.frame[columns[canon]])
    for canon in ordered:
        cspec, p = spec.column(canon), parsed[canon]
        if cspec.required and cspec.kind in ("brand", "business_line", "journey_stage", "funnel_stage", "choice"):
            flag(p.bad, _bad_reason(cspec), columns[canon], raw.frame[columns[canon]])
    if "sentiment" in parsed:
        p = parsed["sentiment"]
        flag(p.bad | (p.values.abs() > 2), "sentiment_out_of_range", columns["sentiment"], raw.frame[columns["sentiment"]])

    # optional columns: blank the bad value, count a warning
    for canon in ordered:
        cspec, p = spec.column(canon), parsed[canon]
        if cspec.required or cspec.kind == "sentiment":
            continue
        bad = p.bad.to_numpy(dtype=bool) & reasons.standing()
        if cspec.kind in ("brand", "business_line") and bad.any():
            # an undeclared brand/line is kept as the client wrote it
            rawcol = raw.frame[columns[canon]]
            if isinstance(rawcol.dtype, pd.CategoricalDtype):
                clean[canon] = put(clean[canon], bad, on_distinct_values(P.parse_text, rawcol).values)
            else:
                clean.loc[bad, canon] = P.parse_text(rawcol).values[bad]
            q.warnings[_bad_reason(cspec)] = int(bad.sum())
        elif bad.any():
            clean.loc[bad, canon] = None
            q.warnings[_bad_reason(cspec)] = int(bad.sum())
    if "nps" in clean:
        out = clean["nps"].notna() & ~clean["nps"].between(0, 10)
        if out.any():
            clean.loc[out, "nps"] = pd.NA
            q.warnings["nps_out_of_range"] = int(out.sum())
    for canon in ("birth_year",):
        if canon in clean:
            bad = clean[canon].notna() & ~clean[canon].between(1900, case.as_of.year)
            if bad.any():
                clean.loc[bad, canon] = pd.NA
                q.warnings[f"bad_{canon}"] = int(bad.sum())

    # duplicates among the rows still standing
    alive = reasons.standing()
    if alive.any():
        keyed_table = bool(spec.key) and spec.key in clean
        # an exact repeat repeats its key, and so does a repeated key: on a large table only the
        # rows whose key fingerprint is shared with another row can be either (the same answer)
        shared = key_shared.result() if key_shared is not None else alive
        dup = repeated_rows(clean, alive & shared)
        flag(dup, "duplicate", None)
        if keyed_table:
            keyed = reasons.standing() & clean[spec.key].notna().to_numpy()
            dup_id = repeated_rows(clean[[spec.key]], keyed & shared)
            flag(dup_id, "duplicate_id", columns[spec.key], clean[spec.key])

    # text: scrub free text of phones and e-mails (quotes, reasons, comments)
    for canon in ordered:
        if spec.column(canon).kind == "text" and clean[canon].notna().any():
            if is_compact(clean[canon]):  # scrubbed on its few distinct values
                clean[canon] = map_distinct(clean[canon], lambda v: scrub_series(v, case.language))
            else:
                clean[canon] = scrub_series(clean[canon].astype("string"), case.language)

    # pseudonymised ids
    if key is not None:
        for canon in ID_COLUMNS_TO_PSEUDONYMISE:
            if canon in clean:
                clean[canon] = (map_distinct(clean[canon], lambda v: pseudonymise(v, key)) if is_compact(clean[canon])
                                else pseudonymise(clean[canon], key))

    refunds = clean.iloc[0:0]
    if table == "transactions":
        is_refund = reasons.standing() & (clean["amount"] < 0).to_numpy(dtype=bool)
        if is_refund.any():
            flag(is_refund, "refund", columns["amount"])
            refunds = clean[is_refund].reset_index(drop=True)

    bad_rows = ~reasons.standing()
    quarantine = pd.DataFrame(
        {
            "table": table,
            "row": raw.rows[bad_rows],
            "reason": reasons.why(bad_rows),
            "column": reasons.column(bad_rows),
            "value": scrub_series(reasons.value(bad_rows), case.language).to_numpy(),
        }
    )
    if raw.malformed_rows:
        quarantine = pd.concat(
            [
                quarantine,
                pd.DataFrame(
                    {
                        "table": table,
                        "row": [r for r, _ in raw.malformed_rows],
                        "reason": "malformed_row",
                        "column": pd.NA,
                        "value": [w for _, w in raw.malformed_rows],
                    }
                ),
            ],
            ignore_index=True,
        )
    if bad_rows.any():  # the clean table is copied only when some rows leave it
        clean = clean[~bad_rows].reset_index(drop=True)
    return clean, refunds, quarantine


def load_table(case: Case, table: str, key: bytes | None = None):
    """Load one canonical table; returns (clean, quarantine, quality, refunds)."""
    clean, quarantine, q, refunds = load_compact_table(case, table, key)
    clean = finish_table(table, clean)
    return clean, quarantine, q, finish_table(table, refunds, check=False)


def finish_table(table: str, frame: pd.DataFrame, check: bool = True) -> pd.DataFrame:
    """A loaded table as the contract has it: compact text expanded, contract dtypes, and (``check``)
    the contract checked (a violation is a toolkit bug). Works on a whole table or on a slice of
    its rows (the checks are row by row)."""
    frame = coerce_dtypes(table, expand_frame(frame))
    if check:
        check_contract(table, frame)
    return frame


def load_compact_table(case: Case, table: str, key: bytes | None = None):
    """``load_table`` with few-valued text left compact (``toolkit.data.compact``) and the
    contract not yet applied: ``finish_table`` does that, at once or a row group at a time."""
    spec = TABLES[table]
    src: Source = getattr(case.sources, table)
    path = case.path(src.path, f"sources.{table}.path")
    if not path.exists():
        raise InputFileError(
            f"File {case.display_path(src.path)} for the {table} table does not exist (sources.{table}.path in case.yml)."
        )
    raw = read_raw(path, sheet=src.sheet, encoding=src.encoding, sep=src.sep, expect=list(src.columns),
                   limits=case.limits, keep=[*src.columns, *src.personal])
    q = TableQuality(table=table, file=case.display_path(src.path), sha256=file_sha256(path), notes=list(raw.notes))
    q.rows_read = len(raw.frame) + len(raw.malformed_rows)
    if len(raw.frame) == 0:
        what = "has a header but no data rows" if len(raw.frame.columns) else "has no data"
        raise InputFileError(f"File {path.name} ({table}) {what}.")
    columns = resolve_columns(raw, src, table)
    personal_present = [c for c in src.personal if c in raw.frame.columns]
    if personal_present:
        q.notes.append(f"personal column(s) dropped: {len(personal_present)}")
        q.personal_words = personal_words(
            v for c in personal_present for v in pd.unique(raw.frame[c].dropna().to_numpy(dtype=object)))

    n = len(raw.frame)
    clean = pd.DataFrame(index=pd.RangeIndex(n))
    # canonical order, so output tables look the same whatever the file's order
    ordered = [c.name for c in spec.columns if c.name in columns] + sorted(
        c for c in columns if spec.column(c) is not None and all(c != s.name for s in spec.columns)
    )
    parsed: dict[str, P.Parsed] = {}
    # the columns are parsed (ids normalised) two at a time (Arrow and NumPy work without the GIL)
    # and looked at in canonical order, so notes and the first error are the same as one at a time
    pool = ThreadPoolExecutor(max_workers=PARSE_THREADS)
    hasher = ThreadPoolExecutor(max_workers=1)
    try:
        # (the key first: see below)
        parsing = {c: pool.submit(parse_and_normalise, spec.column(c), raw.frame[columns[c]], case, src)
                   for c in sorted(ordered, key=lambda c: c != spec.key)}
        # a large table's key fingerprints are sorted on a thread as soon as the key is read, while
        # the other columns and the rows are checked: the rows sharing one with any other row (a
        # superset of those sharing one among the rows still standing) are the only ones that can
        # repeat a row or a key
        key_shared = (hasher.submit(_key_fingerprints, parsing[spec.key], spec.key)
                      if spec.key and spec.key in columns and n > R.EXACT_DUPLICATE_CHECK_ROWS else None)
        _check_columns(parsing, ordered, spec, columns, raw, path, table, case, q, parsed, clean)
        clean, refunds, quarantine = _check_rows(table, spec, ordered, columns, parsed, raw, clean, case, key,
                                                  q, key_shared)
    finally:
        pool.shutdown(cancel_futures=True)
        hasher.shutdown(cancel_futures=True)

    q.rows_used = len(clean)
    counts = quarantine["reason"].value_counts()
    q.quarantined = {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}
    if q.rows_used == 0:
        top = ", ".join(f"{k}: {v}" for k, v in q.quarantined.items())
        raise InputFileError(f"File {path.name} ({table}): no row is usable ({top}).{describe_unmapped(table, q.unmapped)}")
    _release_arrow_memory()
    return clean, quarantine.astype({"row": "int64"}), q, refunds


def _key_fingerprints(parsing: Future, name: str) -> np.ndarray:
    """``rows_sharing_a_hash_mask`` of a key column once it is parsed (and its ids normalised)."""
    values = parsing.result()[0].values
    key_table = pa.Table.from_pandas(pd.DataFrame({name: values}, copy=False), preserve_index=False)
    return rows_sharing_a_hash_mask(key_table, np.ones(len(values), dtype=bool))


def _release_arrow_memory() -> None:
    """Hand the memory of the temporaries back to the system: Arrow's allocator otherwise keeps
    it for reuse, and a 10M-row load would hold ~1 GB it no longer needs."""
    pa.default_memory_pool().release_unused()


# --------------------------------------------------------------------------- the case
def load_case_data(case: Case, tables: list[str] | None = None, write_to: Path | None = None) -> CaseData:
    """Load every table the case declares (or just ``tables``).

    With ``write_to`` (a folder), each canonical table is written there as ``<table>.parquet`` a
    row group at a time (``toolkit.data.save``) and ``CaseData.tables`` reads those files when
    used: the tables' text is never all in memory at once."""
    # a source in the client's database is not loaded here: the sales analytics run there
    files = case.sources.tables()
    wanted = [t for t in TABLE_ORDER if t in files and (tables is None or t in tables)]
    key = None
    key_note = None
    if case.privacy.pseudonymise_ids:
        key, created = load_or_create_key(case.path(case.privacy.secrets_file, "privacy.secrets_file"))
        if created:
            key_note = f"created a new pseudonymisation key in {case.privacy.secrets_file} (keep it; never commit it)"
    writer = None if write_to is None else TableWriter(write_to, finish_table, _release_arrow_memory)
    try:
        return _load_tables(case, wanted, key, key_note, writer)
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise


def _load_tables(case: Case, wanted: list[str], key: bytes | None, key_note: str | None,
                 writer: TableWriter | None) -> CaseData:
    out: dict[str, pd.DataFrame] = {}
    quality: dict[str, TableQuality] = {}
    quarantines = []
    refunds = pd.DataFrame()
    for t in wanted:
        clean, quar, q, ref = load_compact_table(case, t, key)
        quality[t] = q
        quarantines.append(quar)
        if t == "transactions":
            refunds = ref
        if writer is not None and not free_text_columns(t, clean):
            writer.submit(t, clean)  # no names to mask: written while the next table loads
        else:
            out[t] = clean
    if key_note and quality:
        next(iter(quality.values())).notes.append(key_note)
    quarantine = (
        pd.concat(quarantines, ignore_index=True)
        if quarantines
        else pd.DataFrame(columns=["table", "row", "reason", "column", "value"])
    )
    masker = name_masker(case, quality.values())
    for t in list(out):
        out[t] = mask_names(t, out[t], masker)
    if len(refunds):
        refunds = mask_names("transactions", refunds, masker)
    refunds = finish_table("transactions", refunds, check=False)
    for t in list(out):
        if writer is None:
            out[t] = finish_table(t, out[t])
            _release_arrow_memory()
        else:
            writer.submit(t, out.pop(t))
    paths = {}
    if writer is not None:
        written = writer.close()
        paths = {t: written[t] for t in wanted}
    if len(quarantine):
        quarantine["value"] = mask_distinct(quarantine["value"], masker)
    for q in quality.values():  # unmapped values are shown by validate: names masked as in the quarantine
        for u in q.unmapped.values():
            masked: dict[str, int] = {}
            for v, n in u["values"].items():
                masked[masker(v)] = masked.get(masker(v), 0) + n
            u["values"] = masked
    tables_out = SavedTables(paths) if writer is not None else out
    return CaseData(case=case, tables=tables_out, refunds=refunds, quarantine=quarantine, quality=quality,
                    paths=paths)


def quality_table(data: CaseData) -> pd.DataFrame:
    """One row per table and reason: the data-quality summary shown to the consultant."""
    rows = []
    for t, q in data.quality.items():
        rows.append({"table": t, "file": q.file, "rows_read": q.rows_read, "rows_used": q.rows_used,
                     "problem": "", "kind": "", "rows": 0})
        for why, n in q.quarantined.items():
            rows.append({"table": t, "file": q.file, "rows_read": None, "rows_used": None,
                         "problem": why, "kind": "quarantined", "rows": n})
        for why, n in q.warnings.items():
            rows.append({"table": t, "file": q.file, "rows_read": None, "rows_used": None,
                         "problem": why, "kind": "value blanked/kept", "rows": n})
    return pd.DataFrame(rows)
