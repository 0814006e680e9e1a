"""An astrologer's own profile: availability per channel, rates, capacity, expertise.

Rate changes never touch running sessions (their rate was frozen at request
time). Any change that alters the derived availability is announced.
"""

from decimal import Decimal

from flask_babel import gettext

from ...extensions import db
from ...models import AstrologerProfile, Availability, Channel, to_money, utcnow
from ..errors import ValidationFailed
from . import marketplace

RATE_MIN, RATE_MAX = Decimal("1.00"), Decimal("1000.00")
CAPACITY_MIN, CAPACITY_MAX = 1, 10
ABOUT_MAX = 2000


def profile_of(astrologer_id):
    return db.session.execute(db.select(AstrologerProfile).filter_by(astrologer_id=astrologer_id)).scalar_one()


def set_availability(astrologer_id, channel, status, now=None):
    """The astrologer chose `status` (available / unavailable / offline) for `channel` (chat / call / video)."""
    try:
        channel, status = Channel(channel), Availability(status)
    except ValueError:
        raise ValidationFailed(
            "status", gettext("Choose available, unavailable or offline for chat, call or video.")
        ) from None
    profile = profile_of(astrologer_id)
    before = marketplace.availability(astrologer_id)
    setattr(profile, f"{channel.value}_availability", status)
    profile.updated_at = now or utcnow()
    db.session.flush()
    marketplace.refresh_availability(astrologer_id, before, now)
    return profile


def update_profile(
    astrologer_id,
    *,
    chat_rate_per_minute,
    call_rate_per_minute,
    max_concurrent_sessions,
    languages,
    specializations,
    about,
    video_rate_per_minute=None,
    now=None,
):
    """Save the editable profile; every value is checked again here (forms are not the only caller).
    A video rate of None keeps the current one."""
    profile = profile_of(astrologer_id)
    if video_rate_per_minute is None:
        video_rate_per_minute = profile.video_rate_per_minute
    rates = {
        "chat_rate_per_minute": chat_rate_per_minute,
        "call_rate_per_minute": call_rate_per_minute,
        "video_rate_per_minute": video_rate_per_minute,
    }
    for field, rate in rates.items():
        if not RATE_MIN <= rate <= RATE_MAX or rate != to_money(rate):
            raise ValidationFailed(
                field,
                gettext(
                    "Use an amount from %(rate_min)s to %(rate_max)s with at most 2 decimals.",
                    rate_min=RATE_MIN,
                    rate_max=RATE_MAX,
                ),
            )
    if not CAPACITY_MIN <= max_concurrent_sessions <= CAPACITY_MAX:
        raise ValidationFailed(
            "max_concurrent_sessions",
            gettext(
                "Use a number from %(capacity_min)s to %(capacity_max)s.",
                capacity_min=CAPACITY_MIN,
                capacity_max=CAPACITY_MAX,
            ),
        )
    unknown = set(languages) - set(marketplace.LANGUAGES)
    if unknown or not languages:
        raise ValidationFailed("languages", gettext("Choose at least one language from the list."))
    if set(specializations) - set(marketplace.SPECIALIZATIONS) or not specializations:
        raise ValidationFailed("specializations", gettext("Choose at least one specialization from the list."))
    if about and len(about) > ABOUT_MAX:
        raise ValidationFailed("about", gettext("Use at most %(about_max)s characters.", about_max=ABOUT_MAX))
    before = marketplace.availability(astrologer_id)
    for field, rate in rates.items():
        setattr(profile, field, to_money(rate))
    profile.max_concurrent_sessions = max_concurrent_sessions
    profile.languages = [language for language in marketplace.LANGUAGES if language in languages]
    profile.specializations = [item for item in marketplace.SPECIALIZATIONS if item in specializations]
    profile.about = (about or "").strip() or None
    profile.updated_at = now or utcnow()
    db.session.flush()
    marketplace.refresh_availability(astrologer_id, before)  # capacity changes can flip busy
    return profile
