"""Seeded synthetic case studies: messy client exports with known right answers.

``generate_case(name, out_dir, seed=None, scale=1.0, fmt="native")`` writes one case:

- ``fmt="native"``: the raw exports exactly as the client's systems produce them
  (``raw/``: cp1251 CSV, xlsx, docx ...), ``truth.yml`` with every planted value and the
  exact dirty-row counts, and a copy of the hand-written ``case.yml`` when the folder has
  none (an existing ``case.yml`` is never overwritten);
- ``fmt="parquet"``: the clean sales history with canonical column names
  (``transactions.parquet``), ``customers.parquet`` and ``leads.parquet``, for benchmarks.

Cases and their default seeds: ``clinic_group`` (20251231), ``fashion_retail`` (20260101).
``scale`` multiplies the number of customers, leads and sessions (surveys and interviews
keep their size).
"""

from __future__ import annotations

from pathlib import Path

CASES = ("clinic_group", "fashion_retail")
DEFAULT_SEEDS = {"clinic_group": 20251231, "fashion_retail": 20260101}


def _module(name: str):
    if name == "clinic_group":
        from toolkit.synthetic import clinic as m
    elif name == "fashion_retail":
        from toolkit.synthetic import retail as m
    else:
        raise ValueError(f"unknown case '{name}' (known: {', '.join(CASES)})")
    return m


def case_file_path(name: str) -> Path:
    """The packaged, hand-written ``case.yml`` of a case."""
    _module(name)
    return Path(__file__).parent / "case_files" / f"{name}.yml"


def generate_case(name: str, out_dir, seed: int | None = None, scale: float = 1.0, fmt: str = "native") -> Path:
    """Generate case ``name`` into ``out_dir`` and return the folder."""
    if fmt not in ("native", "parquet"):
        raise ValueError("fmt must be 'native' or 'parquet'")
    if not scale > 0:
        raise ValueError("scale must be positive")
    from toolkit.synthetic.build import build_case

    m = _module(name)
    out = Path(out_dir)
    build_case(m, out, seed=seed, scale=scale, fmt=fmt)
    target = out / "case.yml"
    if fmt == "native" and not target.exists():
        target.write_bytes(case_file_path(name).read_bytes())
    if fmt == "parquet":
        from toolkit.synthetic.parquet_case import write_parquet_case_yml

        write_parquet_case_yml(name, out)
    return out


__all__ = ["generate_case", "CASES", "DEFAULT_SEEDS", "case_file_path"]
