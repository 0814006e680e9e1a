"""The user's spending cap: "stop at N minutes" or "stop at ₹X", set on the request form and
changeable in the room. Stored as the minutes the session may last (consultation_sessions.cap_minutes;
an amount becomes the whole minutes it pays for at the session's frozen rate). Billing charges no
minute past it (billing/due.py, billing/batch.py), warns both participants when the last minute
starts, and ends the session at that minute's end with end_reason cap_reached."""

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app

from ...extensions import db
from ...models import SessionStatus, utcnow
from .. import locks, signals
from ..errors import InvalidAmount, NotAllowed, SessionNotActive, ValidationFailed
from ..messaging import chat
from ..money.amounts import format_money, parse_amount
from .lookup import get_for_participant

KINDS = ("none", "minutes", "amount")
MAX_MINUTES = 600  # ten hours: a bound on what a form may ask for


@dataclass(frozen=True)
class Quote:
    """What a consultation at `rate` costs with a cap of `minutes` (None: none), and what is held to
    start it: MIN_START_MINUTES' worth, or the whole cap when it is shorter."""

    rate: Decimal
    minutes: int | None
    held_minutes: int

    @property
    def hold(self):
        return self.rate * self.held_minutes

    @property
    def most(self):
        """The most the consultation can cost (None without a cap)."""
        return self.rate * self.minutes if self.minutes else None


def quote(rate, minutes):
    start = current_app.config["MIN_START_MINUTES"]
    return Quote(rate, minutes, min(start, minutes or start))


def minutes_for(kind, value, rate):
    """The cap in minutes from what a person chose (kind "none", "minutes" or "amount"), or None for
    no cap; ValidationFailed("cap", ...) says what is wrong."""
    kind = (kind or "none").strip() if isinstance(kind, str) else kind
    if kind not in KINDS:
        raise ValidationFailed("cap", "Choose no limit, a number of minutes or an amount.")
    if kind == "none":
        return None
    text = str(value or "").strip()
    if kind == "minutes":
        if not text.isdigit() or not 1 <= int(text) <= MAX_MINUTES:
            raise ValidationFailed("cap", f"Enter whole minutes from 1 to {MAX_MINUTES}.")
        return int(text)
    try:
        amount = parse_amount(text)
    except InvalidAmount as error:
        raise ValidationFailed("cap", error.message) from None
    if rate <= 0:
        raise ValidationFailed("cap", "This consultation is free: a limit in money does not apply.")
    minutes = int(amount // rate)
    if minutes < 1:
        raise ValidationFailed("cap", f"{format_money(amount)} does not pay for one minute at {format_money(rate)}.")
    return min(minutes, MAX_MINUTES)


def describe(session):
    """'10 minutes (₹200.00 at most)', for the chat lines and the session bar."""
    most = session.rate_per_minute * session.cap_minutes
    return f"{session.cap_minutes} minute{'s' if session.cap_minutes != 1 else ''} ({format_money(most)} at most)"


def change(session_id, user_id, kind, value, now=None):
    """The user sets, changes or lifts the cap of their waiting or active consultation. A cap must
    leave at least the minute under way: one at or below the minutes already started is refused."""
    now = now or utcnow()
    session = get_for_participant(session_id, user_id)
    if session.user_id != user_id:
        raise NotAllowed("Only the user who pays sets a limit.")
    _, session = locks.session_and_profile(session_id)
    if session.status not in (SessionStatus.WAITING, SessionStatus.ACTIVE):
        raise SessionNotActive("This consultation has ended.")
    minutes = minutes_for(kind, value, session.rate_per_minute)
    started = session.billed_minutes + session.free_minutes
    if minutes is not None and minutes <= started:
        raise ValidationFailed(
            "cap", f"{started} minute{'s' if started != 1 else ''} have started already: choose more, or end now."
        )
    session.cap_minutes = minutes
    session.updated_at = now
    db.session.flush()
    if session.status == SessionStatus.ACTIVE:
        text = f"Your limit is now {describe(session)}." if minutes else "Your limit is lifted."
        chat.post_system_message(session, text, now, kind="cap", to=session.user_id)
        from ..billing import session_bar

        session_bar.announce_tick(session, now)
    return session


@signals.minute_charged.connect
def warn_last_minute(session, *, due_at, **_):
    """The last minute the cap allows has started (at `due_at`): both participants hear it once."""
    if session.cap_minutes and session.billed_minutes + session.free_minutes == session.cap_minutes:
        chat.post_system_message(
            session,
            f"One minute left: this consultation ends at the limit of {session.cap_minutes} "
            f"minute{'s' if session.cap_minutes != 1 else ''} set for it.",
            due_at,
            kind="cap_soon",
        )
