"""The consultation lifecycle: request, offer, accept, decline, cancel, time out, end.

    waiting --accept--> active --end / auto-end--> completed
    waiting --decline / cancel / accept timeout--> cancelled

The state machine is the TRANSITIONS table; anything else raises
IllegalTransition. A waiting request is either offered or queued
(queue.py). Requesting holds MIN_START_MINUTES at the rate frozen on the
session; accepting releases the hold and starts billing (billing.charges.start
charges minute 1) in the same transaction; decline, cancel and timeout
release it. users.session_status and the derived availability change in the
same transactions (records.py), and every change is announced after commit.

Locks in the one order (services/locks.py): the astrologer's profile, then
the session, then wallets.
"""

import enum
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import (
    OPEN_SESSION_STATUSES,
    Availability,
    Channel,
    ConsultationSession,
    EndReason,
    ParticipantRole,
    SessionParticipant,
    SessionStatus,
    SessionType,
    User,
    UserProfile,
    UserStatus,
    UserType,
    utcnow,
)
from ...models.enums import label_of
from .. import locks, signals, wallet
from ..astrologers import marketplace, performance
from ..billing import charges, session_bar
from ..errors import (
    AccountSuspended,
    AlreadyInSession,
    AstrologerFull,
    AstrologerNotFound,
    AstrologerUnavailable,
    IllegalTransition,
    NotAllowed,
    SessionNotFound,
    ValidationFailed,
)
from ..messaging import chat, system_lines
from ..messaging.system_lines import N_
from ..money import holds, refunds
from ..notifications import rooms
from . import caps, notices, queue, records
from .lookup import open_session_of


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
    SessionStatus.WAITING: _l("This request has not been accepted yet."),
    SessionStatus.ACTIVE: _l("This consultation has already started."),
    SessionStatus.COMPLETED: _l("This consultation has already ended."),
    SessionStatus.CANCELLED: _l("This request was already cancelled."),
}


def next_status(status, transition):
    """The state `transition` leads to from `status`, or IllegalTransition."""
    try:
        return TRANSITIONS[(status, transition)]
    except KeyError:
        raise IllegalTransition(_REFUSALS[status], status=status.value, transition=transition.value) from None


def _apply(session, transition):
    session.status = next_status(session.status, transition)


def _locked_for(session_id):
    """(astrologer profile, session), both locked in the one order: profile first."""
    profile, session = locks.session_and_profile(session_id)
    if session is None:
        raise SessionNotFound()
    return profile, session


def _hold_key(session_id):
    return f"session:{session_id}:hold"


def _release_hold(session, now):
    held = wallet.find_by_key(_hold_key(session.id))
    if held is not None:
        holds.release(held, now=now)


