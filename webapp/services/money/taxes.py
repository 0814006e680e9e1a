"""Tax on a top-up (GST in India): what the payer pays, what the wallet gets, and how the tax splits.

TOPUP_TAX_PERCENT is added to the wallet amount the person picks (₹500 + GST ₹90 = ₹590), or with
TOPUP_TAX_INCLUSIVE it is inside what they pay (₹500 paid: ₹423.73 to the wallet, ₹76.27 tax). The
tax is its own ledger leg into the tax account (services/money/invoices.py issues the invoice). The
place of supply is the buyer's state: the same state as the seller's GSTIN splits the tax into CGST
and SGST halves, any other into IGST (the Integrated GST Act, s. 12(2)).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l

from ...models.types import PAISE
from .amounts import ZERO

#: The GST portal's state codes (the first two digits of a GSTIN) and names: a buyer's place of supply.
STATES = {
    "35": _l("Andaman and Nicobar Islands"),
    "37": _l("Andhra Pradesh"),
    "12": _l("Arunachal Pradesh"),
    "18": _l("Assam"),
    "10": _l("Bihar"),
    "04": _l("Chandigarh"),
    "22": _l("Chhattisgarh"),
    "26": _l("Dadra and Nagar Haveli and Daman and Diu"),
    "07": _l("Delhi"),
    "30": _l("Goa"),
    "24": _l("Gujarat"),
    "06": _l("Haryana"),
    "02": _l("Himachal Pradesh"),
    "01": _l("Jammu and Kashmir"),
    "20": _l("Jharkhand"),
    "29": _l("Karnataka"),
    "32": _l("Kerala"),
    "38": _l("Ladakh"),
    "31": _l("Lakshadweep"),
    "23": _l("Madhya Pradesh"),
    "27": _l("Maharashtra"),
    "14": _l("Manipur"),
    "17": _l("Meghalaya"),
    "15": _l("Mizoram"),
    "13": _l("Nagaland"),
    "21": _l("Odisha"),
    "34": _l("Puducherry"),
    "03": _l("Punjab"),
    "08": _l("Rajasthan"),
    "11": _l("Sikkim"),
    "33": _l("Tamil Nadu"),
    "36": _l("Telangana"),
    "16": _l("Tripura"),
    "09": _l("Uttar Pradesh"),
    "05": _l("Uttarakhand"),
    "19": _l("West Bengal"),
}


def state_name(code):
    return str(STATES[code]) if code in STATES else ""


def seller_state():
    """The seller's state: the first two digits of SELLER_GSTIN."""
    return current_app.config["SELLER_GSTIN"][:2]


def _percent_of(amount, percent):
    return (amount * percent / 100).quantize(PAISE, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TopupPrice:
    """A top-up's figures: `credit` to the wallet (the taxable value), `tax`, and `total` paid."""

    credit: Decimal
    tax: Decimal
    total: Decimal
    percent: Decimal
    name: str

    @property
    def taxed(self):
        return self.tax > ZERO


def topup_price(amount, config=None):
    """The figures of a top-up of `amount` (what the person picked: the wallet credit, or with
    TOPUP_TAX_INCLUSIVE what they pay)."""
    config = config or current_app.config
    percent, name = config["TOPUP_TAX_PERCENT"], config["TOPUP_TAX_NAME"]
    if config["TOPUP_TAX_INCLUSIVE"]:
        credit = (amount * 100 / (100 + percent)).quantize(PAISE, rounding=ROUND_HALF_UP)
        return TopupPrice(credit, amount - credit, amount, percent, name)
    tax = _percent_of(amount, percent)
    return TopupPrice(amount, tax, amount + tax, percent, name)


@dataclass(frozen=True)
class TaxSplit:
    cgst: Decimal
    sgst: Decimal
    igst: Decimal

    @property
    def total(self):
        return self.cgst + self.sgst + self.igst


def split(tax, taxable, percent, buyer_state, seller_state_code):
    """CGST + SGST (each half the rate on the taxable value; SGST takes the paisa of rounding) when the
    buyer is in the seller's state, else IGST."""
    if buyer_state != seller_state_code:
        return TaxSplit(ZERO, ZERO, tax)
    cgst = min(_percent_of(taxable, percent / 2), tax)
    return TaxSplit(cgst, tax - cgst, ZERO)
