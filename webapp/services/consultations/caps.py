"""The user's spending cap: "stop at N minutes" or "stop at ₹X", set on the request form and
changeable in the room. Stored as the minutes the session may last (consultation_sessions.cap_minutes;
an amount becomes the whole minutes it pays for at the session's frozen rate). Billing charges no
minute past it (billing/due.py, billing/batch.py), warns both participants when the last minute
starts, and ends the session at that minute's end with end_reason cap_reached."""

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import gettext, ngettext

from ...extensions import db
from ...models import SessionStatus, utcnow
from .. import locks, signals
from ..errors import InvalidAmount, NotAllowed, SessionNotActive, ValidationFailed
from ..messaging import chat, system_lines
from ..messaging.system_lines import N_, NN_
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
        raise ValidationFailed("cap", gettext("Choose no limit, a number of minutes or an amount."))
    if kind == "none":
        return None
    text = str(value or "").strip()
    if kind == "minutes":
        if not text.isdigit() or not 1 <= int(text) <= MAX_MINUTES:
            raise ValidationFailed(
                "cap", gettext("Enter whole minutes from 1 to %(max_minutes)s.", max_minutes=MAX_MINUTES)
            )
        return int(text)
    try:
        amount = parse_amount(text)
    except InvalidAmount as error:
        raise ValidationFailed("cap", error.message) from None
    if rate <= 0:
        raise ValidationFailed("cap", gettext("This consultation is free: a limit in money does not apply."))
    minutes = int(amount // rate)
    if minutes < 1:
        raise ValidationFailed(
            "cap",
            gettext(
                "%(amount)s does not pay for one minute at %(amount2)s.",
                amount=format_money(amount),
                amount2=format_money(rate),
            ),
        )
    return min(minutes, MAX_MINUTES)


def describe(session):
    """'10 minutes (₹200 at most)', for the room's status line, in the reader's language."""
    most = format_money(session.rate_per_minute * session.cap_minutes)
    return ngettext(
        "%(num)d minute (%(most)s at most)", "%(num)d minutes (%(most)s at most)", session.cap_minutes, most=most
    )


def change(session_id, user_id, kind, value, now=None):
    """The user sets, changes or lifts the cap of their waiting or active consultation. A cap must
    leave at least the minute under way: one at or below the minutes already started is refused."""
    now = now or utcnow()
    session = get_for_participant(session_id, user_id)
    if session.user_id != user_id:
        raise NotAllowed(gettext("Only the user who pays sets a limit."))
    _, session = locks.session_and_profile(session_id)
    if session.status not in (SessionStatus.WAITING, SessionStatus.ACTIVE):
        raise SessionNotActive(gettext("This consultation has ended."))
    minutes = minutes_for(kind, value, session.rate_per_minute)
    started = session.billed_minutes + session.free_minutes
    if minutes is not None and minutes <= started:
        raise ValidationFailed(
            "cap",
            ngettext(
                "%(num)d minute has started already: choose more, or end now.",
                "%(num)d minutes have started already: choose more, or end now.",
                started,
            ),
        )
    session.cap_minutes = minutes
    session.updated_at = now
    db.session.flush()
    if session.status == SessionStatus.ACTIVE:
        text = (
            system_lines.line(
                NN_(
                    "Your limit is now %(num)d minute (%(amount)s at most).",
                    "Your limit is now %(num)d minutes (%(amount)s at most).",
                ),
                num=minutes,
                amount=session.rate_per_minute * minutes,
            )
            if minutes
            else system_lines.line(N_("Your limit is lifted."))
        )
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
            system_lines.line(
                NN_(
                    "One minute left: this consultation ends at the limit of %(num)d minute set for it.",
                    "One minute left: this consultation ends at the limit of %(num)d minutes set for it.",
                ),
                num=session.cap_minutes,
            ),
            due_at,
            kind="cap_soon",
        )
