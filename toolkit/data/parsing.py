"""Parsing raw cell values the way client exports write them.

Every parser takes a raw ``pd.Series`` (strings from CSV, mixed Python objects from
xlsx) and returns ``Parsed(values, blank, bad)``: the parsed values (missing where
blank or bad), a mask of blank cells and a mask of cells that are present but could
not be read. The loader decides whether a bad cell quarantines the row (required
column) or is blanked with a warning (optional column). All parsers work on the
distinct values only where that is cheaper, so a 10M-row column costs little more
than its distinct values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from toolkit.core.text import normalise

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Excel serial day numbers accepted as dates: 1954-10-04 .. 2119-01-13. Outside this
# range a bare number is far more likely an amount or an id mapped to the wrong column.
EXCEL_SERIAL_RANGE = (20000, 80000)

_DATE_FORMATS = (
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%y",
    "%d/%m/%y",
    "%Y.%m.%d",
)
DATE_FORMATS_HUMAN = "dd.mm.yyyy, yyyy-mm-dd or an Excel date number"
# day and month separated by '/' or '-' with the year last: 03/04/2024 is 3 April in Europe and
# March 4 in the US. Dots (03.04.2024) are day-first everywhere.
_SLASH_DATE = re.compile(r"^(\d{1,2})([/-])(\d{1,2})\2(\d{2}|\d{4})(?:[ T](\d{1,2}:\d{2}(:\d{2})?))?$")


class AmbiguousDateOrder(ValueError):
    """Dates such as 03/04/2024 where no value says whether the day or the month comes first."""

    def __init__(self, examples: list[str], formats: tuple[str, str]):
        self.examples, self.formats = examples, formats
        super().__init__(f"ambiguous date order: {', '.join(examples)}")


def date_order(strings: pd.Series) -> str | None:
    """'dmy' or 'mdy' for a column's ``dd/mm/yyyy``-like values, decided by the values: a first
    field over 12 means day first, a second field over 12 month first (the side with more such
    values wins when both occur; the others are then bad dates). None when the column has no
    such values. Raises ``AmbiguousDateOrder`` when every value could be either."""
    m = strings.str.extract(_SLASH_DATE.pattern)
    m = m[m[0].notna()]
    if m.empty:
        return None
    first, second = m[0].astype(int), m[2].astype(int)
    day_first = int(((first > 12) & (first <= 31)).sum())
    month_first = int(((second > 12) & (second <= 31)).sum())
    if day_first or month_first:
        return "dmy" if day_first >= month_first else "mdy"
    examples = list(dict.fromkeys(strings[m.index].tolist()))[:3]
    sep, year, time = m[1].iloc[0], m[3].iloc[0], m[4].iloc[0]
    tail = ("%Y" if len(year) == 4 else "%y") + ("" if pd.isna(time) else (" %H:%M:%S" if time.count(":") == 2 else " %H:%M"))
    raise AmbiguousDateOrder(examples, (f"%d{sep}%m{sep}{tail}", f"%m{sep}%d{sep}{tail}"))


def _possible_formats(s: pd.Series) -> tuple[str, ...]:
    """The formats of ``_DATE_FORMATS`` whose separators occur in some value (a column of
    dd.mm.yyyy dates is not tried as yyyy-mm-dd, dd/mm/yyyy ...): same result, fewer passes."""
    present = {ch for ch in "./-:T " if s.str.contains(ch, regex=False).any()}
    return tuple(f for f in _DATE_FORMATS if _separators(f) <= present)


def _separators(fmt: str) -> set[str]:
    """The literal characters of a strftime pattern (``%d.%m.%Y %H:%M`` -> {'.', ' ', ':'})."""
    return set(re.sub(r"%[a-zA-Z]", "", fmt))


def _month_first(formats: tuple[str, ...]) -> tuple[str, ...]:
    """The formats with every ``%d/%m`` and ``%d-%m`` read month first."""
    return tuple(f.replace("%d/%m", "%m/%d").replace("%d-%m", "%m-%d") for f in formats)


@dataclass
class Parsed:
    values: pd.Series
    blank: pd.Series
    bad: pd.Series


def blank_mask(raw: pd.Series) -> pd.Series:
    """True where a cell is empty: missing, or only whitespace."""
    isna = raw.isna()
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        as_str = raw.astype("string")
        isna = isna | as_str.str.strip().fillna("").eq("")
    return isna.fillna(True).astype(bool)


def _clean_text(raw: pd.Series) -> pd.Series:
    """Strip whitespace (incl. NBSP) around string values; blanks become <NA>."""
    s = raw.astype("string").str.strip()
    return s.mask(s == "")


# --------------------------------------------------------------------------- text / ids
def parse_text(raw: pd.Series) -> Parsed:
    if raw.dtype == pd.StringDtype("pyarrow"):
        return _parse_arrow_text(raw)
    blank = blank_mask(raw)
    values = _clean_text(_stringify_numbers(raw))
    return Parsed(values, blank, pd.Series(False, index=raw.index))


def _parse_arrow_text(raw: pd.Series) -> Parsed:
    """``parse_text`` of arrow-backed text (parquet), in Arrow: the same strip as pandas'
    ``str.strip`` (``utf8_trim_whitespace``) and the same blanks; when no cell changes (the
    usual case) the column itself is the result, not a copy."""
    cells = pa.chunked_array(raw.array.__arrow_array__())
    stripped = pc.utf8_trim_whitespace(cells)
    empty = pc.fill_null(pc.equal(stripped, ""), False)
    blank = pd.Series(pc.or_(pc.is_null(cells), empty).to_numpy(zero_copy_only=False), index=raw.index, copy=False)
    # trimming only removes characters: a cell is unchanged when its length is
    if not pc.any(empty).as_py() and pc.all(pc.equal(pc.binary_length(stripped), pc.binary_length(cells))).as_py() is not False:
        values = raw
    else:
        values = pd.Series(pd.arrays.ArrowStringArray(pc.if_else(empty, pa.scalar(None, pa.string()), stripped)),
                           index=raw.index, name=raw.name)
    return Parsed(values, blank, pd.Series(False, index=raw.index))


def _stringify_numbers(raw: pd.Series) -> pd.Series:
    """Ids read from Excel arrive as floats (123.0): write them back as 123."""
    if raw.dtype == object:
        def fix(v):
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                return str(v)
            return v

        return raw.map(fix)
    if pd.api.types.is_float_dtype(raw.dtype):
        out = raw.astype("string")
        ints = raw.notna() & (raw % 1 == 0)
        out[ints] = raw[ints].astype("int64").astype("string")
        return out
    return raw


parse_id = parse_text


# --------------------------------------------------------------------------- numbers
_CURRENCY = re.compile(
    r"(руб(лей|ля|ль)?\.?|р\.|₽|rub|rur|eur|€|usd|\$|у\.?\s?е\.?|грн|₴|kzt|₸|£|gbp)",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'’]")


def _decimal_is_comma(strings: pd.Series) -> bool:
    """Decide a column's decimal separator from evidence, comma by default
    (Russian and most European exports): a comma followed by 1-2 final digits is
    decimal-comma evidence; a dot followed by 1-2 final digits, or commas only in
    thousands groups (1,234,567), is decimal-point evidence."""
    comma = strings.str.contains(r",\d{1,2}$", regex=True).sum()
    dot = strings.str.contains(r"\.\d{1,2}$", regex=True).sum()
    thousands_comma = strings.str.contains(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$", regex=True).sum()
    if dot > comma or (thousands_comma and not comma and dot):
        return False
    return True


def parse_number(raw: pd.Series, currency: bool = False) -> Parsed:
    """Numbers with spaces/NBSP as thousands separators, decimal commas, a unicode
    minus, accounting negatives ``(1 500,00)`` and (for money) currency suffixes such
    as ``руб.``, ``₽``, ``EUR``, ``€``."""
    blank = blank_mask(raw)
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
        return Parsed(values, blank, pd.Series(False, index=raw.index))

    uniq = pd.Series(raw[~blank].unique())
    numeric_objs = uniq.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool))
    as_str = uniq.astype("string").str.strip()
    s = as_str.str.replace("\u2212", "-", regex=False)
    if currency:
        s = s.str.replace(_CURRENCY, "", regex=True)
    s = s.str.replace(_SPACES, "", regex=True)
    neg_paren = s.str.fullmatch(r"\(.*\)").fillna(False)
    s = s.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    text_like = ~numeric_objs
    if _decimal_is_comma(s[text_like]):
        s = s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        s = s.str.replace(",", "", regex=False)
    num = pd.to_numeric(s.where(s.str.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?").fillna(False)), errors="coerce")
    num = num.where(~neg_paren, -num)
    num = num.where(~numeric_objs, pd.to_numeric(uniq.where(numeric_objs), errors="coerce"))
    lookup = pd.Series(num.to_numpy(dtype="float64"), index=uniq)
    values = raw.map(lookup).astype("float64")
    values[blank] = np.nan
    bad = ~blank & values.isna()
    return Parsed(values, blank, bad)


def parse_money(raw: pd.Series) -> Parsed:
    return parse_number(raw, currency=True)


def parse_int(raw: pd.Series) -> Parsed:
    p = parse_number(raw)
    frac = p.values.notna() & (p.values % 1 != 0)
    values = p.values.where(~frac).round().astype("Int64")
    return Parsed(values, p.blank, p.bad | frac)


# --------------------------------------------------------------------------- dates
def _excel_serial(num: pd.Series) -> pd.Series:
    ok = num.between(*EXCEL_SERIAL_RANGE)
    days = num.where(ok)
    return (EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).dt.floor("D")


_DAY_NS = 86_400 * 10**9


def _to_midnight(values: pd.Series) -> pd.Series:
    """``values.dt.floor("D")``; a column already at midnight (dates exported as dates) is
    returned as it is rather than rounded again."""
    ns = values.to_numpy().view("i8")
    if ((ns % _DAY_NS == 0) | values.isna().to_numpy()).all():
        return values
    return values.dt.floor("D")


def parse_dates(raw: pd.Series, fmt: str | None = None) -> Parsed:
    """Dates as ``dd.mm.yyyy`` (with or without time), ISO ``yyyy-mm-dd``,
    ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (the order decided per column by ``date_order``; an
    undecidable column raises ``AmbiguousDateOrder``), Excel serial numbers, or real date cells
    from xlsx. Returns ``datetime64[ns]`` normalised to midnight. Impossible dates
    (``31.02.2024``) are bad, never rolled over."""
    blank = blank_mask(raw)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        values = pd.to_datetime(raw).dt.tz_localize(None) if getattr(raw.dt, "tz", None) else raw
        values = _to_midnight(values.astype("datetime64[ns]"))
        return Parsed(values, blank, pd.Series(False, index=raw.index))

    uniq = pd.Series(raw[~blank].unique(), dtype=object)
    out = pd.Series(pd.NaT, index=uniq.index, dtype="datetime64[ns]")

    is_dt = uniq.map(lambda v: isinstance(v, (dt.date, pd.Timestamp, np.datetime64)))
    if is_dt.any():
        out[is_dt] = pd.to_datetime(uniq[is_dt].map(lambda v: pd.Timestamp(v).tz_localize(None) if getattr(v, "tzinfo", None) else pd.Timestamp(v))).dt.floor("D")
    is_num = uniq.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool))
    if is_num.any():
        out[is_num] = _excel_serial(pd.to_numeric(uniq[is_num], errors="coerce"))

    is_str = ~(is_dt | is_num)
    if is_str.any():
        s = uniq[is_str].astype("string").str.strip()
        got = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        formats = (fmt,) if fmt else _possible_formats(s)
        if not fmt and date_order(s) == "mdy":
            formats = _month_first(formats)
        for f in formats:
            todo = got.isna()
            if not todo.any():
                break
            got[todo] = pd.to_datetime(s[todo], format=f, errors="coerce")
        if not fmt:
            # Excel serials exported as text ("45292" or "45292,0")
            todo = got.isna() & s.str.fullmatch(r"\d{5}([.,]0+)?").fillna(False)
            if todo.any():
                got[todo] = _excel_serial(pd.to_numeric(s[todo].str.replace(",", "."), errors="coerce"))
        out[is_str] = got.dt.floor("D")

    lookup = pd.Series(out.to_numpy(), index=uniq.to_numpy())
    if lookup.index.has_duplicates:  # e.g. 1 and 1.0 hash equal; keep first
        lookup = lookup[~lookup.index.duplicated()]
    values = pd.Series(raw.map(lookup), index=raw.index).astype("datetime64[ns]")
    values[blank] = pd.NaT
    bad = ~blank & values.isna()
    return Parsed(values, blank, bad)


_MONTHS = {
    # ru (nominative, genitive, short) and en names; compared after toolkit.core.text.normalise
    "янв": 1, "январь": 1, "января": 1, "фев": 2, "февраль": 2, "февраля": 2, "мар": 3, "март": 3, "марта": 3,
    "апр": 4, "апрель": 4, "апреля": 4, "май": 5, "мая": 5, "июн": 6, "июнь": 6, "июня": 6,
    "июл": 7, "июль": 7, "июля": 7, "авг": 8, "август": 8, "августа": 8, "сен": 9, "сент": 9,
    "сентябрь": 9, "сентября": 9, "окт": 10, "октябрь": 10, "октября": 10, "ноя": 11, "нояб": 11,
    "ноябрь": 11, "ноября": 11, "дек": 12, "декабрь": 12, "декабря": 12,
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}


def _period_one(v) -> pd.Timestamp | None:
    if isinstance(v, (dt.date, pd.Timestamp)):
        return pd.Timestamp(v).to_period("M").to_timestamp()
    s = normalise(v).replace(".", " ").replace("/", " ").replace("-", " ").strip()
    parts = s.split()
    if len(parts) == 2:
        a, b = parts
        if a.isdigit() and b.isdigit():
            y, m = (int(a), int(b)) if len(a) == 4 else (int(b), int(a))
        elif b.isdigit() and a.rstrip(",") in _MONTHS:
            y, m = int(b), _MONTHS[a.rstrip(",")]
        elif a.isdigit() and b in _MONTHS:
            y, m = int(a), _MONTHS[b]
        else:
            return None
        if 1 <= m <= 12 and 1900 <= y <= 2200:
            return pd.Timestamp(year=y, month=m, day=1)
    return None


def parse_period(raw: pd.Series) -> Parsed:
    """A month: ``2024-03``, ``03.2024``, ``мар 2024``, ``March 2024``, or any full
    date in it (taken to its month). Returns the month's first day."""
    blank = blank_mask(raw)
    full = parse_dates(raw)
    values = full.values.dt.to_period("M").dt.to_timestamp()
    todo = ~blank & values.isna()
    if todo.any():
        uniq = pd.Series(raw[todo].unique(), dtype=object)
        lookup = pd.Series([_period_one(v) for v in uniq], index=uniq.to_numpy(), dtype="datetime64[ns]")
        values[todo] = raw[todo].map(lookup)
    values = values.astype("datetime64[ns]")
    return Parsed(values, blank, ~blank & values.isna())


