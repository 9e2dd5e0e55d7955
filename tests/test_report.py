"""The Word report: templates, context and rendering, on a small hand-made run folder
(``toolkit.report.sample``: metrics.json following METRICS.md, parquet artifacts, figures drawn
by ``toolkit.charts``). Read back with python-docx."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest

from toolkit.report import build_templates as bt
from toolkit.report.context import (
    ARTIFACTS_USED,
    FigureRef,
    build_context,
    context_figures,
    journey_figure_name,
)
from toolkit.core.fmt import fmt_int, fmt_money, fmt_money_short, fmt_num, fmt_pct, fmt_pct_ci, ordinal, ru_plural  # noqa: F401
from toolkit.report.render import (
    ReportError,
    convert_to_pdf,
    find_soffice,
    leftover_tags,
    protect,
    render_report,
    template_path,
    template_variables,
)
from toolkit.report.sample import TRICKY_QUOTE, sample_case, write_sample_run
from toolkit.core.zipfiles import FIXED_ZIP_TIME

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One rendered sample run per language: (run folder, case, report path); figures in ru only."""
    out = {}
    for lang in ("ru", "en"):
        root = tmp_path_factory.mktemp(f"run_{lang}")
        run, case = write_sample_run(root, lang, figures=lang == "ru")  # figures once: drawing is the slow part
        out[lang] = (run, case, render_report(run.root, case, lang))
    return out


def paragraphs(doc) -> list:
    """Every paragraph of the body, including those inside tables."""
    out = list(doc.paragraphs)
    for t in doc.tables:
        for row in t.rows:
            for cell in row.cells:
                out.extend(cell.paragraphs)
    return out


def doc_text(path: Path) -> str:
    d = docx.Document(str(path))
    parts = [p.text for p in paragraphs(d)]
    for s in d.sections:
        parts += [p.text for p in s.header.paragraphs] + [p.text for p in s.footer.paragraphs]
    return "\n".join(parts)


# --------------------------------------------------------------------------- formatting


def test_number_formats_per_language():
    assert fmt_int(1234567, "ru") == f"1{NBSP}234{NBSP}567"
    assert fmt_int(1234567, "en") == "1,234,567"
    assert fmt_int(None, "ru") == "—" and fmt_int(float("nan"), "en") == "—"  # missing is a dash, never 0
    assert fmt_pct(0.4523, "ru") == "45,2%" and fmt_pct(0.4523, "en") == "45.2%"
    wj = "\u2060"  # word joiner: the range never breaks after its dash
    assert fmt_pct_ci(0.4523, [0.401, 0.503], "en") == f"45.2% (95%{NBSP}CI 40.1–{wj}50.3%)"
    assert fmt_pct_ci(0.4523, [0.401, 0.503], "ru", 0) == f"45% (95%{NBSP}ДИ 40–{wj}50%)"
    assert fmt_pct_ci(0.5, None, "ru") == "50,0%"
    assert fmt_money(8450000, "RUB", "ru") == f"8{NBSP}450{NBSP}000{NBSP}руб."
    assert fmt_money(8450000, "RUB", "en") == f"RUB{NBSP}8,450,000"
    assert fmt_num(2.125, "ru", 2) == "2,13" and fmt_pct(0.285, "en", 0) == "29%"  # half up, as written
    assert [ru_plural(n, "визит", "визита", "визитов") for n in (1, 2, 5, 11, 21, 22, 112)] == [
        "визит", "визита", "визитов", "визитов", "визит", "визита", "визитов"]
    assert ordinal(6, "ru") == "6-й" and ordinal(6, "ru", genitive=True) == "6-го"
    assert ordinal(2, "en") == "2nd" and ordinal(11, "en") == "11th"
    # in sentences money is rounded: 98 611 015 -> 98,6 млн; 5 555 967 -> 5.6 million; 556 000 -> 556 тыс.
    assert fmt_money_short(98_611_015, "RUB", "ru") == f"98,6{NBSP}млн{NBSP}руб."
    assert fmt_money_short(5_555_967, "RUB", "en") == f"RUB{NBSP}5.6{NBSP}million"
    assert fmt_money_short(556_000, "RUB", "ru") == f"556{NBSP}тыс.{NBSP}руб."
    assert fmt_money_short(9_999, "USD", "en") == f"USD{NBSP}9,999"


