"""The sales analytics inside a real PostgreSQL server give the file run's numbers.

A throw-away server: Debian's ``initdb``/``pg_ctl`` in a temporary folder, run as an
unprivileged user (``nobody`` when the tests run as root), listening on a free loopback port.
The clinic case's canonical transactions (refunds as negative rows, as a client's table keeps
them) are loaded into it; the analyses run there through ibis and only aggregates come back.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from engine_cases import (
    CLINIC,
    analytics,
    assert_same_analytics,
    clinic,
    file_and_engine_analytics,
    file_history,
    free_port,
)
from pydantic import ValidationError

from toolkit.core.config import DatabaseSource, Source, Sources
from toolkit.core.engine import backend_engine, resolve_url
from toolkit.core.engine_note import run_engine_summary
from toolkit.core.errors import CaseError
from toolkit.core.run_folder import RunFolder
from toolkit.core.sales import sales_history_for_case, sales_history_in
from toolkit.barriers import step as barriers
from toolkit.data import step as data_audit
from toolkit.double_funnel import step as double_funnel
from toolkit.loyalty import step as loyalty
from toolkit.pipeline.notebook import start_step
from toolkit.segmentation import step as segmentation
from toolkit.stage_mapping import step as stage_mapping
from toolkit.segmentation.rfm import rfm_scores


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@pytest.fixture(scope="module")
def postgres():
    ibis = pytest.importorskip("ibis")
    pytest.importorskip("psycopg", reason="psycopg (the PostgreSQL client) is not installed")
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): install postgresql")
    # not under pytest's own temporary folder: that one is private to the user running the tests
    folder = Path(tempfile.mkdtemp(prefix="cjm-pg-"))
    data, sockets, log = folder / "data", folder / "sock", folder / "server.log"
    sockets.mkdir()
    user = {}
    if os.geteuid() == 0:  # initdb refuses root: the server runs as nobody
        pw = pwd.getpwnam("nobody")
        user = {"user": pw.pw_uid, "group": pw.pw_gid}
        for p in (folder, sockets):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    port = free_port()
    env = {**os.environ, "LC_ALL": "C"}
    init = subprocess.run(
        [f"{bin_dir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"],
        capture_output=True, text=True, env=env, cwd=folder, **user,
    )
    if init.returncode != 0:
        pytest.skip(f"initdb could not create a database cluster: {init.stderr.strip()[-300:]}")
    opts = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = subprocess.run(
        [f"{bin_dir}/pg_ctl", "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60", "start"],
        capture_output=True, text=True, env=env, cwd=folder, **user,
    )
    if start.returncode != 0:
        pytest.skip(f"the PostgreSQL server did not start: {start.stderr.strip()[-300:]}")
    try:
        con = None
        for _ in range(50):
            try:
                con = ibis.postgres.connect(host="127.0.0.1", port=port, user="postgres", database="postgres")
                break
            except Exception:
                time.sleep(0.2)
        if con is None:
            pytest.skip("the PostgreSQL server started but accepts no connection")
        yield con, port
        con.disconnect()
    finally:
        subprocess.run([f"{bin_dir}/pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, env=env, cwd=folder, **user)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def loaded(postgres):
    con, port = postgres
    case, _, _, both = clinic()
    con.create_table("clinic_transactions", both, overwrite=True)
    return con, port


def test_postgres_sales_analytics_equal_the_file_run(loaded):
    con, _ = loaded
    file_and_engine_analytics(con, "clinic_transactions", "postgres", len(clinic()[3]))


def test_postgres_query_source_and_no_cache(loaded):
    """A query as the source (the client's SQL) and the inline (uncached) visits give the same RFM."""
    con, _ = loaded
    case = clinic()[0]
    p = case.parameters
    engine = backend_engine(con)
    t = con.sql("SELECT customer_id, date, amount, business_line, staff_id FROM clinic_transactions")
    sales = sales_history_in(engine, t, as_of=case.as_of, cache=False)
    want_sales = file_history()
    try:
        got, want = rfm_scores(sales, per_line=True), rfm_scores(want_sales, per_line=True)
    finally:
        sales.close()
        want_sales.close()
    assert_same_analytics({"rfm": got}, {"rfm": want})
    assert got["segment"].nunique() > 3


def test_case_yml_database_source_with_secret_in_the_environment(loaded, tmp_path, monkeypatch):
    """``sources.transactions.database`` in case.yml: the url names the password by a
    placeholder filled from the environment, the analyses run in PostgreSQL."""

    con, port = loaded
    case = clinic()[0]
    con.raw_sql("ALTER USER postgres PASSWORD 's3cret'")
    monkeypatch.setenv("CJM_TEST_PG_PASSWORD", "s3cret")
    db = case.sources.transactions.model_copy(update={"database": _database_source(
        f"postgres://postgres:{{CJM_TEST_PG_PASSWORD}}@127.0.0.1:{port}/postgres", table="clinic_transactions")})
    case2 = case.model_copy(update={"sources": case.sources.model_copy(update={"transactions": db})})
    sales = sales_history_for_case(case2, _NoTables())
    try:
        assert sales.engine.name == "postgres"
        m = analytics(sales, case.parameters)["loyalty_metrics"]
    finally:
        sales.close()
    want_sales = file_history()
    try:
        assert m == analytics(want_sales, case.parameters)["loyalty_metrics"]
    finally:
        want_sales.close()


class _NoTables:
    tables: dict = {}


def _database_source(url: str, table: str):
    return DatabaseSource(url=url, table=table)


def _run_sales_steps(case_dir, out_dir) -> dict:
    """Steps 01-06 as their notebooks run them (the report reads only their results); their metrics."""

    for step in (data_audit, segmentation, stage_mapping, loyalty, barriers, double_funnel):
        step.run(start_step(str(case_dir), str(out_dir), ""))
    return start_step(str(case_dir), str(out_dir), "").run.load_metrics_parts()


def _close(a, b) -> bool:
    """Equal JSON, numbers to 1e-9 relative (a database sums in its own order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, (int, float)) or isinstance(b, float) and isinstance(a, (int, float)):
        return a == pytest.approx(b, rel=1e-9, abs=1e-9)
    return a == b


def test_steps_with_a_database_source_give_the_file_runs_metrics(loaded, tmp_path, monkeypatch):
    """A copy of the clinic case whose case.yml names the transactions table in PostgreSQL
    (password from the environment): the segmentation, loyalty, barrier and double-funnel
    steps run their sales analytics there, record the engine and the rows read, and their
    metrics (the money basis, the profit formula and the double funnel included) equal the
    file run's."""
    con, port = loaded
    con.raw_sql("ALTER USER postgres PASSWORD 's3cret'")
    monkeypatch.setenv("CJM_TEST_PG_PASSWORD", "s3cret")
    case_dir = tmp_path / "clinic_db"
    shutil.copytree(CLINIC, case_dir)
    spec = yaml.safe_load((case_dir / "case.yml").read_text(encoding="utf-8"))
    tx = spec["sources"]["transactions"]
    for key in ("path", "encoding", "sep", "date_format"):
        tx.pop(key, None)
    tx["columns"] = {c: c for c in ("customer_id", "date", "amount", "business_line", "staff_id", "brand")}
    tx["database"] = {"url": f"postgres://postgres:{{CJM_TEST_PG_PASSWORD}}@127.0.0.1:{port}/postgres",
                      "table": "clinic_transactions"}
    (case_dir / "case.yml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")

    got = _run_sales_steps(case_dir, tmp_path / "run_db")
    want = _run_sales_steps(CLINIC, tmp_path / "run_file")
    for key in ("loyalty", "cross_penetration", "staff_dependency", "money", "profit", "double_funnel", "barriers"):
        assert _close(got[key], want[key]), key
    assert got["segments"]["rfm"] == want["segments"]["rfm"]
    records = RunFolder(tmp_path / "run_db").load_json("sales_engine")
    assert {r["engine"] for r in records.values()} == {"postgres"}
    assert {r["rows_read"] for r in records.values()} == {len(clinic()[3])}
    assert "postgres (the client's database)" in run_engine_summary(RunFolder(tmp_path / "run_db"))
    assert RunFolder(tmp_path / "run_file").load_json("sales_engine")["loyalty"]["engine"] == "duckdb"
    written = [f for f in (tmp_path / "run_db").rglob("*") if f.suffix in (".json", ".yml", ".csv", ".txt")]
    assert written and not any("s3cret" in f.read_text(encoding="utf-8", errors="replace") for f in written)


# -- the database source in case.yml (no server needed) ------------------------------------------


def test_database_source_is_validated():
    ok = DatabaseSource(url="postgres://analyst:{PGPASSWORD}@db:5432/sales", table="sales.receipts")
    assert ok.table == "sales.receipts"
    with pytest.raises(ValidationError, match="password"):
        DatabaseSource(url="postgres://analyst:hunter2@db:5432/sales", table="t")
    with pytest.raises(ValidationError, match="either table"):
        DatabaseSource(url="postgres://db/sales", table="t", query="SELECT 1")
    with pytest.raises(ValidationError, match="either table"):
        DatabaseSource(url="postgres://db/sales")
    with pytest.raises(ValidationError, match="either path"):
        Source(path="x.csv", database=ok, columns={})
    with pytest.raises(ValidationError, match="transactions only"):
        Sources(customers=Source(database=ok, columns={}))
    s = Sources(transactions=Source(database=ok, columns={}), customers=Source(path="c.csv", columns={}))
    assert list(s.tables()) == ["customers"] and list(s.databases()) == ["transactions"]


def test_url_placeholders_come_from_the_environment_or_the_secrets_file(tmp_path, monkeypatch):
    (tmp_path / ".secrets.yml").write_text("PG_USER_PASSWORD: from-file\n", encoding="utf-8")
    monkeypatch.setenv("PG_HOST_FOR_TEST", "db.local")
    url = "postgres://me:{PG_USER_PASSWORD}@{PG_HOST_FOR_TEST}:5432/sales"
    assert resolve_url(url, tmp_path) == "postgres://me:from-file@db.local:5432/sales"
    monkeypatch.setenv("PG_USER_PASSWORD", "from-env")
    assert resolve_url(url, tmp_path) == "postgres://me:from-env@db.local:5432/sales"
    with pytest.raises(CaseError, match="NOT_SET_ANYWHERE"):
        resolve_url("postgres://me:{NOT_SET_ANYWHERE}@db/sales", tmp_path)