# --------------------------------------------------------------------------- small vocabularies
_BOOL = {
    "да": True, "нет": False, "yes": True, "no": False, "y": True, "n": False, "д": True, "н": False,
    "1": True, "0": False, "true": True, "false": False, "истина": True, "ложь": False,
    "+": True, "-": False, "1.0": True, "0.0": False,
    "клиент": True, "не клиент": False, "client": True, "non-client": False, "not a client": False,
}
_GENDER = {
    "ж": "F", "жен": "F", "женский": "F", "женщина": "F", "f": "F", "female": "F", "w": "F", "woman": "F",
    "м": "M", "муж": "M", "мужской": "M", "мужчина": "M", "m": "M", "male": "M", "man": "M",
}


def _vocab(raw: pd.Series, vocab: dict, dtype) -> Parsed:
    blank = blank_mask(raw)
    uniq = pd.Series(raw[~blank].unique(), dtype=object)
    keys = uniq.map(lambda v: normalise(v).rstrip("."))
    lookup = pd.Series(keys.map(vocab).to_numpy(), index=uniq.to_numpy(), dtype=object)
    values = raw.map(lookup)
    values[blank] = None
    bad = ~blank & values.isna()
    return Parsed(values.astype(dtype), blank, bad)


def parse_bool(raw: pd.Series) -> Parsed:
    """да/нет, yes/no, 1/0, true/false, +/-, клиент/не клиент."""
    if pd.api.types.is_bool_dtype(raw.dtype):
        return Parsed(raw.astype("boolean"), raw.isna(), pd.Series(False, index=raw.index))
    return _vocab(raw, _BOOL, "boolean")


def parse_gender(raw: pd.Series) -> Parsed:
    """Ж/М, жен/муж, F/M, female/male → 'F' / 'M'."""
    return _vocab(raw, _GENDER, "string")


def match_labels(raw: pd.Series, choices: dict[str, str]) -> Parsed:
    """Map client labels onto declared ids. ``choices`` maps a normalised label
    (id, display name or alias, see ``toolkit.core.text.normalise``) to the id."""
    blank = blank_mask(raw)
    uniq = pd.Series(raw[~blank].unique(), dtype=object)
    lookup = pd.Series(uniq.map(lambda v: choices.get(normalise(v))).to_numpy(), index=uniq.to_numpy(), dtype=object)
    values = raw.map(lookup)
    values[blank] = None
    bad = ~blank & values.isna()
    return Parsed(values.astype("string"), blank, bad)
