"""Following astrologers, and telling followers when one becomes available ("notify me when online").

A follower is told when a channel of the astrologer becomes available (from offline, busy or
unavailable), at most once every FOLLOW_NOTIFY_DEBOUNCE_SECONDS: an astrologer toggling five times in
a minute tells each follower once (follows.notified_at, set by the same statement that picks them,
in the transaction of the notification). services/astrologers/marketplace.py reports the change where availability is derived.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext

from ...extensions import db
from ...models import AstrologerProfile, Availability, ConsultationAvailability, Follow, User, UserType, utcnow
from .. import signals
from ..errors import AstrologerNotFound, NotAllowed
from ..messaging.system_lines import N_, line
from ..notifications import inbox as notifications
from .marketplace import CHANNELS


def _astrologer(astrologer_id):
    astrologer = db.session.get(User, astrologer_id)
    if astrologer is None or astrologer.type != UserType.ASTROLOGER:
        raise AstrologerNotFound()
    return astrologer


def _as_user(user, astrologer_id):
    if user.type != UserType.USER:
        raise NotAllowed(gettext("Astrologers are followed from a user account."))
    return _astrologer(astrologer_id)


def follow(user, astrologer_id, now=None):
    """`user` follows the astrologer (again: nothing changes). Only users follow."""
    _as_user(user, astrologer_id)
    if db.session.get(Follow, (user.id, astrologer_id)) is None:
        db.session.add(Follow(user_id=user.id, astrologer_id=astrologer_id, created_at=now or utcnow()))
        db.session.flush()
    return True


def unfollow(user, astrologer_id):
    _as_user(user, astrologer_id)
    found = db.session.get(Follow, (user.id, astrologer_id))
    if found is not None:
        db.session.delete(found)
        db.session.flush()
    return False


def is_following(user_id, astrologer_id):
    return db.session.get(Follow, (user_id, astrologer_id)) is not None


def followed(user_id):
    """The astrologers `user_id` follows, with their profiles, most recently followed first."""
    return db.session.execute(
        db.select(User, AstrologerProfile)
        .join(Follow, Follow.astrologer_id == User.id)
        .join(AstrologerProfile, AstrologerProfile.astrologer_id == User.id)
        .where(Follow.user_id == user_id)
        .order_by(Follow.created_at.desc())
    ).all()


def became_available(astrologer_id, channels, now=None):
    """The astrologer's `channels` (of "chat", "call", "video") just became available: tell the followers not
    told within the debounce window. Returns how many were told."""
    now = now or utcnow()
    window = now - timedelta(seconds=current_app.config["FOLLOW_NOTIFY_DEBOUNCE_SECONDS"])
    # One statement marks and returns the followers due (no SELECT ... FOR UPDATE: this runs inside
    # transactions that lock wallets after it, and an UPDATE that waits re-reads its condition, so two
    # availability changes at once tell each follower once).
    due = (
        db.session.execute(
            db.update(Follow)
            .where(
                Follow.astrologer_id == astrologer_id,
                db.or_(Follow.notified_at.is_(None), Follow.notified_at <= window),
            )
            .values(notified_at=now)
            .returning(Follow.user_id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if not due:
        return 0
    astrologer = db.session.get(User, astrologer_id)
    notifications.tell(
        due,
        "followed_available",
        line(N_("%(name)s is available"), name=astrologer.name),
        line(N_("%(name)s is taking %(channels)s now."), name=astrologer.name.split()[0], channels=list(channels)),
        f"/astrologers/{astrologer_id}",  # no url_for: the billing loop ends sessions outside any request
        f"available:{astrologer_id}:{now.isoformat()}",
        now,
    )
    return len(due)


@signals.availability_changed.connect
def _tell_followers(astrologer_id, *, before, after, now, **_):
    """A channel that became available while the astrologer is available at all ("notify me when online").
    With no earlier statuses (`before` None) nothing is known to have opened."""
    if (
        before is None
        or db.session.get(User, astrologer_id).consultation_availability != ConsultationAvailability.AVAILABLE
    ):
        return
    opened = [
        channel
        for channel, was, is_now in zip(CHANNELS, before, after, strict=True)
        if is_now == Availability.AVAILABLE.value and was != is_now
    ]
    if opened:
        became_available(astrologer_id, opened, now)
