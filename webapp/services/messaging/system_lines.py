"""The platform's lines in a conversation ("Session started at ₹20 per minute."), in each reader's
language (issue 41).

A line is stored as its message key and values, in messages.metadata["text"] =
{"key": msgid | [singular, plural], "args": {...}}, and written when it is shown: in the page's
language, over a socket in each participant's own (the user and the astrologer may differ), in the
transcript in its reader's. messages.content keeps the English, for the readers that have no
language (the safety rules, the language model) and for lines stored before the key.

Values are stored raw and written by their name: money (`amount`, `rate`, `refunded`) as the site
writes money, `channel` by its label, `date` (ISO) with the reader's month names, `what` (what the
masking notice hid: phone, email, link) as a list in the reader's language.
"""

from datetime import date

from babel.lists import format_list
from flask_babel import force_locale, get_locale, gettext, ngettext

from ...models.enums import label_of
from ..money.amounts import format_money


def N_(msgid):
    """Marks a message key for extraction (pybabel's default keyword); translated when shown."""
    return msgid


def NN_(singular, plural):
    """Marks a counted message key (its forms by `num`) for extraction (make's `-k NN_:1,2`)."""
    return (singular, plural)


MONEY_ARGS = {"amount", "rate", "refunded"}
#: Channels as a follower reads what an astrologer is taking (chat, calls, video calls).
CHANNEL_WORDS = {"chat": N_("chat"), "call": N_("calls"), "video": N_("video calls")}
#: What the masking notice can say it hid, in words.
HIDDEN_WORDS = {"phone": N_("a phone number"), "email": N_("an email address"), "link": N_("a link")}


def line(key, then=None, **args):
    """The stored form of a line: `key` (a msgid, or [singular, plural] counted by `num`) and its
    values, JSON as they are (Decimal as text); `then`, another line said after it."""
    text = {"key": list(key) if isinstance(key, tuple) else key, "args": {k: _raw(v) for k, v in args.items()}}
    if then is not None:
        text["then"] = then
    return text


def _raw(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return sorted(value)
    return value if isinstance(value, (int, str)) else str(value)


def render(text):
    """A stored line in the current language (text already written, such as a name, as it is)."""
    if isinstance(text, str):
        return text
    said = _render_one(text)
    return f"{said} {render(text['then'])}" if text.get("then") else said


def _render_one(text):
    args = dict(text.get("args") or {})
    for name in MONEY_ARGS & args.keys():
        args[name] = format_money(args[name])
    if "channel" in args:
        args["channel"] = str(label_of(args["channel"])).lower()
    if "date" in args:
        from ... import i18n  # the one place dates are written by the reader's calendar names

        args["date"] = i18n.format_moment(date.fromisoformat(args["date"]), "%d %B %Y")
    if "channels" in args:  # what an astrologer opened
        words = [gettext(CHANNEL_WORDS[channel]) for channel in args["channels"] if channel in CHANNEL_WORDS]
        args["channels"] = format_list(words, locale=str(get_locale() or "en"))
    if "what" in args:
        words = [gettext(HIDDEN_WORDS[kind]) for kind in args["what"] if kind in HIDDEN_WORDS]
        args["what"] = format_list(words, locale=str(get_locale() or "en")) if words else gettext("contact details")
    key = text["key"]
    if isinstance(key, list):
        return ngettext(key[0], key[1], args.pop("num"), **args)
    return gettext(key, **args) if args else gettext(key)


def english(text):
    """The line in English: what messages.content keeps."""
    with force_locale("en"):
        return render(text)


def text_of(message):
    """What a system message says to the current reader (its stored English when it has no key)."""
    text = (message.message_metadata or {}).get("text")
    return render(text) if text else message.content


def in_language_of(message, language):
    with force_locale(language):
        return text_of(message)


#: What the masking notice says (`what`: the kinds hidden); sent to the sender once per session.
MASKING_NOTICE = N_(
    "We hid %(what)s in your message. Contact details and links stay out of consultations: it keeps both "
    "of you safe from scams, and every minute stays billed here, where a refund can reach you."
)


def masking_notice(hidden):
    return line(MASKING_NOTICE, what=[kind for kind in hidden if kind in HIDDEN_WORDS])


def birth_details_text(profile):
    """The user's birth details as one line for the astrologer, or None when none are given."""
    day, place = profile.birth_date, profile.birth_place
    time = f"{profile.birth_time:%H:%M}" if profile.birth_time else None
    if day and time and place:
        return line(N_("Birth details: born %(date)s at %(time)s in %(place)s."), date=day, time=time, place=place)
    if day and place:
        return line(N_("Birth details: born %(date)s in %(place)s."), date=day, place=place)
    if day and time:
        return line(N_("Birth details: born %(date)s at %(time)s."), date=day, time=time)
    if day:
        return line(N_("Birth details: born %(date)s."), date=day)
    if place:
        return line(N_("Birth details: born in %(place)s."), place=place)
    return None
