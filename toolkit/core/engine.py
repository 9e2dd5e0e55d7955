"""Where the sales analytics run: one ibis backend (the embedded DuckDB by default, or the
client's database), and the few things the analyses need from it.

Every sales definition (:mod:`toolkit.core.sales`, :mod:`toolkit.segmentation.rfm`,
:mod:`toolkit.loyalty`) is written once as an ibis expression; ibis compiles it to the SQL of
the engine that holds the data (DuckDB, PostgreSQL, Spark, ClickHouse, BigQuery, Snowflake
...), the engine computes it, and only the aggregate comes back as a small pandas table. An
:class:`Engine` counts the queries it ran; the sales history counts the rows it read.

A database source is named in case.yml as ``sources.transactions.database: {url: ..., table:
...}`` (or ``query:``); the url carries no password: ``{NAME}`` placeholders in it are filled
from environment variables or from the case's git-ignored secrets file (see
:func:`resolve_url`).
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import yaml

from toolkit.core.engine_note import EMBEDDED
from toolkit.core.errors import CaseError


@dataclass(eq=False)
class Engine:
    """An ibis backend and its name (``duckdb``, ``postgres``, ``pyspark`` ...)."""

    backend: object
    name: str
    queries: int = 0
    inline: list[str] = field(default_factory=list)  # tables too large to keep: computed by each query
    _temp: list[str] = field(default_factory=list, repr=False)

    def execute(self, expr) -> pd.DataFrame:
        """Compute an ibis table expression in the engine; a pandas DataFrame comes back."""
        self.queries += 1
        df = self.backend.execute(expr)
        return df.reset_index(drop=True) if isinstance(df, pd.DataFrame) else df

    def scalar(self, expr):
        self.queries += 1
        return self.backend.execute(expr)

    def materialise(self, name: str, expr, keep: bool = False):
        """``expr`` computed once and kept in the engine as a temporary table (for a table that
        several queries read); Spark keeps a cached view instead. ``keep``: the table outlives
        :meth:`drop_temporary` (its owner drops it with :meth:`drop`)."""
        self.queries += 1
        if self.name == "pyspark":
            self.backend.create_view(name, expr, overwrite=True)
            self.backend._session.catalog.cacheTable(name)
            self._temp.append(name)
            return self.backend.table(name)
        if self.name == EMBEDDED:  # (ibis' overwrite path emits a DROP that this DuckDB rejects)
            self.backend._run_pre_execute_hooks(expr)  # registers the in-memory tables the SQL names
            cache = _cache_database(self.backend.con)
            try:
                self.backend.con.execute(f"CREATE OR REPLACE TABLE {cache}.main.{name} AS {self.backend.compile(expr)}")
            except duckdb.OutOfMemoryException:
                # beyond DuckDB's memory limit (100M rows at 2 GB) each query computes the
                # expression itself instead, spilling as it needs
                self.backend.con.execute(f"DROP TABLE IF EXISTS {cache}.main.{name}")
                self.inline.append(name)
                return expr
            table = self.backend.table(name, database=(cache, "main"))
        else:
            table = self.backend.create_table(name, expr, temp=True)
        if not keep:
            self._temp.append(name)
        return table

    def kept_table(self, name: str):
        """A table kept by ``materialise(..., keep=True)`` (embedded engine), opened on this connection."""
        return self.backend.table(name, database=(_cache_database(self.backend.con), "main"))

    def drop(self, names) -> None:
        """Drop kept tables (embedded engine)."""
        for name in names:
            self.backend.con.execute(f"DROP TABLE IF EXISTS {_cache_database(self.backend.con)}.main.{name}")

    def drop_temporary(self) -> None:
        for name in self._temp:
            try:
                if self.name == "pyspark":
                    self.backend._session.catalog.uncacheTable(name)
                    self.backend.drop_view(name, force=True)
                elif self.name == EMBEDDED:
                    self.backend.con.execute(f"DROP TABLE IF EXISTS {_cache_database(self.backend.con)}.main.{name}")
                else:
                    self.backend.drop_table(name, force=True)
            except Exception:  # a closed connection: nothing left to drop
                pass
        self._temp.clear()


CACHE_DATABASE = "cjm_cache"
_CACHE_FILES = itertools.count(1)


def _cache_database(con) -> str:
    """The embedded engine's store for materialised tables: a DuckDB database file of this
    process in DuckDB's temporary folder, attached once (every cursor of the process's database
    sees it; the file is unlinked as soon as it is open). Unlike a TEMP table (kept in memory, uncompressed:
    the visit tables of 10M rows took 1.5 GB of the 2 GB memory limit and pushed the queries
    that read them to spill) its tables are stored compressed (~0.2 GB) and the buffer manager
    may evict them."""
    attached = con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?",
                           [CACHE_DATABASE]).fetchall()[0][0]  # (fetchall: no unfinished result left)
    if not attached:
        folder = Path(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] or ".tmp")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"cache-{os.getpid()}-{next(_CACHE_FILES)}.duckdb"  # one per database of the process
        for p in (path, path.with_name(path.name + ".wal")):
            p.unlink(missing_ok=True)  # a file left by an earlier process of the same id
        con.execute(f"ATTACH '{path.as_posix().replace(chr(39), chr(39) * 2)}' AS {CACHE_DATABASE}")
        # the open database keeps its file: removed from the folder at once (its write-ahead log
        # is removed at exit, or by a later process when this one ended without its exit handlers)
        path.unlink(missing_ok=True)
        atexit.register(_remove_cache, path)
        _remove_stale_caches(folder)
    return CACHE_DATABASE


def _remove_stale_caches(folder: Path, age_seconds: int = 3600) -> None:
    """Remove the cache files (write-ahead logs) of processes that ended without their exit
    handlers (a notebook kernel shut down): older than ``age_seconds`` and their process gone."""
    now = time.time()
    for p in folder.glob("cache-*.duckdb*"):
        try:
            pid = int(p.name.split("-")[1])
            if pid == os.getpid() or now - p.stat().st_mtime < age_seconds:
                continue
            os.kill(pid, 0)  # raises when the process is gone
        except ProcessLookupError:
            p.unlink(missing_ok=True)
        except (ValueError, IndexError, OSError):  # not ours, alive, or already removed
            pass


def _remove_cache(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass


def duckdb_engine(connection) -> Engine:
    """The embedded engine over an existing DuckDB connection (its views and tables)."""
    return Engine(ibis.duckdb.from_connection(connection), EMBEDDED)


def backend_engine(backend) -> Engine:
    """An engine over an ibis backend already connected (``ibis.postgres.connect(...)``,
    ``ibis.pyspark.connect(session)`` ...)."""
    return Engine(backend, str(getattr(backend, "name", "unknown")))


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _secrets(case_dir: Path | None, secrets_file: str) -> dict:
    path = Path(case_dir or ".") / secrets_file
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def resolve_url(url: str, case_dir: Path | None = None, secrets_file: str = ".secrets.yml") -> str:
    """The connection url with each ``{NAME}`` filled from the environment variable ``NAME`` or
    else from the key ``NAME`` of the case's secrets file (git-ignored)."""
    secrets = None
    missing = []

    def fill(m: re.Match) -> str:
        nonlocal secrets
        name = m.group(1)
        if name in os.environ:
            return os.environ[name]
        if secrets is None:
            secrets = _secrets(case_dir, secrets_file)
        if name in secrets:
            return secrets[name]
        missing.append(name)
        return ""

    out = _PLACEHOLDER.sub(fill, url)
    if missing:
        raise CaseError(
            f"sources.transactions.database.url: set {', '.join(missing)} as an environment variable or a key of "
            f"the case's {secrets_file} (credentials never go into case.yml)."
        )
    return out


