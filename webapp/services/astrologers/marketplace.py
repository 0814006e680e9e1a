"""The marketplace: who is listed, how they are found, and their derived availability.

Availability shown to users is derived: offline / unavailable are the
astrologer's choice for a channel; busy is computed from active sessions
against max_concurrent_sessions, so it cannot get stuck. The derived value
across channels is kept in users.consultation_availability (the seed's
column, for the owner's other systems) by `refresh_availability`, which every
change of its inputs calls in its own transaction; a change is announced
(`availability`, broadcast on /marketplace) after it commits.

The listing runs two queries whatever the page size: a count and the page.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import JSONB

from ...extensions import db
from ...models import (
    AstrologerProfile,
    Availability,
    Channel,
    ConsultationAvailability,
    ConsultationSession,
    SessionStatus,
    User,
    UserProfile,
    UserStatus,
    UserType,
)
from .. import paging, signals
from ..notifications import notifier

PER_PAGE = 24
BUSY = ConsultationAvailability.BUSY.value
MARKETPLACE_NAMESPACE = "/marketplace"
SORTS = ("recommended", "price_asc", "price_desc", "rating", "experience")

#: The catalogue astrologers choose from (and users filter by).
SPECIALIZATIONS = (
    "Vedic", "Tarot", "Numerology", "Vastu", "KP", "Palmistry", "Face Reading", "Prashna", "Lal Kitab", "Nadi",
)  # fmt: skip
LANGUAGES = (
    "Hindi", "English", "Tamil", "Telugu", "Bengali", "Marathi", "Gujarati", "Kannada", "Malayalam", "Punjabi",
)  # fmt: skip
#: The specializations as people read them (stored and filtered in English).
SPECIALIZATION_NAMES = {
    "Vedic": _l("Vedic"), "Tarot": _l("Tarot"), "Numerology": _l("Numerology"), "Vastu": _l("Vastu"), "KP": _l("KP"),
    "Palmistry": _l("Palmistry"), "Face Reading": _l("Face Reading"), "Prashna": _l("Prashna"),
    "Lal Kitab": _l("Lal Kitab"), "Nadi": _l("Nadi"),
}  # fmt: skip


def specialization_name(name):
    return SPECIALIZATION_NAMES.get(name, name)


def derived_status(choice, active_sessions, capacity):
    """available / busy / unavailable / offline for one channel."""
    if choice != Availability.AVAILABLE:
        return Availability(choice).value
    return BUSY if active_sessions >= capacity else Availability.AVAILABLE.value


# ---------------------------------------------------------------- the listing


@dataclass(frozen=True)
class ListingQuery:
    """What a visitor asked for; every field already validated (bad input became a default)."""

    q: str = ""
    specialization: str | None = None
    language: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_rating: Decimal | None = None
    available: bool = False
    sort: str = "recommended"
    page: int = 1

    def params(self, **changes):
        """The query string parameters of this query (with `changes`), defaults left out."""
        values = {
            "q": self.q or None,
            "specialization": self.specialization,
            "language": self.language,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "min_rating": self.min_rating,
            "available": "1" if self.available else None,
            "sort": None if self.sort == "recommended" else self.sort,
            "page": None if self.page == 1 else self.page,
        }
        values.update(changes)
        return {key: str(value) for key, value in values.items() if value not in (None, "")}

    @property
    def is_filtered(self):
        return bool(set(self.params()) - {"sort", "page"})


@dataclass(frozen=True)
class ListedAstrologer:
    user: User
    profile: AstrologerProfile
    status: str  # the chat channel's derived status
    call_status: str
    video_status: str
    avatar_url: str | None = None  # user_profiles.avatar_url
    waiting: int = 0  # requests waiting for this astrologer (the queue a new one would join)


@dataclass(frozen=True)
class Listing:
    items: list
    page: int
    pages: int
    total: int
    query: ListingQuery = field(default_factory=ListingQuery)


def _active_counts():
    return (
        db.select(ConsultationSession.astrologer_id, db.func.count().label("active"))
        .where(ConsultationSession.status == SessionStatus.ACTIVE)
        .group_by(ConsultationSession.astrologer_id)
        .subquery()
    )


def _listed():
    """Approved astrologers whose account is active: the only ones anyone can browse."""
    return sa.and_(
        AstrologerProfile.is_approved.is_(True), User.status == UserStatus.ACTIVE, User.type == UserType.ASTROLOGER
    )


def _has_item(column, value):
    """The JSON list in `column` contains `value` (GIN-indexable containment on PostgreSQL)."""
    if db.engine.dialect.name == "postgresql":
        return sa.type_coerce(column, JSONB).contains([value])
    items = sa.func.json_each(column).table_valued("value").alias()
    return sa.exists(sa.select(1).select_from(items).where(items.c.value == value))


def _like(text):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_astrologers(query=None, per_page=PER_PAGE):
    """One page of listed astrologers matching `query` (a ListingQuery)."""
    query = query or ListingQuery()
    active = _active_counts()
    active_count = db.func.coalesce(active.c.active, 0)
    rate = AstrologerProfile.chat_rate_per_minute
    available_now = sa.and_(
        AstrologerProfile.chat_availability == Availability.AVAILABLE,
        active_count < AstrologerProfile.max_concurrent_sessions,
    )
    conditions = [_listed()]
    if query.q:
        pattern = _like(query.q)
        conditions.append(
            sa.or_(
                User.name.ilike(pattern, escape="\\"),
                sa.cast(AstrologerProfile.specializations, sa.String).ilike(pattern, escape="\\"),
            )
        )
    if query.specialization:
        conditions.append(_has_item(AstrologerProfile.specializations, query.specialization))
    if query.language:
        conditions.append(_has_item(AstrologerProfile.languages, query.language))
    if query.min_price is not None:
        conditions.append(rate >= query.min_price)
    if query.max_price is not None:
        conditions.append(rate <= query.max_price)
    if query.min_rating is not None:
        conditions.append(AstrologerProfile.rating_average >= query.min_rating)
    if query.available:
        conditions.append(available_now)

    base = (
        db.select(User, AstrologerProfile, active_count.label("active"), UserProfile.avatar_url)
        .join(AstrologerProfile, AstrologerProfile.astrologer_id == User.id)
        .outerjoin(UserProfile, UserProfile.user_id == User.id)
        .outerjoin(active, active.c.astrologer_id == User.id)
        .where(*conditions)
    )
    total = db.session.execute(db.select(db.func.count()).select_from(base.subquery())).scalar_one()
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(query.page, 1), pages)
    rows = db.session.execute(
        base.order_by(*_ordering(query.sort, available_now)).limit(per_page).offset((page - 1) * per_page)
    ).all()
    waiting = _waiting_counts([user.id for user, *_ in rows])
    items = [
        ListedAstrologer(user, profile, *channel_statuses(profile, count), avatar_url, waiting.get(user.id, 0))
        for user, profile, count, avatar_url in rows
    ]
    return Listing(items=items, page=page, pages=pages, total=total, query=query)


def _waiting_counts(astrologer_ids):
    """{astrologer id: requests waiting for them} for one page of the listing, in one query."""
    if not astrologer_ids:
        return {}
    return dict(
        db.session.execute(
            db.select(ConsultationSession.astrologer_id, db.func.count())
            .where(
                ConsultationSession.astrologer_id.in_(astrologer_ids),
                ConsultationSession.status == SessionStatus.WAITING,
            )
            .group_by(ConsultationSession.astrologer_id)
        ).all()
    )


def _ordering(sort, available_now):
    profile = AstrologerProfile
    rated = (profile.rating_average.desc(), profile.rating_count.desc())
    ordering = {
        "recommended": (
            sa.case((available_now, 0), (profile.chat_availability == Availability.AVAILABLE, 1), else_=2),
            *rated,
        ),
        "price_asc": (profile.chat_rate_per_minute.asc(),),
        "price_desc": (profile.chat_rate_per_minute.desc(),),
        "rating": rated,
        "experience": (profile.experience_years.desc(),),
    }[sort]
    return (*ordering, User.name, User.id)  # a stable order for paging


# ---------------------------------------------------------------- one astrologer


@dataclass(frozen=True)
class Profile:
    user: User
    profile: AstrologerProfile
    status: str
    call_status: str
    video_status: str
    active_sessions: int
    avatar_url: str | None = None


def listed_astrologer(astrologer_id):
    """The listed astrologer with this users.id, or None (unknown, unapproved, suspended)."""
    row = db.session.execute(
        db.select(User, AstrologerProfile, UserProfile.avatar_url)
        .join(AstrologerProfile, AstrologerProfile.astrologer_id == User.id)
        .outerjoin(UserProfile, UserProfile.user_id == User.id)
        .where(User.id == astrologer_id, _listed())
    ).first()
    if row is None:
        return None
    user, profile, avatar_url = row
    active = active_session_count(user.id)
    return Profile(user, profile, *channel_statuses(profile, active), active, avatar_url)


def similar_available(astrologer_id, limit=3):
    """Other astrologers taking chats now who share a specialization (offered after a timeout or decline)."""
    wanted = set(
        db.session.execute(
            db.select(AstrologerProfile.specializations).filter_by(astrologer_id=astrologer_id)
        ).scalar_one_or_none()
        or ()
    )
    listing = list_astrologers(ListingQuery(available=True), per_page=50)
    picks = [
        item for item in listing.items if item.user.id != astrologer_id and wanted & set(item.profile.specializations)
    ]
    return picks[:limit]


def active_session_count(astrologer_id):
    return db.session.execute(
        db.select(db.func.count(ConsultationSession.id)).where(
            ConsultationSession.astrologer_id == astrologer_id, ConsultationSession.status == SessionStatus.ACTIVE
        )
    ).scalar_one()


def rating_distribution(astrologer_id):
    """{5: n, 4: n, 3: n, 2: n, 1: n}: how many sessions got each rating."""
    rating = ConsultationSession.astrologer_rating
    rows = db.session.execute(
        db.select(rating, db.func.count())
        .where(ConsultationSession.astrologer_id == astrologer_id, rating.is_not(None))
        .group_by(rating)
    ).all()
    counts = {}
    for value, count in rows:
        stars = int(value.to_integral_value(ROUND_HALF_UP))
        counts[stars] = counts.get(stars, 0) + count
    return {stars: counts.get(stars, 0) for stars in (5, 4, 3, 2, 1)}


@dataclass(frozen=True)
class Review:
    author: str
    rating: int
    text: str | None
    rated_at: object


def reviews(astrologer_id, page=1, per_page=5):
    """Latest ratings with reviews first, a paging.Page of Reviews; authors by first name only."""
    query = (
        db.select(
            User.name,
            ConsultationSession.astrologer_rating,
            ConsultationSession.review_text,
            ConsultationSession.rated_at,
        )
        .join(User, User.id == ConsultationSession.user_id)
        .where(ConsultationSession.astrologer_id == astrologer_id, ConsultationSession.astrologer_rating.is_not(None))
        .order_by(ConsultationSession.rated_at.desc(), ConsultationSession.id)
    )
    return paging.page_of(query, page, per_page).map(
        lambda row: Review(row.name.split()[0], int(row.astrologer_rating.to_integral_value(ROUND_HALF_UP)),
                           row.review_text, row.rated_at)
    )  # fmt: skip


# ---------------------------------------------------------------- availability


def availability(astrologer_id):
    """(chat, call, video) derived statuses of one astrologer, whether listed or not."""
    profile = db.session.execute(db.select(AstrologerProfile).filter_by(astrologer_id=astrologer_id)).scalar_one()
    return channel_statuses(profile, active_session_count(astrologer_id))


def channel_statuses(profile, active):
    """(chat, call, video) derived statuses of a profile with `active` sessions running."""
    return tuple(
        derived_status(choice(profile, channel), active, profile.max_concurrent_sessions) for channel in Channel
    )


def choice(profile, channel):
    """What the astrologer chose for `channel`: available, unavailable or offline."""
    return getattr(profile, f"{Channel(channel).value}_availability")


def rate(profile, channel):
    """The astrologer's rate per started minute on `channel`, INR."""
    return getattr(profile, f"{Channel(channel).value}_rate_per_minute")


