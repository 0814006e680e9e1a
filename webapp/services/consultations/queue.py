"""An astrologer's requests: the ones offered (in front of them, the accept timeout running) and
the queue behind them, first in first out, while all their slots are taken. A slot is an active
session or an offered request; when one frees, the head of the queue is offered (`fill_slots`)."""

from dataclasses import dataclass

from ...extensions import db
from ...models import AstrologerProfile, Availability, ConsultationSession, SessionStatus, User
from .. import signals
from ..astrologers import marketplace
from ..notifications import rooms
from . import notices
from .records import announce

DEFAULT_SESSION_SECONDS = 600  # the wait estimate before an astrologer has any history


def _queued(astrologer_id):
    """Waiting requests not yet offered, first in first out."""
    return (
        db.select(ConsultationSession)
        .where(
            ConsultationSession.astrologer_id == astrologer_id,
            ConsultationSession.status == SessionStatus.WAITING,
            ConsultationSession.offered_at.is_(None),
        )
        .order_by(ConsultationSession.requested_at, ConsultationSession.id)
    )


def queue_position(session):
    """0 when offered to the astrologer, 1 for the head of the queue, and so on."""
    if session.status != SessionStatus.WAITING or session.offered_at is not None:
        return 0
    ahead = [s.id for s in db.session.execute(_queued(session.astrologer_id)).scalars()]
    return ahead.index(session.id) + 1 if session.id in ahead else 0


def average_session_seconds(astrologer_id, recent=20):
    """The mean length of the astrologer's last `recent` completed sessions, in whole seconds."""
    rows = db.session.execute(
        db.select(ConsultationSession.started_at, ConsultationSession.ended_at)
        .where(
            ConsultationSession.astrologer_id == astrologer_id,
            ConsultationSession.status == SessionStatus.COMPLETED,
            ConsultationSession.ended_at > ConsultationSession.started_at,
        )
        .order_by(ConsultationSession.ended_at.desc())
        .limit(recent)
    ).all()
    durations = [int((ended - started).total_seconds()) for started, ended in rows]
    return sum(durations) // len(durations) if durations else DEFAULT_SESSION_SECONDS


def estimated_wait_seconds(session, position=None):
    """Queue position x the astrologer's recent average session length, spread over their slots."""
    position = queue_position(session) if position is None else position
    if position == 0:
        return 0
    capacity = db.session.execute(
        db.select(AstrologerProfile.max_concurrent_sessions).filter_by(astrologer_id=session.astrologer_id)
    ).scalar_one()
    return position * average_session_seconds(session.astrologer_id) // capacity


@dataclass(frozen=True)
class Requests:
    offered: list
    queued: list
    active: list


def requests_for(astrologer_id):
    """What the astrologer's dashboard shows: offered requests, the queue, active sessions."""
    waiting = (
        db.session.execute(
            db.select(ConsultationSession)
            .where(
                ConsultationSession.astrologer_id == astrologer_id, ConsultationSession.status == SessionStatus.WAITING
            )
            .order_by(ConsultationSession.requested_at, ConsultationSession.id)
        )
        .scalars()
        .all()
    )
    active = (
        db.session.execute(
            db.select(ConsultationSession)
            .where(
                ConsultationSession.astrologer_id == astrologer_id, ConsultationSession.status == SessionStatus.ACTIVE
            )
            .order_by(ConsultationSession.started_at)
        )
        .scalars()
        .all()
    )
    return Requests(
        offered=[s for s in waiting if s.offered_at is not None],
        queued=[s for s in waiting if s.offered_at is None],
        active=active,
    )


def _slots_taken(astrologer_id):
    return db.session.execute(
        db.select(db.func.count(ConsultationSession.id)).where(
            ConsultationSession.astrologer_id == astrologer_id,
            (ConsultationSession.status == SessionStatus.ACTIVE)
            | ((ConsultationSession.status == SessionStatus.WAITING) & ConsultationSession.offered_at.is_not(None)),
        )
    ).scalar_one()


def fill_slots(profile, now):
    """Offer queued requests, oldest first, while the astrologer has free slots. Call with the profile locked."""
    free = profile.max_concurrent_sessions - _slots_taken(profile.astrologer_id)
    for session in db.session.execute(_queued(profile.astrologer_id)).scalars().all():
        if free <= 0:
            break
        if marketplace.choice(profile, session.channel) != Availability.AVAILABLE:
            continue  # kept in the queue until the astrologer takes this channel again
        session.offered_at = now
        free -= 1
        announce_request(session, position=0)
        if session.requested_at < now:  # it waited in the queue (a new request offered at once is no news)
            notices.queue_offer(session, now)
    db.session.flush()


def announce_request(session, position):
    """session_requested to the astrologer: who asks, for what, and where it stands."""
    user = db.session.get(User, session.user_id)
    announce(
        "session_requested",
        {
            "session_id": str(session.id),
            "user_name": user.name,
            "session_type": session.session_type.value,
            "channel": session.channel.value,
            "queue_position": position,
        },
        rooms.of_user(session.astrologer_id),
    )
    notices.request_incoming(session, position)


def announce_queue(astrologer_id):
    """queue_update to everyone waiting for this astrologer (positions move together)."""
    waiting = (
        db.session.execute(
            db.select(ConsultationSession).where(
                ConsultationSession.astrologer_id == astrologer_id, ConsultationSession.status == SessionStatus.WAITING
            )
        )
        .scalars()
        .all()
    )
    queued = [s.id for s in db.session.execute(_queued(astrologer_id)).scalars()]
    for session in waiting:
        position = queued.index(session.id) + 1 if session.id in queued else 0
        announce(
            "queue_update",
            {
                "session_id": str(session.id),
                "position": position,
                "eta_seconds": estimated_wait_seconds(session, position),
            },
            rooms.of_user(session.user_id),
        )


@signals.session_ended.connect
def _offer_the_freed_slot(session, *, profile, now, **_):
    fill_slots(profile, now)
    announce_queue(session.astrologer_id)
