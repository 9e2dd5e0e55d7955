"""Pieces shared by the case generators: canonical frames, parquet output, measured truths."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.synthetic.sales import Sales, SalesSpec

CANONICAL_TRANSACTIONS = ("customer_id", "date", "amount", "transaction_id", "brand", "business_line",
                          "service", "location", "staff_id", "channel")


def customer_codes(sales: Sales, width: int, rng: np.random.Generator, prefix: str = "") -> np.ndarray:
    """CRM-style customer codes: numbered in order of the first visit, with small random gaps
    (deleted cards), zero-padded to ``width`` digits so ids like '004517' must stay text."""
    order = np.lexsort((np.arange(sales.n_customers), sales.entry_day))
    steps = rng.choice(np.array([1, 1, 1, 1, 2, 3]), size=sales.n_customers)
    numbers = np.empty(sales.n_customers, dtype=np.int64)
    numbers[order] = 1000 + np.cumsum(steps)
    width = max(width, len(str(int(numbers.max()))))
    text = pd.Series(numbers).astype(str).str.zfill(width)
    return (prefix + text).to_numpy(dtype=object)


def row_arrays(sales: Sales, spec: SalesSpec) -> dict[str, np.ndarray]:
    """Per-row canonical values as integer codes/numbers (cheap even for ~10M rows)."""
    r_j = sales.v_journey[sales.r_visit]
    channel = sales.v_channel[sales.r_visit]
    online = np.zeros(r_j.size, bool)
    if spec.online_location is not None:
        online_code = np.flatnonzero(sales.channel_names == "online")
        if online_code.size:
            online = channel == online_code[0]
    location = np.where(online, sales.location_names.size - 1, sales.j_location[r_j])
    staff = np.where(online, -1, sales.j_staff[r_j])
    return {
        "customer": sales.j_customer[r_j],
        "day": sales.v_day[sales.r_visit],
        "amount": sales.r_amount,
        "brand": sales.j_brand[r_j],
        "line": sales.j_line[r_j],
        "service": sales.r_service,
        "location": location,
        "staff": staff,
        "channel": channel,
        "qty": sales.r_qty,
        "visit": sales.r_visit,
    }


def write_parquet_case(out: Path, sales: Sales, spec: SalesSpec, codes: np.ndarray,
                       brand_ids: tuple[str, ...], leads_frame: pd.DataFrame | None) -> dict[str, int]:
    """The sales history and customers as parquet with canonical columns (no dirty rows).

    Built with pyarrow compute so ~10M rows take seconds: strings come from dictionary
    lookups (``take``), never from Python loops.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rows = row_arrays(sales, spec)
    order = np.lexsort((rows["visit"], rows["day"]))  # chronological, like an export
    n = order.size
    codes_arr = pa.array(codes, type=pa.string())
    epoch = np.datetime64(spec.history_start, "D")
    dates = (epoch + rows["day"][order].astype("timedelta64[D]")).astype("datetime64[ns]")
    tid = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), len(str(n)), "0")
    staff_names = np.append(sales.staff_names, None)  # -1 -> blank
    staff_idx = np.where(rows["staff"][order] < 0, staff_names.size - 1, rows["staff"][order])
    line_ids = pa.array([ln.id for ln in spec.lines])
    table = pa.table({
        "customer_id": pc.take(codes_arr, pa.array(rows["customer"][order])),
        "date": pa.array(dates, type=pa.timestamp("ns")),
        "amount": pa.array(rows["amount"][order].astype(float)),
        "transaction_id": tid,
        "brand": pc.take(pa.array(list(brand_ids)), pa.array(rows["brand"][order])),
        "business_line": pc.take(line_ids, pa.array(rows["line"][order])),
        "service": pc.take(pa.array(list(sales.service_names)), pa.array(rows["service"][order])),
        "location": pc.take(pa.array(list(sales.location_names)), pa.array(rows["location"][order])),
        "staff_id": pc.take(pa.array(list(staff_names), type=pa.string()), pa.array(staff_idx)),
        "channel": pc.take(pa.array(list(sales.channel_names)), pa.array(rows["channel"][order])),
    })
    pq.write_table(table, out / "transactions.parquet", compression="zstd")
    cust = pa.table({
        "customer_id": codes_arr,
        "gender": pa.array(sales.gender.astype(str)),
        "birth_year": pa.array(sales.birth_year.astype(np.int64)),
        "city": pa.array(sales.city.astype(str)),
        "first_source": pa.array(sales.first_source.astype(str)),
    })
    cust = cust.take(pc.sort_indices(cust, sort_keys=[("customer_id", "ascending")]))
    pq.write_table(cust, out / "customers.parquet", compression="zstd")
    if leads_frame is not None:
        leads_frame.to_parquet(out / "leads.parquet", index=False)
    return {"transactions": n, "customers": sales.n_customers}


# -- leads and dates as the exports spell them ---------------------------------------------

def day_text(history_start: dt.date, days: np.ndarray, date_format: str) -> np.ndarray:
    """Dates ``days`` after the history start as text in an export's format ('%d.%m.%Y', '%Y-%m-%d')."""
    d = pd.to_datetime(history_start) + pd.to_timedelta(days, unit="D")
    return pd.Series(d).dt.strftime(date_format).to_numpy(dtype=object)


def mixed_date_cells(history_start: dt.date, days: np.ndarray, as_text: np.ndarray, date_format: str) -> np.ndarray:
    """Date cells as an xlsx export mixes them: real Excel dates, and text where ``as_text``."""
    dates = pd.to_datetime(history_start) + pd.to_timedelta(days, unit="D")
    return np.where(as_text, day_text(history_start, days, date_format),
                    np.array([d.date() for d in dates], dtype=object))


