"""A tax invoice or credit note as a PDF: an HTML template (templates/invoices/document.html, in the
reader's language) drawn by fpdf2 (LGPL-3.0, pure Python: no system libraries, so `make run` draws it
on any machine, where WeasyPrint would need Pango installed) in Noto Sans with Noto Sans Devanagari
behind it (webapp/fonts, SIL OFL), shaped by HarfBuzz so Hindi names and labels join correctly. The
invoice's date is India's (REPORTING_TIMEZONE), the date the law reads; the total is also written in
Indian English words (num2words, LGPL-2.1: lakh and crore), as invoices in India carry it.
"""

from pathlib import Path

from flask import render_template
from fpdf import FPDF
from num2words import num2words

from . import taxes
from .earnings import zone

FONTS = Path(__file__).resolve().parents[2] / "fonts"


def in_words(amount, currency="INR"):
    """'Rupees Five Hundred and Ninety Only', 'Rupees One Lakh and Fifty Paise Only'."""
    rupees, paise = divmod(int(amount * 100), 100)
    words = f"{currency == 'INR' and 'Rupees' or currency} {num2words(rupees, lang='en_IN')}"
    if paise:
        words += f" and {num2words(paise, lang='en_IN')} Paise"
    return (words + " Only").replace(",", "").title().replace(" And ", " and ")


def render(invoice, original=None):
    """The PDF's bytes. `original`: a credit note's invoice."""
    html = render_template(
        "invoices/document.html",
        invoice=invoice,
        original=original,
        issued_on=invoice.issued_at.astimezone(zone()),
        buyer_state=taxes.state_name(invoice.buyer_state),
        seller_state=taxes.state_name(invoice.seller["gstin"][:2]),
        half_percent=invoice.tax_percent / 2,
        words=in_words(invoice.total, invoice.currency),
    )
    pdf = FPDF(format="A4")
    pdf.set_title(invoice.number)
    pdf.set_author(invoice.seller["name"])
    pdf.set_creation_date(invoice.issued_at)
    pdf.add_font("Noto", "", FONTS / "NotoSans-Regular.ttf")
    pdf.add_font("Noto", "B", FONTS / "NotoSans-Bold.ttf")
    pdf.add_font("NotoDevanagari", "", FONTS / "NotoSansDevanagari-Regular.ttf")
    pdf.add_font("NotoDevanagari", "B", FONTS / "NotoSansDevanagari-Bold.ttf")
    pdf.set_fallback_fonts(["NotoDevanagari"])
    pdf.set_text_shaping(True)
    pdf.add_page()
    pdf.set_font("Noto", size=10)
    pdf.write_html(html, font_family="Noto")
    return bytes(pdf.output())
