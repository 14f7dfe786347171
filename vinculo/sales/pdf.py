"""A quote as a PDF, drawn with fpdf2.

Text is set in Liberation Sans (Debian's fonts-liberation) when the font files are there, so
"García" and "€" print as typed; without them the core Helvetica font is used and characters
outside Latin-1 are replaced (a "?" instead of a "€"), never an error. Amounts read as on the
pages (vinculo.core.formatting): `1,234.50 EUR`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import fpdf
from django.utils import formats
from django.utils.translation import gettext as _

from vinculo.accounts.models import Organization
from vinculo.core.formatting import format_money, format_number
from vinculo.sales.models import Quote
from vinculo.sales.pricing import CENT, PricedLine

FONT_DIR = Path("/usr/share/fonts/truetype/liberation")
FONT_FILES = {"": "LiberationSans-Regular.ttf", "B": "LiberationSans-Bold.ttf"}
FAMILY = "LiberationSans"


class _QuotePDF(fpdf.FPDF):
    def __init__(self, *, unicode_font: bool) -> None:
        super().__init__(format="A4")
        self.unicode_font = unicode_font
        if unicode_font:
            for style, name in FONT_FILES.items():
                self.add_font(FAMILY, style, str(FONT_DIR / name))
        self.family = FAMILY if unicode_font else "helvetica"
        self.set_auto_page_break(auto=True, margin=18)
        self.footer_text = ""

    def text_of(self, value: Any) -> str:
        text = str(value)
        if self.unicode_font:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(120)
        self.cell(0, 5, self.text_of(f"{self.footer_text} · {self.page_no()}/{{nb}}"), align="C")


def fonts_available() -> bool:
    return all((FONT_DIR / name).is_file() for name in FONT_FILES.values())


def filename(number: str) -> str:
    """A safe file name for the document number, e.g. "quote-Q-00001.pdf"."""
    return f"quote-{re.sub(r'[^A-Za-z0-9._-]', '_', number)}.pdf"


def _customer_lines(quote: Quote) -> list[str]:
    lines: list[str] = []
    if quote.company is not None:
        lines.append(quote.company.name)
    if quote.contact is not None:
        lines.append(str(quote.contact))
        email = getattr(quote.contact, "email", "")
        if email:
            lines.append(str(email))
    return lines


def quote_pdf(
    *, quote: Quote, organization: Organization, compress: bool = True, unicode_font: bool | None = None
) -> bytes:
    """The quote as PDF bytes: header with the organisation and number, customer, lines, totals."""
    use_unicode = fonts_available() if unicode_font is None else unicode_font
    pdf = _QuotePDF(unicode_font=use_unicode)
    pdf.set_compression(compress)
    pdf.set_title(f"{_('Quote')} {quote.number}")
    pdf.set_author(organization.name)
    pdf.set_creator("Vínculo" if use_unicode else "Vinculo")
    pdf.footer_text = f"{organization.name} · {_('Quote')} {quote.number}"
    t = pdf.text_of

    def money(value: Decimal) -> str:
        return format_money(value, quote.currency)

    family = pdf.family
    pdf.add_page()

    pdf.set_font(family, "B", 16)
    pdf.cell(0, 9, t(organization.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 13)
    pdf.cell(0, 8, t(f"{_('Quote')} {quote.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    facts = [
        f"{_('Date')}: {formats.date_format(quote.created_at.date(), 'SHORT_DATE_FORMAT')}",
        f"{_('Status')}: {quote.get_status_display()}",
        f"{_('Currency')}: {quote.currency}",
    ]
    if quote.valid_until:
        facts.append(f"{_('Valid until')}: {formats.date_format(quote.valid_until, 'SHORT_DATE_FORMAT')}")
    pdf.cell(0, 6, t("   ".join(facts)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font(family, "B", 10)
    pdf.cell(0, 6, t(_("Customer")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    for customer_line in _customer_lines(quote):
        pdf.cell(0, 5, t(customer_line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    headings = [_("Description"), _("Qty"), _("Unit price"), _("Disc. %"), _("Tax %"), _("Net")]
    widths = (72, 16, 30, 18, 16, 38)
    aligns = ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")
    pdf.set_font(family, "", 9)
    with pdf.table(
        col_widths=widths,
        text_align=aligns,
        headings_style=fpdf.FontFace(emphasis="BOLD", fill_color=(235, 238, 242)),
        line_height=5.5,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        row = table.row()
        for heading in headings:
            row.cell(t(heading))
        for line in quote.lines.all():
            priced = PricedLine(
                product=None,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
            )
            row = table.row()
            row.cell(t(line.description))
            row.cell(t(format_number(line.quantity)))
            row.cell(t(format_money(line.unit_price, quote.currency, exact=True)))
            row.cell(t(format_number(line.discount_percent)))
            row.cell(t(format_number(line.tax_rate)))
            row.cell(t(money(priced.net.quantize(CENT))))
    pdf.ln(4)

    # the discount as the pages show it: "−20.00 EUR" (a hyphen where the font has no minus sign)
    minus = "−" if use_unicode else "-"
    totals = [
        (_("Subtotal"), money(quote.subtotal)),
        (
            _("Discount"),
            f"{minus}{money(quote.discount_total)}" if quote.discount_total else money(quote.discount_total),
        ),
        (_("Tax"), money(quote.tax_total)),
    ]
    for label, value in totals:
        pdf.set_font(family, "", 10)
        pdf.cell(150, 6, t(label), align="R")
        pdf.cell(40, 6, t(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 11)
    pdf.cell(150, 8, t(_("Total")), align="R")
    pdf.cell(40, 8, t(money(quote.total)), align="R", new_x="LMARGIN", new_y="NEXT")

    if quote.notes:
        pdf.ln(4)
        pdf.set_font(family, "B", 10)
        pdf.cell(0, 6, t(_("Notes")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)
        pdf.multi_cell(0, 5, t(quote.notes))
    return bytes(pdf.output())
