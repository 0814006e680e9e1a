"""Ratings of a completed consultation: the user rates the astrologer once (1-5, an optional
review; public, in the astrologer's figures) if a minute was paid, and the astrologer rates the
user once, privately (the user's profile figures, which only admins see)."""

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext

from ...extensions import db
from ...models import SessionStatus, utcnow
from .. import locks
from ..astrologers import performance
from ..errors import NotAllowed, RatingNotAllowed, ValidationFailed
from .lookup import get_for_participant

REVIEW_MAX = 1000


def _stars(rating):
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ValidationFailed("rating", gettext("Choose 1 to 5 stars."))
    return rating


def _with_rating(count, average, rating):
    """(count, mean) after one more rating, the mean rounded half-up to 0.01."""
    total = average * count + rating
    return count + 1, (total / (count + 1)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rate(session_id, user_id, rating, review=None, now=None):
    """The user rates a completed session once (1-5, optional review) if at least one minute was paid."""
    now = now or utcnow()
    session = get_for_participant(session_id, user_id)
    if session.user_id != user_id:
        raise NotAllowed(gettext("Only the user who took the consultation can rate it."))
    rating = _stars(rating)
    review = (review or "").strip() or None
    if review and len(review) > REVIEW_MAX:
        raise ValidationFailed("review", gettext("Use at most %(review_max)s characters.", review_max=REVIEW_MAX))
    profile, session = locks.session_and_profile(session_id)
    if session.status != SessionStatus.COMPLETED:
        raise RatingNotAllowed(gettext("Only a finished consultation can be rated."))
    if session.billed_minutes < 1 or session.total_cost <= 0:
        raise RatingNotAllowed(gettext("Only consultations with at least one paid minute can be rated."))
    if session.astrologer_rating is not None:
        raise RatingNotAllowed(gettext("You have already rated this consultation."))
    session.astrologer_rating, session.review_text, session.rated_at = Decimal(rating), review, now
    profile.rating_count, profile.rating_average = _with_rating(profile.rating_count, profile.rating_average, rating)
    db.session.flush()
    performance.refresh_month(profile, now)
    return session


def rate_user(session_id, astrologer_id, rating, now=None):
    """The astrologer rates the user of a completed session once (1-5), privately: it counts in the
    user's profile figures, which only admins see."""
    now = now or utcnow()
    session = get_for_participant(session_id, astrologer_id)
    if session.astrologer_id != astrologer_id:
        raise NotAllowed(gettext("Only the astrologer of a consultation rates its user."))
    rating = _stars(rating)
    profile, session = locks.session_and_profile(session_id)
    if session.status != SessionStatus.COMPLETED:
        raise RatingNotAllowed(gettext("Only a finished consultation can be rated."))
    if session.user_rating is not None:
        raise RatingNotAllowed(gettext("You have already rated this user for this consultation."))
    session.user_rating = Decimal(rating)
    session.updated_at = now
    user_profile = locks.user_profile(session.user_id)
    user_profile.total_ratings, user_profile.average_rating = _with_rating(
        user_profile.total_ratings, user_profile.average_rating, rating
    )
    user_profile.updated_at = now
    performance.touch(profile, now)
    db.session.flush()
    return session
