"""Shared by tests/test_engines_*.py: the clinic case's canonical transactions, the sales
analytics of a sales history gathered in one dict, and the comparison of two such dicts.

The file run is the embedded DuckDB over the loader's tables (transactions and refunds); the
engine run gets one table holding both (a client's table keeps its refunds as negative rows),
as the client's database would hold it.
"""

from __future__ import annotations

import functools
import shutil
import socket
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.core.config import Parameters, load_case
from toolkit.core.engine import backend_engine
from toolkit.core.sales import (
    SalesHistory,
    customer_summary,
    sales_history,
    sales_history_in,
)
from toolkit.data.load import load_case_data
from toolkit.loyalty.repeat import (
    cross_penetration,
    cross_penetration_metrics,
    lifetime_value,
    loyalty_metrics,
    loyalty_tables,
    staff_dependency,
    staff_dependency_metrics,
)
from toolkit.segmentation.rfm import rfm_metrics, rfm_scores

ROOT = Path(__file__).resolve().parents[1]
CLINIC = ROOT / "case_studies" / "clinic_group"
COLUMNS = ["customer_id", "date", "amount", "business_line", "staff_id", "brand"]


@functools.cache
def clinic():
    """(case, transactions, refunds, one table with both) of the clinic case, canonical."""
    case = load_case(CLINIC)
    data = load_case_data(case, ["transactions"])
    tx = data.tables["transactions"][COLUMNS].copy()
    refunds = data.refunds.copy()
    for c in COLUMNS:
        if c not in refunds:
            refunds[c] = None
    both = pd.concat([tx, refunds[COLUMNS]], ignore_index=True)
    # what a database column holds: dates as dates, text as text
    both["date"] = pd.to_datetime(both["date"]).dt.date
    for c in ("customer_id", "business_line", "staff_id", "brand"):
        both[c] = both[c].astype("object").where(both[c].notna(), None).astype("object")
    both["amount"] = both["amount"].astype("float64")
    return case, tx, refunds, both


def file_history() -> SalesHistory:
    case, tx, refunds, _ = clinic()
    return sales_history(tx, refunds, as_of=case.as_of, visit_definition=case.parameters.visit_definition)


def analytics(sales: SalesHistory, parameters: Parameters) -> dict:
    """Every sales analysis of the loyalty and segmentation steps, tables and metrics."""
    p = parameters
    scores = rfm_scores(sales, per_line=True)
    tables = loyalty_tables(sales, p)
    cross = cross_penetration(sales, min_segment_size=p.min_segment_size, confidence=p.confidence)
    staff = staff_dependency(sales, min_segment_size=p.min_segment_size, confidence=p.confidence)
    return {
        "rfm_scores": scores,
        "rfm_metrics": rfm_metrics(sales, p, scores),
        "customer_summary": customer_summary(sales, per_line=True),
        "visit_numbers": tables["visit_numbers"],
        "repeat_curve": tables["repeat_curve"],
        "gap_intervals": tables["gap_intervals"],
        "average_check": tables["average_check"],
        "stages": tables["stages"],
        "lifetime_value": tables["lifetime_value"],
        "lifetime_value_quarter": lifetime_value(sales, cohort="quarter"),
        "loyalty_metrics": loyalty_metrics(sales, p, tables),
        "cross_penetration": cross,
        "cross_penetration_metrics": cross_penetration_metrics(sales, p, table=cross),
        "staff_dependency": staff,
        "staff_dependency_metrics": staff_dependency_metrics(sales, p, table=staff),
    }


def file_and_engine_analytics(con, table: str, engine_name: str, rows: int) -> None:
    """The clinic's sales analytics from the file run and from ``table`` in the engine behind the
    ibis connection ``con``: the engine is the one named, it read every row, nothing was copied
    into the embedded DuckDB, and the numbers are the same."""
    case = clinic()[0]
    p = case.parameters
    want_sales = file_history()
    try:
        want = analytics(want_sales, p)
    finally:
        want_sales.close()
    engine = backend_engine(con)
    sales = sales_history_in(engine, con.table(table), as_of=case.as_of, visit_definition=p.visit_definition)
    try:
        got = analytics(sales, p)
        assert engine.name == engine_name
        assert sales.rows_read == rows
        assert sales.con is None  # nothing of the table was copied into the embedded DuckDB
    finally:
        sales.close()
    assert_same_analytics(got, want)


def assert_same_analytics(got: dict, want: dict) -> None:
    """Metrics dicts identical; tables identical (text and counts exactly, money to 1e-9)."""
    assert got.keys() == want.keys()
    for key, w in want.items():
        g = got[key]
        if isinstance(w, pd.DataFrame):
            assert list(g.columns) == list(w.columns), key
            assert len(g) == len(w), key
            for c in w.columns:
                gc, wc = g[c], w[c]
                if pd.api.types.is_float_dtype(wc) or pd.api.types.is_float_dtype(gc):
                    np.testing.assert_allclose(gc.to_numpy("float64", na_value=np.nan),
                                               wc.to_numpy("float64", na_value=np.nan),
                                               rtol=1e-9, atol=1e-9, err_msg=f"{key}.{c}")
                else:
                    assert gc.astype("str").tolist() == wc.astype("str").tolist(), f"{key}.{c}"
        else:
            assert g == w, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def which(name: str) -> str | None:
    return shutil.which(name)
