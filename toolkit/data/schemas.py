"""pandera schemas of the canonical tables: the contract every analysis relies on.

The loader quarantines bad rows first (vectorised checks that know the file's row
numbers); these schemas then check the clean tables lazily, so that if anything
slipped through, every violation is reported at once. A violation here is a bug
in the toolkit, not in the client's data, and is reported as such.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from toolkit.core.contract import TABLES, CODE_TYPES, FACTOR_KINDS, LEVELS
from toolkit.core.errors import CaseError

_DTYPES = {
    "id": pd.StringDtype(),
    "text": pd.StringDtype(),
    "brand": pd.StringDtype(),
    "business_line": pd.StringDtype(),
    "journey_stage": pd.StringDtype(),
    "funnel_stage": pd.StringDtype(),
    "choice": pd.StringDtype(),
    "gender": pd.StringDtype(),
    "date": "datetime64[ns]",
    "period": "datetime64[ns]",
    "money": "float64",
    "float": "float64",
    "sentiment": "float64",
    "int": "Int64",
    "bool": "boolean",
}


def _checks(table: str, name: str, kind: str) -> list[pa.Check]:
    checks = []
    if kind == "sentiment":
        checks.append(pa.Check.in_range(-2, 2, name="sentiment_in_range"))
    if name == "nps":
        checks.append(pa.Check.in_range(0, 10, name="nps_in_range"))
    if name == "code_type":
        checks.append(pa.Check.isin(CODE_TYPES))
    if name == "factor_kind":
        checks.append(pa.Check.isin(FACTOR_KINDS))
    if name == "level":
        checks.append(pa.Check.isin(LEVELS))
    if name == "gender":
        checks.append(pa.Check.isin(["F", "M"]))
    if table == "transactions" and name == "amount":
        checks.append(pa.Check.ge(0, name="no_refunds_in_transactions"))
    if name in ("sessions",):
        checks.append(pa.Check.ge(0))
    return checks


def schema_for(table: str, columns: list[str]) -> pa.DataFrameSchema:
    spec = TABLES[table]
    cols = {}
    for name in columns:
        c = spec.column(name)
        cols[name] = pa.Column(
            _DTYPES[c.kind],
            checks=_checks(table, name, c.kind),
            nullable=not c.required,
            required=c.required,
            coerce=False,
        )
    for req in spec.required:
        cols.setdefault(req, pa.Column(nullable=False, required=True))
    return pa.DataFrameSchema(cols, strict=True, name=table)


def coerce_dtypes(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Give each canonical column its contract dtype."""
    spec = TABLES[table]
    out = {}
    for name in frame.columns:
        c = spec.column(name)
        col = frame[name]
        out[name] = col.astype(_DTYPES[c.kind]) if c is not None and col.dtype != _DTYPES[c.kind] else col
    return pd.DataFrame(out, index=frame.index, copy=False)  # columns already right are not copied


def check_contract(table: str, clean: pd.DataFrame, refunds: pd.DataFrame | None = None) -> None:
    """Validate a clean table lazily; raise ``CaseError`` listing every violation."""
    schema = schema_for(table, list(clean.columns))
    try:
        schema.validate(clean, lazy=True)
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
        counts = fc.groupby(["column", "check"], dropna=False).size()
        summary = "; ".join(f"{col}: {chk} ({n} rows)" for (col, chk), n in counts.items())
        raise CaseError(f"Internal check of the {table} table failed (a toolkit bug, please report it): {summary}") from None
