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

from toolkit.core.words import word
from toolkit.core.zipfiles import deterministic_zip
from toolkit.report.template_sections import CHAPTERS, HEADINGS, heading

FONT = "Arial"
ACCENT = "1F4E79"
GREY = "595959"
TEXT_WIDTH_CM = 16.0
HEADING_NUM_ID = 90
FIXED_TIME = dt.datetime(2025, 1, 1, 0, 0, 0)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "report_templates"


def template_file(language: str) -> Path:
    return TEMPLATE_DIR / f"cjm_report_{language}.docx"


# the chapters and their headings live in toolkit.report.template_sections (words: the catalog)
__all__ = ["HEADINGS", "build_document", "build_template_bytes", "build_templates", "heading", "template_file"]


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
    lang.set(qn("w:val"), word("report.tpl.locale", language))
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
    _para_style(doc, "Table Text", size=8, before=0, after=0, line=1.0, keep_next=True)  # small tables stay whole
    _para_style(doc, "Table Heading", base="Table Text", size=8, bold=True, keep_next=True)
    _para_style(doc, "Title Info", size=11, colour="262626", after=4)
    _para_style(doc, "TOC Heading", size=15, bold=True, colour=ACCENT, after=12)
    _para_style(doc, "TOC 1", size=10.5, bold=True, after=3)
    _para_style(doc, "TOC 2", size=10, after=2, indent_cm=0.6)
    for name in ("TOC 1", "TOC 2"):
        doc.styles[name].paragraph_format.tab_stops.add_tab_stop(Cm(TEXT_WIDTH_CM), alignment=2, leader=1)
    _para_style(doc, "Decision", size=11.5, bold=True, colour="262626", before=10, after=2, keep_next=True)
    _para_style(doc, "Decision Info", size=9.5, colour=GREY, after=6, indent_cm=0.6)
    _para_style(doc, "Card Label", base="Table Text", size=8, bold=True, colour=ACCENT)
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


def _field_begin(paragraph, instr: str) -> None:
    for kind, text in (("begin", None), (None, instr), ("separate", None)):
        r = paragraph.add_run()
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {text} "
        r._r.append(el)


def _field_end(paragraph) -> None:
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(el)


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
    before, between = word("report.tpl.page_of", language).split("|")
    fp.add_run(before)
    _field(fp, "PAGE")
    fp.add_run(between)
    _field(fp, "NUMPAGES")
    # the first page (title) keeps empty header and footer
    s.first_page_header.paragraphs[0].text = ""
    s.first_page_footer.paragraphs[0].text = ""


# --------------------------------------------------------------------------- body helpers


class Body:
    def __init__(self, doc, language: str):
        self.doc = doc
        self.lang = language
        self._after_break = False

    def p(self, text: str = "", style: str = "Normal"):
        para = self.doc.add_paragraph(style=style)
        if text:
            para.add_run(text)
        return para

    def tag(self, text: str):
        """A paragraph holding only a docxtpl paragraph tag (``{%p ... %}``): removed at render."""
        return self.p(text)

    def h(self, level: int, key: str):
        para = self.doc.add_paragraph(heading(key, self.lang), style=f"Heading {level}")
        if level == 1 and self._after_break:
            para.paragraph_format.page_break_before = False  # a section break already starts the page
        self._after_break = False
        return para

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

    def toc(self, var: str):
        """A real TOC field (headings 1-2, updated when Word opens the file); its shown result is
        ``var``'s entries (title, page), which the renderer fills from the rendered PDF."""
        first = self.p("", "TOC 1")
        _field_begin(first, 'TOC \\o "1-2" \\h \\z \\u')
        self.tag("{%p for e in " + var + " %}")
        self.tag("{%p if e.level == 1 %}")
        self.p("{{ e.title }}\t{{ e.page }}", "TOC 1")
        self.tag("{%p else %}")
        self.p("{{ e.title }}\t{{ e.page }}", "TOC 2")
        self.tag("{%p endif %}")
        self.tag("{%p endfor %}")
        last = self.p("", "TOC 1")
        _field_end(last)

    def card(self, labels: list[str], fields: list[str]):
        """A persona card: a two-column table, label | value, one row per field."""
        t = self.doc.add_table(rows=len(labels), cols=2)
        t.style = self.doc.styles["CJM Table"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        widths = [3.6, TEXT_WIDTH_CM - 3.6]
        for gc, wd in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths):
            gc.set(qn("w:w"), str(int(Cm(wd).twips)))
        for row, label, field in zip(t.rows, labels, fields):
            trpr = row._tr.get_or_add_trPr()
            trpr.append(OxmlElement("w:cantSplit"))
            for cell, wd in zip(row.cells, widths):
                cell.width = Cm(wd)
            row.cells[0].paragraphs[0].style = self.doc.styles["Card Label"]
            row.cells[0].paragraphs[0].add_run(label)
            row.cells[1].paragraphs[0].style = self.doc.styles["Table Text"]
            row.cells[1].paragraphs[0].add_run("{{ " + field + " }}")
        look = t._tbl.tblPr.find(qn("w:tblLook"))
        if look is None:
            look = OxmlElement("w:tblLook")
            t._tbl.tblPr.append(look)
        look.set(qn("w:firstRow"), "0")
        look.set(qn("w:val"), "0000")
        self.p("", "Caption")
        return t

    def landscape_start(self):
        """End the portrait section here; what follows is on landscape pages."""
        self._section_break(portrait=True)
        self._after_break = True

    def landscape_end(self):
        """End the landscape section here; what follows is portrait again."""
        self._section_break(portrait=False)
        self._after_break = True

    def _section_break(self, portrait: bool):
        """A new-page section break: the section that ends here is portrait (the cover's, with its
        header/footer references and the different first page) or landscape (inheriting them)."""
        para = self.doc.add_paragraph()
        body_sect = self.doc.element.body.sectPr
        new = parse_xml(body_sect.xml)
        if not portrait:
            for el in list(new):
                if el.tag in (qn("w:headerReference"), qn("w:footerReference"), qn("w:titlePg")):
                    new.remove(el)
            pg = new.find(qn("w:pgSz"))
            pg.set(qn("w:w"), str(int(Cm(29.7).twips)))
            pg.set(qn("w:h"), str(int(Cm(21.0).twips)))
            pg.set(qn("w:orient"), "landscape")
            mar = new.find(qn("w:pgMar"))
            for side in ("w:left", "w:right"):
                mar.set(qn(side), str(int(Cm(2.0).twips)))
            for el in body_sect.findall(qn("w:titlePg")):  # later sections: header on every page
                body_sect.remove(el)
        para._p.get_or_add_pPr().append(new)


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
    cp.author = "{{ meta.consultancy }}"
    cp.last_modified_by = "{{ meta.consultancy }}"
    cp.comments = word("report.tpl.template_comment", language)
    cp.keywords = "CJM"
    cp.category = "report template"
    cp.revision = 1
    cp.created = FIXED_TIME
    cp.modified = FIXED_TIME
    cp.last_printed = FIXED_TIME
    cp.language = word("report.tpl.locale", language)
    b = Body(doc, language)
    for chapter in CHAPTERS:
        chapter(b)
    _update_fields_on_open(doc)
    return doc


def _update_fields_on_open(doc) -> None:
    """Word refreshes the table of contents (and page numbers) when the document opens."""
    settings = doc.settings.element
    upd = settings.find(qn("w:updateFields"))
    if upd is None:
        upd = OxmlElement("w:updateFields")
        settings.append(upd)
    upd.set(qn("w:val"), "true")


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


