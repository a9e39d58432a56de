"""The page furniture both documents share: an A4 page, the CJK font, headings, label rows.

The font is Noto Sans CJK SC from Debian's fonts-noto-cjk (installed by
scripts/install-browser.sh, which `make test` runs): fpdf2 embeds the subset of glyphs a
document uses, so the PDF shows the same on a machine without any Chinese font."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
)
SC_FACE = 2  # the collection's faces: JP, KR, SC, TC, HK
FONT = "noto"
PLATFORM_ZH = "科技成果拍卖平台"
PLATFORM_EN = "techauction, the auction platform for sci-tech outcomes"
GREY = (90, 90, 90)


class FontMissing(RuntimeError):
    """No CJK font to embed: the documents would show empty boxes instead of Chinese."""


def font_path() -> Path:
    for path in FONT_CANDIDATES:
        if path.is_file():
            return path
    raise FontMissing("Noto Sans CJK is not installed: run scripts/install-browser.sh (fonts-noto-cjk)")


def new_document(*, title: str, subject: str, made_at: datetime) -> FPDF:
    """An A4 document with the CJK font, metadata, and page numbers in the footer."""
    pdf = _Paper(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(made_at)  # the facts' time, not the clock: same facts, same bytes
    pdf.set_title(title)
    pdf.set_subject(subject)
    pdf.set_author(PLATFORM_EN)
    pdf.set_creator("techauction")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FONT, fname=str(font_path()), collection_font_number=SC_FACE)
    pdf.add_page()
    return pdf


class _Paper(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7.5)
        self.set_text_color(*GREY)
        self.cell(0, 5, f"{PLATFORM_ZH} · {self.title}", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def heading(pdf: FPDF, zh: str, en: str, reference: str) -> None:
    pdf.set_font(FONT, size=19)
    pdf.cell(0, 9, zh, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 6, en, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 6, reference, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1)


def section(pdf: FPDF, zh: str, en: str) -> None:
    pdf.ln(1.5)
    pdf.set_font(FONT, size=10.5)
    pdf.set_fill_color(235, 239, 245)
    pdf.cell(0, 6.5, f"{zh}  {en}", fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.8)


LABEL_WIDTH = 58


def row(pdf: FPDF, zh: str, en: str, value: str, *, strong: bool = False) -> None:
    """A label (Chinese over English) and its value, with a rule below."""
    top = pdf.get_y()
    pdf.set_font(FONT, size=9)
    label = f"{zh}\n{en}"
    label_height = pdf.multi_cell(LABEL_WIDTH, 4.4, label, align="L", dry_run=True,
                                  output=MethodReturnValue.HEIGHT)
    if top + label_height > pdf.page_break_trigger:
        pdf.add_page()
        top = pdf.get_y()
    pdf.multi_cell(LABEL_WIDTH, 4.4, label, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.set_xy(pdf.l_margin + LABEL_WIDTH, top)
    pdf.set_font(FONT, size=12 if strong else 10)
    pdf.multi_cell(0, 6 if strong else 4.8, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    bottom = max(pdf.get_y(), top + label_height)
    pdf.set_draw_color(210, 210, 210)
    pdf.line(pdf.l_margin, bottom + 0.6, pdf.w - pdf.r_margin, bottom + 0.6)
    pdf.set_y(bottom + 1.2)


def paragraph(pdf: FPDF, text: str, *, size: float = 9) -> None:
    pdf.set_font(FONT, size=size)
    pdf.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def rate(value: Decimal) -> str:
    return f"{value * 100:.2f}%"


def utc(moment: datetime | None, *, ms: bool = False) -> str:
    """A time in UTC (to the millisecond with ms: bids can be apart by less than a second)."""
    if moment is None:
        return "—"
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}" if ms else f"{text} UTC"


def day(value: date) -> str:
    return value.isoformat()


def output(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
