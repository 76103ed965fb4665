"""A printable report from neutral cards: a cover, a table of contents, one section per card
and the charts, page numbers in the footer; the CJK font embedded (subset) so that Chinese
prints and stays searchable in the text layer.

fpdf2 draws it: pure Python from PyPI (no system library or service, unlike WeasyPrint's
Pango or a headless browser), embeds the OpenType CJK collection csatbot already ships
for its charts, and has tables, outlines and a table of contents of its own."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.i18n import gettext_for
from bot.core.views import Card, Context, FieldList, Paragraph, Table

FAMILY = "NotoSansCJK"
SIMPLIFIED_CHINESE = 2  # the face of the collection for zh-CN (JP, KR, SC, TC, HK)
TEXT, SMALL, HEADING = 10, 8, 14
GREY, SHADE = (90, 90, 90), (221, 235, 247)


def _font_path() -> Path:
    import noto_cjk_sans_otc

    return Path(noto_cjk_sans_otc.__file__).parent / "NotoSansCJK-Regular.ttc"


def render_pdf(title: str, subtitle: str, cards: Sequence[Card], figures: Sequence[tuple[str, bytes]],
               locale: str) -> bytes:
    """`cards` become the sections in order; `figures` (title, PNG) a section of charts after them."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    _ = gettext_for(locale)
    contents = _("Contents")
    charts_title = _("Charts")

    class Report(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FAMILY, size=SMALL)
            self.set_text_color(*GREY)
            self.cell(0, 6, f"{title} · {self.page_no()}/{{nb}}", align="C")
            self.set_text_color(0, 0, 0)

    pdf = Report(format="A4")
    pdf.set_title(title)
    pdf.set_author("csatbot")
    pdf.set_lang(locale)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_font(FAMILY, "", str(_font_path()), collection_font_number=SIMPLIFIED_CHINESE)
    pdf.add_font(FAMILY, "B", str(_font_path()), collection_font_number=SIMPLIFIED_CHINESE)
    heading_face = FontFace(emphasis="", fill_color=SHADE)

    pdf.add_page()
    pdf.set_font(FAMILY, size=22)
    pdf.ln(60)
    pdf.multi_cell(0, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=12)
    pdf.ln(6)
    pdf.multi_cell(0, 8, subtitle, align="C", new_x="LMARGIN", new_y="NEXT")

    def table_of_contents(document: FPDF, outline: list[Any]) -> None:
        document.set_x(document.l_margin)
        document.set_font(FAMILY, size=HEADING)
        document.cell(0, 10, contents, new_x="LMARGIN", new_y="NEXT")
        document.set_font(FAMILY, size=TEXT)
        for section in outline:
            link = document.add_link(page=section.page_number)
            document.cell(150, 8, section.name, link=link)
            document.cell(0, 8, str(section.page_number), align="R", link=link, new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    pdf.insert_toc_placeholder(table_of_contents, pages=1, allow_extra_pages=True)  # it turns the page itself
    for number, card in enumerate(cards, start=1):
        if number > 1:
            pdf.ln(6)
            if pdf.get_y() > pdf.h - 60:  # a heading never sits alone at the foot of a page
                pdf.add_page()
        name = f"{number}. {card.title}"
        pdf.start_section(name)
        pdf.set_font(FAMILY, size=HEADING)
        pdf.multi_cell(0, 10, name, new_x="LMARGIN", new_y="NEXT")
        for part in card.parts:
            _part(pdf, part, heading_face)
    if figures:
        pdf.add_page()
        name = f"{len(cards) + 1}. {charts_title}"
        pdf.start_section(name)
        pdf.set_font(FAMILY, size=HEADING)
        pdf.multi_cell(0, 10, name, new_x="LMARGIN", new_y="NEXT")
        for _caption, png in figures:  # each chart carries its title
            if pdf.get_y() > pdf.h - 110:
                pdf.add_page()
            pdf.image(io.BytesIO(png), w=pdf.epw)
            pdf.ln(4)
    return bytes(pdf.output())


def _part(pdf: Any, part: Any, heading_face: Any) -> None:
    if isinstance(part, Paragraph):
        pdf.set_font(FAMILY, "B" if part.strong else "", size=TEXT + (1 if part.strong else 0))
        pdf.multi_cell(0, 6, part.text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    elif isinstance(part, Context):
        pdf.set_font(FAMILY, size=SMALL)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(0, 5, part.text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)
    elif isinstance(part, FieldList):
        _table(pdf, None, [[f.label, f.value] for f in part.fields], heading_face, widths=(2, 1))
    elif isinstance(part, Table):
        _table(pdf, part.columns, part.rows, heading_face)


def _table(pdf: Any, columns: list[str] | None, rows: list[list[str]], heading_face: Any,
           widths: tuple[int, ...] | None = None) -> None:
    """A table that breaks across pages, its header repeated on each; the first column wider."""
    if not rows:
        return
    count = len(columns or rows[0])
    shares = widths or (3, *(1 for _ in range(count - 1)))
    pdf.set_font(FAMILY, size=SMALL + 1)
    with pdf.table(col_widths=shares, headings_style=heading_face, first_row_as_headings=columns is not None,
                   line_height=5.5, text_align="LEFT", repeat_headings=1) as table:
        for values in ([columns] if columns else []) + rows:
            line = table.row()
            for value in values:
                line.cell(str(value))
    pdf.ln(3)
