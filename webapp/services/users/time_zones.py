"""The zone a person reads times in: their browser's, sent with the sign-in or sign-up form (or, for
a browser signed in before, once by static/js/app.js) and stored on the account
(user_profiles.preferences["time_zone"], an IANA name), editable on the account page. Until one is
stored, and for visitors, times are read in REPORTING_TIMEZONE (India's). Stored times stay UTC.

Any IANA name a browser sends is accepted and stored as its canonical zone (Chrome still reports
"Asia/Calcutta", a link to Asia/Kolkata). The account page offers canonical zones only (tzdata's
zone.tab, one per place, no "Zulu" or "W-SU"), each by its place and offset in the reader's language
(CLDR through Babel), grouped by region, with the reader's country first (India's, unless the browser
names another)."""

import hashlib
from collections import defaultdict
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import get_timezone_location
from flask import current_app, request
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

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


def _zone_bytes(name):
    return resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).read_bytes()


@lru_cache(maxsize=1)
def _zone_tab():
    """{canonical zone: its country code}, from tzdata's zone.tab."""
    rows = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text().splitlines()
    found = {}
    for row in rows:
        if row and not row.startswith("#"):
            country, _, zone_name = row.split("\t")[:3]
            found[zone_name] = country
    return found


@lru_cache(maxsize=1)
def _canonical_by_content():
    """The canonical zone each TZif file belongs to: a link is a copy of its target's bytes."""
    found = {hashlib.sha256(_zone_bytes(name)).digest(): name for name in sorted(_zone_tab(), reverse=True)}
    found[hashlib.sha256(_zone_bytes("UTC")).digest()] = "UTC"  # Zulu, Etc/UCT, Universal...
    return found


@lru_cache(maxsize=1024)
def canonical(name):
    """The canonical zone of an IANA name ("Asia/Calcutta": "Asia/Kolkata"); `name` when it is one, or unknown."""
    if name in _zone_tab() or name == "UTC" or not is_valid(name):
        return name
    try:
        return _canonical_by_content().get(hashlib.sha256(_zone_bytes(name)).digest(), name)
    except (FileNotFoundError, OSError):
        return name


REGIONS = {
    "Africa": _l("Africa"),
    "America": _l("Americas"),
    "Antarctica": _l("Antarctica"),
    "Arctic": _l("Arctic"),
    "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic Ocean"),
    "Australia": _l("Australia"),
    "Europe": _l("Europe"),
    "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific Ocean"),
}


def home_country():
    """The reader's country: the region of the browser's first language that names one (en-IN: IN), else
    REPORTING_TIMEZONE's (India)."""
    for tag, _ in request.accept_languages if request else ():
        parts = tag.replace("_", "-").split("-")
        if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha():
            return parts[-1].upper()
    return _zone_tab().get(default_name(), "IN")


def _offset(name, moment):
    offset = moment.astimezone(ZoneInfo(name)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def grouped_choices(moment=None, country=None):
    """[(group, [(zone, "India Time (UTC+05:30)"), ...]), ...]: the reader's country first, then each region
    sorted by place, then UTC. Labels in the request's language."""
    moment, country = moment or utcnow(), country or home_country()
    locale = get_locale()

    def choice(name):
        return name, f"{get_timezone_location(name, locale=locale)} ({_offset(name, moment)})"

    home, regions = [], defaultdict(list)
    for name, zone_country in _zone_tab().items():
        (home if zone_country == country else regions[name.split("/")[0]]).append(choice(name))
    groups = [(gettext("Your country"), sorted(home, key=lambda pair: pair[1]))] if home else []
    groups += [(str(REGIONS.get(region, region)), sorted(found, key=lambda pair: pair[1])) for region, found in
               sorted(regions.items(), key=lambda item: str(REGIONS.get(item[0], item[0])))]  # fmt: skip
    return groups + [("UTC", [("UTC", "UTC")])]


def default_name():
    return current_app.config["REPORTING_TIMEZONE"]


def name_of(profile):
    """The zone stored on a profile (canonical: one stored before the rule may be a link), or the default."""
    return canonical(stored_name(profile) or default_name())


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
    """Store `name` (as its canonical zone) as the account's; ValidationFailed for anything but an IANA zone name."""
    name = (name or "").strip() if isinstance(name, str) else name
    if not is_valid(name):
        raise ValidationFailed("time_zone", gettext("Choose a time zone from the list, such as Asia/Kolkata."))
    return _store(_profile(user_id), canonical(name), now)


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
        _store(profile, canonical(name), now)