def request(user_id, astrologer_id, session_type=Channel.CHAT, now=None, *, cap=("none", None)):
    """A user asks an astrologer for a session over a channel (`session_type`: chat, call or video): it
    is held, then offered at once or queued. `cap`: (kind, value) of the user's spending cap
    (caps.minutes_for); the hold is the cap's cost when that is less than MIN_START_MINUTES' worth."""
    now = now or utcnow()
    try:
        channel = Channel(session_type)
    except ValueError:
        raise ValidationFailed("session_type", gettext("Choose chat, call or video.")) from None
    user = db.session.get(User, user_id)
    if user is None or user.status != UserStatus.ACTIVE:
        raise AccountSuspended()
    if user.type != UserType.USER:
        raise NotAllowed(gettext("Consultations are started from a user account."))
    profile = locks.astrologer_profile(astrologer_id)
    astrologer = db.session.get(User, astrologer_id) if profile else None
    if profile is None or not profile.is_approved or astrologer.status != UserStatus.ACTIVE:
        raise AstrologerNotFound()
    if marketplace.choice(profile, channel) != Availability.AVAILABLE:
        raise AstrologerUnavailable(
            gettext(
                "%(name)s is not taking %(channel)s requests right now.",
                name=astrologer.name,
                channel=label_of(channel),
            )
        )
    existing = open_session_of(user_id)
    if existing is not None:
        raise AlreadyInSession(session_id=str(existing.id))
    rate = marketplace.rate(profile, channel)
    quote = caps.quote(rate, caps.minutes_for(*cap, rate))

    session = ConsultationSession(
        user_id=user_id,
        astrologer_id=astrologer_id,
        session_type=channel.session_type,
        session_metadata={"call": {"video": True}} if channel == Channel.VIDEO else None,
        status=SessionStatus.WAITING,
        rate_per_minute=rate,
        cap_minutes=quote.minutes,
        requested_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(session)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request of this user won the race; the partial unique index said no. The
        # boundary rolls the transaction back (the failed insert has broken it) before it reads
        # anything more.
        raise AlreadyInSession() from None
    holds.hold(
        wallet.wallet_of(user_id).id,
        quote.hold,
        idempotency_key=_hold_key(session.id),
        session_id=session.id,
        now=now,
        description=f"Held for a {channel.label.lower()} request ({quote.held_minutes} minutes)",
    )
    db.session.add_all(
        [
            SessionParticipant(session_id=session.id, user_id=user_id, participant_role=ParticipantRole.USER),
            SessionParticipant(
                session_id=session.id, user_id=astrologer_id, participant_role=ParticipantRole.ASTROLOGER
            ),
        ]
    )
    records.count_for_user(user_id, "total_consultations")
    db.session.flush()
    queue.fill_slots(profile, now)
    if session.offered_at is None:
        queue.announce_request(session, position=queue.queue_position(session))
    records.refresh_presence(user_id)
    queue.announce_queue(astrologer_id)
    return session


def accept(session_id, astrologer_id, now=None):
    """The astrologer accepts an offered request: the hold is released and billing starts (minute 1)."""
    now = now or utcnow()
    profile, session = _locked_for(session_id)
    if session.astrologer_id != astrologer_id:
        raise SessionNotFound()
    next_status(session.status, Transition.ACCEPT)  # refuse a cancelled or already accepted request first
    if session.offered_at is None:
        raise IllegalTransition(gettext("This request is still in the queue; accept the ones offered to you first."))
    active = marketplace.active_session_count(astrologer_id)
    if active >= profile.max_concurrent_sessions:
        raise AstrologerFull()
    _apply(session, Transition.ACCEPT)
    session.started_at = session.updated_at = now
    for participant in session.participants:
        participant.joined_at = now
    performance.request_answered(profile, accepted=True, now=now)
    _release_hold(session, now)
    charges.start(session, now)  # charges minute 1 at acceptance
    details = system_lines.birth_details_text(
        db.session.execute(db.select(UserProfile).filter_by(user_id=session.user_id)).scalar_one()
    )
    if details:
        chat.post_system_message(session, details, now, kind="birth_details")
    chat.post_system_message(
        session,
        system_lines.line(N_("Session started at %(rate)s per minute."), rate=session.rate_per_minute),
        now,
        kind="started",
    )
    records.refresh_presence(session.user_id, astrologer_id)
    records.announce(
        "session_started", {"session_id": str(session.id)}, rooms.of_user(session.user_id), rooms.of_user(astrologer_id)
    )
    queue.announce_queue(astrologer_id)
    notices.request_answered(session, "accepted", now)
    signals.session_started.send(session, profile=profile, now=now)  # the marketplace's availability
    return session


def _close_request(profile, session, transition, reason, now):
    """decline / cancel / timeout: the request ends, its hold is released, the next one is offered."""
    _apply(session, transition)
    session.ended_at = session.updated_at = session.cancelled_at = now
    session.end_reason = reason
    records.note(session, "end", reason=reason.value, by=records.ENDED_BY.get(reason, "system"))
    _release_hold(session, now)
    records.leave(session, now)
    if transition in (Transition.DECLINE, Transition.TIMEOUT):  # an answer the astrologer gave (or did not)
        performance.request_answered(profile, accepted=False, now=now)
        if transition == Transition.DECLINE:
            performance.touch(profile, now)
        notices.request_answered(session, "declined" if transition == Transition.DECLINE else "timed_out", now)
    db.session.flush()
    records.refresh_presence(session.user_id)
    payload = {"session_id": str(session.id), "reason": reason.value, "billed_minutes": 0, "total_cost": "0.00"}
    records.announce("session_ended", payload, rooms.of_user(session.user_id), rooms.of_session(session.id))
    records.announce(
        "request_withdrawn",
        {"session_id": str(session.id), "reason": reason.value},
        rooms.of_user(session.astrologer_id),
    )
    queue.fill_slots(profile, now)
    queue.announce_queue(session.astrologer_id)
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
    """Cancel every offered request unanswered for ACCEPT_TIMEOUT_SECONDS (run by the periodic pass)."""
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


def _refund_if_unanswered(session, now):
    """A session the astrologer never answered in (no message, no connected call from their side) is
    refunded in full, whichever rule or person ends it: the amount given back, or None."""
    if session.astrologer_replied_at is not None or session.total_cost <= 0:
        return None
    given = refunds.refund(
        session.id, number=refunds.next_refund_number(session.id), reason="The astrologer did not reply", now=now
    )
    records.note(session, "end", refunded=str(given.refund.amount))
    return given.refund.amount


def end(session_id, *, by_user_id=None, reason=None, now=None):
    """End an active session: by a participant (user_ended / astrologer_ended) or by the system with
    `reason`. Every charge is refunded when the astrologer never replied (`_refund_if_unanswered`)."""
    now = now or utcnow()
    profile, session = _locked_for(session_id)
    if by_user_id is not None:
        if by_user_id not in (session.user_id, session.astrologer_id):
            raise SessionNotFound()
        reason = EndReason.USER_ENDED if by_user_id == session.user_id else EndReason.ASTROLOGER_ENDED
    _apply(session, Transition.END)
    session.ended_at = session.updated_at = now
    session.end_reason = reason
    session.next_charge_at = None
    session.duration_minutes = session.billed_minutes + session.free_minutes
    records.note(session, "end", **records.end_facts(session, reason, now))
    refunded = _refund_if_unanswered(session, now)
    if session.session_type == SessionType.CALL:
        records.note(session, "call", media=records.media_outcome(session, reason))
    records.leave(session, now)
    profile.total_sessions += 1
    profile.total_minutes += session.billed_minutes
    records.count_for_user(session.user_id, "completed_consultations")
    chat.post_system_message(session, records.ended_text(reason, refunded), now, kind="ended")
    db.session.flush()
    records.refresh_presence(session.user_id, session.astrologer_id)
    payload = {
        "session_id": str(session.id),
        "reason": reason.value,
        "billed_minutes": session.billed_minutes,
        "total_cost": str(session.total_cost),
    }
    records.announce(
        "session_ended",
        payload,
        rooms.of_user(session.user_id),
        rooms.of_user(session.astrologer_id),
        rooms.of_session(session.id),
    )
    if refunded:
        session_bar.announce_tick(session, now)  # the balance the refund gave back
    # What reacts to an end subscribes (services/signals.py): the queue offers the freed slot, the
    # marketplace's availability, the astrologer's figures, the safety review, the e-mailed receipt.
    signals.session_ended.send(session, profile=profile, reason=reason, now=now)
    return session