# --------------------------------------------------------------------------- templates


def test_templates_are_deterministic_and_up_to_date():
    for lang in ("ru", "en"):
        a = bt.build_template_bytes(lang)
        if lang == "ru":
            assert a == bt.build_template_bytes(lang)
        # the committed template is what the builder makes (run python -m toolkit.report.build_templates)
        assert bt.template_file(lang).read_bytes() == a, f"report_templates/cjm_report_{lang}.docx is stale"
        with zipfile.ZipFile(io.BytesIO(a)) as z:
            assert {i.date_time for i in z.infolist()} == {FIXED_ZIP_TIME}


def test_template_defines_styles_numbering_and_page():
    d = docx.Document(str(bt.template_file("ru")))
    names = {s.name for s in d.styles}
    assert {"CJM Table", "Table Text", "Table Heading", "Figure", "Note", "Heading 1", "Heading 2", "Quote"} <= names
    s = d.sections[0]
    assert (round(s.page_width.cm, 1), round(s.page_height.cm, 1)) == (21.0, 29.7)
    assert round(s.page_width.cm - s.left_margin.cm - s.right_margin.cm, 1) == bt.TEXT_WIDTH_CM
    # Heading 1 and 2 are linked to the multi-level numbering (numPr in the style, pStyle in the level)
    for level, style in ((0, "Heading 1"), (1, "Heading 2")):
        numpr = d.styles[style].element.pPr.numPr
        assert numpr.numId.val == bt.HEADING_NUM_ID and numpr.ilvl.val == level
    numbering = d.part.numbering_part.element.xml
    assert 'w:pStyle w:val="Heading1"' in numbering and 'w:lvlText w:val="%1.%2."' in numbering
    # fonts for every script, no theme fonts
    from lxml import etree

    defaults = d.styles.element.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}docDefaults")
    rfonts = etree.tostring(defaults).decode()
    assert 'w:eastAsia="Arial"' in rfonts and 'w:cs="Arial"' in rfonts and "Theme" not in rfonts
    # page numbers in the footer
    assert "PAGE" in s.footer._element.xml


@pytest.mark.parametrize("language", ["ru", "en"])
def test_context_provides_every_template_variable(runs, language):
    run, case, _ = runs[language]
    ctx = build_context(run.root, case, language)
    expected = template_variables(language=language)
    assert expected, "the template declares no variables"
    assert expected <= set(ctx), expected - set(ctx)


# --------------------------------------------------------------------------- the rendered report


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_section_heading_is_present(runs, language):
    d = docx.Document(str(runs[language][2]))
    headings = {p.text for p in d.paragraphs if p.style.name.startswith("Heading")}
    for level, key in bt.HEADINGS:
        assert bt.heading(key, language) in headings, key
    # one journey map per survey persona (P1-P3), each titled with the persona's name
    title = "Карта пути:" if language == "ru" else "Journey map:"
    maps = [p.text for p in d.paragraphs if p.style.name == "Heading 2" and p.text.startswith(title)]
    assert len(maps) == 3


