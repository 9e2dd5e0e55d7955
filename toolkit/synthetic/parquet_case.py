"""A ``case.yml`` for the parquet (benchmark) output: the packaged case with its sources
replaced by the canonical parquet files (columns map onto themselves)."""

from __future__ import annotations

from pathlib import Path

import yaml

from toolkit.synthetic.reproducible import dump_yaml

_TX = ("customer_id", "date", "amount", "transaction_id", "brand", "business_line", "service", "location",
       "staff_id", "channel")
_CUST = ("customer_id", "gender", "birth_year", "city", "first_source")
_LEADS = ("lead_id", "created_at", "brand", "stage_reached", "source", "lost_reason", "budget", "customer_id")


def write_parquet_case_yml(name: str, out: Path) -> None:
    """Write ``out/case.yml`` for the parquet files unless a case.yml already exists."""
    from toolkit.synthetic import case_file_path

    target = Path(out) / "case.yml"
    if target.exists():
        return
    data = yaml.safe_load(case_file_path(name).read_text(encoding="utf-8"))
    sources = {
        "transactions": {"path": "transactions.parquet", "columns": {c: c for c in _TX}},
        "customers": {"path": "customers.parquet", "columns": {c: c for c in _CUST}},
    }
    if (Path(out) / "leads.parquet").exists():
        sources["leads"] = {"path": "leads.parquet", "columns": {c: c for c in _LEADS}}
    data["sources"] = sources
    data["as_of"] = str(data["as_of"])
    header = (f"# case.yml for the parquet benchmark output of '{name}' (generated; canonical columns).\n"
              "# The hand-written, commented case file is toolkit/synthetic/case_files/" + name + ".yml.\n")
    target.write_text(dump_yaml(data, header), encoding="utf-8")
