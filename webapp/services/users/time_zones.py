"""The zone a person reads times in: their browser's, sent with the sign-in or sign-up form (or, for
a browser signed in before, once by static/js/app.js) and stored on the account
(user_profiles.preferences["time_zone"], an IANA name), editable on the account page. Until one is
stored, and for visitors, times are read in REPORTING_TIMEZONE (India's). Stored times stay UTC."""

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app
from flask_babel import gettext

from ...extensions import db
from ...models import UserProfile, utcnow
from ..errors import ValidationFailed

PREFERENCE = "time_zone"
NOT_ZONES = {"Factory", "localtime", "posixrules"}


@lru_cache(maxsize=1)
def names():
    """Every IANA zone name a browser may report (UTC and the legacy aliases too), sorted."""
    return tuple(sorted(n for n in available_timezones() if n not in NOT_ZONES and not n.startswith("SystemV/")))


def is_valid(name):
    return isinstance(name, str) and name in names()


def default_name():
    return current_app.config["REPORTING_TIMEZONE"]


def name_of(profile):
    """The zone stored on a profile, or the default."""
    return stored_name(profile) or default_name()


def stored_name(profile):
    """The zone the account chose or its browser sent, None when it has none yet."""
    return stored_in(profile.preferences if profile is not None else None)


def stored_in(preferences):
    """The zone in a profile's `preferences`, None when there is none (or it is no longer valid)."""
    stored = (preferences or {}).get(PREFERENCE)
    return stored if is_valid(stored) else None


def zone(name):
    return ZoneInfo(name if is_valid(name) else default_name())


def set_zone(user_id, name, now=None):
    """Store `name` as the account's zone; ValidationFailed for anything but an IANA zone name."""
    name = (name or "").strip() if isinstance(name, str) else name
    if not is_valid(name):
        raise ValidationFailed("time_zone", gettext("Choose a time zone from the list, such as Asia/Kolkata."))
    return _store(_profile(user_id), name, now)


def _profile(user_id):
    return db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()


def _store(profile, name, now):
    if (profile.preferences or {}).get(PREFERENCE) != name:
        profile.preferences = {**(profile.preferences or {}), PREFERENCE: name}
        profile.updated_at = now or utcnow()
        db.session.flush()
    return profile


def label(name, moment=None):
    """'Asia/Kolkata (IST)': the zone's name with the abbreviation it has at `moment` (now by default)."""
    abbreviation = (moment or utcnow()).astimezone(zone(name)).tzname()
    return f"{name} ({abbreviation})" if abbreviation and not abbreviation.startswith(("+", "-")) else name


def adopt_browser_zone(user_id, name, now=None):
    """At sign-in: the browser's zone becomes the account's when the account has none yet (a zone
    chosen on the account page is kept); anything but a zone name is ignored, as a hint may be."""
    profile = _profile(user_id)
    if stored_name(profile) is None and is_valid(name):
        _store(profile, name, now)