def test_tables_and_images(runs):
    run, case, path = runs["ru"]
    d = docx.Document(str(path))
    ctx = build_context(run.root, case, "ru")
    # every figure of the context is an image in the document; journey maps are on landscape pages
    assert len(d.inline_shapes) == len(context_figures(ctx)) > 0
    for shape in d.inline_shapes:
        assert shape.width.mm <= 257.5
    headers = {tuple(c.text for c in t.rows[0].cells): t for t in d.tables}
    barrier = next(t for h, t in headers.items() if h[0] == "№" and h[1] == "Барьер")
    metrics = json.loads((run.root / "metrics.json").read_text(encoding="utf-8"))
    assert len(barrier.rows) == 1 + len(metrics["barriers"])  # header + one row per barrier
    assert barrier.rows[1].cells[1].text == "Высокая цена"
    # the annual impact on the money basis: a range, rounded as a director reads it
    assert barrier.rows[1].cells[4].text == f"≈ 5,1{NBSP}млн{NBSP}руб. – 12,7{NBSP}млн{NBSP}руб. в год"
    assert barrier.rows[4].cells[4].text == "не измерен"
    sources = next(t for h, t in headers.items() if h[0] == "Источник" and h[1] == "Файл")
    assert [r.cells[3].text for r in sources.rows[1:]] == [fmt_int(n, "ru") for n in (48210, 6120, 1450, 412)]
    # the journey map cell by cell (appendix): evidence in words, no cell colour a client reads as "good"
    journey = [t for t in d.tables if (t.rows[0].cells[0].text, t.rows[0].cells[1].text) == ("Этап", "Строка карты")]
    assert len(journey) == 1
    assert "w:fill=\"C6E0B4\"" not in journey[0]._tbl.xml
    # the header row repeats on every page
    assert "w:tblHeader" in barrier._tbl.xml


@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_template_tags_left_and_quote_is_literal(runs, language):
    text = doc_text(runs[language][2])
    assert TRICKY_QUOTE in text  # <, & and {{ }} of the data come out literally
    for line in text.splitlines():
        if TRICKY_QUOTE in line:
            continue
        assert "{{" not in line and "{%" not in line and "%}" not in line and "}}" not in line, line
    # in the final file the only braces are the quote's (the render checked before restoring them)
    found = leftover_tags(runs[language][2].read_bytes())
    assert found and all("акция" in f for f in found)


def test_decisions_come_first_with_money_from_metrics(runs):
    run, case, path = runs["ru"]
    m = json.loads((run.root / "metrics.json").read_text(encoding="utf-8"))
    d = docx.Document(str(path))
    h1 = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert h1[0] == "Решения"
    decisions = [p.text for p in d.paragraphs if p.style.name == "Decision"]
    info = [p.text for p in d.paragraphs if p.style.name == "Decision Info"]
    assert 3 <= len(decisions) <= 5 and len(info) == len(decisions)
    text = "\n".join(decisions + info)
    # the double funnel with the headline scenario's annual incremental range (capture 30 %)
    mid = m["double_funnel"]["scenarios"][2]
    inc = mid["incremental_annual_revenue"]
    assert "«Бьюти Лаб»" in decisions[0] or "Бьюти" in decisions[0]
    assert fmt_money_short(inc["low"], "RUB", "ru") in info[0] and fmt_money_short(inc["high"], "RUB", "ru") in info[0]
    # the loyalty threshold with its trigger plan
    k = m["loyalty"]["overall"]["loyalty_visit"]
    assert any(f"{k}-го визита" in x and "триггер" in x for x in decisions)
    # the top barrier by annual impact, its range
    b = m["barriers"][0]
    assert any(b["label"] in x for x in decisions)
    assert fmt_money_short(b["annual_impact"]["high"], "RUB", "ru") in text
    assert "см. раздел" in text


def test_not_available_for_a_skipped_part(tmp_path):
    run, case = write_sample_run(tmp_path / "run", "ru", figures=False, skip=("double_funnel", "funnel"))
    path = render_report(run.root, case, "ru")
    d = docx.Document(str(path))
    notes = [p.text for p in d.paragraphs if p.style.name == "Note"]
    assert "Нет данных: в кейсе нет таблицы лидов." in notes  # funnel and double funnel
    assert notes.count("Нет данных: в кейсе нет таблицы лидов.") == 2
    text = doc_text(path)
    assert "Двойная воронка: неявно" not in text  # no roadmap item without its numbers
    run_en, case_en = write_sample_run(tmp_path / "run_en", "en", figures=False, skip=("double_funnel",))
    notes_en = [p.text for p in docx.Document(str(render_report(run_en.root, case_en, "en"))).paragraphs
                if p.style.name == "Note"]
    assert "Not available: the case has no leads table." in notes_en


