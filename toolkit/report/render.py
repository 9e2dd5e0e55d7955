"""Fill the Word template and write ``report.docx`` (and, on request, ``report.pdf``).

``render_report(run_dir, case, language)``:

1. builds the context (``toolkit.report.context.build_context``);
2. renders ``report_templates/cjm_report_<language>.docx`` (or ``template``) with docxtpl,
   ``autoescape=True`` (so ``<`` and ``&`` in a quote stay text) and a strict Jinja
   environment (a variable the context lacks is an error naming it, never a blank);
   figures become images at the text width (shrunk to fit the page height when tall);
3. writes to a temporary file in the run folder, checks it, and only then renames it onto
   ``report.docx``: a failed render leaves the previous report intact;
4. the check reads the document back and fails loudly if any ``{{``, ``{%``, ``%}`` or
   ``}}`` is left: an unrendered tag. Text from the data that itself contains such braces
   (a respondent typing ``{{ }}``) is carried through the render as private-use characters
   and restored afterwards, so it appears literally and never trips the check;
5. the file is deterministic: fixed zip entry times; the document's created/modified dates
   are the analysis date (``as_of``).

``convert_to_pdf(docx)`` runs LibreOffice headless with its own temporary profile.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from toolkit.core.run_folder import atomic_path
from toolkit.core.errors import CaseError
from toolkit.report.build_templates import TEMPLATE_DIR, deterministic_docx
from toolkit.report.context import FigureRef, build_context

REPORT_NAME = "report.docx"
IMAGE_WIDTH_MM = 160.0  # the text width of the templates (A4, 2.5 cm margins)
IMAGE_MAX_HEIGHT_MM = 215.0  # leaves room for a heading and a caption on the page

# template-like braces in DATA are carried through the render as private-use characters
_PROTECT = (("{{", "\ue000"), ("}}", "\ue001"), ("{%", "\ue002"), ("%}", "\ue003"), ("{#", "\ue004"), ("#}", "\ue005"))
_LEFTOVER = re.compile(r"\{\{|\{%|%\}|\}\}|\{#|#\}")
_SHD_FIRST = re.compile(r"<w:tcPr>(<w:shd [^>]*/>)(<w:tcW [^>]*/>)")
# characters XML 1.0 cannot hold (control characters other than tab/newline/CR)
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ReportError(CaseError):
    """The report could not be rendered; the previous report (if any) is left in place."""


def template_path(language: str = "ru", template: str | Path | None = None) -> Path:
    """The template file to use: ``template`` when given, else the language's default."""
    if template is not None:
        p = Path(template)
        if not p.exists():
            raise ReportError(f"The report template {p} does not exist.")
        return p
    if language not in ("ru", "en"):
        raise ReportError(f"There is no report template for language '{language}' (use ru or en).")
    p = TEMPLATE_DIR / f"cjm_report_{language}.docx"
    if not p.exists():
        raise ReportError(f"The report template {p} is missing; rebuild it with: python -m toolkit.report.build_templates")
    return p


def template_variables(template: str | Path | None = None, language: str = "ru") -> set[str]:
    """The top-level variables the template expects (docxtpl ``get_undeclared_template_variables``)."""
    from docxtpl import DocxTemplate

    return set(DocxTemplate(str(template_path(language, template))).get_undeclared_template_variables())


def protect(value):
    """Strings of the context, safe to render: braces swapped for private-use characters,
    characters XML cannot hold removed. Other values are returned as they are."""
    if isinstance(value, str):
        value = _BAD_XML.sub("", value)
        for a, b in _PROTECT:
            value = value.replace(a, b)
        return value
    if isinstance(value, Mapping):
        return {k: protect(v) for k, v in value.items()}
    if isinstance(value, list):
        return [protect(v) for v in value]
    if isinstance(value, tuple):
        return tuple(protect(v) for v in value)
    return value


def _restore(xml: str) -> str:
    for a, b in _PROTECT:
        xml = xml.replace(b, a)
    return xml


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels from a PNG header."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ReportError(f"The figure {path} is not a PNG file.")
    return struct.unpack(">II", head[16:24])


def _images(value, tpl):
    """FigureRef -> docxtpl InlineImage at the text width (height capped)."""
    from docx.shared import Mm
    from docxtpl import InlineImage

    if isinstance(value, FigureRef):
        w, h = png_size(value.path)
        width = value.width_mm or IMAGE_WIDTH_MM
        max_h = value.max_height_mm or IMAGE_MAX_HEIGHT_MM
        if width * h / w > max_h:
            width = max_h * w / h
        return InlineImage(tpl, str(value.path), width=Mm(width))
    if isinstance(value, Mapping):
        return {k: _images(v, tpl) for k, v in value.items()}
    if isinstance(value, list):
        return [_images(v, tpl) for v in value]
    return value


def _paragraph_texts(xml: str) -> list[str]:
    """The text of each paragraph of a WordprocessingML part (runs joined)."""
    from lxml import etree

    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = etree.fromstring(xml.encode("utf-8"))
    out = []
    for p in root.iter(f"{ns}p"):
        out.append("".join(t.text or "" for t in p.iter(f"{ns}t")))
    # text outside paragraphs (should not exist) is checked too
    return out


