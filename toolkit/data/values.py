"""Value maps of case.yml (``values:`` under a source's column mapping) and the values of a
categorical column that nothing maps.

A value map turns the client's spelling into the value the toolkit expects before the column is
parsed: ``code_type: {барьер: barrier}``, ``stage: {Выбор клиники: evaluation}``,
``brand: {ESTETIKA-MED: estetika_med}``. Keys match ignoring case, spaces, quotes and ё/е.
Values still not recognised after the map (and the declared ids, names and aliases) are
reported per column with their counts and the allowed values (``cjm validate``).
"""

from __future__ import annotations

import pandas as pd

from toolkit.core.text import normalise
from toolkit.data.parsing import blank_mask

MAX_LISTED = 20  # unmapped values listed per column (the most frequent)


def map_values(raw: pd.Series, mapping: dict[str, str] | None) -> pd.Series:
    """``raw`` with the client values of ``mapping`` replaced (matched by ``toolkit.core.text.normalise``);
    each distinct value is looked up once."""
    if not mapping:
        return raw
    by_norm = {normalise(k): v for k, v in mapping.items()}
    if isinstance(raw.dtype, pd.CategoricalDtype):
        cats = [by_norm.get(normalise(c), c) for c in raw.cat.categories]
        if len(set(cats)) == len(cats):
            return raw.cat.rename_categories(cats)
        raw = raw.astype(object)
    uniq = pd.unique(raw[~blank_mask(raw)].to_numpy(dtype=object))
    lookup = {u: by_norm[normalise(u)] for u in uniq if normalise(u) in by_norm}
    if not lookup:
        return raw
    return raw.replace(lookup)


def unmapped_values(client_column: str, raw: pd.Series, bad: pd.Series, allowed: list[str]) -> dict:
    """``{"column": client column, "values": {value: rows} (most frequent first, at most
    MAX_LISTED), "distinct": n, "rows": n, "allowed": [...]}`` for the rows whose value was not
    recognised."""
    counts = raw[bad.to_numpy(dtype=bool)].astype(str).str.strip().value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    return {"column": client_column, "values": {str(k): int(v) for k, v in counts.head(MAX_LISTED).items()},
            "distinct": int(len(counts)), "rows": int(counts.sum()), "allowed": list(allowed)}


def describe_unmapped(table: str, unmapped: dict[str, dict]) -> str:
    """The unmapped values of a table for an error message ("" when there are none): each column's
    values with their row counts and the allowed values, and where to map them."""
    if not unmapped:
        return ""
    parts = []
    for canon, u in unmapped.items():
        listed = ", ".join(f"'{v}' ({n})" for v, n in u["values"].items())
        more = f" and {u['distinct'] - len(u['values'])} more" if u["distinct"] > len(u["values"]) else ""
        parts.append(f"{table}.{canon} (column '{u['column']}') has {listed}{more}; allowed: {', '.join(u['allowed'])}")
    return (" Values not recognised: " + "; ".join(parts)
            + f". Map them under sources.{table}.values in case.yml, e.g. values: {{{next(iter(unmapped))}: "
            "{<client value>: <allowed value>}}.")
