"""The release gate: a rendered report is checked as a partner would read it, page by page.

``check_report(docx, pdf, language, allowed_names, industry)`` returns a list of
:class:`Finding` (check, page, text); an empty list means the report may go out. The PDF is
made by LibreOffice (``toolkit.report.render.convert_to_pdf``); page texts come from
poppler's ``pdftotext``, images per page from ``pdfimages -list``.

Checks (each names the page and the text it found):

- ``blank_page``: a page with nothing but the running header and footer (no text, no image);
- ``lonely_row``: a table split across pages with one body row alone at the top or the
  bottom of a page;
- ``code_id``: a raw snake_case code id in the text (``window_display``), file names aside;
- ``catalog_key``: an untranslated word-catalog key (``report.heading.x``);
- ``wrong_language``: English words in a Russian report, Cyrillic in an English one (client
  names and other case-supplied names aside);
- ``industry_word``: a word of another industry (a clinic word in a retail report);
- ``self_comparison``: a sentence comparing a thing with itself (the same name, or the same
  number, on both sides of "против" / "against");
- ``constant_column``: a table column with the same value in every row (3 rows or more);
- ``broken_word``: a word of a table cell that the PDF shows broken across lines (its column
  is too narrow for it);
- ``figure_ticks``: a figure whose tick labels fall outside it or overlap (measured when the
  figure was saved, ``toolkit.core.figures.tick_label_problems``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.oxml.ns import qn
from PIL import Image, ImageFont

from toolkit.core.figures import TICK_PROBLEMS_KEY

CODE_ID = re.compile(r"(?<![\w./\\-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/\\-]|\.\w)")
PATHLIKE = re.compile(r"\S*(?:/|\\)\S*|\S+\.(?:csv|xlsx|xls|parquet|json|txt|docx|yml)\b|\b[0-9a-f]{12,}\b")
CATALOG_KEY = re.compile(r"\b(?:report|skip|money|chart|lever|nb|step|rfm|value|col)\.[a-z_]+(?:\.[a-zA-Z_0-9]+)+\b")
LATIN_WORD = re.compile(r"\b[A-Za-z][a-z]{1,}\b")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
# English words that mark a sentence in English (acronyms and names are not words here)
ENGLISH = {"the", "of", "and", "in", "to", "is", "are", "no", "not", "this", "case", "with", "for", "from", "has",
           "have", "was", "were", "be", "by", "on", "at", "or", "an", "it", "its", "that", "which", "available",
           "missing", "table", "leads", "survey", "step", "run", "customers", "clients", "share", "revenue"}
INDUSTRY_WORDS = {
    "retail": re.compile(r"\b(patients?|procedures?|doctors?|clinics?|bookings?|treatments?)\b", re.I),
    "medical": re.compile(r"\b(shoppers?|fitting rooms?|store visits?)\b", re.I),
    "neutral": None,
}
COMPARATOR = re.compile(r"\b(?:против|against|vs\.?|compared with)\b")
NAME = re.compile(r"«[^»]+»|“[^”]+”")
PERCENT = re.compile(r"\d[\d ,.]*%")


def compares_with_itself(sentence: str) -> bool:
    """The last name (or percentage) before "против"/"against" is the first one after it."""
    for m in COMPARATOR.finditer(sentence):
        left, right = sentence[:m.start()], sentence[m.end():]
        for rx in (NAME, PERCENT):
            a, b = rx.findall(left), rx.findall(right)
            if a and b and a[-1].strip() == b[0].strip():
                return True
    return False


@dataclass(frozen=True)
class Finding:
    check: str
    page: int | None
    text: str

    def __str__(self) -> str:
        where = f"page {self.page}" if self.page else "document"
        return f"{self.check} ({where}): {self.text}"


def page_texts(pdf: Path) -> list[str]:
    """The text of each page (``pdftotext -layout``; pages split at form feeds)."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def pages_with_images(pdf: Path) -> set[int]:
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = set()
    for line in out.splitlines()[2:]:
        parts = line.split()
        if parts and parts[0].isdigit():
            pages.add(int(parts[0]))
    return pages


def _body_lines(text: str, running: Iterable[str]) -> list[str]:
    run = [r for r in running if r]
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not any(r in ln for r in run)]


def _find_page(pages: list[str], needle: str, start: int) -> int | None:
    n = re.sub(r"\s+", " ", needle).strip()[:40]
    if len(n) < 3:
        return None
    for i in range(start, len(pages)):
        if n in re.sub(r"\s+", " ", pages[i]):
            return i
    return None


def _docx_tables(doc) -> list[list[list[str]]]:
    return [[[c.text.strip() for c in row.cells] for row in t.rows] for t in doc.tables]


