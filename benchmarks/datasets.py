"""Scaled benchmark cases, generated once and cached under ``benchmarks/data/`` (git-ignored).

The generator (``toolkit.synthetic``) simulates about 3 transaction rows per customer (a clinic
patient makes 1-2 visits, 1-3 services each). A loyalty-card history has more receipts per
customer, and the generator has no knob for that, so each set is the clinic case at a
generator scale, with its customers *folded*: the generator's customers, sorted by id, are dealt
round-robin onto ``customers`` ids (the i-th generator customer becomes the (i mod K)-th kept
id), so every kept customer carries the merged histories of ~3.4 simulated ones, ~10 rows and
~6-7 visits. Rows, dates, amounts, lines and staff are the generator's, untouched; only
``customer_id`` is rewritten (transactions, customers, leads), the customers table keeps the
first K customers. The folded case is still a valid case folder (``case.yml`` from the
generator's parquet output), loadable by ``toolkit.data.load``.

| set | generator | rows | customers |
|---|---|---|---|
| ``tx_1m``  | clinic_group, scale 24.5 | ~1.0M  | 100 000 |
| ``tx_10m`` | clinic_group, scale 245  | ~10.0M | 1 000 000 |
| ``tx_100m`` | ``tx_10m`` x 10 | ~100M | 10 000 000 |

All sets have the same shape (~10 rows per customer), so each step is 10x the rows *and* the
customers. ``tx_100m`` is not generated (the generator would need ~10 min and tens of GB at
scale 2450): it is ``tx_10m``'s transactions written 10 times, copy k with its customer ids
suffixed ``-k`` (10M distinct customers, the same dates, amounts, lines and staff), which is
enough for speed and memory; it has transactions only (the jobs read nothing else).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 20251231  # the clinic case's default seed


@dataclass(frozen=True)
class SetSpec:
    name: str
    scale: float
    customers: int
    copies_of: str | None = None  # built from that set, written ``copies`` times
    copies: int = 1

    @property
    def folder(self) -> Path:
        return DATA / self.name

    @property
    def transactions(self) -> Path:
        return self.folder / "transactions.parquet"


SETS = {
    "tx_1m": SetSpec("tx_1m", 24.5, 100_000),
    "tx_10m": SetSpec("tx_10m", 245.0, 1_000_000),
    "tx_100m": SetSpec("tx_100m", 2450.0, 10_000_000, copies_of="tx_10m", copies=10),
}
DEFAULT_SETS = ["tx_1m", "tx_10m"]  # tx_100m on request (--sets): ~1.5 GB on disk, minutes per run


def _copies(src: Path, dst: Path, copies: int) -> dict:
    """``dst/transactions.parquet`` = ``src``'s transactions ``copies`` times, customer ids suffixed."""
    import duckdb

    dst.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET memory_limit = '2GB'")
    con.execute(f"""COPY (
        SELECT t.* REPLACE (t.customer_id || '-' || CAST(k.range AS VARCHAR) AS customer_id)
        FROM range({int(copies)}) k, read_parquet('{src / "transactions.parquet"}') t
    ) TO '{dst / "transactions.parquet"}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)""")
    rows, first, last = con.execute(
        f"SELECT count(*), min(date), max(date) FROM read_parquet('{dst / 'transactions.parquet'}')"
    ).fetchone()
    con.close()
    return {"rows": int(rows), "first_date": str(first)[:10], "last_date": str(last)[:10]}


def _fold(src: Path, dst: Path, customers: int) -> dict:
    """Write ``dst`` = the generator's case in ``src`` with customers folded onto ``customers`` ids."""
    import duckdb

    dst.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"""CREATE TABLE fold AS
        WITH ids AS (SELECT customer_id, row_number() OVER (ORDER BY customer_id) - 1 AS i
                     FROM read_parquet('{src / "customers.parquet"}'))
        SELECT a.customer_id AS old_id, b.customer_id AS new_id
        FROM ids a JOIN ids b ON b.i = a.i % {int(customers)}""")
    # keep the generator's row order (by date), so the file reads like an export
    con.execute(f"""COPY (
        SELECT t.* EXCLUDE (file_row_number) REPLACE (f.new_id AS customer_id)
        FROM read_parquet('{src / "transactions.parquet"}', file_row_number = true) t
        JOIN fold f ON f.old_id = t.customer_id ORDER BY t.file_row_number
    ) TO '{dst / "transactions.parquet"}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)""")
    con.execute(f"""COPY (
        SELECT c.* FROM read_parquet('{src / "customers.parquet"}', file_row_number = true) c
        WHERE c.customer_id IN (SELECT new_id FROM fold) ORDER BY c.file_row_number
    ) TO '{dst / "customers.parquet"}' (FORMAT parquet, COMPRESSION zstd)""")
    con.execute(f"""COPY (
        SELECT l.* EXCLUDE (file_row_number) REPLACE (f.new_id AS customer_id)
        FROM read_parquet('{src / "leads.parquet"}', file_row_number = true) l
        LEFT JOIN fold f ON f.old_id = l.customer_id ORDER BY l.file_row_number
    ) TO '{dst / "leads.parquet"}' (FORMAT parquet, COMPRESSION zstd)""")
    shutil.copy(src / "case.yml", dst / "case.yml")
    rows, n_customers, first, last = con.execute(
        f"SELECT count(*), count(DISTINCT customer_id), min(date), max(date) FROM read_parquet('{dst / 'transactions.parquet'}')"
    ).fetchone()
    con.close()
    return {"rows": int(rows), "customers": int(n_customers), "first_date": str(first)[:10], "last_date": str(last)[:10]}


def ensure_set(name: str, log=print) -> dict:
    """Generate set ``name`` unless cached; return its description (rows, customers, ...)."""
    spec = SETS[name]
    info_path = spec.folder / "set.json"
    if info_path.exists() and spec.transactions.exists():
        return json.loads(info_path.read_text())
    if spec.copies_of:
        base = ensure_set(spec.copies_of, log)
        t0 = time.perf_counter()
        log(f"writing {spec.copies} copies of {spec.copies_of} into {spec.folder} ...")
        info = _copies(SETS[spec.copies_of].folder, spec.folder, spec.copies)
        info.update(name=name, copies_of=spec.copies_of, copies=spec.copies,
                    customers=base["customers"] * spec.copies, seconds_to_build=round(time.perf_counter() - t0, 1))
        info_path.write_text(json.dumps(info, indent=2))
        return info
    from toolkit.synthetic import generate_case

    raw = DATA / f"_generator_clinic_scale_{spec.scale:g}"
    t0 = time.perf_counter()
    if not (raw / "transactions.parquet").exists():
        log(f"generating clinic_group at scale {spec.scale:g} into {raw} ...")
        generate_case("clinic_group", raw, seed=SEED, scale=spec.scale, fmt="parquet")
    log(f"folding onto {spec.customers:,} customers into {spec.folder} ...")
    info = _fold(raw, spec.folder, spec.customers)
    info.update(name=name, generator="clinic_group", seed=SEED, scale=spec.scale,
                folded_onto_customers=spec.customers, seconds_to_build=round(time.perf_counter() - t0, 1))
    info_path.write_text(json.dumps(info, indent=2))
    shutil.rmtree(raw, ignore_errors=True)  # the folded set is all the benchmark reads
    return info
