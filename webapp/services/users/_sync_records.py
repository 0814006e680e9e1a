"""What a record pushed by the main backend may hold: each field checked against the seed's column
(length, characters, amounts as strings, lists from the known choices), with a reason per field
that the sync API returns. No database: `validate(record)` -> (clean values, errors).
"""

import re
from decimal import Decimal, InvalidOperation

from ...models import UserStatus, to_money
from .. import payloads
from ..astrologers import marketplace
from ..errors import ValidationFailed
from ..messaging.message_text import DISPLAY_CONTROLS
from . import accounts

KNOWN = {
    "external_id", "name", "email", "phone", "type", "status", "bio", "avatar_url", "chat_rate_per_minute",
    "call_rate_per_minute", "video_rate_per_minute", "max_concurrent_sessions", "specializations", "languages",
    "experience_years",
}  # fmt: skip
STATUSES = tuple(status.value for status in UserStatus)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTROL = accounts.UNSAFE_IN_NAME  # control characters, U+0085, U+2028/9, bidirectional controls
TEXT_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{DISPLAY_CONTROLS}]")  # a bio may have line breaks and tabs
HTTPS_URL = re.compile(r"^https://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$")


def _text(record, name, errors, maximum, required=False, control=CONTROL):
    value = record.get(name)
    if value is None:
        if required:
            errors[name] = "required"
        return None
    if not isinstance(value, str) or not value.strip():
        errors[name] = "must be non-empty text"
        return None
    if not payloads.storable(value) or control.search(value):
        errors[name] = "must not contain control characters or invalid Unicode"
        return None
    if len(value) > maximum:
        errors[name] = f"at most {maximum} characters"
        return None
    return value.strip()


def _rate(record, name, errors):
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, float):
        errors[name] = "send amounts as strings or integers, not floats"
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors[name] = "must be an amount"
        return None
    if not amount.is_finite() or not Decimal("1") <= amount <= Decimal("1000") or amount != to_money(amount):
        errors[name] = "must be 1..1000 with at most 2 decimals"
        return None
    return to_money(amount)


def _int(record, name, errors, low, high):
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = f"must be a whole number from {low} to {high}"
        return None
    return value


def _choices(record, name, errors, allowed):
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in allowed for v in value):
        errors[name] = f"must be a non-empty list of: {', '.join(allowed)}"
        return None
    return [v for v in allowed if v in value]


def validate(record):
    """(clean values, errors) for one record; nothing is written."""
    if not isinstance(record, dict):
        return None, {"record": "must be an object"}
    errors = {}
    values = {
        "external_id": _text(record, "external_id", errors, 255, required=True),
        "name": _text(record, "name", errors, 255),
        "email": _text(record, "email", errors, 254),
        "phone": _text(record, "phone", errors, 20),
        "bio": _text(record, "bio", errors, accounts.BIO_MAX, control=TEXT_CONTROL),
        "avatar_url": _text(record, "avatar_url", errors, 2000),
        "type": record.get("type", "user"),
        "status": record.get("status", "active"),
        "chat_rate_per_minute": _rate(record, "chat_rate_per_minute", errors),
        "call_rate_per_minute": _rate(record, "call_rate_per_minute", errors),
        "video_rate_per_minute": _rate(record, "video_rate_per_minute", errors),
        "max_concurrent_sessions": _int(record, "max_concurrent_sessions", errors, 1, 10),
        "experience_years": _int(record, "experience_years", errors, 0, 80),
        "specializations": _choices(record, "specializations", errors, marketplace.SPECIALIZATIONS),
        "languages": _choices(record, "languages", errors, marketplace.LANGUAGES),
    }
    if values["type"] not in ("user", "astrologer"):
        errors["type"] = "must be user or astrologer"
    if values["status"] not in STATUSES:
        errors["status"] = "must be " + ", ".join(STATUSES[:-1]) + " or " + STATUSES[-1]
    if values["avatar_url"] and not HTTPS_URL.match(values["avatar_url"]):
        errors["avatar_url"] = "must be an https:// address"
    if values["email"]:
        if not EMAIL.match(values["email"]):
            errors["email"] = "must be an e-mail address"
        values["email"] = accounts.normalize_email(values["email"])
    if values["phone"]:
        try:
            values["phone"] = accounts.normalize_phone(values["phone"])
        except ValidationFailed as error:
            errors["phone"] = error.message
    values["extra"] = {k: v for k, v in record.items() if k not in KNOWN}
    for name, value in values["extra"].items():
        if not payloads.storable(name) or not payloads.storable(value):
            errors["record"] = "extra fields must not contain NUL characters or invalid Unicode"
    return values, errors
