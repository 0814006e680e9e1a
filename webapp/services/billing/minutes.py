"""What a minute is: its length, its idempotency keys and its legs, one definition for the
per-session path (charges.py) and the set-based one (_batch.py), so the two cannot drift."""

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


def minute_key_sql(session_id, minute, leg):
    """`minute_key` as an SQL expression over the columns `session_id` and `minute` (the batch's),
    for db.text (whose binds are `:name`, so the key's colons are escaped)."""
    return f"'session\\:' || {session_id} || '\\:minute\\:' || {minute} || '\\:{leg}'"


def split_minute(amount, commission_percent):
    """(astrologer share, platform commission) of one minute's charge; they sum to `amount` exactly.

    The astrologer's share is rounded half-up to paise; the platform gets the rest.
    """
    share = (amount * (100 - commission_percent) / 100).quantize(PAISE, rounding=ROUND_HALF_UP)
    return share, amount - share


def share_sql(rate):
    """`split_minute`'s astrologer share as SQL over the column `rate`, with :commission_percent
    bound (numeric round() is half away from zero: half-up for a positive amount)."""
    return f"round({rate} * (100 - CAST(:commission_percent AS numeric)) / 100, 2)"


def legs_sql(claim):
    """The legs of each minute in `claim` (a table of session_id, user_id, astrologer_id, minute, rate,
    due_at) as SQL: the rows `legs` builds, one per leg with an amount over zero, with the owner's
    user id, the leg's order within its minute, and :house (the platform's user id) bound."""
    owners = {"payer": "c.user_id", "astrologer": "c.astrologer_id", "house": "CAST(:house AS uuid)"}
    amounts = {BillingKind.CHARGE: "c.rate", BillingKind.EARNING: share_sql("c.rate"),
               BillingKind.COMMISSION: f"c.rate - {share_sql('c.rate')}"}  # fmt: skip
    selects = [
        f"""SELECT c.session_id, c.minute, c.due_at AS at, {order} AS ord, '{kind.value}' AS kind,
                   {owners[owner]} AS owner, {amounts[kind]} AS amount,
                   {minute_key_sql("c.session_id", "c.minute", suffix)} AS key,
                   {_sql_text(_DESCRIPTIONS[kind])} AS description
            FROM {claim} c"""
        for order, (kind, suffix, owner) in enumerate(LEGS, start=1)
    ]
    return "SELECT * FROM (" + " UNION ALL ".join(selects) + ") legs WHERE amount > 0"


def _sql_text(template):
    """A description template ("... minute {minute}") as SQL over the column c.minute."""
    before, after = template.split("{minute}")
    return f"'{before}' || c.minute || '{after}'"


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
