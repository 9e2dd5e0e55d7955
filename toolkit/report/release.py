"""Render the report for release: Word file, PDF with real page numbers, and the release gate.

``release_report(run_dir, case, language)``:

1. renders ``report.docx`` and converts it to PDF with LibreOffice;
2. reads the page of every heading from the PDF and renders again, so the contents and the
   decisions' "see p. N" carry the pages of the PDF (Word refreshes the contents field itself
   when the file is opened);
3. converts again and runs the gate (``toolkit.report.gate.check_report``) on the final pair;
4. writes ``report_gate.json`` (the findings) beside the report and returns the findings, and
   ``report_made_labels.json``: the codes the report had to label from their id (no codebook or
   case label), which ``cjm run`` prints as notes.

Without LibreOffice or poppler the report is rendered once and the gate is skipped (one
finding says so), so a run on a machine without them still gives its report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from toolkit.core.run_folder import atomic_path
from toolkit.report.context import build_context, context_figures
from toolkit.report.gate import Finding, check_report, gate_available, page_texts
from toolkit.report.render import REPORT_NAME, convert_to_pdf, render_report
from toolkit.report.template_sections import HEADINGS, heading

GATE_FILE = "report_gate.json"
LABELS_FILE = "report_made_labels.json"  # code ids shown with a label made from the id (no codebook/case label)


def heading_pages(pdf: Path, language: str) -> dict[str, int]:
    """Heading text -> the first page (after the contents) whose text holds it as a line."""
    pages = page_texts(pdf)
    out: dict[str, int] = {}
    start = 2  # the cover and the contents list every heading: search after them
    for _level, key in HEADINGS:
        title = heading(key, language)
        pat = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?\s+)?" + re.escape(title) + r"\s*$", re.M)
        for i in range(start, len(pages)):
            if pat.search(pages[i]):
                out[title] = i + 1
                start = i
                break
    return out


def allowed_names(case) -> list[str]:
    """Names the client supplied (they may be in another script than the report's language)."""
    if case is None:
        return []
    names = [case.client, case.name, case.title or "", getattr(case, "engagement_title", None) or "",
             getattr(case, "consultancy", None) or "", getattr(case, "confidentiality", None) or ""]
    for group in (case.brands, case.business_lines, case.journey_stages, case.funnel_stages, case.choice_factors,
                  case.touchpoints):
        for x in group or []:
            names += [x.id, x.label, *x.aliases]
    return [n for n in names if n]


def release_report(run_dir, case=None, language: str | None = None, prepared_by: str | None = None) -> list[Finding]:
    run_dir = Path(run_dir)
    docx_path = render_report(run_dir, case, language, prepared_by=prepared_by)
    if not gate_available():
        findings = [Finding("gate_skipped", None, "LibreOffice or poppler is not installed: the report was not checked")]
        _write(run_dir, findings)
        return findings
    pdf = convert_to_pdf(docx_path)
    lang = language or (case.language if case is not None else "ru")
    pages = heading_pages(pdf, lang)
    docx_path = render_report(run_dir, case, language, prepared_by=prepared_by, pages=pages)
    pdf = convert_to_pdf(docx_path)
    ctx = build_context(run_dir, case, language, prepared_by=prepared_by)
    figures = [f.path for f in context_figures(ctx)]
    with atomic_path(run_dir / LABELS_FILE) as tmp:  # codes the report labelled from their id: add a label
        tmp.write_text(json.dumps(ctx.get("made_labels") or [], ensure_ascii=False, indent=1), encoding="utf-8")
    industry = getattr(case, "industry", None) or "neutral"
    findings = check_report(docx_path, pdf, lang, allowed_names(case), industry, figures)
    _write(run_dir, findings)
    return findings


def _write(run_dir: Path, findings: list[Finding]) -> None:
    with atomic_path(run_dir / GATE_FILE) as tmp:
        tmp.write_text(json.dumps([f.__dict__ for f in findings], ensure_ascii=False, indent=1), encoding="utf-8")


def read_gate(run_dir) -> list[Mapping]:
    path = Path(run_dir) / GATE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def read_made_labels(run_dir) -> list[str]:
    path = Path(run_dir) / LABELS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


__all__ = ["GATE_FILE", "LABELS_FILE", "REPORT_NAME", "read_made_labels", "allowed_names", "heading_pages", "read_gate", "release_report"]
