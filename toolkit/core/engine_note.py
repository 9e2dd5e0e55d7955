"""Which engine ran a run's sales analytics: recorded by the steps in the run folder
(``artifacts/sales_engine.json``), printed by ``cjm run`` (no heavy imports here)."""

from __future__ import annotations

EMBEDDED = "duckdb"
ENGINE_RECORD = "sales_engine"  # artifacts/sales_engine.json: which engine ran the sales analytics of each step


def engine_record(engine_name: str, rows_read: int, queries: int) -> dict:
    """What a step records about where its sales analytics ran."""
    return {"engine": engine_name, "embedded": engine_name == EMBEDDED, "rows_read": int(rows_read),
            "queries": int(queries)}


def engine_summary(records: dict) -> str | None:
    """One line for ``cjm run``: the engine(s) that ran the sales analytics and the rows read,
    from ``{step: engine_record}``."""
    if not records:
        return None
    parts = []
    for step, r in records.items():
        where = "embedded DuckDB" if r.get("embedded") else f"{r.get('engine')} (the client's database)"
        parts.append(f"{step}: {where}, {r.get('rows_read', 0):,} rows read, {r.get('queries', 0)} queries")
    return "Sales analytics ran in " + "; ".join(parts) + "."


def run_engine_summary(run) -> str | None:
    """:func:`engine_summary` of a :class:`~toolkit.core.run_folder.RunFolder` (None when no step recorded one)."""
    if not (run.artifacts / f"{ENGINE_RECORD}.json").exists():
        return None
    return engine_summary(run.load_json(ENGINE_RECORD))
