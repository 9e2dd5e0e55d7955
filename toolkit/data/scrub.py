"""Personal names masked in the loaded tables' free text (see ``toolkit.data.names``)."""

from __future__ import annotations

import re

import pandas as pd

from toolkit.core.config import Case
from toolkit.core.contract import TABLES
from toolkit.data.compact import is_compact, map_distinct
from toolkit.data.names import NameMasker

FREE_TEXT = re.compile(r"quote|reason|comment|note|feedback|review|text|answer")


def name_masker(case: Case, quality) -> NameMasker:
    """The case's name masker: its personal columns' words; its own declared labels kept."""
    keep = [case.client, *(x for items in (case.brands, case.business_lines, case.journey_stages,
                                          case.funnel_stages, case.choice_factors, case.touchpoints)
                           for it in items for x in (it.id, it.name, *it.aliases) if x)]
    words = frozenset().union(*(q.personal_words for q in quality))
    return NameMasker(words, keep=keep, language=case.language)


def mask_names(table: str, frame: pd.DataFrame, masker: NameMasker) -> pd.DataFrame:
    """Personal names masked in a table's free-text columns (quotes, lost reasons, comments:
    the columns marked ``scrub`` in the contract or named like free text)."""
    for c in free_text_columns(table, frame):
        frame[c] = mask_distinct(frame[c], masker)
    return frame


def free_text_columns(table: str, frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` whose names ``mask_names`` masks (free text with some value)."""
    spec = TABLES[table]
    return [c for c in frame.columns
            if (cspec := spec.column(c)) is not None and cspec.kind == "text" and (cspec.scrub or FREE_TEXT.search(c))
            and frame[c].notna().any()]


def mask_distinct(values: pd.Series, masker: NameMasker) -> pd.Series:
    """``masker`` applied to each distinct value once (a compact column: to its categories)."""
    if is_compact(values):
        return map_distinct(values, lambda v: mask_distinct(v, masker))
    uniq = pd.unique(values.dropna().to_numpy(dtype=object))
    lookup = {v: masker(v) if isinstance(v, str) else v for v in uniq}
    if all(k is v or k == v for k, v in lookup.items()):
        return values
    return values.map(lookup).astype(values.dtype)
