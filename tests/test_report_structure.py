"""The structure a partner signs, read from both case studies' rendered reports (docx and the
LibreOffice PDF the release step made): a table of contents, Decisions first, one landscape
journey map per persona, persona cards with their fields, the roadmap's columns; the clinic's
decisions name the double funnel with its annual range and the loyalty threshold with its
trigger plan; the retail decisions do not recommend an immaterial double funnel and the retail
text has no clinic words; at most about 25 pages before the appendices."""

from __future__ import annotations

import json
import re
import subprocess

import docx
import pytest

from report_runs import CASES, case_study_run, needs_office
from toolkit.core.words import word
from toolkit.report.gate import page_texts

pytestmark = [pytest.mark.slow, needs_office]


def _doc(name):
    run = case_study_run(name)
    return run, docx.Document(str(run / "report.docx")), json.loads((run / "metrics.json").read_text(encoding="utf-8"))


def _text(d) -> str:
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize("name", list(CASES))
def test_contents_decisions_first_and_appendices_last(name):
    run, d, m = _doc(name)
    lang = CASES[name]
    xml = d.element.body.xml
    assert re.search(r'<w:instrText[^>]*> TOC \\o "1-2"', xml), "no table-of-contents field"
    assert 'w:updateFields w:val="true"' in d.settings.element.xml
    h1 = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert h1[0] == word("report.heading.decisions", lang)
    assert h1[-2:] == [word("report.heading.appendix_data", lang), word("report.heading.appendix_evidence", lang)]
    decisions = [p.text for p in d.paragraphs if p.style.name == "Decision"]
    info = [p.text for p in d.paragraphs if p.style.name == "Decision Info"]
    assert 3 <= len(decisions) <= 5 and len(info) == len(decisions)
    page_word = "с." if lang == "ru" else "p."
    assert all(re.search(rf"{re.escape(page_word)} \d+$", x) for x in info), info  # "see p. N" from the PDF
    # the contents shown before Word refreshes it carry the PDF's page numbers
    toc = [p.text for p in d.paragraphs if p.style.name in ("TOC 1", "TOC 2") and p.text.strip()]
    assert len(toc) >= 20 and all(re.search(r"\t\d+$", t) for t in toc), toc[:3]
    # the cover: client, engagement, consultancy, date, confidentiality; not the toolkit
    cover = "\n".join(p.text for p in d.paragraphs[:8])
    assert "toolkit" not in cover.lower() and "инструментари" not in cover.lower()
    assert any(p.style.name == "Note" and p.text for p in d.paragraphs[:8])  # the confidentiality line


@pytest.mark.parametrize("name", list(CASES))
def test_one_landscape_journey_map_per_persona(name):
    run, d, m = _doc(name)
    personas = m["segments"]["personas"]
    pages = page_texts(run / "report.pdf")
    sizes = subprocess.run(["pdfinfo", "-f", "1", "-l", str(len(pages)), str(run / "report.pdf")],
                           capture_output=True, text=True, check=True).stdout
    landscape = [int(a) for a, w_, h_ in re.findall(r"Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)", sizes)
                 if float(w_) > float(h_)]
    assert len(landscape) == len(personas), (landscape, len(personas))
    for p in personas:  # each persona's map is on its own landscape page
        hits = [i for i in landscape if p["name"] in pages[i - 1]]
        assert len(hits) == 1, (p["name"], hits)
    figs = {s.name for s in run.joinpath("figures").glob("journey_map_persona_*.png")}
    assert len(figs) == len(personas)


@pytest.mark.parametrize("name", list(CASES))
def test_persona_cards_and_roadmap_columns(name):
    run, d, m = _doc(name)
    lang = CASES[name]
    labels = word("report.col.persona_card", lang).split("|")
    cards = [t for t in d.tables if [r.cells[0].text for r in t.rows] == labels]
    assert len(cards) == len(m["segments"]["personas"])
    for t in cards:
        values = {r.cells[0].text: r.cells[1].text for r in t.rows}
        assert values[labels[0]] and values[labels[2]] and values[labels[3]].startswith("NPS")
    # "main factors" are rated above the others, strongest first (never a factor rated below average)
    profile = __import__("pandas").read_parquet(run / "artifacts" / "persona_profile.parquet")
    for p, t in zip(m["segments"]["personas"], cards):
        main = [x.strip() for x in t.rows[labels.index(labels[5])].cells[1].text.split(",")]
        below = set(profile[(profile["persona"] == p["persona"]) & (profile["score"] <= 0)]["name"])
        assert not (set(main) & below), (p["name"], main)
    head = word("report.col.roadmap", lang).split("|")
    roadmap = [t for t in d.tables if [c.text for c in t.rows[0].cells] == head]
    assert len(roadmap) == 1 and len(roadmap[0].rows) >= 4
    rows = [[c.text for c in r.cells] for r in roadmap[0].rows[1:]]
    assert {r[3] for r in rows} <= {"S", "M", "L"}
    assert all("→" in r[5] for r in rows)
    owners = {r[2] for r in rows}
    assert len(owners) >= 3  # marketing, CRM, operations, line managers: not one owner for everything


def test_clinic_decisions_name_the_double_funnel_and_the_loyalty_trigger_plan():
    run, d, m = _doc("clinic_group")
    decisions = [p.text for p in d.paragraphs if p.style.name == "Decision"]
    info = [p.text for p in d.paragraphs if p.style.name == "Decision Info"]
    df = m["double_funnel"]
    assert df.get("material") is not False
    k = next(i for i, x in enumerate(decisions) if "воронк" in x and "«Формула»" in x)
    assert re.search(r"≈ [\d,]+\s*млн\s*руб\. – [\d,]+\s*млн\s*руб\. в год", info[k].replace("\xa0", " ")), info[k]
    visit = m["loyalty"]["overall"]["loyalty_visit"]
    assert any(f"{visit}-го визита" in x and "триггерн" in x for x in decisions)
    text = _text(d)
    assert word("report.heading.triggers", "ru") in text


def test_retail_decisions_skip_an_immaterial_double_funnel_and_use_no_clinic_words():
    run, d, m = _doc("fashion_retail")
    df = m["double_funnel"]
    decisions = "\n".join(p.text for p in d.paragraphs if p.style.name == "Decision")
    if df.get("material") is False:
        assert "Nord Basics" not in decisions and "funnel" not in decisions.lower()
    text = _text(d)
    for w_ in ("patient", "procedure", "doctor", "clinic", "booking", "treatment"):
        assert not re.search(rf"\b{w_}", text, re.I), w_


@pytest.mark.parametrize("name", list(CASES))
def test_at_most_about_25_pages_before_the_appendices(name):
    run, d, m = _doc(name)
    pages = page_texts(run / "report.pdf")
    title = word("report.heading.appendix_data", CASES[name])
    first = next(i for i, t in enumerate(pages) if i > 2 and re.search(rf"^\s*\d+\.\s+{re.escape(title)}", t, re.M))
    assert first <= 25, first
