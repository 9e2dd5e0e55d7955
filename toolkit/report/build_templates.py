"""Build the two Word templates of the report (``report_templates/cjm_report_ru.docx`` and
``cjm_report_en.docx``) with python-docx: ``python -m toolkit.report.build_templates``.

The templates are ordinary Word documents with docxtpl tags (``{{ ... }}``, ``{%p ... %}``
paragraph tags, ``{%tr ... %}`` table-row loops, ``{% cellbg ... %}`` cell colours). A
consultant can restyle them in Word: every look comes from a named style defined here —

- fonts: ``FONT`` (Arial; LibreOffice renders it with the metric-compatible Liberation
  Sans) for Latin, Cyrillic (``w:hAnsi``), East-Asian and complex scripts, in the document
  defaults and in every style (no theme fonts);
- paragraph styles: Normal, Title, Subtitle, Heading 1-2 (automatic multi-level numbering
  1., 1.1. from a numbering definition linked to the heading styles), Heading 3, Caption, Quote,
  List Bullet, List Number, and the toolkit's own ``Figure``, ``Note`` (the "not available"
  text), ``Table Text`` and ``Table Heading``;
- table style ``CJM Table`` (borders, shaded header row repeated on every page);
- page: A4, margins 2.5 cm left/right (16 cm text width = the figures' width), 2 cm top/bottom;
  a header with the client and title, page numbers in the footer; no header/footer on the
  title page; each chapter (Heading 1) and each journey map starts a new page.

Restyle the styles, not single paragraphs, and keep the tags intact (a tag must stay inside
one paragraph). Re-running this module overwrites both files; the bytes are deterministic
(fixed core properties and zip entry times), so an unchanged builder gives unchanged files.
"""

from __future__ import annotations


import datetime as dt
import io
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

from toolkit.core.zipfiles import deterministic_zip

FONT = "Arial"
ACCENT = "1F4E79"
GREY = "595959"
TEXT_WIDTH_CM = 16.0
HEADING_NUM_ID = 90
FIXED_TIME = dt.datetime(2025, 1, 1, 0, 0, 0)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "report_templates"


def template_file(language: str) -> Path:
    return TEMPLATE_DIR / f"cjm_report_{language}.docx"


# --------------------------------------------------------------------------- words of the template

# Section headings (level, key, ru, en): the tests check that each appears in the report.
HEADINGS: list[tuple[int, str, str, str]] = [
    (1, "summary", "Ключевые выводы", "Key findings"),
    (1, "data", "Данные и метод", "Data and method"),
    (2, "sources", "Источники, периоды и качество данных", "Sources, periods and data quality"),
    (2, "method", "Метод", "Method"),
    (1, "segments", "Сегменты: RFM и персоны", "Segments: RFM and personas"),
    (2, "rfm", "RFM-сегменты клиентской базы", "RFM segments of the customer base"),
    (2, "personas", "Персоны", "Personas"),
    (1, "journeys", "Карты пути клиента", "Customer journey maps"),
    (1, "funnel", "Воронка и узкие места", "Funnel and bottlenecks"),
    (1, "barriers", "Барьеры", "Barriers"),
    (2, "barrier_evidence", "Доказательства и что сделать", "Evidence and what to do"),
    (1, "loyalty", "Лояльность", "Loyalty"),
    (2, "repeat", "Кривая возврата и порог лояльности", "Repeat curve and loyalty threshold"),
    (2, "intervals", "Интервалы между визитами", "Intervals between visits"),
    (2, "cross", "Кросс-проникновение направлений", "Cross-penetration between lines"),
    (2, "staff", "Зависимость от специалистов", "Dependency on staff"),
    (1, "double_funnel", "Двойная воронка", "Double funnel"),
    (2, "scenarios", "Сценарии", "Scenarios"),
    (2, "recommendation", "Рекомендация", "Recommendation"),
    (1, "profit_crm", "Формула прибыли и спецификация CRM", "Profit formula and CRM specification"),
    (2, "profit", "Формула прибыли", "Profit formula"),
    (2, "crm", "Спецификация для CRM", "CRM specification"),
    (1, "roadmap", "Дорожная карта", "Roadmap"),
    (1, "appendix", "Приложение", "Appendix"),
    (2, "parameters", "Параметры анализа", "Analysis parameters"),
    (2, "inputs", "Входные файлы и контрольные суммы", "Input files and checksums"),
]


def heading(key: str, language: str) -> str:
    for _lvl, k, ru, en in HEADINGS:
        if k == key:
            return ru if language == "ru" else en
    raise KeyError(key)


def _w(language: str, ru: str, en: str) -> str:
    return ru if language == "ru" else en


# --------------------------------------------------------------------------- styles


