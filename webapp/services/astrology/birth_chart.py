"""A person's birth chart: their birth details as a moment and a place, whether they share it with
the astrologers they consult, and how each person likes charts drawn and computed.

The birth moment: the local date and time of birth in the place's IANA zone with the rules of that
date (zoneinfo and the tzdata package: India kept +05:30 but for war time, +06:30 from
1941-10-01 to 1942-05-15 and again from 1942-09-01 to 1945-10-15; Europe's daylight saving as it was), then UTC. A local time that fell in
a clock change's gap is read with the offset before the change, a time the clocks showed twice as
its first occurrence (PEP 495 fold 0). Without a birth time the chart is cast for local noon and
has no ascendant or houses (services/astrology/kundli.py).

By documented key of user_profiles.preferences:

    chart_shared_at  when the person agreed that astrologers they consult see their chart (at
                     sign-up, at a request, or on the account page); absent: not shared
    chart_style      "north" (the diamond, the default) or "south" (the square of fixed signs)
    chart_ayanamsa   "lahiri" (the default), "raman" or "krishnamurti"
    chart_node       "mean" (the default) or "true"
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import UserProfile, utcnow
from ..errors import ValidationFailed
from . import kundli, places

STYLES = {"north": _l("North Indian"), "south": _l("South Indian")}
AYANAMSAS = {"lahiri": _l("Lahiri (Chitrapaksha)"), "raman": _l("Raman"), "krishnamurti": _l("Krishnamurti (KP)")}
NODES = {"mean": _l("Mean node"), "true": _l("True node")}
DEFAULTS = {"chart_style": "north", "chart_ayanamsa": "lahiri", "chart_node": "mean"}
CHOICES = {"chart_style": STYLES, "chart_ayanamsa": AYANAMSAS, "chart_node": NODES}
SHARED = "chart_shared_at"
UNKNOWN_TIME_NOON = time(12, 0)


def setting(profile, key):
    """The person's chart_style, chart_ayanamsa or chart_node (its default when not chosen)."""
    value = (profile.preferences or {}).get(key)
    return value if value in CHOICES[key] else DEFAULTS[key]


def is_shared(profile):
    return bool((profile.preferences or {}).get(SHARED))


def locate(label):
    """The gazetteer's place for an account form's label, or ValidationFailed saying how to pick one."""
    place = places.resolve(label)
    if place is None:
        raise ValidationFailed(
            "birth_place", gettext("Choose your place of birth from the list: type the first letters of the town.")
        )
    return place


def birth_moment(profile):
    """(the birth as UTC, whether its time is known), or None without a date and a located place."""
    if profile.birth_date is None or profile.birth_time_zone is None:
        return None
    local = datetime.combine(
        profile.birth_date, profile.birth_time or UNKNOWN_TIME_NOON, ZoneInfo(profile.birth_time_zone)
    )
    return local.astimezone(UTC), profile.birth_time is not None


def chart_of(profile, reader=None):
    """The person's chart computed as `reader` (a profile: the astrologer reading it, or the person
    themselves by default) likes charts computed; None without birth details to cast it from."""
    found = birth_moment(profile)
    if found is None:
        return None
    moment, time_known = found
    reader = reader or profile
    return kundli.compute(
        moment,
        profile.birth_latitude,
        profile.birth_longitude,
        ayanamsa_system=setting(reader, "chart_ayanamsa"),
        node=setting(reader, "chart_node"),
        time_known=time_known,
    )


@dataclass(frozen=True)
class RoomChart:
    """What the astrologer's panel in a room shows of the user: their chart if they share it."""

    profile: UserProfile
    shared: bool
    chart: object  # kundli.Chart, or None
    style: str


def for_astrologer(user_profile, astrologer_profile):
    """The user's chart for the astrologer's panel, computed and drawn as the astrologer reads charts."""
    shared = is_shared(user_profile)
    chart = chart_of(user_profile, reader=astrologer_profile) if shared else None
    return RoomChart(user_profile, shared, chart, setting(astrologer_profile, "chart_style"))


def save_settings(user_id, *, style, ayanamsa, node, shared, now=None):
    """The account page's chart choices; sharing keeps the first agreement's time."""
    profile = db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()
    chosen = {"chart_style": style, "chart_ayanamsa": ayanamsa, "chart_node": node}
    for key, value in chosen.items():
        if value not in CHOICES[key]:
            raise ValidationFailed(key, gettext("Choose one of the options."))
    preferences = {**(profile.preferences or {}), **chosen}
    if shared:
        preferences.setdefault(SHARED, (now or utcnow()).isoformat())
    else:
        preferences.pop(SHARED, None)
    profile.preferences = preferences
    db.session.flush()
    return profile


def share(user_id, now=None):
    """The person agrees that astrologers they consult see their chart (sign-up, a request)."""
    profile = db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()
    if not is_shared(profile):
        profile.preferences = {**(profile.preferences or {}), SHARED: (now or utcnow()).isoformat()}
        db.session.flush()
    return profile
