"""Value parsers: the quirks of real exports, with hand-checked answers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from toolkit.core.text import normalise
from toolkit.data import parsing as P


def obj(*values):
    return pd.Series(list(values), dtype=object)


def test_dates_in_every_accepted_form():
    p = P.parse_dates(obj("01.02.2024", "2024-03-05", "05.03.2024 14:30", 45292, 45292.0, "45292",
                          dt.datetime(2024, 1, 5, 13, 0), dt.date(2024, 1, 6), "15/04/2024"))
    # Excel serial 45292 = 2024-01-01 (day 1 = 1900-01-01 with Excel's leap-year bug: epoch 1899-12-30)
    assert p.values.tolist() == [pd.Timestamp(x) for x in ["2024-02-01", "2024-03-05", "2024-03-05", "2024-01-01",
                                                           "2024-01-01", "2024-01-01", "2024-01-05", "2024-01-06",
                                                           "2024-04-15"]]
    assert not p.bad.any() and not p.blank.any()


def test_impossible_and_garbage_dates_are_bad_and_blanks_are_blank():
    p = P.parse_dates(obj("31.02.2024", "??.05.2024", "abc", 12, "", "  ", None))
    assert p.bad.tolist() == [True, True, True, True, False, False, False]
    assert p.blank.tolist() == [False, False, False, False, True, True, True]
    assert p.values.isna().all()


def test_explicit_date_format_wins():
    p = P.parse_dates(obj("02/01/2024"), fmt="%m/%d/%Y")
    assert p.values.iloc[0] == pd.Timestamp("2024-02-01")


def test_money_with_spaces_nbsp_decimal_commas_and_currency():
    p = P.parse_money(obj("12 500,00", "12\u00a0500,50 руб.", "1500", "−300,5", "(1 000,00)", "₽ 99", "7 000 р.", "abc", ""))
    assert p.values.iloc[:7].tolist() == [12500.0, 12500.5, 1500.0, -300.5, -1000.0, 99.0, 7000.0]
    assert p.bad.tolist() == [False] * 7 + [True, False]
    assert p.blank.tolist() == [False] * 8 + [True]


def test_money_with_decimal_points_and_comma_thousands():
    assert P.parse_money(obj("1,234.50", "99.99", "1,000")).values.tolist() == [1234.5, 99.99, 1000.0]
    assert P.parse_money(obj("€ 12.50", "3 EUR")).values.tolist() == [12.5, 3.0]


def test_numbers_already_numeric_pass_through():
    p = P.parse_money(pd.Series([1.5, np.nan, 3.0]))
    assert p.values.iloc[0] == 1.5 and p.blank.tolist() == [False, True, False]


def test_int_rejects_fractions():
    p = P.parse_int(obj("1", "2,5", "x", "10"))
    assert p.values.tolist()[0] == 1 and p.values.tolist()[3] == 10
    assert p.bad.tolist() == [False, True, True, False]


def test_periods():
    p = P.parse_period(obj("2024-03", "03.2024", "мар 2024", "March 2024", "15.04.2024", "Январь 2025", 45292, "xx"))
    months = ["2024-03-01"] * 4 + ["2024-04-01", "2025-01-01", "2024-01-01"]
    assert p.values.iloc[:7].tolist() == [pd.Timestamp(m) for m in months]
    assert p.bad.tolist() == [False] * 7 + [True]


def test_bool_and_gender_vocabularies():
    assert P.parse_bool(obj("Да", "нет", "1", "false", "x", None)).values.tolist()[:4] == [True, False, True, False]
    g = P.parse_gender(obj("Ж", "м", "female", "M", "Жен.", "?"))
    assert g.values.tolist()[:5] == ["F", "M", "F", "M", "F"] and g.bad.tolist()[-1]


def test_ids_keep_leading_zeros_and_lose_excel_float_tails():
    assert P.parse_id(obj(123.0, "00123", None, 5)).values.tolist()[:2] == ["123", "00123"]


def test_label_matching_ignores_case_quotes_and_yo():
    choices = {normalise(x): "prem" for x in ["Эстетика Премиум", "ЭП"]}
    p = P.match_labels(obj("«эстетика  премиум»", "эп", "Ёлка"), choices)
    assert p.values.tolist()[:2] == ["prem", "prem"] and p.bad.tolist() == [False, False, True]


def test_dates_already_at_midnight_are_kept_and_others_floored():
    midnight = pd.Series(pd.to_datetime(["2024-01-02", None, "1969-12-31"])).astype("datetime64[ns]")  # (< 1970: ns < 0)
    pd.testing.assert_series_equal(P.parse_dates(midnight).values, midnight)
    timed = pd.Series(pd.to_datetime(["2024-01-02 13:45:00", None, "1969-12-31 23:59:59"])).astype("datetime64[ns]")
    assert P.parse_dates(timed).values.tolist()[0] == pd.Timestamp("2024-01-02")
    pd.testing.assert_series_equal(P.parse_dates(timed).values, timed.dt.floor("D"))
    assert P.parse_dates(timed).values.iloc[2] == pd.Timestamp("1969-12-31")
