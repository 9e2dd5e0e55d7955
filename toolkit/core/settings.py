"""A run records its own settings: ``<out>/case.resolved.yml``.

``cjm run`` writes it before the first step: the validated case with every default filled
in (the normative stages, every parameter), the toolkit version, the case folder and the
checksum of every input file. Every step, the notebooks and the report read the case from
this file, never from ``case.yml`` again, so ``cjm run --only report`` after an edit of
``case.yml`` still dates and describes the report with the values that produced its
numbers. ``cjm run --only STEP --update-settings`` records the edited ``case.yml`` first
(the steps not re-run keep the numbers of the old settings; the file says when it changed).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from toolkit import __version__
from toolkit.core.config import Case, load_case, parse_case
from toolkit.core.errors import CaseError
from toolkit.core.run_folder import atomic_path

RESOLVED_FILE = "case.resolved.yml"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB blocks (bounded memory on any size)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_checksums(case: Case) -> dict[str, dict]:
    """``{table: {file, sha256}}`` for every declared source file (paths relative to the case
    folder; a file that is missing is recorded as such and reported by the data audit)."""
    out: dict[str, dict] = {}
    for table, src in case.sources.tables().items():
        path = case.path(src.path)
        out[table] = {"file": src.path, "sha256": file_sha256(path) if path.is_file() else None}
    return out


def resolved_case_data(case: Case, note: str = "") -> dict:
    """The YAML content of ``case.resolved.yml`` (plain data, no Python objects)."""
    return {
        "toolkit_version": __version__,
        "case_dir": case.case_dir.as_posix() if case.case_dir else None,
        "note": note or None,
        "inputs": input_checksums(case),
        "case": case.model_dump(mode="json", exclude_none=False),
    }


def write_resolved_case(case: Case, run_root: Path, note: str = "") -> Path:
    """Write ``<run_root>/case.resolved.yml`` for ``case`` (atomically)."""
    path = Path(run_root) / RESOLVED_FILE
    text = yaml.safe_dump(resolved_case_data(case, note), allow_unicode=True, sort_keys=False, width=120)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(
            "# The settings this run used (written by cjm run; the steps and the report read them from here).\n" + text,
            encoding="utf-8",
        )
    return path


def has_resolved_case(run_root: Path) -> bool:
    return (Path(run_root) / RESOLVED_FILE).is_file()


def read_resolved_case(run_root: Path) -> Case:
    """The case as the run recorded it; its ``case_dir`` is the case folder of the run."""
    path = Path(run_root) / RESOLVED_FILE
    if not path.is_file():
        raise CaseError(f"{path} is missing: this folder holds no run yet (run: cjm run CASE_DIR --out {Path(run_root)}).")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    case = parse_case(data.get("case"), str(path))
    case.case_dir = Path(data["case_dir"]) if data.get("case_dir") else None
    return case


def case_for_step(case_dir: str | Path, run_root: str | Path) -> Case:
    """The case a step works with: the run's recorded settings when the run folder has them,
    otherwise ``case.yml`` itself (a notebook opened outside a run)."""
    if has_resolved_case(Path(run_root)):
        return read_resolved_case(Path(run_root))
    return load_case(Path(case_dir))


def settings_differ(case: Case, run_root: Path) -> bool:
    """Whether ``case`` (read from case.yml now) differs from what the run recorded."""
    if not has_resolved_case(run_root):
        return False
    recorded = read_resolved_case(run_root)
    return recorded.model_dump(mode="json") != case.model_dump(mode="json")
