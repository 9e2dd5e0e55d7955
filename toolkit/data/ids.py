"""Ids written in several ways: ``normalise_ids`` in case.yml, or a warning."""

from __future__ import annotations

import pandas as pd

from toolkit.core.config import Case
from toolkit.data import parsing as P


def normalise_ids(p: P.Parsed, case: Case, notes: list[str], warn: bool = True) -> P.Parsed:
    """Ids compared ignoring letter case and inner spaces when the case says ``normalise_ids``
    (written upper-case, without spaces, with a note of how many ids were merged); otherwise,
    when ``warn`` (the customer id: a row id such as a receipt number is left alone, unread), a
    warning note when some ids differ only in letter case."""
    values = p.values
    if not (case.normalise_ids or warn) or not values.notna().any():
        return p
    distinct = pd.Series(values.dropna().unique()).astype("string")  # Arrow's unique on Arrow text
    keys = distinct.str.replace(r"\s+", "", regex=True).str.upper()
    merged = int(len(distinct) - keys.nunique())
    if case.normalise_ids:
        if merged or (keys != distinct).any():
            lookup = pd.Series(keys.to_numpy(), index=distinct.to_numpy())
            values = values.astype("string").map(lookup).astype("string")
        if merged:
            notes.append(f"normalise_ids: {merged} id(s) written in another letter case or with inner spaces "
                         f"merged into the same id ({len(distinct):,} written forms -> {keys.nunique():,} ids)"
                         + _examples(distinct, keys, case))
        return P.Parsed(values, p.blank, p.bad)
    by_case = int(len(distinct) - distinct.str.upper().nunique())
    if by_case:
        notes.append(f"warning: {by_case} id(s) differ from another id only in letter case (e.g. C-01 and c-01) "
                       "and are kept as different customers; set 'normalise_ids: true' in case.yml if they are the same")
    return p


def _examples(distinct: pd.Series, keys: pd.Series, case: Case) -> str:
    """", e.g. 'C-01' = 'c-01'; ..." for two merged ids (none when ids are pseudonymised)."""
    if case.privacy.pseudonymise_ids:
        return ""
    shared = keys[keys.duplicated(keep=False)]
    groups = [" = ".join(f"'{v}'" for v in distinct[keys == k].tolist()[:3]) for k in pd.unique(shared)[:2]]
    return ", e.g. " + "; ".join(groups) if groups else ""
