"""Whether a loaded case is usable: no required table may lose more than a set share of its rows.

``cjm validate`` fails (exit 2) when a table loses more than ``limits.max_rows_lost_share`` of
its rows and warns above ``limits.warn_rows_lost_share``; the message names the top reasons and
what fixes each (the values the case allows, the date format, the separator).
"""

from __future__ import annotations

from toolkit.core.contract import TABLES
from toolkit.core.errors import InputFileError
from toolkit.data.load import CaseData, _expected


# reasons that cost no information: the row is kept elsewhere (refunds) or repeats a kept row
NOT_LOST = ("refund", "duplicate")


def rows_lost(data: CaseData) -> dict[str, tuple[int, int, float]]:
    """table -> (rows lost, rows read, share lost); refunds and exact repeats are not lost."""
    out = {}
    for t, q in data.quality.items():
        lost = sum(n for why, n in q.quarantined.items() if why not in NOT_LOST)
        out[t] = (lost, q.rows_read, lost / q.rows_read if q.rows_read else 0.0)
    return out


def _fix_hint(data: CaseData, table: str, reason: str) -> str:
    """What a quarantine reason asks the consultant to do, with the values the case allows."""
    src = getattr(data.case.sources, table)
    rows = data.quarantine[(data.quarantine["table"] == table) & (data.quarantine["reason"] == reason)]
    client_col = next((str(c) for c in rows["column"] if isinstance(c, str)), None)
    canon = src.columns.get(client_col) if client_col else None
    cspec = TABLES[table].column(canon) if canon else None
    if reason == "malformed_row":
        return "rows whose number of fields differs from the header (check the separator and quotes)"
    if reason == "future_date":
        return f"dates after as_of ({data.case.as_of}) (check as_of or the date order, date_format in case.yml)"
    if reason == "duplicate_id":
        return f"'{client_col}' repeats an earlier row's id with different content; the first row is kept"
    if reason.startswith("missing_"):
        return f"'{client_col}' is blank"
    if cspec is not None:
        where = f"sources.{table}" + (".date_format" if cspec.kind in ("date", "period") else "")
        return f"'{client_col}' expected {_expected(cspec, data.case)} (see {where} in case.yml)"
    return reason


def check_rows_lost(data: CaseData) -> list[str]:
    """Raise ``InputFileError`` when a table loses more than ``limits.max_rows_lost_share`` of its
    rows (naming the top reasons and what fixes them); return a warning sentence per table that
    loses more than ``limits.warn_rows_lost_share``."""
    limits = data.case.limits
    warnings, failures = [], []
    for t, (lost, read, share) in rows_lost(data).items():
        if not lost or share <= limits.warn_rows_lost_share:
            continue
        q = data.quality[t]
        top = [(why, n) for why, n in q.quarantined.items() if why not in NOT_LOST][:3]
        reasons = "; ".join(f"{why}: {n:,} ({_fix_hint(data, t, why)})" for why, n in top)
        what = f"the {t} table loses {lost:,} of its {read:,} rows ({share:.0%})"
        if share > limits.max_rows_lost_share:
            failures.append(f"{what}, more than the {limits.max_rows_lost_share:.0%} allowed "
                            f"(limits.max_rows_lost_share in case.yml): {reasons}")
        else:
            warnings.append(f"Warning: {what}: {reasons}.")
    if failures:
        raise InputFileError("The case is not usable: " + "; and ".join(failures)
                             + ". Fix the export or case.yml and validate again.")
    return warnings
