"""Amounts of money as people type them and as the ledger keeps them: Decimal with two places (paise).

Never a float: `parse_amount` refuses one outright. `format_money` is the one way money is written
for people (templates use it as the `money` filter; refusals that name an amount use it too).
"""

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from flask import current_app
from flask_babel import get_locale, gettext

from ...models.types import PAISE
from ..errors import InvalidAmount

ZERO = Decimal("0.00")


def as_money(value):
    """A sum the database computed, as Decimal with paise: aggregates of Money columns come back as
    Decimal, except a bare 0 from COALESCE and NULL from an outer join."""
    return value if isinstance(value, Decimal) else Decimal(value or 0).quantize(ZERO)


#: CLDR's locale for money in each language of the product: India's grouping (₹1,00,000) and its
#: symbol, whatever the language.
MONEY_LOCALES = {"en": "en_IN", "hi": "hi_IN"}
#: A whole amount: the symbol and India's grouping, no decimals.
WHOLE = "¤#,##,##0"


def format_money(amount, currency=None):
    """The one way money is written for people: '₹50', '₹1,00,000', '₹12.50' (symbol, India's
    grouping, paise only when there are some), in the reader's language, from CLDR through Babel;
    Decimal (or its text) in, text out. The currency code is for CSV and machine output only."""
    if amount is None:
        return ""
    amount = Decimal(amount)
    currency = currency or current_app.config["CURRENCY"]
    locale = MONEY_LOCALES.get(str(get_locale() or "en"), MONEY_LOCALES["en"])
    if amount == amount.to_integral_value():
        return format_currency(amount, currency, format=WHOLE, locale=locale, currency_digits=False)
    return format_currency(amount, currency, locale=locale)


#: What a person may type: digits with at most one decimal point, grouped (if at all) exactly as
#: India writes them (1,00,000.50) or as most of the world does (100,000.50). "100,00" is refused,
#: not read as ten thousand.
TYPED_AMOUNT = re.compile(r"^(?:\d+|\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})+,\d{3})(?:\.\d+)?$", re.ASCII)


def parse_amount(value):
    """A positive Decimal with at most 2 decimal places, or InvalidAmount. Text must be a plain or
    correctly grouped amount (TYPED_AMOUNT); Decimal and int pass as they are."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal or str, never float")
    if not isinstance(value, Decimal | int):
        text = str(value).strip()
        if text.startswith("-") and TYPED_AMOUNT.match(text[1:]):
            raise InvalidAmount(gettext("The amount must be more than zero."))
        if not TYPED_AMOUNT.match(text):
            raise InvalidAmount(gettext("Enter an amount such as 500, 1,000 or 499.50."))
        value = text.replace(",", "")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise InvalidAmount(gettext("Enter an amount such as 500 or 499.50.")) from None
    if not amount.is_finite():
        raise InvalidAmount(gettext("Enter an amount such as 500 or 499.50."))
    if amount <= 0:
        raise InvalidAmount(gettext("The amount must be more than zero."))
    if amount >= Decimal("100000000"):  # before quantize, which cannot hold a thousand digits
        raise InvalidAmount(gettext("The amount is too large."))
    if amount != amount.quantize(PAISE):
        raise InvalidAmount(gettext("The amount can have at most 2 decimal places (paise)."))
    return amount.quantize(PAISE)


def parse_topup_amount(value):
    """A top-up amount within TOPUP_MIN..TOPUP_MAX, or InvalidAmount saying the bound."""
    amount = parse_amount(value)
    config = current_app.config
    if amount < config["TOPUP_MIN"]:
        raise InvalidAmount(gettext("The minimum top-up is %(amount)s.", amount=format_money(config["TOPUP_MIN"])))
    if amount > config["TOPUP_MAX"]:
        raise InvalidAmount(gettext("The maximum top-up is %(amount)s.", amount=format_money(config["TOPUP_MAX"])))
    return amount
