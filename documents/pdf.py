"""PDF documents from Django templates: fpdf2 lays out the HTML a template renders
(headings, paragraphs, tables, lists), with Noto Sans SC embedded (subset to the glyphs
used) so that Chinese and Latin text both print, on every page a running title, the
document's date and "page n of N".

fpdf2 is pure Python (it needs no system library), and the font comes from PyPI
(pylopdf-fonts-zh-cn, Noto Sans SC under the SIL Open Font License): a fresh machine with
only Python renders the same PDF."""

from __future__ import annotations

import logging
from pathlib import Path

import pylopdf_fonts_zh_cn
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

# fontTools logs every step of subsetting the font at INFO: not news for the app's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT = "noto"
FONT_FILE = Path(pylopdf_fonts_zh_cn.__file__).parent / "NotoSansSC-Regular.otf"
INK = (31, 41, 55)
MUTED = (107, 114, 128)
TAG_STYLES = {
    "h1": FontFace(family=FONT, size_pt=17, color=INK),
    "h2": FontFace(family=FONT, size_pt=12.5, color=(30, 64, 120)),
    "h3": FontFace(family=FONT, size_pt=10.5, color=INK),
}


class Document(FPDF):
    """An A4 document: a running head (`running_title`) and a foot with the document's
    date and "page n of N" on every page."""

    def __init__(self, *, running_title: str, dated: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.running_title = running_title
        self.dated = dated
        # The font has one weight: bold and italic text is set in it too.
        for style in ("", "B", "I", "BI"):
            self.add_font(FONT, style, str(FONT_FILE))
        self.set_margins(left=18, top=18, right=18)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(running_title)
        self.set_creator("Breach tracker")

    def header(self):
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.running_title, align="L")
        self.ln(8)
        self.set_text_color(*INK)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        page = _("Page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": "{nb}"}
        self.cell(0, 5, self.dated, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, page, align="R")
        self.set_text_color(*INK)


def render_pdf(template_name: str, context: dict, *, running_title: str, dated: str) -> bytes:
    """The PDF of the HTML `template_name` renders with `context`."""
    html = render_to_string(template_name, context)
    document = Document(running_title=running_title, dated=dated)
    document.add_page()
    document.set_font(FONT, size=9.5)
    document.write_html(html, font_family=FONT, tag_styles=TAG_STYLES, table_line_separators=True)
    return bytes(document.output())