def connect_database(url: str, case_dir: Path | None = None, secrets_file: str = ".secrets.yml") -> Engine:
    """An engine on the client's database from a url (``postgres://user:{PGPASSWORD}@host:5432/db``,
    ``clickhouse://...``, ``bigquery://project/dataset``, ``snowflake://...``: every scheme
    ibis knows; the matching ibis extra must be installed)."""
    full = resolve_url(url, case_dir, secrets_file)
    try:
        backend = ibis.connect(full)
    except Exception as e:
        scheme = url.split(":", 1)[0]
        raise CaseError(
            f"sources.transactions.database.url: cannot connect to the {scheme} database ({type(e).__name__}: "
            f"{str(e).splitlines()[0] if str(e) else ''}); check the url, the server and the credentials."
        ) from None
    return backend_engine(backend)


def source_table(engine: Engine, table: str | None = None, query: str | None = None):
    """The ibis table of a database source: a table name (``schema.table`` allowed) or a query."""
    if (table is None) == (query is None):
        raise CaseError("sources.transactions.database: give either table: or query:, not both.")
    if query is not None:
        return engine.backend.sql(query)
    parts = table.split(".")
    if len(parts) == 1:
        return engine.backend.table(parts[0])
    return engine.backend.table(parts[-1], database=tuple(parts[:-1]) if len(parts) > 2 else parts[0])