def leftover_tags(docx_bytes: bytes) -> list[str]:
    """Paragraph texts of the document (body, headers, footers, footnotes) that still hold a
    template tag; empty when the render is complete."""
    found = []
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
        for name in z.namelist():
            if name.startswith("word/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                for text in _paragraph_texts(xml):
                    if _LEFTOVER.search(text):
                        found.append(f"{name}: {text[:120]}")
                if _LEFTOVER.search(re.sub(r"<[^>]+>", "", xml)) and not found:
                    found.append(f"{name}: a tag split across paragraphs")
    return found


def _finish(docx_bytes: bytes) -> bytes:
    """Restore protected braces in every XML part and fix the zip for reproducible bytes."""
    src = zipfile.ZipFile(io.BytesIO(docx_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename.endswith(".xml") or info.filename.endswith(".rels"):
                xml = _restore(blob.decode("utf-8"))
                if info.filename.startswith("word/"):
                    # docxtpl's {% cellbg %} puts <w:shd> first in <w:tcPr>; the schema wants it after <w:tcW>
                    xml = _SHD_FIRST.sub(r"<w:tcPr>\2\1", xml)
                blob = xml.encode("utf-8")
            dst.writestr(info, blob)
    return deterministic_docx(out.getvalue())


def render_report(
    run_dir,
    case=None,
    language: str | None = None,
    template: str | Path | None = None,
    out: str | Path | None = None,
    prepared_by: str | None = None,
    pages: Mapping[str, int] | None = None,
) -> Path:
    """Render the report of the run folder ``run_dir`` onto ``out`` (default
    ``<run_dir>/report.docx``) and return its path. See the module docstring."""
    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined, TemplateError, UndefinedError

    run_dir = Path(run_dir)
    ctx = build_context(run_dir, case, language, prepared_by=prepared_by, pages=pages)
    language = ctx["meta"]["language"]
    path = template_path(language, template)
    tpl = DocxTemplate(str(path))
    context = _images(protect(ctx), tpl)
    env = Environment(autoescape=True, undefined=StrictUndefined)
    try:
        tpl.render(context, jinja_env=env, autoescape=True)
    except UndefinedError as e:
        raise ReportError(f"The template {path.name} uses a variable the report does not provide ({e.message}).") from None
    except TemplateError as e:
        raise ReportError(f"The template {path.name} has a tag error: {e}.") from None
    if ctx["meta"].get("as_of_iso"):
        # the document is dated by the analysis date: meaningful, and the same on every run
        import datetime as dt

        when = dt.datetime.combine(dt.date.fromisoformat(ctx["meta"]["as_of_iso"][:10]), dt.time())
        tpl.docx.core_properties.created = when
        tpl.docx.core_properties.modified = when
    buf = io.BytesIO()
    tpl.save(buf)
    data = buf.getvalue()
    left = leftover_tags(data)
    if left:
        raise ReportError(
            f"The rendered report still contains template tags ({len(left)} place(s), first: {left[0]}); "
            "check the tags in the template."
        )
    data = _finish(data)
    target = Path(out) if out else run_dir / REPORT_NAME
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


# --------------------------------------------------------------------------- PDF


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def convert_to_pdf(docx: str | Path, timeout: float = 180, out_dir: str | Path | None = None) -> Path:
    """Convert ``docx`` to PDF beside it (or in ``out_dir``) with LibreOffice headless, using a
    throw-away profile (so a running LibreOffice or a broken user profile cannot interfere);
    returns the PDF path. The PDF is written to a temporary folder and moved into place."""
    docx = Path(docx).resolve()
    if not docx.exists():
        raise ReportError(f"There is no report to convert: {docx} does not exist.")
    exe = find_soffice()
    if exe is None:
        raise ReportError("LibreOffice (soffice) is not installed, so the PDF cannot be made; open report.docx in Word "
                          "and save it as PDF, or install LibreOffice.")
    target_dir = Path(out_dir).resolve() if out_dir else docx.parent
    target = target_dir / (docx.stem + ".pdf")
    with tempfile.TemporaryDirectory(prefix="cjm_soffice_") as tmp:
        tmp = Path(tmp)
        profile = (tmp / "profile").as_uri()
        cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nologo",
               "--convert-to", "pdf", "--outdir", str(tmp / "out"), str(docx)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"LibreOffice did not finish converting {docx.name} to PDF within {timeout:.0f} s.") from None
        made = tmp / "out" / (docx.stem + ".pdf")
        if proc.returncode != 0 or not made.exists():
            detail = (proc.stderr or proc.stdout or "").strip().splitlines()
            raise ReportError(f"LibreOffice could not convert {docx.name} to PDF ({detail[-1] if detail else 'no output'}).")
        target_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as final_tmp:
            shutil.copyfile(made, final_tmp)
    return target


__all__ = [
    "REPORT_NAME",
    "ReportError",
    "convert_to_pdf",
    "leftover_tags",
    "protect",
    "render_report",
    "template_path",
    "template_variables",
]