def test_empty_run_renders_with_not_available_everywhere(tmp_path):
    case = sample_case("en")
    path = render_report(tmp_path, case, "en")
    d = docx.Document(str(path))
    notes = [p.text for p in d.paragraphs if p.style.name == "Note"]
    fixed = {"Confidential.", "All money figures", "Case ", "One page per persona"}  # cover, basis, version, legend
    assert len([n for n in notes if n.startswith("Not available")]) >= 10
    assert all(n.startswith("Not available") or n.startswith(tuple(fixed)) for n in notes), notes
    assert "Not available: the step that computes it has not run." in notes
    assert len(d.inline_shapes) == 0


def test_rendering_is_deterministic(runs, tmp_path):
    run, case, path = runs["ru"]
    again = render_report(run.root, case, "ru", out=tmp_path / "again.docx")
    assert doc_text(again) == doc_text(path)
    assert again.read_bytes() == path.read_bytes()
    assert docx.Document(str(again)).core_properties.modified.date().isoformat() == "2025-06-30"  # as_of


def test_failed_render_keeps_the_previous_report(runs, tmp_path):
    run, case, _ = runs["en"]
    target = tmp_path / "report.docx"
    render_report(run.root, case, "en", out=target)
    before = target.read_bytes()
    # a template asking for a variable the context does not have
    broken = docx.Document(str(bt.template_file("en")))
    broken.add_paragraph("{{ meta.no_such_value }}")
    bad = tmp_path / "broken.docx"
    broken.save(str(bad))
    with pytest.raises(ReportError, match="no_such_value"):
        render_report(run.root, case, "en", template=bad, out=target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.docx", "report.docx"]  # no temp file left


def test_leftover_tags_are_caught():
    d = docx.Document()
    d.add_paragraph("fine text")
    d.add_paragraph("still {{ here }}")
    buf = io.BytesIO()
    d.save(buf)
    found = leftover_tags(buf.getvalue())
    assert len(found) == 1 and "still {{ here }}" in found[0]
    # data braces are protected through the render, and control characters dropped
    assert protect({"q": ["a {{ b }} {% c %}\x0b"]}) == {"q": ["a \ue000 b \ue001 \ue002 c \ue003"]}


def test_artifact_contract_matches_the_sample_run(runs):
    run, _, _ = runs["ru"]
    for name, columns in ARTIFACTS_USED.items():
        frame = pd.read_parquet(run.table_path(name))
        assert set(columns) <= set(frame.columns), (name, set(columns) - set(frame.columns))
    assert journey_figure_name("journey_matrix", "persona", "P1") == "journey_matrix_persona_P1"
    a, b = journey_figure_name("emotion_curve", "persona", "Ценители"), journey_figure_name("emotion_curve", "persona", "Ценитель")
    assert a != b and a.isascii()


def test_template_path_errors(tmp_path):
    with pytest.raises(ReportError, match="no report template for language 'de'"):
        template_path("de")
    with pytest.raises(ReportError, match="does not exist"):
        template_path("ru", tmp_path / "nope.docx")


def test_pdf_error_is_one_sentence_when_libreoffice_is_missing(runs, monkeypatch):
    import toolkit.report.render as r

    monkeypatch.setattr(r, "find_soffice", lambda: None)
    with pytest.raises(ReportError, match="LibreOffice \\(soffice\\) is not installed"):
        convert_to_pdf(runs["ru"][2])


@pytest.mark.slow
@pytest.mark.skipif(find_soffice() is None, reason="LibreOffice is not installed")
def test_pdf_conversion(runs, tmp_path):
    src = tmp_path / "report.docx"
    shutil.copyfile(runs["ru"][2], src)
    pdf = convert_to_pdf(src, timeout=180)
    assert pdf == tmp_path / "report.pdf" and pdf.read_bytes()[:5] == b"%PDF-"


def test_figure_refs_point_at_existing_pngs(runs):
    run, case, _ = runs["ru"]
    refs = context_figures(build_context(run.root, case, "en"))  # the ru run's figures, English text
    assert refs and all(isinstance(r, FigureRef) and r.path.exists() for r in refs)
