"""Writing a loaded table to parquet a row group at a time.

``write_table`` gives the same file as ``DataFrame.to_parquet(index=False)`` of the finished
table (pyarrow's default row group of 1,048,576 rows, the same schema and pandas metadata), but
only one row group of it is ever finished (compact text expanded, contract checked: see
``toolkit.data.load.finish_table``) and in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from toolkit.core.run_folder import atomic_path

ROW_GROUP_ROWS = 1024 * 1024  # pyarrow's default row_group_size


def write_table(path: Path, frame: pd.DataFrame, finish: Callable[[pd.DataFrame], pd.DataFrame],
                rows_per_group: int = ROW_GROUP_ROWS) -> Path:
    """Write ``finish(rows)`` of each row group of ``frame`` to ``path`` (atomically): the file
    ``finish(frame).to_parquet(path, index=False)`` would write."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        writer = None
        try:
            for start in range(0, max(len(frame), 1), rows_per_group):
                part = finish(frame.iloc[start : start + rows_per_group])
                arrow = pa.Table.from_pandas(part, preserve_index=False)
                del part
                if writer is None:
                    writer = pq.ParquetWriter(tmp, arrow.schema)
                writer.write_table(arrow, row_group_size=rows_per_group)
                del arrow
        finally:
            if writer is not None:
                writer.close()
    return path
