"""The language a person reads the product in: the one stored on their account
(user_profiles.preferences["locale"], a code of LANGUAGES such as "hi"), else the best their browser asks for (Accept-Language),
else the first of LANGUAGES. Only the languages of LANGUAGES are ever chosen."""

from babel import Locale
from flask import current_app

from ...extensions import db
from ...models import UserProfile

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


def native_name(code):
    """A language by its own name (हिन्दी, English): what a switcher offers."""
    return Locale.parse(code).get_display_name(code)


def store(user_id, code):
    """Keep `code` (one of LANGUAGES) as the account's language: every page, e-mail and notification
    sent to the person from now on, on any browser. Returns the profile; ValueError if not offered."""
    if code not in offered():
        raise ValueError(f"{code!r} is not offered")
    profile = db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()
    profile.preferences = {**(profile.preferences or {}), PREFERENCE: code}
    db.session.flush()
    return profile


def of(profile):
    """The language to write to `profile`'s person in, outside a request (an e-mail, a push): the
    stored one, else the default."""
    return stored_in(profile.preferences if profile is not None else None) or offered()[0]


def of_users(user_ids):
    """{user id: the language to write to them in} for many people, in one query (notifications, chat lines)."""
    profiles = db.session.execute(
        db.select(UserProfile.user_id, UserProfile.preferences).where(UserProfile.user_id.in_(list(user_ids)))
    ).all()
    found = {user_id: stored_in(preferences) for user_id, preferences in profiles}
    return {user_id: found.get(user_id) or offered()[0] for user_id in user_ids}


def choose(stored, accept_languages, chosen_here=None):
    """`stored` (the account's, or None) if offered; else `chosen_here` (a visitor's switch, kept in a
    cookie) if offered; else the browser's best match; else the default.
    `accept_languages`: werkzeug's parsed Accept-Language (request.accept_languages)."""
    for choice in (stored, chosen_here):
        if choice in offered():
            return choice
    # In the browser's order of preference, each tag by its language (en-IN is English): werkzeug's
    # best_match would take an exact "hi" of lower quality over "en-IN", the browser's first choice.
    for tag, _quality in accept_languages:
        language = tag.replace("_", "-").split("-")[0].lower()
        if language in offered():
            return language
    return offered()[0]
