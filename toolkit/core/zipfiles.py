"""Byte-identical Office files (xlsx, docx are zip archives).

Every zip entry carries a modification time and ``docProps/core.xml`` carries
created/modified dates, so two saves a second apart differ. ``deterministic_zip``
rewrites an archive with one fixed entry time (and, on request, fixed document
dates and no thumbnail); it is the one place the toolkit does this, for the
generated case studies, the report templates and report, and the xlsx it writes.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

# One fixed moment for every zip entry and, where asked, every document property.
FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "2025-01-01T00:00:00Z"
THUMBNAIL_PARTS = ("docProps/thumbnail.jpeg",)

_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def deterministic_zip(data: bytes, fix_core_dates: bool = True, drop_thumbnail: bool = False) -> bytes:
    """The same archive with fixed entry times; ``fix_core_dates`` also sets the document's
    created/modified dates to ``FIXED_DOC_TIME`` (leave it off when the dates were set on
    purpose, e.g. the report dated by the analysis date); ``drop_thumbnail`` removes the
    preview image python-docx's default template carries."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if drop_thumbnail and info.filename in THUMBNAIL_PARTS:
                continue
            blob = src.read(info.filename)
            if fix_core_dates and info.filename == "docProps/core.xml":
                blob = _CORE_DATES.sub(rb"\g<1>" + FIXED_DOC_TIME.encode() + rb"\g<3>", blob)
            if drop_thumbnail and info.filename == "_rels/.rels":
                blob = re.sub(rb"<Relationship [^>]*thumbnail[^>]*/>", b"", blob)
            if drop_thumbnail and info.filename == "[Content_Types].xml":
                blob = blob.replace(b'<Default Extension="jpeg" ContentType="image/jpeg"/>', b"")
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zi.create_system = 0
            dst.writestr(zi, blob, compresslevel=6)
    return out.getvalue()


def fix_zip(path: str | Path) -> None:
    """Rewrite the xlsx/docx at ``path`` in place with fixed entry times and document dates."""
    path = Path(path)
    path.write_bytes(deterministic_zip(path.read_bytes()))
