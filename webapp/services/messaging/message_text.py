"""What a chat message may say: its text checked (1..2000 characters, storable) and contact details
and links masked before it is stored, so consultations stay on the platform; the client's id for
a message checked. No database."""

import re

from flask_babel import gettext

from .. import payloads
from ..errors import ValidationFailed

#: Characters that make text display as something it is not, for a regex class: DEL and the C1 controls
#: (U+0085 among them), the line and paragraph separators (they break a mail header), and the
#: bidirectional marks, embeddings, overrides and isolates (U+202E shows "gpj.pdf" as "fdp.jpg").
#: Zero-width joiners are not here: Devanagari's conjuncts need them.
DISPLAY_CONTROLS = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"

MAX_LENGTH = 2000
CLIENT_ID_MAX = 64
#: A client's id for a message: what crypto.randomUUID() and chat.js's fallback produce.
CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
LINK = re.compile(
    r"\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|in|net|org|io|co|me|info|app|xyz|biz|us|uk|link|ly)\b(?:/\S*)?",
    re.IGNORECASE,
)
# Ten or more digits, with the separators people type between them.
PHONE = re.compile(r"(?<![\w])[+(]?\d(?:[\s\-().]*\d){9,}")


MASKS = (("email", EMAIL, "[email hidden]"), ("link", LINK, "[link hidden]"), ("phone", PHONE, "[number hidden]"))


def mask(text):
    """Hide contact details and links, so consultations stay on the platform."""
    return masked(text)[0]


def masked(text):
    """(text with contact details and links hidden, the kinds hidden: a tuple of "email", "link", "phone")."""
    hidden = []
    for kind, pattern, replacement in MASKS:
        text, count = pattern.subn(replacement, text)
        if count:
            hidden.append(kind)
    return text, tuple(hidden)


def clean_content(content):
    """Trimmed text of 1..2000 characters, or ValidationFailed with a reason a person can read."""
    if not isinstance(content, str):
        raise ValidationFailed("content", gettext("A message must be text."))
    content = content.strip()
    if not content:
        raise ValidationFailed("content", gettext("A message cannot be empty."))
    if len(content) > MAX_LENGTH:
        raise ValidationFailed(
            "content", gettext("A message can have at most %(max_length)s characters.", max_length=MAX_LENGTH)
        )
    if not payloads.storable_text(content):
        raise ValidationFailed("content", gettext("A message cannot contain NUL characters or broken Unicode."))
    return content


def clean_client_id(client_id):
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ValidationFailed(
            "client_id",
            gettext(
                "client_id must be 1 to %(client_id_max)s letters, digits, dots, colons, dashes or underscores.",
                client_id_max=CLIENT_ID_MAX,
            ),
        )
    return client_id