@dataclass(frozen=True)
class LeadExport:
    """How one CRM export of leads (or webshop sessions) names its columns and spells its dirty rows.

    ``customer``: the column of the linked customer code (blank on new leads), None when the
    export has none; leads are numbered ``id_prefixes`` (one per funnel) + a zero-padded number.
    """

    id: str
    date: str
    brand: str
    source: str
    stage: str
    lost_reason: str
    customer: str | None
    id_prefixes: tuple[str, ...]
    id_width: int
    unknown_stages: tuple[str, ...]
    bad_dates: tuple[str, ...]


def lead_columns(leads, date_cells: np.ndarray, funnels, brand_name: dict[str, str],
                 export: LeadExport) -> dict[str, np.ndarray]:
    """The columns every leads export has, one cell per lead in simulation order: lead number,
    date, brand, source, the furthest stage as the CRM names it, the lost reason (blank for none)."""
    return {
        export.id: lead_ids(leads.brand, leads.seq, export.id_prefixes, export.id_width),
        export.date: date_cells,
        export.brand: np.array([brand_name[f.brand] for f in funnels], dtype=object)[leads.brand],
        export.source: leads.source,
        export.stage: leads.stage_text,
        export.lost_reason: np.where(leads.lost_reason == "", None, leads.lost_reason),
    }


def lead_ids(brand: np.ndarray, seq: np.ndarray, prefixes: tuple[str, ...], width: int) -> np.ndarray:
    """CRM lead numbers: the brand's prefix and the lead's number within its brand, zero-padded
    to ``width`` digits ('ЭП-00042', 'NB-S000042')."""
    prefix = np.array(prefixes, dtype=object)[np.asarray(brand)]
    return prefix + pd.Series(seq).astype(str).str.zfill(width).to_numpy(dtype=object)


def leads_canonical(leads, ids: np.ndarray, funnels, funnel_stages: tuple[str, ...], history_start: dt.date,
                    lead_customer: np.ndarray | None = None) -> pd.DataFrame:
    """The clean leads with canonical columns (the parquet output): one row per lead;
    ``customer_id`` is the customer a lead became ('' or ``None``: not linked to a customer)."""
    if lead_customer is None:
        customer = pd.array([None] * leads.day.size, dtype="string")
    else:
        customer = pd.array(np.where(lead_customer == "", None, lead_customer), dtype="string")
    return pd.DataFrame({
        "lead_id": pd.array(ids, dtype="string"),
        "created_at": pd.to_datetime(history_start) + pd.to_timedelta(leads.day, unit="D"),
        "brand": pd.array([funnels[b].brand for b in leads.brand], dtype="string"),
        "stage_reached": pd.array(np.array(funnel_stages, dtype=object)[leads.stage], dtype="string"),
        "source": pd.array(leads.source, dtype="string"),
        "lost_reason": pd.array(np.where(leads.lost_reason == "", None, leads.lost_reason), dtype="string"),
        "budget": leads.budget.astype(float),
        "customer_id": customer,
    })


# -- measured values (the "observed" part of truth.yml) ------------------------------------

def line_repeat(sales: Sales, line: int, horizon: int, max_gap: int, n_max: int) -> dict:
    """Observed return rates of one line with the censoring rule of the truth file.

    eligible(n) = journeys whose visit n is at least ``max_gap`` days before as_of;
    returned(n) = those of them with a visit n + 1. Gap before visit n is measured on
    visits n whose visit n - 1 was eligible (so long gaps are not censored away).
    """
    in_line = sales.j_line[sales.v_journey] == line
    j, no, day = sales.v_journey[in_line], sales.v_no[in_line], sales.v_day[in_line]
    has_next = np.r_[j[1:] == j[:-1], False]
    next_day = np.r_[day[1:], 0]
    eligible = day <= horizon - max_gap
    p, n_elig, gaps = {}, {}, {}
    for n in range(1, n_max + 1):
        at = (no == n) & eligible
        n_elig[str(n)] = int(at.sum())
        p[str(n)] = round(float(has_next[at].mean()), 4) if at.any() else None
        if n >= 2:
            prev = (no == n - 1) & eligible & has_next
            g = next_day[prev] - day[prev]
            gaps[str(n)] = float(np.median(g)) if g.size else None
    journeys = int((no == 1).sum())
    return {"journeys": journeys, "visits": int(no.size), "p_return": p, "eligible": n_elig,
            "median_gap_days": gaps}


def date_of(spec: SalesSpec, day) -> dt.date:
    return spec.history_start + dt.timedelta(days=int(day))


def ru_money(values: np.ndarray, seps: np.ndarray, decimal: str = ",") -> np.ndarray:
    """Amounts as a Russian accounting export writes them: '12 500,00', '12\u00a0500,00', '12500,00'.

    ``seps`` gives the thousands separator of each value ('' for none). Vectorised with
    pandas string operations.
    """
    v = np.asarray(values, dtype=float)
    neg = v < 0
    cents = np.rint(np.abs(v) * 100).astype(np.int64)
    whole = pd.Series(cents // 100).astype(str)
    frac = pd.Series(cents % 100).astype(str).str.zfill(2)
    sep = pd.Series(seps, dtype=object).astype(str)
    length = whole.str.len()
    t1 = whole.str[:-3] + sep + whole.str[-3:]
    t2 = whole.str[:-6] + sep + whole.str[-6:-3] + sep + whole.str[-3:]
    text = whole.where(length <= 3, t1.where(length <= 6, t2))
    out = np.where(neg, "-", "") + (text + decimal + frac).to_numpy(dtype=object)
    return out
