"""The language a person reads the product in: the one stored on their account
(user_profiles.preferences["locale"], a code of LANGUAGES such as "hi"), else the best their browser asks for (Accept-Language),
else the first of LANGUAGES. Only the languages of LANGUAGES are ever chosen."""

from flask import current_app

#: Not "language": that key already holds the language a person prefers to *consult* in (one of the
#: marketplace's ten, shown to the astrologer), which the product's own language need not be.
PREFERENCE = "locale"


def offered():
    """The languages the product speaks, the default first (Config.LANGUAGES)."""
    return current_app.config["LANGUAGES"]


def stored_in(preferences):
    """The language stored in a profile's `preferences`, None when there is none (or no longer offered)."""
    stored = (preferences or {}).get(PREFERENCE)
    return stored if stored in offered() else None


def choose(stored, accept_languages):
    """`stored` (the account's, or None) if offered; else the browser's best match; else the default.
    `accept_languages`: werkzeug's parsed Accept-Language (request.accept_languages)."""
    if stored in offered():
        return stored
    return accept_languages.best_match(offered()) or offered()[0]
