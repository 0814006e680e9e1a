"""The consultation lifecycle: request, offer, accept, decline, cancel, time out, end, rate.

    waiting --accept--> active --end / auto-end--> completed
    waiting --decline / cancel / accept timeout--> cancelled

The state machine is the TRANSITIONS table; anything else raises
IllegalTransition. A waiting request is either offered (in front of the
astrologer, offered_at set, the accept timeout running) or queued (first in,
first out) while all the astrologer's slots are taken: a slot is an active
session or an offered request. When a slot frees, the head of the queue is
offered.

Requesting holds MIN_START_MINUTES at the rate frozen on the session;
accepting releases the hold and starts billing (billing.start charges
minute 1) in the same transaction; decline, cancel and timeout release it.
users.session_status and the derived availability change in the same
transactions, and every change is announced after commit.

Locking order (with services/wallet.py): the astrologer's profile row, then
session rows, then wallets.

The figures each event changes are written with it: the user's
total_consultations and completed_consultations, the session's cancelled_at,
duration_minutes and session_metadata, the astrologer's performance figures
(services/performance.py). session_metadata holds, by key:

    end   {"reason": end_reason, "by": "user" | "astrologer" | "admin" | "system",
           "balance_left": the user's available balance (insufficient_balance),
           "participants": ["user" | "astrologer", ...] who were gone (participant_disconnected),
           "missed_minute": k, the minute not charged (service_interruption),
           "refunded": the amount given back (astrologer_no_reply)}
    call  {"first_connected_at": when audio first connected, "failures": media failures reported,
           "media": "connected" | "lost" | "never_connected" (written when the call ends)}
"""

import enum
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    OPEN_SESSION_STATUSES,
    AstrologerProfile,
    Availability,
    ConnectionStatus,
    ConsultationSession,
    EndReason,
    ParticipantRole,
    PresenceStatus,
    SessionParticipant,
    SessionStatus,
    SessionType,
    User,
    UserProfile,
    UserStatus,
    UserType,
    utcnow,
)
from . import billing, chat, locks, marketplace, notifier, paging, performance, wallet
from .errors import (
    AccountSuspended,
    AlreadyInSession,
    AstrologerFull,
    AstrologerNotFound,
    AstrologerUnavailable,
    IllegalTransition,
    NotAllowed,
    RatingNotAllowed,
    SessionNotFound,
    ValidationFailed,
)

DEFAULT_SESSION_SECONDS = 600  # the wait estimate before an astrologer has any history
REVIEW_MAX = 1000

#: Who ended a session for each end reason (session_metadata.end.by); anything else: "system".
ENDED_BY = {
    EndReason.USER_ENDED: "user",
    EndReason.CANCELLED: "user",
    EndReason.ASTROLOGER_ENDED: "astrologer",
    EndReason.DECLINED: "astrologer",
    EndReason.ADMIN_ENDED: "admin",
}


