"""The two benchmark jobs, each written three ways.

Jobs (definitions: ``toolkit/sales.py``, ``toolkit/rfm.py``, ``toolkit/loyalty.py``):

- ``summary``: the customer summary with RFM (whole history): per customer the recency
  (days from the last visit to ``as_of``), frequency (visits = customer-days), monetary
  (visit amounts + refunds), the 1-5 scores (``1 + floor(5 * w / n)``, w = customers with a
  strictly worse value) and the segment.
- ``loyalty``: the visit sequence (customer-days numbered per customer, in the whole history
  and within each business line), the gaps, the return window W of each scope (99th
  percentile of the gaps, the whole history's for a line with < 30 gaps, capped at half the
  history), and per scope and visit number: visits, average check, eligible, returned (the
  repeat curve) and the quartiles of the gap to the next visit among the returns (intervals).

Implementations:

- ``toolkit``: the toolkit's own functions (``rfm_scores``; ``visit_number_table`` +
  ``repeat_curve_from_table`` + ``gap_intervals_from_table``) over the parquet file;
- ``duckdb``: one plain hand-written DuckDB query per job (``GROUP BY`` and windows with
  ``row_number()`` / ``lag()`` / ``lead()``), the reference for what this machine can do;
- ``pandas``: what an analyst would write (sort, ``groupby().cumcount()``, ``diff``).

Each returns a pandas DataFrame; :func:`normalise` puts them in one comparable form.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

MAX_VISIT = 15
QUANTILE = 0.99
MIN_GAPS = 30
FALLBACK_W = 365
SUMMARY_COLUMNS = ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "segment"]
LOYALTY_COLUMNS = ["scope", "visit_number", "visits", "average_check", "eligible", "returned", "return_window_days",
                   "gap_q25", "gap_median", "gap_q75"]


def _date(as_of) -> str:
    return pd.Timestamp(as_of).date().isoformat()


# -- toolkit -----------------------------------------------------------------------------------


def toolkit_summary(path, as_of):
    from toolkit.segmentation.rfm import rfm_scores
    from toolkit.core.sales import sales_history

    sales = sales_history(path, as_of=as_of, cache=False)
    try:
        return rfm_scores(sales)
    finally:
        sales.close()


def toolkit_loyalty(path, as_of):
    from toolkit.loyalty.repeat import gap_intervals_from_table, repeat_curve_from_table, visit_number_table
    from toolkit.core.sales import sales_history

    sales = sales_history(path, as_of=as_of, cache=False)
    try:
        table = visit_number_table(sales, per_line=True)
    finally:
        sales.close()
    # the repeat curve and the intervals are read off the table (small pandas work, timed too)
    repeat_curve_from_table(table, MAX_VISIT)
    gap_intervals_from_table(table, MAX_VISIT)
    return table


# -- hand-written DuckDB -----------------------------------------------------------------------


def _segments(df: pd.DataFrame) -> pd.Series:
    from toolkit.segmentation.rfm import assign_segments  # the R x F label grid: a lookup, not a computation

    return assign_segments(df["r_score"], df["f_score"], df["m_score"])


def _hand_connection():
    """A DuckDB connection with the toolkit's settings (the same memory limit, spilling to the
    same temp folder beyond it, unordered intermediate tables): a like-for-like reference."""
    import os
    import tempfile

    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET memory_limit = '{os.environ.get('CJM_DUCKDB_MEMORY_LIMIT', '2GB')}'")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/cjm-duckdb'")
    return con


def duckdb_summary(path, as_of):
    a = f"DATE '{_date(as_of)}'"
    con = _hand_connection()
    df = con.execute(f"""
        WITH src AS (SELECT * FROM read_parquet('{path}')),
        visits AS (    -- one visit per customer-day
            SELECT customer_id, CAST(date AS DATE) AS day, sum(amount) AS amount FROM src
            WHERE amount >= 0 AND CAST(date AS DATE) <= {a} GROUP BY customer_id, day),
        per_customer AS (
            SELECT customer_id, max(day) AS last_visit, count(*) AS frequency, sum(amount) AS revenue
            FROM visits GROUP BY customer_id),
        refunds AS (
            SELECT customer_id, sum(-abs(amount)) AS refunds FROM src
            WHERE amount < 0 AND CAST(date AS DATE) <= {a} GROUP BY customer_id),
        rfm AS (
            SELECT customer_id, date_diff('day', last_visit, {a}) AS recency_days, frequency,
                   revenue + coalesce(refunds, 0) AS monetary
            FROM per_customer LEFT JOIN refunds USING (customer_id))
        SELECT *,
               1 + 5 * (rank() OVER (ORDER BY recency_days DESC) - 1) // count(*) OVER () AS r_score,
               1 + 5 * (rank() OVER (ORDER BY frequency) - 1) // count(*) OVER () AS f_score,
               1 + 5 * (rank() OVER (ORDER BY monetary) - 1) // count(*) OVER () AS m_score
        FROM rfm ORDER BY customer_id""").df()
    con.close()
    df["segment"] = _segments(df)
    return df


def duckdb_loyalty(path, as_of):
    a = f"DATE '{_date(as_of)}'"
    con = _hand_connection()
    df = con.execute(f"""
        WITH sale AS (
            SELECT customer_id, CAST(date AS DATE) AS day, amount, business_line FROM read_parquet('{path}')
            WHERE amount >= 0 AND CAST(date AS DATE) <= {a}),
        visits AS (    -- customer-days: in the whole history, and in each line
            SELECT 'all_lines' AS scope, customer_id, day, sum(amount) AS amount FROM sale GROUP BY customer_id, day
            UNION ALL
            SELECT business_line, customer_id, day, sum(amount) FROM sale
            WHERE business_line IS NOT NULL GROUP BY business_line, customer_id, day),
        numbered AS (
            SELECT scope, day, amount,
                   row_number() OVER w AS visit_number,
                   date_diff('day', lag(day) OVER w, day) AS gap,
                   date_diff('day', day, lead(day) OVER w) AS days_to_next
            FROM visits WINDOW w AS (PARTITION BY scope, customer_id ORDER BY day)),
        gaps AS (SELECT scope, count(gap) AS n, quantile_disc(gap, {QUANTILE}) AS q FROM numbered GROUP BY scope),
        span AS (SELECT greatest(1, date_diff('day', min(day), {a}) // 2) AS cap FROM numbered),
        w AS (         -- the return window W of each scope
            SELECT g.scope, CAST(greatest(1, least(span.cap, CASE
                       WHEN g.n >= {MIN_GAPS} THEN g.q
                       ELSE coalesce((SELECT q FROM gaps WHERE scope = 'all_lines' AND n >= {MIN_GAPS}), g.q, {FALLBACK_W})
                   END)) AS INTEGER) AS w
            FROM gaps g, span),
        events AS (
            SELECT n.*, w.w, n.day <= {a} - w.w AS eligible,
                   n.day <= {a} - w.w AND coalesce(n.days_to_next <= w.w, false) AS returned
            FROM numbered n JOIN w USING (scope))
        SELECT scope, visit_number, count(*) AS visits, avg(amount) AS average_check,
               count(*) FILTER (WHERE eligible) AS eligible, count(*) FILTER (WHERE returned) AS returned,
               any_value(w) AS return_window_days,
               quantile_cont(days_to_next, 0.25) FILTER (WHERE returned) AS gap_q25,
               quantile_cont(days_to_next, 0.5) FILTER (WHERE returned) AS gap_median,
               quantile_cont(days_to_next, 0.75) FILTER (WHERE returned) AS gap_q75
        FROM events GROUP BY scope, visit_number ORDER BY scope, visit_number""").df()
    con.close()
    return df


# -- plain pandas ------------------------------------------------------------------------------


def _read(path, columns):
    return pd.read_parquet(path, columns=columns)


def pandas_summary(path, as_of):
    as_of = pd.Timestamp(as_of)
    df = _read(path, ["customer_id", "date", "amount"])
    df["day"] = df["date"].dt.floor("D")
    df = df[df["day"] <= as_of]
    sales, refunds = df[df["amount"] >= 0], df[df["amount"] < 0]
    visits = sales.groupby(["customer_id", "day"], sort=False)["amount"].sum().reset_index()
    per = visits.groupby("customer_id").agg(last_visit=("day", "max"), frequency=("day", "size"),
                                            revenue=("amount", "sum"))
    back = (-refunds["amount"].abs()).groupby(refunds["customer_id"]).sum()
    per["monetary"] = per["revenue"] + back.reindex(per.index).fillna(0.0)
    per["recency_days"] = (as_of - per["last_visit"]).dt.days
    n = len(per)
    for col, score, worse_first in (("recency_days", "r_score", False), ("frequency", "f_score", True),
                                    ("monetary", "m_score", True)):
        rank = per[col].rank(method="min", ascending=worse_first).astype("int64")
        per[score] = 1 + 5 * (rank - 1) // n
    out = per.reset_index()[["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score"]]
    out["segment"] = _segments(out)
    return out


def _numbered(visits: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Number the visits within ``keys`` (sorted by day) and add the gaps before and after."""
    visits = visits.sort_values(keys + ["day"], kind="stable", ignore_index=True)
    g = visits.groupby(keys, sort=False)
    visits["visit_number"] = g.cumcount() + 1
    step = g["day"].diff().dt.days
    visits["gap"] = step
    visits["days_to_next"] = step.shift(-1).where(visits["visit_number"].shift(-1) > 1)
    return visits


def pandas_loyalty(path, as_of):
    as_of = pd.Timestamp(as_of)
    df = _read(path, ["customer_id", "date", "amount", "business_line"])
    df["day"] = df["date"].dt.floor("D")
    sale = df[(df["amount"] >= 0) & (df["day"] <= as_of)]
    whole = sale.groupby(["customer_id", "day"], sort=False)["amount"].sum().reset_index()
    whole = _numbered(whole, ["customer_id"])
    whole.insert(0, "scope", "all_lines")
    lines = sale[sale["business_line"].notna()]
    per_line = lines.groupby(["business_line", "customer_id", "day"], sort=False)["amount"].sum().reset_index()
    per_line = _numbered(per_line, ["business_line", "customer_id"]).rename(columns={"business_line": "scope"})
    v = pd.concat([whole, per_line], ignore_index=True)

    gaps = v.dropna(subset=["gap"]).groupby("scope")["gap"]
    # W: the smallest gap g with at least 99 % of the scope's gaps <= g
    q = gaps.apply(lambda s: np.quantile(s.to_numpy(), QUANTILE, method="inverted_cdf"))
    n = gaps.size()
    scopes = v["scope"].unique()
    cap = max(1, (as_of - v["day"].min()).days // 2)
    overall = q.get("all_lines") if n.get("all_lines", 0) >= MIN_GAPS else None
    w = {}
    for s in scopes:  # a handful of scopes
        if n.get(s, 0) >= MIN_GAPS:
            raw = q[s]
        else:
            raw = overall if overall is not None else q.get(s, FALLBACK_W)
        w[s] = int(max(1, min(cap, raw)))
    v["return_window_days"] = v["scope"].map(w).astype("int64")
    limit = as_of - pd.to_timedelta(v["return_window_days"], unit="D")
    v["eligible"] = v["day"] <= limit
    v["returned"] = v["eligible"] & (v["days_to_next"] <= v["return_window_days"]).fillna(False)
    g = v.groupby(["scope", "visit_number"])
    table = g.agg(visits=("amount", "size"), average_check=("amount", "mean"), eligible=("eligible", "sum"),
                  returned=("returned", "sum"), return_window_days=("return_window_days", "first"))
    back = v[v["returned"]].groupby(["scope", "visit_number"])["days_to_next"]
    for name, p in (("gap_q25", 0.25), ("gap_median", 0.5), ("gap_q75", 0.75)):
        table[name] = back.quantile(p)
    return table.reset_index()


# -- comparison --------------------------------------------------------------------------------


def normalise(job: str, df: pd.DataFrame) -> pd.DataFrame:
    """One comparable form: the job's columns, plain dtypes, sorted."""
    if job == "summary":
        df = df[SUMMARY_COLUMNS].copy()
        df["customer_id"] = df["customer_id"].astype(str)
        for c in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
            df[c] = df[c].astype("int64")
        df["monetary"] = df["monetary"].astype("float64")
        df["segment"] = df["segment"].astype(str)
        return df.sort_values("customer_id", ignore_index=True)
    df = df[LOYALTY_COLUMNS].copy()
    df["scope"] = df["scope"].astype(str)
    for c in ("visit_number", "visits", "eligible", "returned", "return_window_days"):
        df[c] = df[c].astype("int64")
    for c in ("average_check", "gap_q25", "gap_median", "gap_q75"):
        df[c] = df[c].astype("float64")
    return df.sort_values(["scope", "visit_number"], ignore_index=True)


def differences(job: str, a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """What differs between two normalised results (empty: identical; floats to 1e-9 relative)."""
    if a.shape != b.shape:
        return [f"shape {a.shape} != {b.shape}"]
    out = []
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_float_dtype(x.dtype):
            xs, ys = x.to_numpy(), y.to_numpy()
            same = np.isclose(xs, ys, rtol=1e-9, atol=1e-9) | (np.isnan(xs) & np.isnan(ys))
        else:
            same = (x.to_numpy() == y.to_numpy())
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            out.append(f"{c}: {int((~same).sum())} rows differ (first at row {i}: {x.iloc[i]!r} vs {y.iloc[i]!r})")
    return out


JOBS = {
    "summary": {"toolkit": toolkit_summary, "duckdb": duckdb_summary, "pandas": pandas_summary},
    "loyalty": {"toolkit": toolkit_loyalty, "duckdb": duckdb_loyalty, "pandas": pandas_loyalty},
}

AS_OF = dt.date(2025, 12, 31)  # the clinic case's as_of