def across_channels(user, profile, statuses):
    """users.consultation_availability: offline unless listed (approved, account active); else the best
    of the channels' derived statuses (available, then busy, then unavailable, then offline)."""
    if user.status != UserStatus.ACTIVE or not profile.is_approved:
        return ConsultationAvailability.OFFLINE
    for status in (
        ConsultationAvailability.AVAILABLE,
        ConsultationAvailability.BUSY,
        ConsultationAvailability.UNAVAILABLE,
    ):
        if status.value in statuses:
            return status
    return ConsultationAvailability.OFFLINE


def refresh_availability(astrologer_id, before=None, now=None):
    """Write users.consultation_availability from the astrologer's state now, and broadcast
    `availability` when the (chat, call, video) statuses differ from `before` (taken earlier in this
    transaction with `availability()`; None announces in any case), after commit, and send
    `availability_changed` (followers hear of a channel that became available). Returns them."""
    user = db.session.get(User, astrologer_id)
    profile = db.session.execute(db.select(AstrologerProfile).filter_by(astrologer_id=astrologer_id)).scalar_one()
    after = channel_statuses(profile, active_session_count(astrologer_id))
    user.consultation_availability = across_channels(user, profile, after)
    if after != before:
        announce_availability(astrologer_id, after)
        signals.availability_changed.send(astrologer_id, before=before, after=after, now=now)
    return after


