"""Checks that keep a hostile or broken input from costing unbounded memory or time.

Each check raises ``InputFileError`` with one sentence that names the file, what was found,
the limit, and the ``case.yml`` setting (``limits.<name>``) that raises it. The defaults are
``toolkit.core.config.Limits``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from toolkit.core.config import Limits
from toolkit.core.errors import InputFileError

DEFAULTS = Limits()
MB = 1024 * 1024
# a member this small cannot be a bomb whatever its ratio (XML of an empty sheet compresses ~100x)
RATIO_CHECK_MIN_BYTES = 1 * MB


def _mb(n: float) -> str:
    return f"{n / MB:,.0f} MB" if n >= MB else f"{n / 1024:,.0f} KB"


def check_file_size(path: Path, limits: Limits = DEFAULTS) -> None:
    """Refuse an input file larger than ``limits.max_input_mb``."""
    size = Path(path).stat().st_size
    if size > limits.max_input_mb * MB:
        raise InputFileError(
            f"File {Path(path).name} is {_mb(size)}, more than the {limits.max_input_mb:,.0f} MB the toolkit reads "
            "(limits.max_input_mb in case.yml); split the export by period or raise the limit."
        )


def check_zip(path: Path, max_unzipped_mb: float, max_ratio: float = DEFAULTS.max_zip_ratio,
              setting: str = "max_unzipped_mb") -> None:
    """Refuse an Office file (zip) whose members would unpack to more than ``max_unzipped_mb``
    in total, or a large member compressed more than ``max_ratio`` times (a "zip bomb"), before
    anything parses it. Only the archive's directory is read. A file that is not a zip at all is
    left to its reader, which says so in its own words."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    total = sum(i.file_size for i in infos)
    if total > max_unzipped_mb * MB:
        raise InputFileError(
            f"File {path.name} unpacks to {_mb(total)}, more than the {max_unzipped_mb:,.0f} MB allowed "
            f"(limits.{setting} in case.yml); it is refused before it is read"
            + ("; save the sheet as CSV (read with far less memory) or raise the limit." if setting == "max_unzipped_mb"
               else ".")
        )
    for i in infos:
        if i.file_size >= RATIO_CHECK_MIN_BYTES and i.file_size > max_ratio * max(i.compress_size, 1):
            raise InputFileError(
                f"File {path.name} looks like a zip bomb: its part {i.filename} is compressed "
                f"{i.file_size / max(i.compress_size, 1):,.0f} times (more than limits.max_zip_ratio = "
                f"{max_ratio:,.0f} in case.yml); it is refused before it is read."
            )