_AFTER_SZ = {qn(f"w:{t}") for t in ("highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs",
                                     "em", "lang", "eastAsianLayout", "specVanish", "oMath")}


def _set_fonts(rpr, size_pt: float | None = None) -> None:
    """Explicit fonts for every script (no theme fonts), optional size."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if rfonts.get(qn(attr)) is not None:
            del rfonts.attrib[qn(attr)]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT)
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                # schema order: sz and szCs come before highlight, u, ..., lang
                later = [c for c in rpr if c.tag in _AFTER_SZ]
                if later:
                    later[0].addprevious(el)
                else:
                    rpr.append(el)
            el.set(qn("w:val"), str(int(round(size_pt * 2))))


def _doc_defaults(doc, language: str) -> None:
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, 10)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "ru-RU" if language == "ru" else "en-GB")
    lang.set(qn("w:eastAsia"), "en-US")
    lang.set(qn("w:bidi"), "ar-SA")
    # every style: explicit fonts, so no theme font can override them
    for st in styles.findall(qn("w:style")):
        rpr = st.find(qn("w:rPr"))
        if rpr is not None and rpr.find(qn("w:rFonts")) is not None:
            _set_fonts(rpr)


def _para_style(doc, name: str, base: str | None = "Normal", size: float | None = None, bold: bool | None = None,
                italic: bool | None = None, colour: str | None = None, before: float | None = None,
                after: float | None = None, align=None, keep_next: bool | None = None, line: float | None = None,
                indent_cm: float | None = None):
    styles = doc.styles
    try:
        st = styles[name]
    except KeyError:
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base and st.name != base:
        st.base_style = styles[base]
    st.quick_style = True
    f = st.font
    f.name = FONT
    if size is not None:
        f.size = Pt(size)
    if bold is not None:
        f.bold = bold
    if italic is not None:
        f.italic = italic
    if colour is not None:
        f.color.rgb = RGBColor.from_string(colour)
    _set_fonts(st.element.get_or_add_rPr())
    pf = st.paragraph_format
    if before is not None:
        pf.space_before = Pt(before)
    if after is not None:
        pf.space_after = Pt(after)
    if align is not None:
        pf.alignment = align
    if keep_next is not None:
        pf.keep_with_next = keep_next
    if line is not None:
        pf.line_spacing = line
    if indent_cm is not None:
        pf.left_indent = Cm(indent_cm)
    return st


def _heading_numbering(doc) -> None:
    """Multi-level numbering 1. / 1.1. linked to Heading 1 and 2 (pStyle in the levels, numPr in
    the styles), so numbers follow the headings wherever they move. Heading 3 (a barrier's
    evidence) is not numbered: its title carries the barrier's rank."""
    numbering = doc.part.numbering_part.element
    levels = []
    for i in range(9):
        text = ".".join(f"%{k + 1}" for k in range(i + 1)) + "."
        indent = 0
        pstyle = f'<w:pStyle w:val="Heading{i + 1}"/>' if i < 2 else ""
        levels.append(
            f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>{pstyle}'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{indent}" w:firstLine="0"/></w:pPr></w:lvl>'
        )
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{HEADING_NUM_ID}">'
        f'<w:multiLevelType w:val="multilevel"/><w:name w:val="CJM headings"/>{"".join(levels)}</w:abstractNum>'
    )
    num = parse_xml(f'<w:num {nsdecls("w")} w:numId="{HEADING_NUM_ID}"><w:abstractNumId w:val="{HEADING_NUM_ID}"/></w:num>')
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(num)
    for i in range(2):
        st = doc.styles[f"Heading {i + 1}"]
        numpr = st.element.get_or_add_pPr().get_or_add_numPr()
        numpr.get_or_add_ilvl().val = i
        numpr.get_or_add_numId().val = HEADING_NUM_ID
        # the number sits in a tab stop after it
        st.paragraph_format.tab_stops.add_tab_stop(Cm(1.2))


TABLE_STYLE_XML = f"""
<w:style {nsdecls('w')} w:type="table" w:customStyle="1" w:styleId="CJMTable">
  <w:name w:val="CJM Table"/>
  <w:basedOn w:val="TableNormal"/>
  <w:uiPriority w:val="59"/>
  <w:qFormat/>
  <w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>
  <w:rPr><w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/><w:sz w:val="16"/><w:szCs w:val="16"/></w:rPr>
  <w:tblPr>
    <w:tblBorders>
      <w:top w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/>
      <w:left w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/>
      <w:bottom w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/>
      <w:right w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/>
      <w:insideH w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/>
      <w:insideV w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/>
    </w:tblBorders>
    <w:tblCellMar>
      <w:top w:w="28" w:type="dxa"/><w:left w:w="57" w:type="dxa"/>
      <w:bottom w:w="28" w:type="dxa"/><w:right w:w="57" w:type="dxa"/>
    </w:tblCellMar>
  </w:tblPr>
  <w:tblStylePr w:type="firstRow">
    <w:rPr><w:b/><w:color w:val="FFFFFF"/></w:rPr>
    <w:tblPr/>
    <w:trPr><w:tblHeader/></w:trPr>
    <w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{ACCENT}"/></w:tcPr>
  </w:tblStylePr>
</w:style>
"""


