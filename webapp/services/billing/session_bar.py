"""What participants see of billing: the session bar's state, the billing ticks after each charge,
the low-balance warning, and a top-up heard in the chat. The balance goes to the paying user only."""

from flask import current_app

from ...extensions import db
from ...models import ConsultationSession, utcnow
from .. import signals, wallet
from ..messaging import chat, system_lines
from ..messaging.system_lines import N_, NN_
from ..notifications import notifier, rooms


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
        "channel": session.channel.value,
        "rate_per_minute": str(session.rate_per_minute),
        "started_at": session.started_at.isoformat() if session.started_at else None,
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
        "server_now": now.isoformat(),
        "billed_minutes": session.billed_minutes,
        "total_cost": str(session.total_cost),
        "balance": None,
        "minutes_left": None,
        "cap_minutes": session.cap_minutes,
    }
    if viewer_id == session.user_id:
        available = wallet.wallet_of(session.user_id).available_balance
        state["balance"] = str(available)
        state["minutes_left"] = minutes_covered(available, session.rate_per_minute)
        if session.cap_minutes is not None:  # what the cap still allows, when it allows less
            allowed = max(session.cap_minutes - session.billed_minutes - session.free_minutes, 0)
            state["minutes_left"] = min(state["minutes_left"], allowed)
    return state


TICK = ("session_id", "billed_minutes", "total_cost", "balance", "minutes_left", "cap_minutes")


def announce_tick(session, now=None):
    """billing_tick to both participants: the user's with their balance, the astrologer's without."""
    for viewer in (session.user_id, session.astrologer_id):
        state = session_state(session, viewer, now)
        notifier.announce("billing_tick", {key: state[key] for key in TICK}, room=rooms.of_user(viewer))


def announce_batch_ticks(charges):
    """billing_tick to both participants of every minute the set-based batch charged (BatchCharges: no
    ORM session to read), as one bulk delivery after the commit; the charges whose user's balance is
    low enough to warn."""
    events, low, warn_below = [], [], current_app.config["LOW_BALANCE_MINUTES"]
    for charge in charges:
        left = minutes_covered(charge.balance, charge.rate)
        tick = {"session_id": charge.session_id, "billed_minutes": charge.billed_minutes,
                "total_cost": str(charge.total_cost)}  # fmt: skip
        events.append(notifier.Event("billing_tick", {**tick, "balance": str(charge.balance), "minutes_left": left},
                                     rooms.of_user(charge.user_id)))  # fmt: skip
        events.append(notifier.Event("billing_tick", {**tick, "balance": None, "minutes_left": None},
                                     rooms.of_user(charge.astrologer_id)))  # fmt: skip
        if left < warn_below:
            low.append(charge)
    notifier.announce_all(events)
    return low


def warn_if_low(session, now):
    """balance_low to the user and a line in the chat when fewer than LOW_BALANCE_MINUTES are paid for."""
    available = wallet.wallet_of(session.user_id).available_balance
    left = minutes_covered(available, session.rate_per_minute)
    if left < current_app.config["LOW_BALANCE_MINUTES"]:
        notifier.announce(
            "balance_low",
            {"session_id": str(session.id), "minutes_left": left, "balance": str(available)},
            room=rooms.of_user(session.user_id),
        )
        chat.post_system_message(
            session,
            system_lines.line(
                NN_(
                    "Low balance: %(num)d more minute can be paid. Top up to keep talking.",
                    "Low balance: %(num)d more minutes can be paid. Top up to keep talking.",
                ),
                num=left,
            ),
            now,
            kind="low_balance",
            to=session.user_id,
        )


def note_topup(session, amount, now=None):
    """A top-up completed for the user of `session` (from locks.active_session_of; None: not in a
    session): the user (only) hears it in the chat, and the next minute can be paid."""
    now = now or utcnow()
    if session is None:
        return None
    chat.post_system_message(
        session,
        system_lines.line(N_("Top-up of %(amount)s received."), amount=amount),
        now,
        kind="topup",
        to=session.user_id,
    )
    announce_tick(session, now)
    return session


@signals.minute_charged.connect
def _minute_charged(session, *, due_at, now, **_):
    warn_if_low(session, due_at)
    announce_tick(session, now)


@signals.minutes_charged.connect
def _minutes_charged(charges, *, now, **_):
    for charge in announce_batch_ticks(charges):
        warn_if_low(db.session.get(ConsultationSession, charge.session_id), now)
