"""Ids written in several ways: ``normalise_ids`` in case.yml, or a warning."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from toolkit.core.config import Case
from toolkit.data import parsing as P
from toolkit.data.compact import TEXT, is_compact, map_distinct, used_values

# the characters Python's re ``\s`` matches among ASCII (RE2's ``\s`` leaves out \v and \x1c-\x1f)
_ASCII_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f ]+"


def normalise_ids(p: P.Parsed, case: Case, notes: list[str], warn: bool = True) -> P.Parsed:
    """Ids compared ignoring letter case and inner spaces when the case says ``normalise_ids``
    (written upper-case, without spaces, with a note of how many ids were merged); otherwise,
    when ``warn`` (the customer id: a row id such as a receipt number is left alone, unread), a
    warning note when some ids differ only in letter case."""
    values = p.values
    if not (case.normalise_ids or warn) or not values.notna().any():
        return p
    if not case.normalise_ids:
        by_case = ids_differing_in_case_only(values)
        if by_case:
            notes.append(f"warning: {by_case} id(s) differ from another id only in letter case (e.g. C-01 and c-01) "
                         "and are kept as different customers; set 'normalise_ids: true' in case.yml if they are the same")
        return p
    distinct = _distinct(values)
    keys = id_keys(distinct)
    merged = int(len(distinct) - keys.nunique())
    if merged or (keys != distinct).any():
        values = _rewrite(values, distinct, keys)
    if merged:
        notes.append(f"normalise_ids: {merged} id(s) written in another letter case or with inner spaces "
                     f"merged into the same id ({len(distinct):,} written forms -> {keys.nunique():,} ids)"
                     + _examples(distinct, keys, case))
    return P.Parsed(values, p.blank, p.bad)


def _distinct(values: pd.Series) -> pd.Series:
    """The distinct ids (missing left out) in order of first appearance, as text."""
    return used_values(values) if is_compact(values) else pd.Series(values.dropna().unique()).astype(TEXT)


def ids_differing_in_case_only(values: pd.Series) -> int:
    """How many distinct ids another id equals in upper case: ``len(D) - len(upper(D))`` for the
    distinct ids D.

    Only an id that upper-casing changes can fold onto another, so a large column is not hashed
    whole: with F the ids upper-casing leaves alone and B the others, the answer is
    ``len(B) - len(upper(B) - F)``; B is usually small, and F is only probed for upper(B)."""
    if is_compact(values) or not isinstance(values.dtype, pd.StringDtype):
        distinct = _distinct(values)
        return int(len(distinct) - upper(distinct).nunique())
    cells = pa.array(values.array)
    changed = pc.fill_null(pc.not_equal(pc.utf8_upper(cells), cells), False)
    if not pc.any(changed).as_py():
        return 0
    b = _distinct(pd.Series(pd.arrays.ArrowStringArray(pc.filter(cells, changed))))
    upper_b = upper(b).drop_duplicates()
    unchanged = pc.invert(changed)  # missing cells are in neither set
    fixed = pc.and_(pc.fill_null(pc.is_in(cells, value_set=_arrow(upper_b)), False), unchanged)
    found = pc.count_distinct(pc.filter(cells, fixed)).as_py()
    return int(len(b) - (len(upper_b) - found))


def upper(ids: pd.Series) -> pd.Series:
    """``str.upper`` of each id (text, none missing): Arrow's for ASCII ids, Python's for others."""
    return _by_ascii(ids, pc.ascii_upper, lambda s: s.str.upper())


def id_keys(ids: pd.Series) -> pd.Series:
    """The key an id is compared by under ``normalise_ids``: without whitespace (as Python's re
    ``\\s``), upper-case (as ``str.upper``)."""
    return _by_ascii(ids, lambda a: pc.ascii_upper(pc.replace_substring_regex(a, _ASCII_SPACE, "")),
                     lambda s: s.str.replace(r"\s+", "", regex=True).str.upper())


def _by_ascii(ids: pd.Series, arrow_op, python_op) -> pd.Series:
    """``python_op`` of each id, computed by ``arrow_op`` (the same result on ASCII text) for the
    ASCII ids and by ``python_op`` itself for the others."""
    ids = ids.astype(TEXT).reset_index(drop=True)
    cells = _arrow(ids)
    out = pd.Series(pd.arrays.ArrowStringArray(arrow_op(cells)), dtype=TEXT)
    other = ~pc.string_is_ascii(cells).to_numpy(zero_copy_only=False)
    if other.any():
        out[other] = python_op(ids[other]).astype(TEXT)
    return out


def _rewrite(values: pd.Series, distinct: pd.Series, keys: pd.Series) -> pd.Series:
    """Each id replaced by its key (``distinct[i]`` -> ``keys[i]``), missing left missing."""
    if is_compact(values):
        lookup = pd.Series(keys.to_numpy(), index=distinct.to_numpy())
        return map_distinct(values, lambda v: v.map(lookup).astype(TEXT))
    at = pc.index_in(pa.array(values.astype(TEXT).array), value_set=_arrow(distinct))
    out = pc.take(_arrow(keys), at)
    return pd.Series(pd.arrays.ArrowStringArray(out), index=values.index, name=values.name)


def _arrow(text: pd.Series) -> pa.Array:
    """A text Series' cells as one Arrow array (no copy when it is one chunk already)."""
    cells = pa.array(text.array)
    return cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells


def _examples(distinct: pd.Series, keys: pd.Series, case: Case) -> str:
    """", e.g. 'C-01' = 'c-01'; ..." for two merged ids (none when ids are pseudonymised)."""
    if case.privacy.pseudonymise_ids:
        return ""
    shared = keys[keys.duplicated(keep=False)]
    groups = [" = ".join(f"'{v}'" for v in distinct[keys == k].tolist()[:3]) for k in pd.unique(shared)[:2]]
    return ", e.g. " + "; ".join(groups) if groups else ""