def _styles(doc, language: str) -> None:
    _doc_defaults(doc, language)
    _para_style(doc, "Normal", base=None, size=10, after=6, line=1.1)
    _para_style(doc, "Title", size=24, bold=True, colour=ACCENT, after=12, before=120)
    _para_style(doc, "Subtitle", size=14, italic=False, colour=GREY, after=24)
    _para_style(doc, "Heading 1", size=15, bold=True, colour=ACCENT, before=0, after=8, keep_next=True)
    doc.styles["Heading 1"].paragraph_format.page_break_before = True  # each chapter on a new page
    _para_style(doc, "Heading 2", size=12, bold=True, colour=ACCENT, before=12, after=6, keep_next=True)
    _para_style(doc, "Heading 3", size=10.5, bold=True, colour="262626", before=8, after=4, keep_next=True)
    for name in ("Heading 1", "Heading 2", "Heading 3", "Title", "Subtitle"):
        doc.styles[name].font.italic = False
    _para_style(doc, "Caption", size=8.5, italic=True, bold=False, colour=GREY, before=2, after=10)
    _para_style(doc, "Quote", size=9, italic=True, colour="404040", indent_cm=0.8, after=3)
    _para_style(doc, "List Bullet", size=10, after=3)
    _para_style(doc, "List Number", size=10, after=4)
    # no keep-with-next: a chain of figures kept together would jump to the next page as one block
    _para_style(doc, "Figure", size=10, after=2, before=6, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=False, line=1.0)
    _para_style(doc, "Note", size=9.5, italic=True, colour="7F7F7F", after=6)
    _para_style(doc, "Table Text", size=8, before=0, after=0, line=1.0)
    _para_style(doc, "Table Heading", base="Table Text", size=8, bold=True, keep_next=True)
    _para_style(doc, "Title Info", size=11, colour="262626", after=4)
    for name in ("Header", "Footer"):
        _para_style(doc, name, size=8, colour=GREY)
    doc.styles.element.append(parse_xml(TABLE_STYLE_XML))
    _heading_numbering(doc)


# --------------------------------------------------------------------------- page


def _field(paragraph, instr: str, placeholder: str = "1") -> None:
    """A Word field (PAGE, NUMPAGES) as begin/instr/separate/result/end runs."""
    def run_with(el):
        r = paragraph.add_run()
        r._r.append(el)
        return r

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    it = OxmlElement("w:instrText")
    it.set(qn("xml:space"), "preserve")
    it.text = f" {instr} "
    run_with(it)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    paragraph.add_run(placeholder)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _page(doc, language: str) -> None:
    s = doc.sections[0]
    s.orientation = WD_ORIENT.PORTRAIT
    s.page_width, s.page_height = Cm(21.0), Cm(29.7)
    s.left_margin = s.right_margin = Cm(2.5)
    s.top_margin, s.bottom_margin = Cm(2.0), Cm(2.0)
    s.header_distance = s.footer_distance = Cm(1.0)
    s.different_first_page_header_footer = True
    hp = s.header.paragraphs[0]
    hp.style = doc.styles["Header"]
    hp.add_run("{{ meta.client }} · {{ meta.title }}")
    fp = s.footer.paragraphs[0]
    fp.style = doc.styles["Footer"]
    fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fp.add_run(_w(language, "Стр. ", "Page "))
    _field(fp, "PAGE")
    fp.add_run(_w(language, " из ", " of "))
    _field(fp, "NUMPAGES")
    # the first page (title) keeps empty header and footer
    s.first_page_header.paragraphs[0].text = ""
    s.first_page_footer.paragraphs[0].text = ""


# --------------------------------------------------------------------------- body helpers


