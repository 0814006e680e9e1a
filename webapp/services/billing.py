"""The billing engine: server-authoritative, per started minute, exactly once per minute.

`start` is the one call point that charges minute 1 when a session is
accepted; `run_due(now)` is what the periodic loop runs (in the web process
by default, or as `flask billing run`): it cancels unanswered requests.
Money moves only through services/wallet.py, under its idempotency keys.
"""

from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models import ConsultationSession, SessionStatus, utcnow
from . import chat, consultations, notifier, wallet


def minute_length():
    return timedelta(seconds=current_app.config["BILLING_MINUTE_SECONDS"])


def start(session, now):
    """Minute 1 is charged at acceptance; minute k falls due at started_at + (k - 1) minutes."""
    wallet.charge_minute(session.id, 1, commission_percent=current_app.config["PLATFORM_COMMISSION_PERCENT"], now=now)
    session.next_charge_at = session.started_at + minute_length()


def run_due(now=None):
    """One pass of the periodic loop. Returns what it did, for logs and tests."""
    now = now or utcnow()
    expired = consultations.expire_requests(now)
    return {"expired_requests": len(expired)}


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


def note_topup(user_id, amount, now=None):
    """A top-up completed: a user in an active session hears it in the chat, and the next minute can be paid."""
    now = now or utcnow()
    session = db.session.execute(
        db.select(ConsultationSession).where(
            ConsultationSession.user_id == user_id, ConsultationSession.status == SessionStatus.ACTIVE
        )
    ).scalar_one_or_none()
    if session is None:
        return None
    chat.post_system_message(session, f"Top-up of {current_app.config['CURRENCY']} {amount:,.2f} received.", now)
    announce_tick(session, now)
    return session
