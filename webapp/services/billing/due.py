"""The periodic pass's charging: every active session whose next minute is due by `now`.

On PostgreSQL the set-based batch (_batch.py) takes the plainly payable ones first, a batch per
transaction; what it leaves (free minutes, short wallets, minutes beyond the grace) is charged one
session at a time (charges.py), each in its own transaction. A minute that cannot be charged is
handed to `end(session_id, reason, at)`, the lifecycle's rule that services/periodic.py passes in:
billing never ends a session itself, and never holds a session lock while the ending waits for an
astrologer's profile. Entry point: commits (or rolls back) each unit of work itself.
"""

from datetime import timedelta

from flask import current_app

from ...extensions import db
from ...models import ConsultationSession, EndReason, SessionStatus
from .. import locks, signals
from ..errors import InsufficientBalance
from . import _batch, charges, minutes

BATCH_SIZE = 500  # sessions per round of the per-session path
SET_BATCH_SIZE = 2000  # sessions per set-based batch (PostgreSQL): fewer statements, short locks
MAX_ROUNDS = 100  # a pass gives up after this many batches; the next pass continues


def charge_due(now, end):
    """Charge every due minute; `end` closes what cannot be paid. Returns (charged, ended)."""
    charged = ended = 0
    rounds = MAX_ROUNDS
    if db.engine.dialect.name == "postgresql":
        by_batch, drained = _charge_in_batches(now)
        charged += by_batch
        if not drained:
            # The batches stopped at MAX_ROUNDS with more due: the next pass goes on with them. One
            # round here still takes what they leave (its sessions are the longest due: every
            # session a batch charged moved a minute on), without charging one at a time what the
            # next batches would take by the thousand.
            rounds = 1
    for _ in range(rounds):
        due = _due_ids(now)
        if not due:
            break
        for session_id in due:
            outcome = _charge_next(session_id, now)
            if outcome == "charged":
                charged += 1
            elif outcome is not None:
                reason, at = outcome
                ended += end(session_id, reason, at)
    return charged, ended


def _charge_in_batches(now):
    """(minutes charged, drained): drained unless the batches stopped at MAX_ROUNDS."""
    config, charged = current_app.config, 0
    for _ in range(MAX_ROUNDS):
        try:
            charged_now = _batch.charge_due_batch(
                now,
                limit=SET_BATCH_SIZE,
                minute_seconds=config["BILLING_MINUTE_SECONDS"],
                grace_seconds=config["DOWNTIME_GRACE_SECONDS"],
                commission_percent=minutes.commission_percent(),
                free_first_minutes=config["FREE_FIRST_MINUTES"],
            )
            signals.minutes_charged.send(charged_now, now=now)  # the ticks, in bulk; low-balance warnings
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("a billing batch failed; its sessions fall to the per-session path")
            return charged, True
        if not charged_now:
            return charged, True
        charged += len(charged_now)
    return charged, False


def _due_ids(now):
    return (
        db.session.execute(
            db.select(ConsultationSession.id)
            .where(ConsultationSession.status == SessionStatus.ACTIVE, ConsultationSession.next_charge_at <= now)
            .order_by(ConsultationSession.next_charge_at)
            .limit(BATCH_SIZE)
        )
        .scalars()
        .all()
    )


def _charge_next(session_id, now):
    """Charge the session's next due minute in its own transaction.

    Returns "charged", None (nothing to do), or (end reason, end time) for the caller to end it.
    """
    try:
        session = locks.due_session(session_id, now)
        if session is None:
            db.session.rollback()
            return None
        due_at = session.next_charge_at
        if now - due_at > timedelta(seconds=current_app.config["DOWNTIME_GRACE_SECONDS"]):
            db.session.rollback()
            return EndReason.SERVICE_INTERRUPTION, due_at  # closed at the last paid minute
        minute = session.billed_minutes + session.free_minutes + 1
        if session.cap_minutes is not None and minute > session.cap_minutes:
            db.session.rollback()
            return EndReason.CAP_REACHED, due_at  # the last minute the user allowed has run out
        try:
            charges.bill_minute(session, minute, due_at)
        except InsufficientBalance:
            db.session.rollback()
            return EndReason.INSUFFICIENT_BALANCE, due_at
        session.next_charge_at = session.started_at + minute * minutes.minute_length()
        signals.minute_charged.send(session, minute=minute, due_at=due_at, now=now)  # ticks and warnings
        db.session.commit()
        return "charged"
    except Exception:
        db.session.rollback()
        current_app.logger.exception("charging session %s failed; the next pass retries", session_id)
        return None
