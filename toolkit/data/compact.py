"""Few-valued text columns kept dictionary-encoded while a table is loaded.

A text column with few distinct values (brand, business line, service, staff) is read
dictionary-encoded (``toolkit.data.readers``) and parsed on its distinct values. Its parsed
values stay *compact*: a pandas ``Categorical`` whose categories are the distinct parsed values
(``string``) and whose codes say which one each row holds. The row checks, the duplicate search,
scrubbing, pseudonymising and name masking then work on the codes and the few categories, and the
loader never holds, copies or hashes millions of equal strings.

``expand`` turns a compact column into the contract's ``string`` column (Arrow takes each row's
value): a whole table for ``load_case_data``'s callers, or a row group at a time when the step
writes the table (``toolkit.data.save``), so 10M rows of text never sit in memory at once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TEXT = pd.StringDtype()


def is_compact(values: pd.Series) -> bool:
    """True for a compact text column (a Categorical of strings)."""
    return isinstance(values.dtype, pd.CategoricalDtype)


def compact_strings(codes: np.ndarray, values: pd.Series, index: pd.Index, name=None) -> pd.Series:
    """The column whose row i holds ``values[codes[i]]`` (missing where ``codes[i] < 0`` or that
    value is missing), compact: equal values share one category, whatever their position."""
    value_codes, distinct = pd.factorize(values.astype(TEXT), use_na_sentinel=True)
    codes = np.asarray(codes)
    if np.array_equal(value_codes, np.arange(len(values))):  # the values are distinct and present
        new_codes = codes
    else:  # -1 (a missing cell) picks the appended -1
        new_codes = np.append(value_codes, -1).astype(np.int32)[codes]
    dtype = pd.CategoricalDtype(pd.Index(distinct, dtype=TEXT))
    return pd.Series(pd.Categorical.from_codes(new_codes, dtype=dtype), index=index, name=name)


def categories(values: pd.Series) -> pd.Series:
    """A compact column's categories as a ``string`` Series (position = code)."""
    return pd.Series(values.cat.categories.astype(TEXT).array, dtype=TEXT)


def map_distinct(values: pd.Series, change: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``change`` (a text Series -> a text Series of the same length, element by element) applied
    to a compact column's distinct values only; the result is compact again."""
    new = change(categories(values)).reset_index(drop=True)
    return compact_strings(values.cat.codes.to_numpy(), new, values.index, values.name)


def used_values(values: pd.Series) -> pd.Series:
    """The distinct values a compact column holds, in order of first appearance (as
    ``Series.unique`` gives them), missing left out."""
    codes = pd.unique(values.cat.codes.to_numpy())
    codes = codes[codes >= 0]
    return categories(values).take(codes).reset_index(drop=True)


def put(values: pd.Series, where: np.ndarray, new: pd.Series) -> pd.Series:
    """A compact column with the rows ``where`` taken from ``new`` (compact, same rows)."""
    own = values.cat.codes.to_numpy()
    other = new.cat.codes.to_numpy()
    shift = len(values.cat.categories)
    codes = np.where(where, np.where(other < 0, -1, other.astype(np.int64) + shift), own)
    both = pd.concat([categories(values), categories(new)], ignore_index=True)
    return compact_strings(codes, both, values.index, values.name)


def expand(values: pd.Series) -> pd.Series:
    """A compact column as a ``string`` column (Arrow's take of the categories by the codes)."""
    codes = values.cat.codes.to_numpy()
    missing = codes < 0
    distinct = pa.array(categories(values).array)
    indices = pa.array(codes.astype(np.int32, copy=False), mask=missing if missing.any() else None)
    return pd.Series(pd.arrays.ArrowStringArray(pc.take(distinct, indices)), index=values.index, name=values.name)


def expand_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every compact column expanded (other columns are not copied)."""
    if not any(is_compact(frame[c]) for c in frame.columns):
        return frame
    out = {c: expand(frame[c]) if is_compact(frame[c]) else frame[c] for c in frame.columns}
    return pd.DataFrame(out, index=frame.index, copy=False)
