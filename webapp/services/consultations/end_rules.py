"""The ends nobody clicks, applied by the periodic pass (services/periodic.py):

- no astrologer message within NO_REPLY_SECONDS of acceptance:
  astrologer_no_reply;
- a participant with no sign of life for RECONNECT_GRACE_SECONDS, or in a
  call whose media connection stayed failed that long: participant_disconnected,
  or astrologer_no_reply when the astrologer had not answered yet;
- a minute billing could not charge (services/billing/due.py hands it here):
  insufficient_balance at its boundary, or service_interruption when it was
  overdue beyond DOWNTIME_GRACE_SECONDS (the server or the loop was down),
  closing the session at the last paid minute.

Whatever the rule, a session the astrologer never answered in is refunded in full
(lifecycle.end).

Entry points: each ending is its own transaction, committed here, after any
charge transaction, so the pass never holds a session lock while it waits for
an astrologer's profile (the lifecycle's order is profile, then session).
"""

from datetime import timedelta

from flask import current_app

from ...extensions import db
from ...models import ConsultationSession, EndReason, SessionParticipant, SessionStatus
from ..errors import IllegalTransition
from . import lifecycle


def sweep(now):
    """End every active session a rule that does not wait for a minute boundary says is over; how many ended."""
    return sum(end_for(session_id, reason, now) for session_id, reason in _due_to_end(now))


def _due_to_end(now):
    config = current_app.config
    no_reply_deadline = now - timedelta(seconds=config["NO_REPLY_SECONDS"])
    silent = (
        db.session.execute(
            db.select(ConsultationSession.id).where(
                ConsultationSession.status == SessionStatus.ACTIVE,
                ConsultationSession.astrologer_replied_at.is_(None),
                ConsultationSession.started_at <= no_reply_deadline,
            )
        )
        .scalars()
        .all()
    )
    gone_deadline = now - timedelta(seconds=config["RECONNECT_GRACE_SECONDS"])
    # A participant who never joined counts from the acceptance; one who did, from the last sign of life.
    last_sign = db.func.coalesce(SessionParticipant.last_seen_at, ConsultationSession.started_at)
    # A call whose media stayed failed through the grace ends the same way (calls.media_state).
    gone = db.session.execute(
        db.select(ConsultationSession.id, ConsultationSession.astrologer_replied_at.is_not(None))
        .join(SessionParticipant, SessionParticipant.session_id == ConsultationSession.id)
        .where(
            ConsultationSession.status == SessionStatus.ACTIVE,
            db.or_(last_sign <= gone_deadline, SessionParticipant.media_lost_at <= gone_deadline),
        )
        .distinct()
    ).all()
    db.session.rollback()
    for session_id in silent:
        yield session_id, EndReason.ASTROLOGER_NO_REPLY
    for session_id, replied in gone:
        if session_id not in silent:
            # Gone before the astrologer ever answered (an astrologer who accepted and never came): the
            # astrologer did not reply, whoever's grace ran out first.
            yield session_id, EndReason.PARTICIPANT_DISCONNECTED if replied else EndReason.ASTROLOGER_NO_REPLY


def end_for(session_id, reason, at):
    """End a session for `reason` in its own transaction; 1 if it ended, 0 if someone else already did."""
    try:
        lifecycle.end(session_id, reason=reason, now=at)  # refunds a session the astrologer never answered in
        db.session.commit()
        return 1
    except IllegalTransition:
        db.session.rollback()  # ended meanwhile (by a participant or another runner)
        return 0
    except Exception:
        db.session.rollback()
        current_app.logger.exception("ending session %s (%s) failed; the next pass retries", session_id, reason)
        return 0
