"""PDF rendering of invoices, estimates and statements with fpdf2.

The renderer takes documents whose text is already formatted (money in the business's
locale, local dates) and lays them out; it knows nothing of the database.

Fonts: fpdf2's built-in core fonts only cover Latin-1, so "Zoë", "€" or "₹" would fail.
DejaVu Sans (Debian's `fonts-dejavu-core`, present wherever Chromium is) is embedded and
subset instead; $SLOTBOT_PDF_FONT / $SLOTBOT_PDF_FONT_BOLD may name other TTF files. With
no Unicode font found the PDF still renders in Helvetica, with characters outside Latin-1
replaced by "?": a readable invoice beats no invoice.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from bot.config import process
from bot.core.text import _, t

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (31, 78, 121)
RULE = (206, 212, 218)
BAND = (234, 240, 246)


@dataclass(frozen=True)
class Party:
    """A business or a customer as printed: a name and a few lines under it."""

    name: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Brand:
    """The business's look on paper: its colour for headings, its logo (a local image)."""

    colour: tuple[int, int, int] = ACCENT
    logo: str | None = None

    @classmethod
    def from_hex(cls, colour: str | None, logo: str | None) -> Brand:
        """From business.toml's [branding]: "#2f5d50" and a logo path (URLs are not fetched)."""
        rgb = ACCENT
        if colour and re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
            rgb = (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
        usable = logo if logo and not logo.startswith(("http://", "https://")) else None
        return cls(rgb, usable if usable and os.path.exists(usable) else None)


@dataclass(frozen=True)
class Photo:
    """A photo printed as a thumbnail: its caption ("Before") and image bytes (PNG/JPEG)."""

    caption: str
    image: bytes


@dataclass(frozen=True)
class Signed:
    """A signed text as printed: what was signed, by whom, when, and the signature image."""

    title: str
    text: str
    caption: str  # "Signed by Jane Smith, Nov 17, 2026, 10:12 AM, from 203.0.113.9"
    digest: str  # SHA-256 of the text
    image: bytes | None = None  # the drawn signature (PNG); None when the name was typed
    typed_name: str | None = None


@dataclass(frozen=True)
class Document:
    """A document to print: heading facts, a table, a totals block and a closing note.

    `columns` are (heading, relative width, alignment "L"/"R"); `rows` are already
    formatted cells; `totals` are (label, amount, emphasised).
    """

    title: str
    number: str
    business: Party
    customer: Party
    facts: tuple[tuple[str, str], ...]
    columns: tuple[tuple[str, float, str], ...]
    rows: tuple[tuple[str, ...], ...]
    totals: tuple[tuple[str, str, bool], ...]
    note: str = ""
    stamp: str | None = None
    page_format: str = "A4"
    created: datetime = field(default_factory=lambda: datetime(2000, 1, 1, tzinfo=UTC))
    brand: Brand = field(default_factory=Brand)
    photos: tuple[Photo, ...] = ()
    signatures: tuple[Signed, ...] = ()


def _font_files() -> tuple[str, str] | None:
    settings = process.current()
    regular = settings.pdf_font
    bold = settings.pdf_font_bold or regular
    if regular and Path(regular).is_file() and bold and Path(bold).is_file():
        return regular, bold
    for folder in _FONT_DIRS:
        plain, heavy = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if plain.is_file() and heavy.is_file():
            return str(plain), str(heavy)
    return None


class _Pdf(FPDF):
    """FPDF with slotbot's fonts and a page-numbered footer."""

    def __init__(self, page_format: str, footer_text: str) -> None:
        super().__init__(format=page_format)
        self.footer_text = footer_text
        fonts = _font_files()
        self.unicode = fonts is not None
        if fonts is not None:
            self.add_font("Body", "", fonts[0])
            self.add_font("Body", "B", fonts[1])
            self.family_name = "Body"
        else:
            self.family_name = "Helvetica"
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=22)

    def text_of(self, value: str) -> str:
        """Text the current font can draw."""
        if self.unicode:
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def use(self, size: float, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        """Switch font size, weight and colour."""
        self.set_font(self.family_name, "B" if bold else "", size)
        self.set_text_color(*colour)

    def footer(self) -> None:
        self.set_y(-15)
        self.use(8, colour=MUTED)
        self.cell(0, 5, self.text_of(self.footer_text), align="L")
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")


def _party(pdf: _Pdf, party: Party, x: float, width: float, heading: str | None) -> float:
    pdf.set_xy(x, pdf.get_y())
    if heading:
        pdf.use(8, bold=True, colour=MUTED)
        pdf.set_x(x)
        pdf.cell(width, 5, pdf.text_of(heading.upper()), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.use(11, bold=True)
    pdf.set_x(x)
    pdf.multi_cell(width, 5.5, pdf.text_of(party.name), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.use(9, colour=MUTED)
    for line in party.lines:
        pdf.set_x(x)
        pdf.multi_cell(width, 4.6, pdf.text_of(line), new_x=XPos.LEFT, new_y=YPos.NEXT)
    return pdf.get_y()


def _header(pdf: _Pdf, doc: Document) -> None:
    top = pdf.get_y()
    half = pdf.epw / 2
    if doc.brand.logo:
        try:
            pdf.image(doc.brand.logo, x=pdf.l_margin, y=top, h=14)
            pdf.set_y(top + 17)
        except Exception:  # an unreadable logo must not stop an invoice going out
            pdf.set_y(top)
    bottom_left = _party(pdf, doc.business, pdf.l_margin, half, None)
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.use(22, bold=True, colour=doc.brand.colour)
    pdf.cell(half, 10, pdf.text_of(doc.title.upper()), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.use(11, bold=True)
    pdf.set_x(pdf.l_margin + half)
    pdf.cell(half, 6, pdf.text_of(doc.number), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    for label, value in doc.facts:
        pdf.set_x(pdf.l_margin + half)
        pdf.use(9)
        width = max(40.0, pdf.get_string_width(pdf.text_of(value)) + 2)
        pdf.use(9, colour=MUTED)
        pdf.cell(half - width - 3, 5, pdf.text_of(label), align="R")
        pdf.set_x(pdf.l_margin + pdf.epw - width)
        pdf.use(9)
        pdf.cell(width, 5, pdf.text_of(value), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(max(bottom_left, pdf.get_y()) + 6)
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(5)
    _party(pdf, doc.customer, pdf.l_margin, half, _("Bill to"))
    pdf.ln(6)


def _table(pdf: _Pdf, doc: Document) -> None:
    widths = tuple(width for _, width, _ in doc.columns)
    aligns = tuple("RIGHT" if align == "R" else "LEFT" for _, _, align in doc.columns)
    pdf.use(9)
    pdf.set_draw_color(*RULE)
    headings = FontFace(emphasis="BOLD", color=doc.brand.colour, fill_color=BAND)
    with pdf.table(
        col_widths=widths,
        text_align=aligns,
        borders_layout="HORIZONTAL_LINES",
        headings_style=headings,
        line_height=6,
        padding=(1.2, 1.5),
        width=pdf.epw,
    ) as table:
        heading_row = table.row()
        for heading, _, _ in doc.columns:
            heading_row.cell(pdf.text_of(heading))
        for cells in doc.rows:
            row = table.row()
            for cell in cells:
                row.cell(pdf.text_of(cell))
    pdf.ln(4)


def _totals(pdf: _Pdf, doc: Document) -> None:
    label_width, value_width = 55, 35
    x = pdf.l_margin + pdf.epw - label_width - value_width
    for label, value, strong in doc.totals:
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        if strong:
            pdf.set_fill_color(*BAND)
        pdf.set_x(x)
        pdf.use(10.5 if strong else 9.5, bold=strong, colour=INK if strong else MUTED)
        pdf.cell(label_width, 7 if strong else 6, pdf.text_of(label), align="R", fill=strong)
        pdf.use(10.5 if strong else 9.5, bold=strong)
        pdf.cell(
            value_width,
            7 if strong else 6,
            pdf.text_of(value),
            align="R",
            fill=strong,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def _stamp(pdf: _Pdf, text: str) -> None:
    pdf.use(30, bold=True, colour=(46, 125, 50))
    pdf.set_draw_color(46, 125, 50)
    pdf.set_line_width(0.8)
    width = pdf.get_string_width(text) + 12
    x, y = pdf.l_margin + 4, pdf.get_y() - 24
    with pdf.local_context():
        pdf.set_xy(x, y)
        pdf.cell(width, 14, pdf.text_of(text), border=1, align="C")
    pdf.set_line_width(0.2)


def render(doc: Document) -> bytes:
    """The document as PDF bytes."""
    pdf = _Pdf(doc.page_format, f"{doc.business.name} - {doc.title} {doc.number}")
    pdf.set_title(f"{doc.title} {doc.number}")
    pdf.set_author(doc.business.name)
    pdf.set_creator("slotbot")
    pdf.set_creation_date(doc.created)
    pdf.alias_nb_pages()
    pdf.add_page()
    _header(pdf, doc)
    _table(pdf, doc)
    _totals(pdf, doc)
    if doc.stamp:
        _stamp(pdf, doc.stamp)
    if doc.note:
        pdf.ln(8)
        pdf.use(9.5)
        pdf.multi_cell(pdf.epw, 5, pdf.text_of(doc.note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.photos:
        _photos(pdf, doc)
    if doc.signatures:
        _signatures(pdf, doc)
    return bytes(pdf.output())


def page_format_for(locale: str) -> str:
    """US Letter where it is the norm, A4 everywhere else."""
    region = locale.replace("-", "_").split("_")[-1].upper()
    return "Letter" if region in ("US", "CA", "MX", "PH", "CL", "CO") else "A4"


def rows_of(values: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    """Table rows as the immutable tuples a Document holds."""
    return tuple(tuple(row) for row in values)


def _section(pdf: _Pdf, doc: Document, heading: str, room: float) -> None:
    pdf.ln(6)
    if pdf.get_y() + room > pdf.h - 25:
        pdf.add_page()
    pdf.use(11, bold=True, colour=doc.brand.colour)
    pdf.cell(pdf.epw, 7, pdf.text_of(heading), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(2)


def _photos(pdf: _Pdf, doc: Document) -> None:
    """The job's photos as a grid of thumbnails, four to a row, each with its caption."""
    per_row, gap = 4, 4.0
    width = (pdf.epw - gap * (per_row - 1)) / per_row
    height = width * 0.75
    _section(pdf, doc, _("Photos"), height + 12)
    for index, photo in enumerate(doc.photos):
        column = index % per_row
        if column == 0 and index:
            pdf.set_y(pdf.get_y() + height + 8)
        if column == 0 and pdf.get_y() + height + 8 > pdf.h - 25:
            pdf.add_page()
        x, y = pdf.l_margin + column * (width + gap), pdf.get_y()
        try:
            pdf.image(io.BytesIO(photo.image), x=x, y=y, w=width, h=height, keep_aspect_ratio=True)
        except Exception:  # a photo that will not draw must not stop the invoice
            pdf.set_draw_color(*RULE)
            pdf.rect(x, y, width, height)
        pdf.set_xy(x, y + height + 1)
        pdf.use(8, colour=MUTED)
        pdf.cell(width, 4, pdf.text_of(photo.caption), align="C")
        pdf.set_xy(pdf.l_margin, y)
    pdf.set_y(pdf.get_y() + height + 8)


def _signatures(pdf: _Pdf, doc: Document) -> None:
    """Each signed text in full, the signature (drawn, or the typed name) and its record."""
    for signed in doc.signatures:
        _section(pdf, doc, t("Signed: {signed}", signed=signed.title), 60)
        pdf.use(9)
        pdf.multi_cell(pdf.epw, 4.8, pdf.text_of(signed.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        if pdf.get_y() + 30 > pdf.h - 25:
            pdf.add_page()
        top = pdf.get_y()
        if signed.image:
            try:
                pdf.image(io.BytesIO(signed.image), x=pdf.l_margin, y=top, h=22)
                pdf.set_y(top + 23)
            except Exception:  # an unreadable image: the record below still stands
                pdf.set_y(top)
        elif signed.typed_name:
            pdf.use(16, colour=INK)
            pdf.cell(
                pdf.epw, 10, pdf.text_of(signed.typed_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        pdf.set_draw_color(*INK)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 80, pdf.get_y())
        pdf.ln(1)
        pdf.use(8.5, colour=MUTED)
        pdf.multi_cell(
            pdf.epw, 4.2, pdf.text_of(signed.caption), new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.multi_cell(
            pdf.epw,
            4.2,
            t("SHA-256 of the text: {digest}", digest=signed.digest),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
