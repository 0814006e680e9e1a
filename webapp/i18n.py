"""Which language a request is answered in (Flask-Babel's locale selector): the signed-in person's
stored choice, else a visitor's choice from the switcher (the `language` cookie), else the browser's
Accept-Language, else the default (services/users/languages.py). With one language offered the
answer needs no database. Outside a request (a job's e-mail) it is the default, unless the job says
whose language (flask_babel.force_locale). Also: dates, numbers and language names in the reader's
language."""

import re
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from flask import has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user

from .config import ConfigError
from .extensions import babel
from .services.users import languages


def select_locale():
    if len(languages.offered()) == 1 or not has_request_context():  # a job renders for its receiver
        return languages.offered()[0]
    if getattr(request, "sid", None) is not None and SOCKET_KEY in session:
        return session[SOCKET_KEY]  # a socket event: chosen once for its connection, no query per event
    stored = None
    if current_user and current_user.is_authenticated and current_user.profile is not None:
        stored = languages.stored_in(current_user.profile.preferences)
    chosen = languages.choose(stored, request.accept_languages, request.cookies.get(COOKIE))
    if getattr(request, "sid", None) is not None:
        session[SOCKET_KEY] = chosen  # Flask-SocketIO's session of this connection, never the cookie
    return chosen


#: Where a Socket.IO connection keeps its language: a flooding socket's refusals cost no query.
SOCKET_KEY = "_socket_language"
#: A visitor's choice from the switcher, kept a year (a signed-in person's is on their account).
COOKIE = "language"
COOKIE_SECONDS = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).parent / "translations"


def init_app(app):
    """Flask-Babel with our selector. Every offered language but English (the source) must have its
    compiled catalog, or its pages would silently fall back to English: `make translations` builds it."""
    for code in app.config["LANGUAGES"]:
        compiled = TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo"
        if code != "en" and not compiled.is_file():
            raise ConfigError(f"LANGUAGES offers {code!r} but {compiled} is missing: run `make translations`")
    babel.init_app(app, default_locale=app.config["LANGUAGES"][0], locale_selector=select_locale)


def current_language():
    """The language this page or message is written in ("en", "hi"): <html lang>, the JS catalog."""
    return str(get_locale() or languages.offered()[0])


#: strftime's directives as CLDR patterns (Babel), so every format the templates name reads in the
#: reader's language (Hindi month and weekday names); %Z stays the zone's abbreviation (IST).
_DIRECTIVES = {
    "d": "dd", "-d": "d", "b": "MMM", "B": "MMMM", "m": "MM", "Y": "y", "y": "yy", "a": "EEE", "A": "EEEE",
    "H": "HH", "M": "mm", "S": "ss", "I": "hh", "p": "a",
}  # fmt: skip
_PART = re.compile(r"%(-?[a-zA-Z])|([^%]+)")


def format_moment(value, format):
    """`value` (an aware datetime in the reader's zone, or a date) written by `format` (strftime's
    directives) in the current language."""
    pattern, literal_run = [], []

    def close_literal():
        if literal_run:
            pattern.append("'" + "".join(literal_run).replace("'", "''") + "'")
            literal_run.clear()

    for directive, literal in _PART.findall(format):
        if literal:
            literal_run.append(literal)
        elif directive == "Z":
            literal_run.append(value.strftime("%Z") if hasattr(value, "tzinfo") else "")
        else:
            close_literal()
            pattern.append(_DIRECTIVES[directive])
    close_literal()
    locale = current_language()
    if hasattr(value, "hour"):
        return format_datetime(value, "".join(pattern), tzinfo=value.tzinfo, locale=locale)
    return format_date(value, "".join(pattern), locale=locale)


#: A sentence of the scripts: t("...") in webapp/static/js (what `pybabel extract -k t` finds too).
_SCRIPT_SENTENCE = re.compile(r'\bt\("((?:[^"\\]|\\.)*)"')
_SCRIPTS = Path(__file__).parent / "static" / "js"
_script_catalogs = {}


def js_catalog():
    """{sentence: its translation} of every t("...") of the scripts, in the current language: what
    base.html embeds for static/js/app.js's window.astro.t (none for English, the scripts' own)."""
    language = current_language()
    if language not in _script_catalogs:
        sentences = sorted(
            {match for path in sorted(_SCRIPTS.glob("*.js")) for match in _SCRIPT_SENTENCE.findall(path.read_text())}
        )
        translations = get_translations()
        _script_catalogs[language] = {sentence: translations.gettext(sentence) for sentence in sentences}
    return _script_catalogs[language]


def language_name(name):
    """One of the marketplace's consultation languages ("Tamil", as stored) in the reader's language."""
    code = CONSULTATION_LANGUAGE_CODES.get(name)
    locale = current_language()
    if code is None or locale == "en":
        return name
    return Locale.parse(locale).languages.get(code, name)


#: The marketplace's languages (services/astrologers/marketplace.LANGUAGES) by ISO 639-1 code.
CONSULTATION_LANGUAGE_CODES = {
    "Hindi": "hi", "English": "en", "Tamil": "ta", "Telugu": "te", "Bengali": "bn", "Marathi": "mr",
    "Gujarati": "gu", "Kannada": "kn", "Malayalam": "ml", "Punjabi": "pa",
}  # fmt: skip