@signals.session_started.connect
def _session_started(session, *, profile, now, **_):
    _session_counted(session, profile, now, change=1)


@signals.session_ended.connect
def _session_ended(session, *, profile, now, **_):
    _session_counted(session, profile, now, change=-1)


def _session_counted(session, profile, now, change):
    """A session's start (`change` +1) or end (-1) moved the astrologer's active count: before it, the
    count was the present one less the change."""
    before = channel_statuses(profile, active_session_count(session.astrologer_id) - change)
    refresh_availability(session.astrologer_id, before, now)


CHANNELS = tuple(channel.value for channel in Channel)  # the order of channel_statuses


def announce_availability(astrologer_id, statuses=None):
    """Broadcast an astrologer's derived (chat, call, video) availability on /marketplace after commit."""
    statuses = statuses or availability(astrologer_id)
    notifier.announce(
        "availability",
        {
            "astrologer_id": str(astrologer_id),
            "status": statuses[0],
            "channels": dict(zip(CHANNELS, statuses, strict=True)),
        },
        namespace=MARKETPLACE_NAMESPACE,
    )


def minimum_start_balance(profile, minutes, channel=Channel.CHAT):
    """What a user must have available to request a session: `minutes` at the channel's rate."""
    return rate(profile, channel) * minutes