class Transition(enum.StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"
    TIMEOUT = "timeout"
    END = "end"


#: (state, transition) -> next state. Nothing else is allowed.
TRANSITIONS = {
    (SessionStatus.WAITING, Transition.ACCEPT): SessionStatus.ACTIVE,
    (SessionStatus.WAITING, Transition.DECLINE): SessionStatus.CANCELLED,
    (SessionStatus.WAITING, Transition.CANCEL): SessionStatus.CANCELLED,
    (SessionStatus.WAITING, Transition.TIMEOUT): SessionStatus.CANCELLED,
    (SessionStatus.ACTIVE, Transition.END): SessionStatus.COMPLETED,
}

_REFUSALS = {
    SessionStatus.WAITING: "This request has not been accepted yet.",
    SessionStatus.ACTIVE: "This consultation has already started.",
    SessionStatus.COMPLETED: "This consultation has already ended.",
    SessionStatus.CANCELLED: "This request was already cancelled.",
}


def next_status(status, transition):
    """The state `transition` leads to from `status`, or IllegalTransition."""
    try:
        return TRANSITIONS[(status, transition)]
    except KeyError:
        raise IllegalTransition(_REFUSALS[status], status=status.value, transition=transition.value) from None


def _apply(session, transition):
    session.status = next_status(session.status, transition)


# ---------------------------------------------------------------- reading


def get_for_participant(session_id, user_id):
    """The session if `user_id` takes part in it; SessionNotFound otherwise (never reveal others')."""
    session = db.session.get(ConsultationSession, session_id)
    if session is None or user_id not in (session.user_id, session.astrologer_id):
        raise SessionNotFound()
    return session


def open_session_of(user_id):
    return db.session.execute(
        db.select(ConsultationSession).where(
            ConsultationSession.user_id == user_id, ConsultationSession.status.in_(OPEN_SESSION_STATUSES)
        )
    ).scalar_one_or_none()


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
    capacity = _profile(session.astrologer_id).max_concurrent_sessions
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


@dataclass(frozen=True)
class HistoryPage:
    sessions: list
    page: int
    has_more: bool


def history(user_id, *, as_astrologer=False, page=1, per_page=10):
    """A person's sessions, newest first."""
    page = paging.clamp_page(page)
    column = ConsultationSession.astrologer_id if as_astrologer else ConsultationSession.user_id
    rows = (
        db.session.execute(
            db.select(ConsultationSession)
            .where(column == user_id)
            .order_by(ConsultationSession.requested_at.desc(), ConsultationSession.id)
            .limit(per_page + 1)
            .offset(paging.offset(page, per_page))
        )
        .scalars()
        .all()
    )
    return HistoryPage(rows[:per_page], page, len(rows) > per_page)


# ---------------------------------------------------------------- locking and bookkeeping


def _profile(astrologer_id):
    return db.session.execute(db.select(AstrologerProfile).filter_by(astrologer_id=astrologer_id)).scalar_one_or_none()


def _locked_for(session_id):
    """(astrologer profile, session), both locked in the one order: profile first."""
    profile, session = locks.session_and_profile(session_id)
    if session is None:
        raise SessionNotFound()
    return profile, session


def _refresh_presence(*user_ids):
    """users.session_status from the sessions themselves, so it can never stick."""
    for user_id in user_ids:
        statuses = set(
            db.session.execute(
                db.select(ConsultationSession.status).where(
                    (ConsultationSession.user_id == user_id) | (ConsultationSession.astrologer_id == user_id),
                    ConsultationSession.status.in_(OPEN_SESSION_STATUSES),
                )
            ).scalars()
        )
        user = db.session.get(User, user_id)
        if SessionStatus.ACTIVE in statuses:
            user.session_status = PresenceStatus.IN_SESSION
        elif SessionStatus.WAITING in statuses and user.type == UserType.USER:
            user.session_status = PresenceStatus.WAITING
        else:
            user.session_status = PresenceStatus.IDLE


def _announce(name, payload, *rooms):
    for room in rooms:
        notifier.announce(db.session(), name, payload, room=room)


def _user_room(user_id):
    return f"user:{user_id}"


def _session_room(session_id):
    return f"session:{session_id}"


def _slots_taken(astrologer_id):
    return db.session.execute(
        db.select(db.func.count(ConsultationSession.id)).where(
            ConsultationSession.astrologer_id == astrologer_id,
            (ConsultationSession.status == SessionStatus.ACTIVE)
            | ((ConsultationSession.status == SessionStatus.WAITING) & ConsultationSession.offered_at.is_not(None)),
        )
    ).scalar_one()


def _fill_slots(profile, now):
    """Offer queued requests, oldest first, while the astrologer has free slots. Call with the profile locked."""
    free = profile.max_concurrent_sessions - _slots_taken(profile.astrologer_id)
    for session in db.session.execute(_queued(profile.astrologer_id)).scalars().all():
        if free <= 0:
            break
        if getattr(profile, f"{session.session_type.value}_availability") != Availability.AVAILABLE:
            continue  # kept in the queue until the astrologer takes this channel again
        session.offered_at = now
        free -= 1
        _announce_request(session, position=0)
    db.session.flush()


def _announce_request(session, position):
    user = db.session.get(User, session.user_id)
    _announce(
        "session_requested",
        {
            "session_id": str(session.id),
            "user_name": user.name,
            "session_type": session.session_type.value,
            "queue_position": position,
        },
        _user_room(session.astrologer_id),
    )


def _announce_queue(astrologer_id):
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
        _announce(
            "queue_update",
            {
                "session_id": str(session.id),
                "position": position,
                "eta_seconds": estimated_wait_seconds(session, position),
            },
            _user_room(session.user_id),
        )


def note(session, key, **facts):
    """Add `facts` under `key` of the session's session_metadata (assigned anew: JSON columns see
    assignments, not mutations)."""
    metadata = dict(session.session_metadata or {})
    metadata[key] = {**metadata.get(key, {}), **facts}
    session.session_metadata = metadata


def _count_for_user(user_id, column):
    """users' profile counter `column` + 1, in SQL (no read-modify-write)."""
    db.session.execute(
        db.update(UserProfile)
        .where(UserProfile.user_id == user_id)
        .values({column: getattr(UserProfile, column) + 1})
        .execution_options(synchronize_session=False)
    )


def _leave(session, now):
    """Every participant leaves with the session's end."""
    for participant in session.participants:
        participant.left_at = now
        participant.connection_status = ConnectionStatus.DISCONNECTED


def _hold_key(session_id):
    return f"session:{session_id}:hold"


def _release_hold(session, now):
    held = wallet.find_by_key(_hold_key(session.id))
    if held is not None:
        wallet.release(held, now=now)


# ---------------------------------------------------------------- use cases


def request(user_id, astrologer_id, session_type=SessionType.CHAT, now=None):
    """A user asks an astrologer for a session: it is held, then offered at once or queued."""
    now = now or utcnow()
    config = current_app.config
    try:
        session_type = SessionType(session_type)
    except ValueError:
        raise ValidationFailed("session_type", "Choose chat or call.") from None
    user = db.session.get(User, user_id)
    if user is None or user.status != UserStatus.ACTIVE:
        raise AccountSuspended()
    if user.type != UserType.USER:
        raise NotAllowed("Consultations are started from a user account.")
    profile = locks.astrologer_profile(astrologer_id)
    astrologer = db.session.get(User, astrologer_id) if profile else None
    if profile is None or not profile.is_approved or astrologer.status != UserStatus.ACTIVE:
        raise AstrologerNotFound()
    if getattr(profile, f"{session_type.value}_availability") != Availability.AVAILABLE:
        raise AstrologerUnavailable(f"{astrologer.name} is not taking {session_type.value} requests right now.")
    existing = open_session_of(user_id)
    if existing is not None:
        raise AlreadyInSession(session_id=str(existing.id))
    rate = profile.chat_rate_per_minute if session_type == SessionType.CHAT else profile.call_rate_per_minute

    session = ConsultationSession(
        user_id=user_id,
        astrologer_id=astrologer_id,
        session_type=session_type,
        status=SessionStatus.WAITING,
        rate_per_minute=rate,
        requested_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(session)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request of this user won the race; the partial unique index said no.
        # The caller rolls the transaction back, as after any domain error (and before it
        # reads anything more: the failed insert has broken the transaction).
        raise AlreadyInSession() from None
    wallet.hold(
        wallet.wallet_of(user_id).id,
        rate * config["MIN_START_MINUTES"],
        idempotency_key=_hold_key(session.id),
        session_id=session.id,
        now=now,
        description=f"Held for a {session_type.value} request ({config['MIN_START_MINUTES']} minutes)",
    )
    db.session.add_all(
        [
            SessionParticipant(session_id=session.id, user_id=user_id, participant_role=ParticipantRole.USER),
            SessionParticipant(
                session_id=session.id, user_id=astrologer_id, participant_role=ParticipantRole.ASTROLOGER
            ),
        ]
    )
    _count_for_user(user_id, "total_consultations")
    db.session.flush()
    _fill_slots(profile, now)
    if session.offered_at is None:
        _announce_request(session, position=queue_position(session))
    _refresh_presence(user_id)
    _announce_queue(astrologer_id)
    return session


def accept(session_id, astrologer_id, now=None):
    """The astrologer accepts an offered request: the hold is released and billing starts (minute 1)."""
    now = now or utcnow()
    profile, session = _locked_for(session_id)
    if session.astrologer_id != astrologer_id:
        raise SessionNotFound()
    next_status(session.status, Transition.ACCEPT)  # refuse a cancelled or already accepted request first
    if session.offered_at is None:
        raise IllegalTransition("This request is still in the queue; accept the ones offered to you first.")
    active = marketplace.active_session_count(astrologer_id)
    if active >= profile.max_concurrent_sessions:
        raise AstrologerFull()
    before = marketplace.availability(astrologer_id)
    _apply(session, Transition.ACCEPT)
    session.started_at = session.updated_at = now
    for participant in session.participants:
        participant.joined_at = now
    performance.request_answered(profile, accepted=True, now=now)
    _release_hold(session, now)
    billing.start(session, now)  # charges minute 1 at acceptance
    details = chat.birth_details_text(
        db.session.execute(db.select(UserProfile).filter_by(user_id=session.user_id)).scalar_one()
    )
    if details:
        chat.post_system_message(session, details, now, kind="birth_details")
    chat.post_system_message(
        session,
        f"Session started at {session.rate_per_minute} {current_app.config['CURRENCY']} per minute.",
        now,
        kind="started",
    )
    _refresh_presence(session.user_id, astrologer_id)
    marketplace.refresh_availability(astrologer_id, before)
    _announce(
        "session_started", {"session_id": str(session.id)}, _user_room(session.user_id), _user_room(astrologer_id)
    )
    _announce_queue(astrologer_id)
    return session


def _close_request(profile, session, transition, reason, now):
    """decline / cancel / timeout: the request ends, its hold is released, the next one is offered."""
    _apply(session, transition)
    session.ended_at = session.updated_at = session.cancelled_at = now
    session.end_reason = reason
    note(session, "end", reason=reason.value, by=ENDED_BY.get(reason, "system"))
    _release_hold(session, now)
    _leave(session, now)
    if transition in (Transition.DECLINE, Transition.TIMEOUT):  # an answer the astrologer gave (or did not)
        performance.request_answered(profile, accepted=False, now=now)
        if transition == Transition.DECLINE:
            performance.touch(profile, now)
    db.session.flush()
    _refresh_presence(session.user_id)
    payload = {"session_id": str(session.id), "reason": reason.value, "billed_minutes": 0, "total_cost": "0.00"}
    _announce("session_ended", payload, _user_room(session.user_id), _session_room(session.id))
    _announce(
        "request_withdrawn", {"session_id": str(session.id), "reason": reason.value}, _user_room(session.astrologer_id)
    )
    _fill_slots(profile, now)
    _announce_queue(session.astrologer_id)
    return session


def decline(session_id, astrologer_id, now=None):
    profile, session = _locked_for(session_id)
    if session.astrologer_id != astrologer_id:
        raise SessionNotFound()
    return _close_request(profile, session, Transition.DECLINE, EndReason.DECLINED, now or utcnow())


def cancel(session_id, user_id, now=None):
    profile, session = _locked_for(session_id)
    if session.user_id != user_id:
        raise SessionNotFound()
    return _close_request(profile, session, Transition.CANCEL, EndReason.CANCELLED, now or utcnow())


def withdraw(session_id, reason, now=None):
    """The platform closes a waiting request (an admin suspended the user, ...): released like a cancel."""
    profile, session = _locked_for(session_id)
    return _close_request(profile, session, Transition.CANCEL, reason, now or utcnow())


def close_open_sessions(user, reason, now=None):
    """End every open session of `user` (as the user or as the astrologer) for `reason`: active ones end,
    waiting ones are withdrawn with their holds released. For account suspension and deletion."""
    now = now or utcnow()
    column = ConsultationSession.astrologer_id if user.type == UserType.ASTROLOGER else ConsultationSession.user_id
    open_sessions = db.session.execute(
        db.select(ConsultationSession.id, ConsultationSession.status).where(
            column == user.id, ConsultationSession.status.in_(OPEN_SESSION_STATUSES)
        )
    ).all()
    for session_id, status in open_sessions:
        if status == SessionStatus.ACTIVE:
            end(session_id, reason=reason, now=now)
        else:
            withdraw(session_id, reason, now=now)


def expire_requests(now=None):
    """Cancel every offered request unanswered for ACCEPT_TIMEOUT_SECONDS (run by the periodic loop)."""
    now = now or utcnow()
    deadline = now - timedelta(seconds=current_app.config["ACCEPT_TIMEOUT_SECONDS"])
    expired = (
        db.session.execute(
            db.select(ConsultationSession.id).where(
                ConsultationSession.status == SessionStatus.WAITING, ConsultationSession.offered_at <= deadline
            )
        )
        .scalars()
        .all()
    )
    closed = []
    for session_id in expired:
        profile, session = _locked_for(session_id)
        if (
            session.status == SessionStatus.WAITING
            and session.offered_at is not None
            and session.offered_at <= deadline
        ):
            closed.append(_close_request(profile, session, Transition.TIMEOUT, EndReason.ACCEPT_TIMEOUT, now))
    return closed


def end(session_id, *, by_user_id=None, reason=None, now=None):
    """End an active session: by a participant (user_ended / astrologer_ended) or by the system with `reason`."""
    now = now or utcnow()
    profile, session = _locked_for(session_id)
    if by_user_id is not None:
        if by_user_id not in (session.user_id, session.astrologer_id):
            raise SessionNotFound()
        reason = EndReason.USER_ENDED if by_user_id == session.user_id else EndReason.ASTROLOGER_ENDED
    before = marketplace.availability(session.astrologer_id)
    _apply(session, Transition.END)
    session.ended_at = session.updated_at = now
    session.end_reason = reason
    session.next_charge_at = None
    session.duration_minutes = session.billed_minutes + session.free_minutes
    note(session, "end", **_end_facts(session, reason, now))
    if session.session_type == SessionType.CALL:
        note(session, "call", media=_media_outcome(session, reason))
    _leave(session, now)
    profile.total_sessions += 1
    profile.total_minutes += session.billed_minutes
    performance.session_completed(profile, session, now)
    if reason == EndReason.ASTROLOGER_ENDED:
        performance.touch(profile, now)
    _count_for_user(session.user_id, "completed_consultations")
    chat.post_system_message(session, _ended_text(reason), now, kind="ended")
    db.session.flush()
    _refresh_presence(session.user_id, session.astrologer_id)
    marketplace.refresh_availability(session.astrologer_id, before)
    payload = {
        "session_id": str(session.id),
        "reason": reason.value,
        "billed_minutes": session.billed_minutes,
        "total_cost": str(session.total_cost),
    }
    _announce(
        "session_ended",
        payload,
        _user_room(session.user_id),
        _user_room(session.astrologer_id),
        _session_room(session.id),
    )
    _fill_slots(profile, now)
    _announce_queue(session.astrologer_id)
    return session


_ENDED = {
    EndReason.USER_ENDED: "The user ended the session.",
    EndReason.ASTROLOGER_ENDED: "The astrologer ended the session.",
    EndReason.INSUFFICIENT_BALANCE: "The session ended: the balance does not cover another minute.",
    EndReason.ASTROLOGER_NO_REPLY: "The session ended: the astrologer did not reply. Every charge is refunded.",
    EndReason.SERVICE_INTERRUPTION: "The session ended after a service interruption. Only minutes before it were billed.",
    EndReason.PARTICIPANT_DISCONNECTED: "The session ended: a participant was disconnected for too long.",
}


def _ended_text(reason):
    return _ENDED.get(reason, "The session ended.")


def _end_facts(session, reason, now):
    """session_metadata.end of an active session ending now for `reason`."""
    facts = {"reason": reason.value, "by": ENDED_BY.get(reason, "system")}
    if reason == EndReason.INSUFFICIENT_BALANCE:
        facts["balance_left"] = str(wallet.wallet_of(session.user_id).available_balance)
    elif reason == EndReason.SERVICE_INTERRUPTION:
        facts["missed_minute"] = session.billed_minutes + session.free_minutes + 1
    elif reason == EndReason.PARTICIPANT_DISCONNECTED:
        deadline = now - timedelta(seconds=current_app.config["RECONNECT_GRACE_SECONDS"])
        facts["participants"] = sorted(
            p.participant_role.value
            for p in session.participants
            if (p.last_seen_at or session.started_at) <= deadline or (p.media_lost_at and p.media_lost_at <= deadline)
        )
    return facts


def _media_outcome(session, reason):
    """How a call's audio went: never connected, lost (the call ended on a media failure), or connected."""
    call = (session.session_metadata or {}).get("call", {})
    if not call.get("first_connected_at"):
        return "never_connected"
    lost = any(p.media_lost_at is not None for p in session.participants)
    return "lost" if reason == EndReason.PARTICIPANT_DISCONNECTED and lost else "connected"


def rate(session_id, user_id, rating, review=None, now=None):
    """The user rates a completed session once (1-5, optional review) if at least one minute was paid."""
    now = now or utcnow()
    session = get_for_participant(session_id, user_id)
    if session.user_id != user_id:
        raise NotAllowed("Only the user who took the consultation can rate it.")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ValidationFailed("rating", "Choose 1 to 5 stars.")
    review = (review or "").strip() or None
    if review and len(review) > REVIEW_MAX:
        raise ValidationFailed("review", f"Use at most {REVIEW_MAX} characters.")
    profile = locks.astrologer_profile(session.astrologer_id)
    session = locks.session(session_id)
    if session.status != SessionStatus.COMPLETED:
        raise RatingNotAllowed("Only a finished consultation can be rated.")
    if session.billed_minutes < 1 or session.total_cost <= 0:
        raise RatingNotAllowed("Only consultations with at least one paid minute can be rated.")
    if session.astrologer_rating is not None:
        raise RatingNotAllowed("You have already rated this consultation.")
    session.astrologer_rating, session.review_text, session.rated_at = Decimal(rating), review, now
    profile.rating_count, profile.rating_average = _with_rating(profile.rating_count, profile.rating_average, rating)
    db.session.flush()
    performance.refresh_month(profile, now)
    return session


def _with_rating(count, average, rating):
    """(count, mean) after one more rating, the mean rounded half-up to 0.01."""
    total = average * count + rating
    return count + 1, (total / (count + 1)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rate_user(session_id, astrologer_id, rating, now=None):
    """The astrologer rates the user of a completed session once (1-5), privately: it counts in the
    user's profile figures, which only admins see."""
    now = now or utcnow()
    session = get_for_participant(session_id, astrologer_id)
    if session.astrologer_id != astrologer_id:
        raise NotAllowed("Only the astrologer of a consultation rates its user.")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ValidationFailed("rating", "Choose 1 to 5 stars.")
    profile, session = _locked_for(session_id)
    if session.status != SessionStatus.COMPLETED:
        raise RatingNotAllowed("Only a finished consultation can be rated.")
    if session.user_rating is not None:
        raise RatingNotAllowed("You have already rated this user for this consultation.")
    session.user_rating = Decimal(rating)
    session.updated_at = now
    user_profile = db.session.execute(
        db.select(UserProfile).filter_by(user_id=session.user_id).with_for_update()
    ).scalar_one()
    user_profile.total_ratings, user_profile.average_rating = _with_rating(
        user_profile.total_ratings, user_profile.average_rating, rating
    )
    user_profile.updated_at = now
    performance.touch(profile, now)
    db.session.flush()
    return session


def similar_available(astrologer_id, limit=3):
    """Other astrologers taking chats now who share a specialization (offered after a timeout or decline)."""
    profile = _profile(astrologer_id)
    listing = marketplace.list_astrologers(marketplace.ListingQuery(available=True), per_page=50)
    wanted = set(profile.specializations) if profile else set()
    picks = [
        item for item in listing.items if item.user.id != astrologer_id and wanted & set(item.profile.specializations)
    ]
    return picks[:limit]
