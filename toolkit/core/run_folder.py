"""The run folder: where each step leaves its results for the next ones.

    <out>/notebooks/       executed copies of the notebooks (records of the run)
    <out>/artifacts/       tables as parquet, small results as JSON
    <out>/artifacts/metrics/<key>.json   one part of metrics.json per step
    <out>/figures/         PNG figures for the report
    <out>/metrics.json     the headline numbers (contract: METRICS.md)
    <out>/data_quality.xlsx, <out>/report.docx (and report.pdf)

Every writer goes through a temporary file and an atomic rename, so a failed
step never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd


class RunFolder:
    def __init__(self, out_dir: str | os.PathLike):
        self.root = Path(out_dir)

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def metrics_parts(self) -> Path:
        return self.artifacts / "metrics"

    def make(self) -> "RunFolder":
        for p in (self.artifacts, self.figures, self.notebooks, self.metrics_parts):
            p.mkdir(parents=True, exist_ok=True)
        return self

    # -- tables -----------------------------------------------------------
    def table_path(self, name: str) -> Path:
        return self.artifacts / f"{name}.parquet"

    def save_table(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.table_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
        return path

    def load_table(self, name: str) -> pd.DataFrame:
        path = self.table_path(name)
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run the step that writes '{name}' first")
        return pd.read_parquet(path)

    def has_table(self, name: str) -> bool:
        return self.table_path(name).exists()

    # -- json -------------------------------------------------------------
    def save_json(self, name: str, obj) -> Path:
        path = self.artifacts / f"{name}.json"
        write_json(path, obj)
        return path

    def load_json(self, name: str, default=None):
        path = self.artifacts / f"{name}.json"
        if not path.exists():
            if default is not None:
                return default
            raise FileNotFoundError(f"{path} is missing: run the step that writes '{name}' first")
        return json.loads(path.read_text(encoding="utf-8"))

    def save_metrics_part(self, key: str, value) -> Path:
        """One top-level key of metrics.json (e.g. 'loyalty'), written by its step."""
        path = self.metrics_parts / f"{key}.json"
        write_json(path, value)
        return path

    def load_metrics_parts(self) -> dict:
        out = {}
        for p in sorted(self.metrics_parts.glob("*.json")):
            out[p.stem] = json.loads(p.read_text(encoding="utf-8"))
        return out

    def figure_path(self, name: str) -> Path:
        self.figures.mkdir(parents=True, exist_ok=True)
        return self.figures / f"{name}.png"


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class atomic_path:
    """``with atomic_path(final) as tmp:`` write to tmp; renamed onto final on success."""

    def __init__(self, final: Path):
        self.final = Path(final)

    def __enter__(self) -> Path:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.final.stem}.", suffix=self.final.suffix, dir=self.final.parent)
        os.close(fd)
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            os.chmod(self.tmp, 0o666 & ~current_umask())  # as an ordinary open() would (mkstemp: 0600)
            os.replace(self.tmp, self.final)
        else:
            self.tmp.unlink(missing_ok=True)
        return False


def to_jsonable(obj):
    """Plain JSON types, the one converter of the toolkit: numpy scalars unwrapped,
    NaN/NaT/NA → None, tuples/arrays/Series/Index → lists, Timestamps → ISO dates,
    paths → POSIX strings, dict keys → strings; anything else → its ``str``."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray, pd.Series, pd.Index)):
        return [to_jsonable(v) for v in list(obj)]
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(obj, str):
        return obj
    if isinstance(obj, pd.Timestamp):
        return obj.date().isoformat() if obj == obj.normalize() else obj.isoformat()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if isinstance(obj, Path):
        return obj.as_posix()
    try:
        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    return str(obj)


def write_json(path: Path, obj) -> None:
    text = json.dumps(to_jsonable(obj), ensure_ascii=False, indent=2, sort_keys=False, allow_nan=False)
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
