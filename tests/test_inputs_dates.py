"""Date order decided per column (issue 16): a first field over 12 settles day first, a second
field over 12 month first; an undecidable column stops with examples and the case.yml line; a
case that loses too many rows is not "usable"."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.conftest import TRANSACTIONS_COLUMNS, write_case
from toolkit.cli.main import main
from toolkit.core.config import load_case
from toolkit.data import parsing as P
from toolkit.data.load import load_case_data

HEADER = "Дата;Код клиента;Направление;Сумма"


def _case(tmp_path, lines, date_format=None, **extra):
    raw = tmp_path / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "v.csv").write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    src = {"path": "raw/v.csv", "columns": dict(TRANSACTIONS_COLUMNS)}
    if date_format:
        src["date_format"] = date_format
    return write_case(tmp_path, {"transactions": src}, **extra)


def _us_dates(n: int, seed: int = 7) -> tuple[list[str], list[pd.Timestamp]]:
    rng = np.random.default_rng(seed)
    days = [dt.date(2023, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 700, n)]
    return [d.strftime("%m/%d/%Y") for d in days], [pd.Timestamp(d) for d in days]


def test_us_line_item_export_is_read_month_first(tmp_path, capsys):
    """The measured failure: mm/dd/yyyy without date_format was read day first (bad and future
    dates, swapped months) and validate said "usable"."""
    texts, truth = _us_dates(2000)
    lines = [f"{t};C{i % 300};Косметология;{100 + i}" for i, t in enumerate(texts)]
    case_dir = _case(tmp_path, lines)
    loaded = load_case_data(load_case(case_dir))
    t = loaded.tables["transactions"]
    assert loaded.quality["transactions"].quarantined == {}
    assert t["date"].tolist() == truth
    assert main(["validate", str(case_dir)]) == 0


def test_day_first_column_is_read_day_first(tmp_path):
    lines = ["03/04/2024;C1;Косметология;1", "25/04/2024;C2;Косметология;2", "05/06/2024;C3;Косметология;3"]
    t = load_case_data(load_case(_case(tmp_path, lines))).tables["transactions"]
    assert t["date"].tolist() == [pd.Timestamp("2024-04-03"), pd.Timestamp("2024-04-25"), pd.Timestamp("2024-06-05")]


def test_each_column_decides_for_itself():
    us = P.parse_dates(pd.Series(["03/04/2024", "12/25/2024"], dtype=object)).values.tolist()
    eu = P.parse_dates(pd.Series(["03/04/2024", "25/12/2024"], dtype=object)).values.tolist()
    assert us == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-12-25")]
    assert eu == [pd.Timestamp("2024-04-03"), pd.Timestamp("2024-12-25")]


def test_ambiguous_column_stops_with_examples_and_the_line_to_add(tmp_path, capsys):
    lines = ["03/04/2024;C1;Косметология;1", "05/06/2024;C2;Косметология;2", "01/02/2024;C3;Косметология;3"]
    case_dir = _case(tmp_path, lines)
    assert main(["validate", str(case_dir)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "Traceback" not in out.err
    assert out.err.strip() == (
        "Error: File v.csv, column 'Дата' (transactions.date): dates such as 03/04/2024, 05/06/2024, 01/02/2024 "
        "can be read day first or month first and no value settles it; add the line date_format: \"%d/%m/%Y\" "
        "(day first) or date_format: \"%m/%d/%Y\" (month first) under sources.transactions in case.yml."
    )
    # the line it asks for works
    case_dir = _case(tmp_path, lines, date_format="%m/%d/%Y")
    t = load_case_data(load_case(case_dir)).tables["transactions"]
    assert t["date"].tolist()[0] == pd.Timestamp("2024-03-04")


def test_dotted_dates_are_day_first_without_asking(tmp_path):
    lines = ["03.04.2024;C1;Косметология;1", "05.06.2024;C2;Косметология;2"]
    t = load_case_data(load_case(_case(tmp_path, lines))).tables["transactions"]
    assert t["date"].tolist() == [pd.Timestamp("2024-04-03"), pd.Timestamp("2024-06-05")]


def test_ambiguous_with_time_suggests_the_time_too():
    with pytest.raises(P.AmbiguousDateOrder) as e:
        P.parse_dates(pd.Series(["03-04-2024 10:30", "05-06-2024 11:00"], dtype=object))
    assert e.value.formats == ("%d-%m-%Y %H:%M", "%m-%d-%Y %H:%M")


# ------------------------------------------------------------------ "usable" means usable
def _dated(tmp_path, bad: int, good: int, **extra):
    lines = [f"01.02.2024;C{i};Косметология;{i + 1}" for i in range(good)]
    lines += [f"31.02.2024;B{i};Косметология;{i + 1}" for i in range(bad)]
    return _case(tmp_path, lines, **extra)


def test_validate_fails_when_a_table_loses_more_than_the_share(tmp_path, capsys):
    case_dir = _dated(tmp_path, bad=30, good=70)
    assert main(["validate", str(case_dir)]) == 2
    out = capsys.readouterr()
    assert "transactions" in out.out  # the table is shown first
    assert out.err.startswith(
        "Error: The case is not usable: the transactions table loses 30 of its 100 rows (30%), more than the 20% "
        "allowed (limits.max_rows_lost_share in case.yml): bad_date: 30 ('Дата' expected a date")
    assert "date_format" in out.err


def test_validate_warns_between_the_two_shares_and_the_share_is_a_setting(tmp_path, capsys):
    case_dir = _dated(tmp_path, bad=10, good=90)
    assert main(["validate", str(case_dir)]) == 0
    out = capsys.readouterr().out
    assert "Warning: the transactions table loses 10 of its 100 rows (10%): bad_date: 10" in out
    assert "The case is usable." in out
    case_dir = _dated(tmp_path / "b", bad=30, good=70, limits={"max_rows_lost_share": 0.5})
    assert main(["validate", str(case_dir)]) == 0


def test_refunds_and_exact_repeats_are_not_lost(tmp_path, capsys):
    lines = [f"01.02.2024;C{i};Косметология;100" for i in range(5)]
    lines += ["01.02.2024;C0;Косметология;100"] * 3 + ["02.02.2024;C1;Косметология;-100"] * 2
    assert main(["validate", str(_case(tmp_path, lines))]) == 0