class Body:
    def __init__(self, doc, language: str):
        self.doc = doc
        self.lang = language

    def p(self, text: str = "", style: str = "Normal"):
        para = self.doc.add_paragraph(style=style)
        if text:
            para.add_run(text)
        return para

    def tag(self, text: str):
        """A paragraph holding only a docxtpl paragraph tag (``{%p ... %}``): removed at render."""
        return self.p(text)

    def h(self, level: int, key: str):
        return self.doc.add_paragraph(heading(key, self.lang), style=f"Heading {level}")

    def h_text(self, level: int, text: str):
        return self.doc.add_paragraph(text, style=f"Heading {level}")

    def na(self, var: str):
        return self.p("{{ " + var + " }}", "Note")

    def figure(self, expr: str, caption: str | None = None):
        self.tag("{%p if " + expr + " %}")
        self.p("{{ " + expr + " }}", "Figure")
        if caption:
            self.p(caption, "Caption")
        self.tag("{%p endif %}")

    def bullets(self, loop: str, item: str = "x", style: str = "List Bullet"):
        self.tag("{%p for " + item + " in " + loop + " %}")
        self.p("{{ " + item + " }}", style)
        self.tag("{%p endfor %}")

    def table(self, headers: list[str], cells: list[str], loop: str, widths: list[float], colour: dict | None = None):
        """Header row + one templated row repeated by ``{%tr for ... %}``.

        ``cells``: the Jinja expression of each column (``r.name``); ``colour``: column index ->
        expression of the cell's background colour (``{% cellbg %}``)."""
        assert len(headers) == len(cells) == len(widths), (headers, cells, widths)
        assert abs(sum(widths) - TEXT_WIDTH_CM) < 0.05, (sum(widths), headers)
        t = self.doc.add_table(rows=4, cols=len(headers))
        t.style = self.doc.styles["CJM Table"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False  # python-docx writes <w:tblLayout w:type="fixed"/> in schema order
        tblpr = t._tbl.tblPr
        look = tblpr.find(qn("w:tblLook"))
        if look is None:
            look = OxmlElement("w:tblLook")
            tblpr.append(look)
        for k, v in (("w:val", "04A0"), ("w:firstRow", "1"), ("w:lastRow", "0"), ("w:firstColumn", "0"),
                     ("w:lastColumn", "0"), ("w:noHBand", "1"), ("w:noVBand", "1")):
            look.set(qn(k), v)
        grid = t._tbl.tblGrid
        for gc, w in zip(grid.findall(qn("w:gridCol")), widths):
            gc.set(qn("w:w"), str(int(Cm(w).twips)))
        # header row: repeated on every page, shaded even where a viewer ignores table styles
        hdr = t.rows[0]
        trpr = hdr._tr.get_or_add_trPr()
        th = OxmlElement("w:tblHeader")
        trpr.append(th)
        for i, (cell, text, w) in enumerate(zip(hdr.cells, headers, widths)):
            cell.width = Cm(w)
            para = cell.paragraphs[0]
            para.style = self.doc.styles["Table Heading"]
            run = para.add_run(text)
            run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
            shd = OxmlElement("w:shd")
            shd.set(qn("w:val"), "clear")
            shd.set(qn("w:color"), "auto")
            shd.set(qn("w:fill"), ACCENT)
            cell._tc.get_or_add_tcPr().append(shd)
        # loop rows
        rows = [("{%tr for " + loop + " %}",), None, ("{%tr endfor %}",)]
        for ri, spec in zip((1, 2, 3), rows):
            row = t.rows[ri]
            trpr = row._tr.get_or_add_trPr()
            cant = OxmlElement("w:cantSplit")
            trpr.append(cant)
            for ci, (cell, w) in enumerate(zip(row.cells, widths)):
                cell.width = Cm(w)
                para = cell.paragraphs[0]
                para.style = self.doc.styles["Table Text"]
                if spec is not None:
                    if ci == 0:
                        para.add_run(spec[0])
                    continue
                text = "{{ " + cells[ci] + " }}"
                if colour and ci in colour:
                    text = "{% cellbg " + colour[ci] + " %}" + text
                para.add_run(text)
        self.p("", "Caption")  # breathing space after the table (a restylable caption paragraph)
        return t

    def page_break(self):
        para = self.doc.add_paragraph()
        para.add_run().add_break(WD_BREAK.PAGE)


# --------------------------------------------------------------------------- the report


def _title_page(b: Body) -> None:
    L = b.lang
    b.p("{{ meta.title }}", "Title")
    b.p("{{ meta.client }}", "Subtitle")
    b.p(_w(L, "Дата анализа: {{ meta.date }}", "Analysis date: {{ meta.date }}"), "Title Info")
    b.p(_w(L, "Подготовлено: {{ meta.prepared_by }}", "Prepared by: {{ meta.prepared_by }}"), "Title Info")


def _summary(b: Body) -> None:
    L = b.lang
    b.h(1, "summary")
    b.tag("{%p if summary.available %}")
    b.p(_w(L, "Главное, что показали данные клиента (каждое число — из приложенного metrics.json):",
           "What the client's data show (every number is traced in the attached metrics.json):"))
    b.bullets("summary.findings", "f", "List Number")
    b.tag("{%p else %}")
    b.na("summary.na")
    b.tag("{%p endif %}")


def _data(b: Body) -> None:
    L = b.lang
    b.h(1, "data")
    b.h(2, "sources")
    b.tag("{%p if data.available %}")
    b.p("{{ data.text }}")
    b.table(
        _w(L, "Источник|Файл|Период|Прочитано строк|В анализе|Отложено", "Source|File|Period|Rows read|Used|Set aside").split("|"),
        ["r.table", "r.file", "r.period", "r.rows_read", "r.rows_used", "r.quarantined"],
        "r in data.sources", [3.4, 3.8, 3.6, 1.8, 1.7, 1.7],
    )
    b.tag("{%p if data.quality %}")
    b.p(_w(L, "Причины, по которым строки отложены или значения очищены:",
           "Why rows were set aside or values blanked:"))
    b.table(
        _w(L, "Источник|Причина|Код причины|Строк|Что сделано", "Source|Reason|Reason code|Rows|What was done").split("|"),
        ["r.table", "r.reason", "r.code", "r.rows", "r.kind"],
        "r in data.quality", [3.2, 4.2, 3.6, 1.2, 3.8],
    )
    b.tag("{%p else %}")
    b.p(_w(L, "Проблемных строк не найдено.", "No problem rows were found."))
    b.tag("{%p endif %}")
    b.tag("{%p else %}")
    b.na("data.na")
    b.tag("{%p endif %}")
    b.h(2, "method")
    b.p(_w(L,
           "Визит — {{ method.visit }}. Все доли приведены с доверительным интервалом Уилсона ({{ method.ci }}), "
           "средние — с t-интервалом; где интервал широкий, выводы делаются осторожно.",
           "A visit is {{ method.visit }}. Every share is given with its Wilson interval ({{ method.ci }}), every "
           "mean with a t-interval; where an interval is wide, conclusions are cautious."))
    b.p(_w(L,
           "Сегменты, персоны и ячейки меньше {{ method.min_segment }} клиентов или респондентов отдельно не "
           "показываются. Ячейка карты пути подкреплена сильными данными, если за ней не меньше "
           "{{ method.evidence_min }} респондентов и интервал узкий; иначе данные частичные.",
           "Segments, personas and cells with fewer than {{ method.min_segment }} customers or respondents are not "
           "shown separately. A journey-map cell has strong evidence when at least {{ method.evidence_min }} "
           "respondents stand behind it and its interval is narrow; otherwise the evidence is partial."))
    b.p(_w(L,
           "Персональные данные (имена, телефоны, e-mail) в отчёт не попадают; цитаты очищены.",
           "Personal data (names, phones, e-mails) never appear in the report; quotes are scrubbed."))


def _segments(b: Body) -> None:
    L = b.lang
    b.h(1, "segments")
    b.h(2, "rfm")
    b.tag("{%p if rfm.available %}")
    b.p("{{ rfm.text }}")
    b.figure("rfm.figure")
    b.table(
        _w(L, "Сегмент|Клиентов|Доля клиентов|Доля выручки", "Segment|Customers|Share of customers|Share of revenue").split("|"),
        ["r.name", "r.customers", "r.customer_share", "r.revenue_share"],
        "r in rfm.rows", [6.4, 3.2, 3.2, 3.2],
    )
    b.tag("{%p else %}")
    b.na("rfm.na")
    b.tag("{%p endif %}")
    b.h(2, "personas")
    b.tag("{%p if personas.available %}")
    b.p("{{ personas.text }}")
    b.figure("personas.figure")
    b.table(
        _w(L, "Персона|Название|Доля опрошенных|Респондентов|Главные факторы выбора|Выбор по цене",
           "Persona|Name|Share of respondents|Respondents|Main choice factors|Price-driven").split("|"),
        ["r.id", "r.name", "r.share", "r.respondents", "r.factors", "r.price"],
        "r in personas.rows", [1.5, 3.6, 3.6, 2.0, 3.7, 1.6],
    )
    b.tag("{%p else %}")
    b.na("personas.na")
    b.tag("{%p endif %}")


def _journeys(b: Body) -> None:
    L = b.lang
    b.h(1, "journeys")
    b.p(_w(L,
           "Для каждой персоны — своя карта: этапы в столбцах, строки карты — цели, ожидания, точки контакта, "
           "мотиваторы, факторы выбора, эмоции, барьеры, возможности и KPI этапа. В скобках — число респондентов. "
           "Цвет ячейки — сила данных: зелёный — сильные, жёлтый — частичные, серый — данных нет. Полный текст "
           "ячеек — в таблице под рисунком.",
           "Each persona has its own map: stages in columns; map rows are goals, expectations, touchpoints, "
           "motivators, choice factors, emotions, barriers, opportunities and stage KPIs. Numbers in brackets count "
           "respondents. Cell colour shows the evidence: green strong, yellow partial, grey none. The full text of "
           "the cells is in the table under the figure."))
    b.tag("{%p if journeys.available %}")
    b.tag("{%p for j in journeys.maps %}")
    b.tag("{%p if not loop.first %}")
    b.page_break()  # one map per page (the first follows the chapter's introduction)
    b.tag("{%p endif %}")
    b.h_text(2, "{{ j.title }}")
    b.figure("j.matrix_figure")
    b.figure("j.emotion_figure")
    b.tag("{%p if j.rows %}")
    b.table(
        _w(L, "Этап|Строка карты|Что показали интервью и данные|Данные", "Stage|Map row|What interviews and data show|Evidence").split("|"),
        ["r.stage", "r.row", "r.text", "r.evidence"],
        "r in j.rows", [2.8, 2.8, 8.6, 1.8], colour={2: "r.colour", 3: "r.colour"},
    )
    b.tag("{%p endif %}")
    b.tag("{%p endfor %}")
    b.tag("{%p else %}")
    b.na("journeys.na")
    b.tag("{%p endif %}")


def _funnel(b: Body) -> None:
    L = b.lang
    b.h(1, "funnel")
    b.tag("{%p if funnel.available %}")
    b.figure("funnel.figure")
    b.table(
        _w(L, "Бренд|Переход|Вошли|Перешли|Конверсия (интервал)", "Brand|Transition|Entered|Moved on|Conversion (interval)").split("|"),
        ["r.brand", "r.transition", "r.entered", "r.moved", "r.conversion"],
        "r in funnel.rows", [3.0, 4.6, 1.8, 1.8, 4.8],
    )
    b.bullets("funnel.bottlenecks", "s")
    b.tag("{%p else %}")
    b.na("funnel.na")
    b.tag("{%p endif %}")


def _barriers(b: Body) -> None:
    L = b.lang
    b.h(1, "barriers")
    b.tag("{%p if barriers.available %}")
    b.p("{{ barriers.text }}")
    b.figure("barriers.figure")
    b.table(
        _w(L, "№|Барьер|Этап|Доля респондентов (интервал)|Назвали / опрошено|Тяжесть (−2…+2)|Выручка под угрозой|Данные",
           "#|Barrier|Stage|Share of respondents (interval)|Named / interviewed|Severity (−2…+2)|Revenue at stake|Evidence").split("|"),
        ["r.rank", "r.label", "r.stage", "r.share", "r.respondents", "r.severity", "r.revenue", "r.evidence"],
        "r in barriers.rows", [0.6, 2.7, 2.2, 3.1, 1.8, 1.5, 2.3, 1.8],
    )
    b.h(2, "barrier_evidence")
    b.tag("{%p for d in barriers.details %}")
    b.h_text(3, "{{ d.title }}")
    b.tag("{%p for q in d.quotes %}")
    b.p("{{ q }}", "Quote")
    b.tag("{%p endfor %}")
    b.tag("{%p if d.actions %}")
    b.p(_w(L, "Что сделать:", "What to do:"))
    b.bullets("d.actions", "a")
    b.tag("{%p else %}")
    b.p(_w(L, "Готовых рекомендаций в библиотеке нет: решение нужно выработать с командой клиента.",
           "The library has no ready action: work out the fix with the client's team."), "Note")
    b.tag("{%p endif %}")
    b.tag("{%p endfor %}")
    b.tag("{%p else %}")
    b.na("barriers.na")
    b.tag("{%p endif %}")


def _loyalty(b: Body) -> None:
    L = b.lang
    b.h(1, "loyalty")
    b.h(2, "repeat")
    b.tag("{%p if loyalty.available %}")
    b.bullets("loyalty.findings", "s")
    b.figure("loyalty.repeat_figure")
    b.table(
        _w(L, "Направление|Клиентов|Визитов на клиента|Выручка на клиента (LTV)|Возврат после 1-го визита|Порог лояльности|Возврат после порога",
           "Line|Customers|Visits per customer|Revenue per customer (LTV)|Return after visit 1|Loyalty visit|Return after it").split("|"),
        ["r.line", "r.customers", "r.visits", "r.ltv", "r.p1", "r.k", "r.pk"],
        "r in loyalty.rows", [2.6, 1.5, 1.5, 2.3, 2.9, 2.3, 2.9],
    )
    b.h(2, "intervals")
    b.figure("loyalty.gap_figure")
    b.tag("{%p if loyalty.stages %}")
    b.table(
        _w(L, "Направление|Визиты|Клиентов|Возврат (интервал)|Медианный интервал|Интервал 25–75%, дней|Средний чек",
           "Line|Visits|Customers|Return (interval)|Median gap|25–75% gap, days|Average check").split("|"),
        ["r.line", "r.visits", "r.customers", "r.p_return", "r.gap", "r.iqr", "r.check"],
        "r in loyalty.stages", [2.8, 1.4, 1.6, 3.3, 2.2, 2.2, 2.5],
    )
    b.tag("{%p endif %}")
    b.tag("{%p else %}")
    b.na("loyalty.na")
    b.tag("{%p endif %}")
    b.h(2, "cross")
    b.tag("{%p if loyalty.cross.available %}")
    b.p("{{ loyalty.cross.text }}")
    b.figure("loyalty.cross.figure")
    b.tag("{%p else %}")
    b.na("loyalty.cross.na")
    b.tag("{%p endif %}")
    b.h(2, "staff")
    b.tag("{%p if loyalty.staff.available %}")
    b.p("{{ loyalty.staff.text }}")
    b.figure("loyalty.staff.figure")
    b.table(
        _w(L, "Направление|Повторных клиентов|Закреплены за одним специалистом|Топ-специалист|Его доля повторных клиентов|Его доля выручки",
           "Line|Repeat customers|Attached to one staff member|Top staff member|Their share of repeat customers|Their share of revenue").split("|"),
        ["r.line", "r.repeat", "r.attached", "r.top_staff", "r.top_share", "r.revenue_share"],
        "r in loyalty.staff.rows", [3.2, 2.2, 3.0, 2.4, 2.9, 2.3],
    )
    b.tag("{%p else %}")
    b.na("loyalty.staff.na")
    b.tag("{%p endif %}")


def _double_funnel(b: Body) -> None:
    L = b.lang
    b.h(1, "double_funnel")
    b.tag("{%p if double_funnel.available %}")
    b.p(_w(L,
           "Часть трафика премиального бренда — не его целевая аудитория: люди, которым цена не по карману. Двойная "
           "воронка переводит этот поток во второй, более доступный бренд группы, чтобы тёплые контакты не уходили "
           "к конкурентам.",
           "Part of the premium brand's traffic is not its target audience: people for whom the price is too high. "
           "The double funnel moves this flow to the group's second, cheaper brand, so that warm contacts do not "
           "leak to competitors."))
    b.figure("double_funnel.figure")
    b.bullets("double_funnel.facts", "s")
    b.h(2, "scenarios")
    b.figure("double_funnel.scenario_figure")
    b.table(
        _w(L, "Доля перехвата|Лидов в год|Сделок в год|Выручка в год|Диапазон (границы интервалов)",
           "Capture rate|Leads a year|Deals a year|Revenue a year|Range (interval bounds)").split("|"),
        ["r.capture", "r.leads", "r.deals", "r.revenue", "r.range"],
        "r in double_funnel.rows", [2.4, 2.4, 2.4, 3.4, 5.4],
    )
    b.h(2, "recommendation")
    b.p("{{ double_funnel.recommendation }}")
    b.tag("{%p else %}")
    b.na("double_funnel.na")
    b.tag("{%p endif %}")


def _profit_crm(b: Body) -> None:
    L = b.lang
    b.h(1, "profit_crm")
    b.h(2, "profit")
    b.p(_w(L,
           "Выручка = трафик × конверсия × средний чек × число покупок на клиента; прибыль — выручка за вычетом "
           "затрат. Каждый множитель двигают свои этапы пути клиента, поэтому точки контакта этапа становятся "
           "рычагами формулы.",
           "Revenue = traffic × conversion × average check × purchases per customer; profit is revenue less costs. "
           "Each factor is moved by its own journey stages, so a stage's touchpoints become levers of the formula."))
    b.tag("{%p if profit.available %}")
    b.table(
        _w(L, "Бренд|Трафик|Конверсия|Средний чек|Покупок на клиента|Выручка по формуле|Выручка фактическая|Сходимость",
           "Brand|Traffic|Conversion|Average check|Purchases per customer|Formula revenue|Measured revenue|Reconciliation").split("|"),
        ["r.brand", "r.traffic", "r.conversion", "r.check", "r.purchases", "r.formula", "r.measured", "r.reconciliation"],
        "r in profit.rows", [1.9, 2.0, 1.9, 1.9, 1.7, 2.3, 2.3, 2.0],
    )
    b.p("{{ profit.text }}")
    b.figure("profit.figure")
    b.tag("{%p else %}")
    b.na("profit.na")
    b.tag("{%p endif %}")
    b.h(2, "crm")
    b.tag("{%p if crm.available %}")
    b.p(_w(L,
           "Что записывать в CRM на каждом этапе и какие триггерные коммуникации запускать; «Сейчас» — значение по "
           "данным проекта, от него считается план/факт.",
           "What to record in the CRM at each stage and which trigger communications to fire; “Now” is the value in "
           "the project's data, the baseline for plan/actual."))
    b.table(
        _w(L, "Этап|Тип|Что записывать / триггер|Сейчас|Точки контакта|День после визита",
           "Stage|Kind|What to record / trigger|Now|Touchpoints|Day after the visit").split("|"),
        ["r.stage", "r.kind", "r.what", "r.value", "r.touchpoints", "r.day"],
        "r in crm.rows", [2.0, 2.3, 4.7, 2.7, 3.0, 1.3],
    )
    b.tag("{%p else %}")
    b.na("crm.na")
    b.tag("{%p endif %}")


def _roadmap(b: Body) -> None:
    L = b.lang
    b.h(1, "roadmap")
    b.p(_w(L,
           "Дорожная карта собрана из ранжированных барьеров, двойной воронки и триггеров лояльности. {{ roadmap.rule }}",
           "The roadmap combines the ranked barriers, the double funnel and the loyalty triggers. {{ roadmap.rule }}"))
    b.tag("{%p if roadmap.available %}")
    b.table(
        _w(L, "№|Что сделать|Почему (данные)|Денежная оценка|Данные|Источник",
           "#|What to do|Why (data)|Money estimate|Evidence|Source").split("|"),
        ["r.priority", "r.action", "r.why", "r.money", "r.evidence", "r.source"],
        "r in roadmap.rows", [0.6, 5.0, 4.4, 2.3, 1.8, 1.9],
    )
    b.tag("{%p else %}")
    b.na("roadmap.na")
    b.tag("{%p endif %}")


def _appendix(b: Body) -> None:
    L = b.lang
    b.h(1, "appendix")
    b.h(2, "parameters")
    b.tag("{%p if appendix.parameters %}")
    b.table(_w(L, "Параметр|Значение", "Parameter|Value").split("|"), ["r.name", "r.value"],
            "r in appendix.parameters", [6.0, 10.0])
    b.tag("{%p else %}")
    b.p(_w(L, "Параметры кейса не переданы в отчёт.", "The case's parameters were not passed to the report."), "Note")
    b.tag("{%p endif %}")
    b.h(2, "inputs")
    b.table(_w(L, "Таблица|Файл|SHA-256|Строк", "Table|File|SHA-256|Rows").split("|"),
            ["r.table", "r.file", "r.sha256", "r.rows"], "r in appendix.inputs", [2.2, 3.6, 8.6, 1.6])
    b.p(_w(L, "Версия инструментария: {{ appendix.version }}; кейс: {{ appendix.case_name }}; дата анализа: {{ meta.as_of }}.",
           "Toolkit version: {{ appendix.version }}; case: {{ appendix.case_name }}; analysis date: {{ meta.as_of }}."))


def build_document(language: str):
    """The template as a python-docx Document."""
    if language not in ("ru", "en"):
        raise ValueError("language must be 'ru' or 'en'")
    doc = Document()
    body = doc.element.body
    for el in list(body):  # the default template's empty paragraph (keep the section properties)
        if el.tag == qn("w:p"):
            body.remove(el)
    _styles(doc, language)
    _page(doc, language)
    cp = doc.core_properties
    cp.title = "{{ meta.title }}"
    cp.subject = "{{ meta.client }}"
    cp.author = "CJM toolkit"
    cp.last_modified_by = "CJM toolkit"
    cp.comments = _w(language, "Шаблон отчёта CJM (docxtpl)", "CJM report template (docxtpl)")
    cp.keywords = "CJM"
    cp.category = "report template"
    cp.revision = 1
    cp.created = FIXED_TIME
    cp.modified = FIXED_TIME
    cp.last_printed = FIXED_TIME
    cp.language = "ru-RU" if language == "ru" else "en-GB"
    b = Body(doc, language)
    _title_page(b)
    _summary(b)
    _data(b)
    _segments(b)
    _journeys(b)
    _funnel(b)
    _barriers(b)
    _loyalty(b)
    _double_funnel(b)
    _profit_crm(b)
    _roadmap(b)
    _appendix(b)
    return doc


def deterministic_docx(data: bytes) -> bytes:
    """The same document with fixed zip entry times (and no thumbnail), so equal content gives
    equal bytes; the document dates are left as set."""
    return deterministic_zip(data, fix_core_dates=False, drop_thumbnail=True)



def build_template_bytes(language: str) -> bytes:
    buf = io.BytesIO()
    build_document(language).save(buf)
    return deterministic_docx(buf.getvalue())


def build_templates(out_dir: str | Path | None = None) -> list[Path]:
    """Write both templates (atomically); returns their paths."""
    from toolkit.core.run_folder import atomic_path

    out = Path(out_dir) if out_dir else TEMPLATE_DIR
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for lang in ("ru", "en"):
        path = out / f"cjm_report_{lang}.docx"
        with atomic_path(path) as tmp:
            tmp.write_bytes(build_template_bytes(lang))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for p in build_templates(argv[0] if argv else None):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