def check_report(docx_path, pdf_path, language: str, allowed_names: Iterable[str] = (), industry: str = "neutral",
                 figures: Iterable[Path] = ()) -> list[Finding]:
    docx_path, pdf_path = Path(docx_path), Path(pdf_path)
    pages = page_texts(pdf_path)
    images = pages_with_images(pdf_path)
    doc = docx.Document(str(docx_path))
    section = doc.sections[-1]
    running = [p.text.strip() for p in section.header.paragraphs] + ["Стр.", "Page "]
    findings: list[Finding] = []
    allowed = sorted({a for a in allowed_names if a}, key=len, reverse=True)

    for i, text in enumerate(pages, start=1):
        body = _body_lines(text, running)
        if not body and i not in images:
            findings.append(Finding("blank_page", i, "the page has nothing but the header and footer"))
        flat = " ".join(body)
        for a in allowed:
            flat = flat.replace(a, " ")
        flat = PATHLIKE.sub(" ", flat)  # file names of the client's exports and checksums
        for m in CODE_ID.finditer(flat):
            findings.append(Finding("code_id", i, m.group(0)))
        for m in CATALOG_KEY.finditer(flat):
            findings.append(Finding("catalog_key", i, m.group(0)))
        if language == "ru":
            eng = [w for w in LATIN_WORD.findall(flat) if w.lower() in ENGLISH]
            if eng:
                findings.append(Finding("wrong_language", i, " ".join(eng[:8])))
        elif CYRILLIC.search(flat):
            found = re.findall(r"[А-Яа-яЁё][А-Яа-яЁё\- ]*", flat)
            findings.append(Finding("wrong_language", i, "; ".join(found[:5])))
        rx = INDUSTRY_WORDS.get(industry)
        if rx is not None:
            for m in rx.finditer(flat):
                findings.append(Finding("industry_word", i, m.group(0)))
        for sentence in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", " ".join(_body_lines(text, running)))):
            if compares_with_itself(sentence):
                findings.append(Finding("self_comparison", i, sentence[:160]))

    for rows in _docx_tables(doc):
        body = rows[1:]
        if len(body) >= 3 and len(rows[0]) >= 2 and not any(len(set(r)) == 1 for r in rows[:1]):
            for j, head in enumerate(rows[0]):
                values = {r[j] for r in body if j < len(r)}
                if len(values) == 1 and next(iter(values)):
                    findings.append(Finding("constant_column", None, f"{head}: {next(iter(values))}"))
        if len(body) >= 2:
            head = next((c for c in rows[0] if len(c) >= 3), "")
            first = _find_page(pages, head, 0) if head else None
            where, start = [], first or 0
            for r in body:
                key = " ".join(c for c in r[:2] if c)
                p = _find_page(pages, key, start) if key else None
                if p is not None:
                    start = p
                where.append(p)
            known = [p for p in where if p is not None]
            if len(known) == len(where) and len(set(known)) > 1:
                for p in sorted(set(known)):
                    if known.count(p) == 1:
                        findings.append(Finding("lonely_row", p + 1, " | ".join(body[known.index(p)])[:120]))

    findings += broken_words(doc)

    for fig in figures:
        try:
            problems = json.loads(Image.open(fig).text.get(TICK_PROBLEMS_KEY, "[]"))
        except (OSError, ValueError):
            continue
        for p in problems:
            findings.append(Finding("figure_ticks", None, f"{Path(fig).stem}: {p}"))
    return findings


def _font(bold: bool):
    """Liberation Sans (what LibreOffice draws Arial with), for measuring words; None if absent."""
    name = "LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf"
    for folder in ("/usr/share/fonts/truetype/liberation", "/usr/share/fonts/truetype/liberation2"):
        path = Path(folder) / name
        if path.exists():
            return ImageFont.truetype(str(path), 800)  # 100 pt at 8x: widths scale linearly
    return None


def broken_words(doc, margin_cm: float = 0.2) -> list[Finding]:
    """Words of table cells wider than their column (LibreOffice would break them across lines):
    each word measured in Liberation Sans at the cell's size (8 pt; the header row bold) against
    the column width less the cell margins."""
    regular, bold = _font(False), _font(True)
    if regular is None or bold is None:
        return []
    out, seen = [], set()
    for t in doc.tables:
        grid = [int(g.get(qn("w:w"))) / 567.0 for g in t._tbl.tblGrid.findall(qn("w:gridCol"))]  # twips -> cm
        for ri, row in enumerate(t.rows):
            font = bold if ri == 0 else regular
            for ci, cell in enumerate(row.cells):
                if ci >= len(grid):
                    continue
                room = grid[ci] - margin_cm
                for word_ in re.split(r"[ \t\n]+", cell.text):  # a no-break space joins, never breaks
                    size_pt = 8.0
                    width_cm = font.getlength(word_) / 800 * size_pt / 72 * 2.54
                    if word_ and width_cm > room and (word_, ci) not in seen:
                        seen.add((word_, ci))
                        out.append(Finding("broken_word", None, f"{word_} ({width_cm:.1f} cm in a {grid[ci]:.1f} cm column)"))
    return out


def gate_available() -> bool:
    """LibreOffice and poppler are on this machine (the gate needs both)."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    return office is not None and shutil.which("pdftotext") is not None and shutil.which("pdfimages") is not None
