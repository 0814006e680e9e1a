"""The marketplace view of astrologers: who is listed, and their derived availability.

Availability shown to users is derived, never stored: offline / unavailable
are the astrologer's choice for a channel; busy is computed from active
sessions against max_concurrent_sessions, so it cannot get stuck.
"""

from dataclasses import dataclass

from ..extensions import db
from ..models import (
    AstrologerProfile,
    Availability,
    ConsultationSession,
    SessionStatus,
    User,
    UserStatus,
)

PER_PAGE = 24
BUSY = "busy"


def derived_status(choice, active_sessions, capacity):
    """available / busy / unavailable / offline for one channel."""
    if choice != Availability.AVAILABLE:
        return choice.value
    return BUSY if active_sessions >= capacity else Availability.AVAILABLE.value


@dataclass(frozen=True)
class ListedAstrologer:
    user: User
    profile: AstrologerProfile
    status: str


@dataclass(frozen=True)
class Listing:
    items: list
    page: int
    pages: int
    total: int


def list_astrologers(page=1, per_page=PER_PAGE):
    """Approved, active astrologers, best rated first, one page of them."""
    active = (
        db.select(ConsultationSession.astrologer_id, db.func.count().label("active"))
        .where(ConsultationSession.status == SessionStatus.ACTIVE)
        .group_by(ConsultationSession.astrologer_id)
        .subquery()
    )
    query = (
        db.select(User, AstrologerProfile, db.func.coalesce(active.c.active, 0))
        .join(AstrologerProfile, AstrologerProfile.user_id == User.id)
        .outerjoin(active, active.c.astrologer_id == User.id)
        .where(AstrologerProfile.is_approved.is_(True), User.status == UserStatus.ACTIVE)
    )
    total = db.session.execute(db.select(db.func.count()).select_from(query.subquery())).scalar_one()
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(page, pages)
    rows = db.session.execute(
        query.order_by(AstrologerProfile.rating_average.desc(), AstrologerProfile.rating_count.desc(), User.name)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        ListedAstrologer(
            user, profile, derived_status(profile.chat_availability, count, profile.max_concurrent_sessions)
        )
        for user, profile, count in rows
    ]
    return Listing(items=items, page=page, pages=pages, total=total)
