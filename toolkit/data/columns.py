"""A table's columns: the client's column names matched to the case's, and each column parsed
by its kind (a dictionary-encoded column on its distinct values only, see
``toolkit.data.compact``)."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from toolkit.core.config import Case, Source
from toolkit.core.contract import ColumnSpec
from toolkit.core.errors import InputFileError
from toolkit.core.text import normalise
from toolkit.data import parsing as P
from toolkit.data.compact import compact_strings
from toolkit.data.ids import normalise_ids
from toolkit.data.readers import RawTable
from toolkit.data.values import map_values


def _label_choices(items) -> dict[str, str]:
    """normalised id / name / alias -> id, for matching the client's labels."""
    out: dict[str, str] = {}
    for it in items:
        for label in [it.id, it.name, *it.aliases]:
            if label:
                out.setdefault(normalise(label), it.id)
    return out


def resolve_columns(raw: RawTable, src: Source, table: str) -> dict[str, str]:
    """canonical name -> the file's column, matching client names exactly, then
    ignoring case, spaces and ё/е. All missing columns are reported in one sentence."""
    for client_col, canon in src.columns.items():
        for base, pos in raw.duplicated_columns.items():
            if normalise(base) == normalise(client_col):
                raise InputFileError(
                    f"File {raw.file.name} has column '{base}' {len(pos)} times (positions "
                    f"{', '.join(map(str, pos))}), so it is ambiguous which one is {table}.{canon}; "
                    "rename the copies in the export."
                )
    present = list(raw.frame.columns)
    by_norm: dict[str, str] = {}
    for c in present:
        by_norm.setdefault(normalise(c), c)
    resolved, missing = {}, []
    for client_col, canon in src.columns.items():
        if client_col in raw.frame.columns:
            resolved[canon] = client_col
        elif normalise(client_col) in by_norm:
            resolved[canon] = by_norm[normalise(client_col)]
        else:
            missing.append(client_col)
    if missing:
        parts = []
        for m in missing:
            close = difflib.get_close_matches(m, present, n=1, cutoff=0.5) or difflib.get_close_matches(
                normalise(m), list(by_norm), n=1, cutoff=0.5
            )
            hint = f" (did you mean '{by_norm.get(close[0], close[0])}'?)" if close else ""
            parts.append(f"'{m}'{hint}")
        cols = ", ".join(f"'{c}'" for c in present if not c.startswith("(column "))
        raise InputFileError(
            f"File {raw.file.name} has no column {' or '.join(parts) if len(parts) == 1 else ', '.join(parts)} "
            f"mapped in sources.{table}.columns; the columns it has are: {cols}."
        )
    return resolved


def parse_and_normalise(spec: ColumnSpec, raw: pd.Series, case: Case, src: Source) -> tuple[P.Parsed, list[str]]:
    """``parse_column``, then ids normalised (``normalise_ids``; a warning only for the customer
    id); returns (parsed, the notes to add)."""
    p = parse_column(spec, raw, case, src)
    notes: list[str] = []
    if spec.kind == "id":
        p = normalise_ids(p, case, notes, warn=spec.name == "customer_id")
    return p, notes


def parse_column(spec: ColumnSpec, raw: pd.Series, case: Case, src: Source) -> P.Parsed:
    """Parse one raw column by its kind; a dictionary-encoded column (``category``, as the
    parquet reader delivers few-valued text) is parsed on its distinct values only."""
    raw = map_values(raw, src.values.get(spec.name))
    if isinstance(raw.dtype, pd.CategoricalDtype):
        return on_distinct_values(lambda values: _parse_by_kind(spec, values, case, src), raw)
    return _parse_by_kind(spec, raw, case, src)


def on_distinct_values(parse, raw: pd.Series) -> P.Parsed:
    """``parse`` applied to the categories of a categorical column, spread back over its rows;
    text values stay compact (``toolkit.data.compact``: codes into the distinct parsed values).

    Every parser reads each cell on its own (a column-wide choice such as the decimal
    separator is made from the distinct values anyway), so this is the same result as parsing
    every row; a missing cell (code -1) is blank, as ``blank_mask`` says."""
    codes = raw.cat.codes.to_numpy()
    categories = pd.Series(raw.cat.categories.to_numpy(dtype=object), dtype=object)
    if categories.empty:  # every cell missing
        categories = pd.Series([None], dtype=object)
    p = parse(categories)
    missing = codes < 0
    safe = np.where(missing, 0, codes) if missing.any() else codes
    if isinstance(p.values.dtype, pd.StringDtype):
        values = compact_strings(codes, p.values.reset_index(drop=True), raw.index, raw.name)
    else:
        values = pd.Series(pd.api.extensions.take(p.values.array, codes, allow_fill=True), index=raw.index,
                           name=raw.name)
    return P.Parsed(values, pd.Series(_spread(p.blank, safe, missing, True), index=raw.index, copy=False),
                    pd.Series(_spread(p.bad, safe, missing, False), index=raw.index, copy=False))


def _spread(per_category: pd.Series, safe: np.ndarray, missing: np.ndarray, if_missing: bool) -> np.ndarray:
    """A per-category mask spread over the rows (``if_missing`` where a cell is missing); a mask
    that is the same for every category is not gathered row by row."""
    flags = per_category.to_numpy(dtype=bool)
    if not flags.any() or flags.all():  # (zeros/ones: no pass over the rows to fill them)
        out = (np.ones if flags.any() else np.zeros)(len(safe), dtype=bool)
    else:
        out = flags[safe]
    if missing.any():
        out[missing] = if_missing
    return out


def _parse_by_kind(spec: ColumnSpec, raw: pd.Series, case: Case, src: Source) -> P.Parsed:
    kind = spec.kind
    if kind == "id":
        return P.parse_id(raw)
    if kind == "text":
        return P.parse_text(raw)
    if kind == "date":
        return P.parse_dates(raw, src.date_format)
    if kind == "period":
        return P.parse_period(raw)
    if kind == "money":
        return P.parse_money(raw)
    if kind in ("float", "sentiment"):
        return P.parse_number(raw)
    if kind == "int":
        return P.parse_int(raw)
    if kind == "bool":
        return P.parse_bool(raw)
    if kind == "gender":
        return P.parse_gender(raw)
    if kind == "brand":
        return P.match_labels(raw, _label_choices(case.brands))
    if kind == "business_line":
        if not case.business_lines:  # nothing declared: the client's own labels are the lines
            return P.parse_text(raw)
        return P.match_labels(raw, _label_choices(case.business_lines))
    if kind == "journey_stage":
        return P.match_labels(raw, _label_choices(case.journey_stages))
    if kind == "funnel_stage":
        return P.match_labels(raw, _label_choices(case.funnel_stages))
    if kind == "choice":
        return P.match_labels(raw, {normalise(c): c for c in spec.choices})
    raise ValueError(f"unknown column kind {kind}")
