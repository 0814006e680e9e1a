"""What a minute is: its length, its idempotency keys and its legs, one definition for the
per-session path (charges.py) and the set-based one (batch.py), so the two cannot drift."""

from datetime import timedelta
from decimal import ROUND_HALF_UP

from flask import current_app

from ...extensions import db
from ...models import BillingKind, ConsultationSession
from ...models.types import PAISE
from ..wallet import Leg

#: The legs of a minute: (kind, key suffix, who receives or pays it).
LEGS = (
    (BillingKind.CHARGE, "debit", "payer"),
    (BillingKind.EARNING, "credit", "astrologer"),
    (BillingKind.COMMISSION, "commission", "house"),
)
_DESCRIPTIONS = {
    BillingKind.CHARGE: "Consultation minute {minute}",
    BillingKind.EARNING: "Earning, minute {minute}",
    BillingKind.COMMISSION: "Commission, minute {minute}",
}


def minute_length():
    return timedelta(seconds=current_app.config["BILLING_MINUTE_SECONDS"])


def commission_percent():
    return current_app.config["PLATFORM_COMMISSION_PERCENT"]


def minute_key(session_id, minute, leg):
    return f"session:{session_id}:minute:{minute}:{leg}"


def split_minute(amount, commission_percent):
    """(astrologer share, platform commission) of one minute's charge; they sum to `amount` exactly.

    The astrologer's share is rounded half-up to paise; the platform gets the rest.
    """
    share = (amount * (100 - commission_percent) / 100).quantize(PAISE, rounding=ROUND_HALF_UP)
    return share, amount - share


def legs(session_id, minute, rate, commission_percent, *, payer, astrologer, house, at):
    """The wallet.Legs of charging minute `minute` at `rate`: the payer's debit, the astrologer's
    share and the platform's commission (a zero share has no leg). payer, astrologer and house are
    the wallets (any object with id and user_id)."""
    share, commission = split_minute(rate, commission_percent)
    amounts = {BillingKind.CHARGE: rate, BillingKind.EARNING: share, BillingKind.COMMISSION: commission}
    owners = {"payer": payer, "astrologer": astrologer, "house": house}
    return [
        Leg(
            wallet_id=owners[owner].id,
            user_id=owners[owner].user_id,
            kind=kind,
            amount=amounts[kind],
            key=minute_key(session_id, minute, suffix),
            description=_DESCRIPTIONS[kind].format(minute=minute),
            at=at,
            session_id=session_id,
            minute=minute,
        )
        for kind, suffix, owner in LEGS
        if amounts[kind] > 0
    ]


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
