"""Writing a loaded table to parquet a row group at a time.

``write_table`` gives the same file as ``DataFrame.to_parquet(index=False)`` of the finished
table (pyarrow's default row group of 1,048,576 rows, the same schema and pandas metadata), but
only one row group of it is ever finished (compact text expanded, contract checked: see
``toolkit.data.load.finish_table``) and in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from toolkit.core.run_folder import atomic_path

ROW_GROUP_ROWS = 1024 * 1024  # pyarrow's default row_group_size


def write_table(path: Path, frame: pd.DataFrame, finish: Callable[[pd.DataFrame], pd.DataFrame],
                rows_per_group: int = ROW_GROUP_ROWS) -> Path:
    """Write ``finish(rows)`` of each row group of ``frame`` to ``path`` (atomically): the file
    ``finish(frame).to_parquet(path, index=False)`` would write. One thread writes row group i
    (Arrow's encoder runs without the GIL) while row group i+1 is finished, in order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, ThreadPoolExecutor(max_workers=1) as pool:
        writer, pending = None, None
        try:
            for start in range(0, max(len(frame), 1), rows_per_group):
                arrow = pa.Table.from_pandas(finish(frame.iloc[start : start + rows_per_group]), preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, arrow.schema)
                if pending is not None:
                    pending.result()  # at most one row group waits to be written
                pending = pool.submit(writer.write_table, arrow, row_group_size=rows_per_group)
                del arrow
            if pending is not None:
                pending.result()
        finally:
            if pending is not None:
                pending.exception()  # never close the writer under a running write
            if writer is not None:
                writer.close()
    return path


class TableWriter:
    """Writes tables to ``folder`` as ``<table>.parquet`` (``write_table``) on one background thread,
    in the order they are handed over, so a table is written while the next one is loaded."""

    def __init__(self, folder: Path, finish: Callable[[str, pd.DataFrame], pd.DataFrame],
                 after: Callable[[], None] = lambda: None):
        self.folder, self.finish, self.after = Path(folder), finish, after
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: dict[str, Future] = {}

    def submit(self, table: str, frame: pd.DataFrame) -> None:
        self.pending[table] = self.pool.submit(self._write, table, frame)

    def _write(self, table: str, frame: pd.DataFrame) -> Path:
        path = write_table(self.folder / f"{table}.parquet", frame, lambda rows: self.finish(table, rows))
        self.after()
        return path

    def close(self) -> dict[str, Path]:
        """Wait for every table; table -> its file (the first failure is raised)."""
        try:
            return {t: f.result() for t, f in self.pending.items()}
        finally:
            self.pool.shutdown()

    def abandon(self) -> None:
        """After a failure elsewhere: wait for the writes under way and remove what they wrote."""
        self.pool.shutdown(cancel_futures=True)
        for f in self.pending.values():
            if not f.cancelled() and f.exception() is None:
                f.result().unlink(missing_ok=True)
