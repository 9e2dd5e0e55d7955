"""The release gate: it passes on both case studies (cjm run's report step ran it and wrote
report_gate.json), and it catches each defect it is meant to catch when one is planted in a
small document converted by LibreOffice."""

from __future__ import annotations

import json

import docx
import pytest
from docx.enum.text import WD_BREAK

from report_runs import CASES, case_study_run, needs_office
from toolkit.core.figures import new_figure, save_figure, tick_label_problems
from toolkit.report.gate import check_report
from toolkit.report.render import convert_to_pdf

pytestmark = needs_office


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_the_gate_passes_on_the_case_studies(name):
    run = case_study_run(name)
    findings = json.loads((run / "report_gate.json").read_text(encoding="utf-8"))
    assert findings == [], "\n".join(f"{f['check']} (page {f['page']}): {f['text']}" for f in findings)


def _planted(tmp_path, language: str):
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "Client · Title"
    d.add_paragraph("Решения" if language == "ru" else "Decisions")
    d.add_paragraph("Главный барьер — window_display на этапе выбора." if language == "ru"
                    else "The main barrier is window_display at the choice stage.")
    d.add_paragraph("report.heading.decisions")
    d.add_paragraph("Нет данных: no coded interviews in this case." if language == "ru"
                    else "Not available: в кейсе нет опроса.")
    d.add_paragraph("Бренд «Формула»: узкое место — конверсия 45% против 45% у бренда «Формула»." if language == "ru"
                    else "Formula: the bottleneck converts 45% against 45% at “Formula”.")
    d.add_paragraph("The doctor will see the patient after the booking.")
    t = d.add_table(rows=4, cols=2)
    for i, row in enumerate(t.rows):
        row.cells[0].text = "Column" if i == 0 else f"row {i}"
        row.cells[1].text = "Kind" if i == 0 else "same"
    d.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    d.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    d.add_paragraph("end")
    path = tmp_path / f"planted_{language}.docx"
    d.save(str(path))
    return path, convert_to_pdf(path)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_gate_catches_each_planted_defect(tmp_path, language):
    path, pdf = _planted(tmp_path, language)
    fig, ax = new_figure(1.5, 1.5)
    ax.set_xticks(range(8), [f"a long label {i}" for i in range(8)])
    png = save_figure(fig, tmp_path / "crowded.png")
    findings = check_report(path, pdf, language, industry="retail", figures=[png])
    checks = {f.check for f in findings}
    assert {"code_id", "catalog_key", "wrong_language", "self_comparison", "constant_column", "blank_page",
            "figure_ticks"} <= checks, findings
    assert any(f.check == "code_id" and f.text == "window_display" and f.page == 1 for f in findings)
    assert any(f.check == "blank_page" and f.page == 2 for f in findings)
    if language == "en":
        assert {f.text.lower() for f in findings if f.check == "industry_word"} >= {"doctor", "patient", "booking"}


def test_a_clean_document_passes(tmp_path):
    d = docx.Document()
    d.add_paragraph("Decisions")
    d.add_paragraph("Open a second funnel through Nord Basics: 26% of leads cannot afford Atelier Nord.")
    t = d.add_table(rows=4, cols=2)
    for i, row in enumerate(t.rows):
        row.cells[0].text = "Line" if i == 0 else f"Line {i}"
        row.cells[1].text = "Share" if i == 0 else f"{10 * i}%"
    path = tmp_path / "clean.docx"
    d.save(str(path))
    assert check_report(path, convert_to_pdf(path), "en", industry="retail") == []


def test_tick_label_problems_are_measured_on_the_drawn_figure():
    fig, ax = new_figure(2.0, 3.0)
    ax.plot(range(8))
    ax.set_xticks(range(8))
    assert tick_label_problems(fig) == []
    ax.set_xticks(range(8), [f"a very long tick label {i}" for i in range(8)])
    assert any("overlaps" in p for p in tick_label_problems(fig))
