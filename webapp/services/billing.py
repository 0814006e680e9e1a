"""The billing engine: server-authoritative, per started minute, exactly once per minute.

Minute k of a session (k = 1, 2, ...) falls due at started_at + (k - 1) x M
(M = BILLING_MINUTE_SECONDS); minute 1 is charged at acceptance by `start`,
the rest by `run_due(now)`, the periodic pass. Money moves only through
services/wallet.py, under one idempotency key per leg
(`session:<id>:minute:<k>:debit|credit|commission`), so a retried or
duplicated pass moves nothing twice; `next_charge_at` moves forward in the
same transaction as the charge.

End rules, each applied by `run_due`:
- the next minute cannot be paid at its boundary: insufficient_balance;
- no astrologer message within NO_REPLY_SECONDS of acceptance:
  astrologer_no_reply, and every charge of the session is refunded;
- a minute overdue by more than DOWNTIME_GRACE_SECONDS (the server or the
  engine was down): it is not charged, the session closes at the last paid
  minute with service_interruption;
- a participant with no sign of life for RECONNECT_GRACE_SECONDS, or in a
  call whose media connection stayed failed that long: participant_disconnected.

Ending goes through consultations.end in its own transaction, after the
charge transaction, so the engine never holds a session lock while it
waits for an astrologer's profile lock (the lifecycle's order is profile,
then session). Each unit of work commits on its own; `run_due` is an
entry point and owns its commits.
"""

from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models import (
    ConsultationSession,
    EndReason,
    SessionParticipant,
    SessionStatus,
    utcnow,
)
from . import chat, consultations, locks, notifier, wallet
from .errors import IllegalTransition, InsufficientBalance

BATCH_SIZE = 500  # sessions per round of the per-session path
SET_BATCH_SIZE = 2000  # sessions per set-based batch (PostgreSQL): fewer statements, short locks
MAX_ROUNDS = 100  # a pass gives up after this many batches; the next pass continues


def minute_length():
    return timedelta(seconds=current_app.config["BILLING_MINUTE_SECONDS"])


def _commission():
    return current_app.config["PLATFORM_COMMISSION_PERCENT"]


# ---------------------------------------------------------------- starting


def free_minute_allowance(session):
    """FREE_FIRST_MINUTES, once per user: none if another of the user's sessions already had free minutes."""
    allowance = current_app.config["FREE_FIRST_MINUTES"]
    if allowance == 0:
        return 0
    had_free = db.session.execute(
        db.select(ConsultationSession.id).where(
            ConsultationSession.user_id == session.user_id,
            ConsultationSession.id != session.id,
            ConsultationSession.free_minutes > 0,
        )
    ).first()
    return 0 if had_free else allowance


def start(session, now):
    """The one call point for minute 1, at acceptance: charged (or free), and minute 2 scheduled."""
    _bill_minute(session, 1, now)
    session.next_charge_at = session.started_at + minute_length()


def _bill_minute(session, minute, now):
    """Charge minute `minute` (or count it free). InsufficientBalance when it cannot be paid."""
    if minute <= free_minute_allowance(session):
        session.free_minutes += 1
        return None
    return wallet.charge_minute(session.id, minute, commission_percent=_commission(), now=now)


# ---------------------------------------------------------------- the pass


def run_due(now=None):
    """One pass of the periodic loop; commits each unit of work. Returns counts for logs and tests."""
    now = now or utcnow()
    done = {"expired_requests": 0, "charged": 0, "ended": 0}
    done["expired_requests"] = len(consultations.expire_requests(now))
    db.session.commit()
    for session_id, reason, at in _sweeps(now):
        done["ended"] += _end(session_id, reason, at)
    if db.engine.dialect.name == "postgresql":
        done["charged"] += _charge_in_batches(now)
    for _ in range(MAX_ROUNDS):
        due = _due_ids(now)
        if not due:
            break
        for session_id in due:
            outcome = _charge_next(session_id, now)
            if outcome == "charged":
                done["charged"] += 1
            elif outcome is not None:
                reason, at = outcome
                done["ended"] += _end(session_id, reason, at)
    return done


