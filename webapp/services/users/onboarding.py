"""The first run of a new user: a short panel on the listing (add money, birth details, how billing
works) until they say they are done. Done is stored on the account (user_profiles.preferences
["onboarded_at"]), so it never comes back, on any device."""

from dataclasses import dataclass

from ...extensions import db
from ...models import UserProfile, UserType, utcnow

PREFERENCE = "onboarded_at"


@dataclass(frozen=True)
class FirstRun:
    topped_up: bool
    birth_details: bool


def first_run(user):
    """What the panel shows `user`, or None when it is not for them (done, or not an end user)."""
    if user.type != UserType.USER or (user.profile.preferences or {}).get(PREFERENCE):
        return None
    profile = user.profile
    return FirstRun(topped_up=profile.total_credited > 0, birth_details=profile.birth_date is not None)


def finish(user_id, now=None):
    """The user is done with the first-run panel; repeating it changes nothing."""
    profile = db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()
    if not (profile.preferences or {}).get(PREFERENCE):
        now = now or utcnow()
        profile.preferences = {**(profile.preferences or {}), PREFERENCE: now.isoformat()}
        profile.updated_at = now
        db.session.flush()
    return profile