def _charge_in_batches(now):
    """PostgreSQL: charge plainly payable due minutes set-based, a batch per transaction.

    What a batch leaves (free minutes, short wallets, minutes beyond the grace) falls to the
    per-session path below, which applies the end rules.
    """
    config, charged = current_app.config, 0
    for _ in range(MAX_ROUNDS):
        try:
            batch = wallet.charge_due_batch(
                now,
                limit=SET_BATCH_SIZE,
                minute_seconds=config["BILLING_MINUTE_SECONDS"],
                grace_seconds=config["DOWNTIME_GRACE_SECONDS"],
                commission_percent=_commission(),
                free_first_minutes=config["FREE_FIRST_MINUTES"],
            )
            for charge in batch:
                _announce_batch_charge(charge, now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("a billing batch failed; its sessions fall to the per-session path")
            return charged
        if not batch:
            return charged
        charged += len(batch)
    return charged


def _announce_batch_charge(charge, now):
    left = minutes_covered(charge.balance, charge.rate)
    user_room, session_id = f"user:{charge.user_id}", str(charge.session_id)
    tick = {"session_id": session_id, "billed_minutes": charge.billed_minutes, "total_cost": str(charge.total_cost)}
    notifier.announce(
        db.session(), "billing_tick", {**tick, "balance": str(charge.balance), "minutes_left": left}, room=user_room
    )
    notifier.announce(
        db.session(),
        "billing_tick",
        {**tick, "balance": None, "minutes_left": None},
        room=f"user:{charge.astrologer_id}",
    )
    if left < current_app.config["LOW_BALANCE_MINUTES"]:
        _warn_if_low(db.session.get(ConsultationSession, charge.session_id), now)


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


def _claim(session_id, now):
    """The due session, locked after its astrologer's profile (the lock order; the charge writes
    total_earnings); None when another transaction holds either or it is no longer due."""
    if locks.profile_of_session(session_id, skip_locked=True) is None:
        return None
    session = db.session.execute(
        db.select(ConsultationSession)
        .where(
            ConsultationSession.id == session_id,
            ConsultationSession.status == SessionStatus.ACTIVE,
            ConsultationSession.next_charge_at <= now,
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    return session


def _charge_next(session_id, now):
    """Charge the session's next due minute in its own transaction.

    Returns "charged", None (nothing to do), or (end reason, end time) for the caller to end it.
    """
    try:
        session = _claim(session_id, now)
        if session is None:
            db.session.rollback()
            return None
        due_at = session.next_charge_at
        if now - due_at > timedelta(seconds=current_app.config["DOWNTIME_GRACE_SECONDS"]):
            db.session.rollback()
            return EndReason.SERVICE_INTERRUPTION, due_at  # closed at the last paid minute
        minute = session.billed_minutes + session.free_minutes + 1
        try:
            _bill_minute(session, minute, due_at)
        except InsufficientBalance:
            db.session.rollback()
            return EndReason.INSUFFICIENT_BALANCE, due_at
        session.next_charge_at = session.started_at + minute * minute_length()
        _warn_if_low(session, due_at)
        announce_tick(session, now)
        db.session.commit()
        return "charged"
    except Exception:
        db.session.rollback()
        current_app.logger.exception("charging session %s failed; the next pass retries", session_id)
        return None


def _warn_if_low(session, now):
    config = current_app.config
    available = wallet.wallet_of(session.user_id).available_balance
    left = minutes_covered(available, session.rate_per_minute)
    if left < config["LOW_BALANCE_MINUTES"]:
        notifier.announce(
            db.session(),
            "balance_low",
            {"session_id": str(session.id), "minutes_left": left, "balance": str(available)},
            room=f"user:{session.user_id}",
        )
        chat.post_system_message(
            session,
            f"Low balance: {left} more minute{'s' if left != 1 else ''} can be paid. Top up to keep talking.",
            now,
            kind="low_balance",
        )


def _sweeps(now):
    """(session id, reason, end time) for the rules that do not wait for a minute boundary."""
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
    gone = (
        db.session.execute(
            db.select(ConsultationSession.id)
            .join(SessionParticipant, SessionParticipant.session_id == ConsultationSession.id)
            .where(
                ConsultationSession.status == SessionStatus.ACTIVE,
                db.or_(last_sign <= gone_deadline, SessionParticipant.media_lost_at <= gone_deadline),
            )
            .distinct()
        )
        .scalars()
        .all()
    )
    db.session.rollback()
    for session_id in silent:
        yield session_id, EndReason.ASTROLOGER_NO_REPLY, now
    for session_id in gone:
        if session_id not in silent:
            yield session_id, EndReason.PARTICIPANT_DISCONNECTED, now


def _end(session_id, reason, at):
    """End a session for `reason` in its own transaction; 1 if it ended, 0 if someone else already did."""
    try:
        session = consultations.end(session_id, reason=reason, now=at)
        if reason == EndReason.ASTROLOGER_NO_REPLY and session.total_cost > 0:
            refunded = wallet.refund(
                session.id,
                number=wallet.next_refund_number(session.id),
                reason="The astrologer did not reply",
                now=at,
            )
            consultations.note(session, "end", refunded=str(refunded.refund.amount))
            announce_tick(session, at)
        db.session.commit()
        return 1
    except IllegalTransition:
        db.session.rollback()  # ended meanwhile (by a participant or another runner)
        return 0
    except Exception:
        db.session.rollback()
        current_app.logger.exception("ending session %s (%s) failed; the next pass retries", session_id, reason)
        return 0


# ---------------------------------------------------------------- what participants see


def minutes_covered(available, rate):
    """Whole minutes `available` pays for at `rate`."""
    return int(available // rate) if rate > 0 else 0


def session_state(session, viewer_id, now=None):
    """What a participant's session bar shows; the balance only to the paying user."""
    now = now or utcnow()
    state = {
        "session_id": str(session.id),
        "status": session.status.value,
        "session_type": session.session_type.value,
        "rate_per_minute": str(session.rate_per_minute),
        "started_at": session.started_at.isoformat() if session.started_at else None,
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
        "server_now": now.isoformat(),
        "billed_minutes": session.billed_minutes,
        "total_cost": str(session.total_cost),
        "balance": None,
        "minutes_left": None,
    }
    if viewer_id == session.user_id:
        available = wallet.wallet_of(session.user_id).available_balance
        state["balance"] = str(available)
        state["minutes_left"] = minutes_covered(available, session.rate_per_minute)
    return state


def announce_tick(session, now=None):
    """billing_tick to both participants: the user's with their balance, the astrologer's without."""
    for viewer in (session.user_id, session.astrologer_id):
        state = session_state(session, viewer, now)
        payload = {key: state[key] for key in ("session_id", "billed_minutes", "total_cost", "balance", "minutes_left")}
        notifier.announce(db.session(), "billing_tick", payload, room=f"user:{viewer}")


def lock_active_session(user_id):
    """The user's active session, locked in the lock order (its astrologer's profile, then the session), or None.

    A top-up takes it before the wallet it credits, as a charge does: otherwise the top-up would hold
    the wallet while its chat line waits for the session that a billing pass holds while it waits for
    the wallet (a deadlock), and the chat line's seq would be read without the session's lock.
    """
    session = consultations.open_session_of(user_id)
    if session is None or session.status != SessionStatus.ACTIVE:
        return None
    _, session = locks.session_and_profile(session.id)
    return session if session is not None and session.status == SessionStatus.ACTIVE else None


def note_topup(session, amount, now=None):
    """A top-up completed for the user of `session` (from lock_active_session; None: not in a session):
    the user hears it in the chat, and the next minute can be paid."""
    now = now or utcnow()
    if session is None:
        return None
    chat.post_system_message(
        session, f"Top-up of {current_app.config['CURRENCY']} {amount:,.2f} received.", now, kind="topup"
    )
    announce_tick(session, now)
    return session
