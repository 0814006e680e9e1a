"""Refunds of a session's charges: the user gets money back, and the astrologer's earnings and the
platform's commission are reversed in proportion, each leg under its own key. Refund n of a session
(1, 2, ...) is idempotent, so a double submit of the same form moves no money twice."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP

from flask_babel import gettext

from ...extensions import db
from ...models import BillingKind, BillingStatus, BillingTransaction, utcnow
from ...models.types import PAISE
from .. import locks, signals, wallet
from ..errors import InsufficientBalance, NothingToRefund, RefundTooLarge
from . import earnings
from .amounts import ZERO, as_money, format_money, parse_amount


@dataclass(frozen=True)
class Refund:
    refund: BillingTransaction
    astrologer_reversal: BillingTransaction | None
    platform_reversal: BillingTransaction | None


def refund_key(session_id, number):
    return f"session:{session_id}:refund:{number}"


def next_refund_number(session_id):
    """The n for the next refund of a session (forms carry it, so a double submit repeats it)."""
    count = db.session.execute(
        db.select(db.func.count(BillingTransaction.id)).where(
            BillingTransaction.session_id == session_id, BillingTransaction.kind == BillingKind.REFUND
        )
    ).scalar_one()
    return count + 1


def _session_sums(session_id):
    rows = db.session.execute(
        db.select(BillingTransaction.kind, db.func.sum(BillingTransaction.amount))
        .where(BillingTransaction.session_id == session_id, BillingTransaction.status == BillingStatus.COMPLETED)
        .group_by(BillingTransaction.kind)
    ).all()
    return {kind: total for kind, total in rows}


def _reversed_by(session_id, wallet_id):
    total = db.session.execute(
        db.select(db.func.sum(BillingTransaction.amount)).where(
            BillingTransaction.session_id == session_id,
            BillingTransaction.wallet_id == wallet_id,
            BillingTransaction.kind == BillingKind.REVERSAL,
        )
    ).scalar()
    return total or ZERO


def refundable_amount(session, amount=None):
    """What a refund of `amount` (None: all that is left) of `session` gives back, or NothingToRefund /
    RefundTooLarge (asked before an admin is asked to confirm, and again under the locks)."""
    refundable = session.total_cost
    if refundable <= 0:
        raise NothingToRefund()
    amount = refundable if amount is None else parse_amount(amount)
    if amount > refundable:
        raise RefundTooLarge(
            gettext("At most %(amount)s is left to refund for this session.", amount=format_money(refundable))
        )
    return amount


def refund(session_id, *, number, amount=None, reason, now=None, actor_id=None):
    """Give back `amount` (default: all that is left) of a session's charges to the user, reversing the
    astrologer's and the platform's shares in proportion. Refund `number` n (1, 2, ...) is idempotent:
    a double submit of the same n moves no money twice.
    """
    now = now or utcnow()
    profile, session = locks.session_and_profile(session_id)  # the profile first: its total_earnings is written
    key = refund_key(session_id, number)
    existing = wallet.replay(key, amount=None if amount is None else parse_amount(amount))
    if existing is not None:
        return Refund(existing, wallet.find_by_key(f"{key}:astrologer"), wallet.find_by_key(f"{key}:platform"))
    refundable = session.total_cost
    amount = refundable_amount(session, amount)

    payer, astrologer, house = (
        wallet.wallet_of(session.user_id),
        wallet.wallet_of(session.astrologer_id),
        wallet.platform_wallet(),
    )
    sums = _session_sums(session_id)
    earned = sums.get(BillingKind.EARNING, ZERO) - _reversed_by(session_id, astrologer.id)
    commissioned = sums.get(BillingKind.COMMISSION, ZERO) - _reversed_by(session_id, house.id)
    if amount == refundable:
        # The last refund reverses exactly what is left, so rounding never leaves a paisa behind.
        astrologer_part, platform_part = earned, commissioned
    else:
        astrologer_part = min((amount * earned / refundable).quantize(PAISE, rounding=ROUND_HALF_UP), earned)
        platform_part = amount - astrologer_part
    wallets = locks.wallets(payer.id, astrologer.id, house.id)
    withdrawable = earnings.position(wallets[astrologer.id]).withdrawable
    if withdrawable < astrologer_part:
        # Reversing more would take back earnings already paid out or asked for (paid + pending <= earned).
        raise InsufficientBalance(
            gettext(
                "The astrologer's earnings not yet paid out (%(amount)s) cannot cover the reversal of their share (%(amount2)s). Reject their pending payout first, or refund less.",
                amount=format_money(withdrawable),
                amount2=format_money(astrologer_part),
            )
        )

    details = {"reason": reason, "actor_id": str(actor_id) if actor_id else None}
    legs = [
        (payer, BillingKind.REFUND, amount, key, f"Refund: {reason}"[:500]),
        (astrologer, BillingKind.REVERSAL, astrologer_part, f"{key}:astrologer", "Refund reversal of earnings"),
        (house, BillingKind.REVERSAL, platform_part, f"{key}:platform", "Refund reversal of commission"),
    ]
    posted = [
        wallet.post_leg(
            wallets[owner.id],
            wallet.Leg(owner.id, owner.user_id, kind, part, leg_key, description, now, session.id, details=details),
        )
        if part > 0
        else None
        for owner, kind, part, leg_key, description in legs
    ]

    session.total_cost -= amount
    session.updated_at = now
    if profile is not None:
        profile.total_earnings -= astrologer_part
    db.session.flush()
    result = Refund(*posted)
    # The user and the astrologer are told; `by_admin`: not the automatic refund made as a session ends.
    signals.refund_made.send(session, refund=result, reason=reason, by_admin=actor_id is not None, now=now)
    return result


def refunded_by_session(sessions):
    """{session id: what was refunded to its user} for the `sessions` that had refunds (history pages)."""
    ids = [session.id for session in sessions]
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(BillingTransaction.session_id, db.func.sum(BillingTransaction.amount))
        .where(
            BillingTransaction.session_id.in_(ids),
            BillingTransaction.kind == BillingKind.REFUND,
            BillingTransaction.status == BillingStatus.COMPLETED,
        )
        .group_by(BillingTransaction.session_id)
    ).all()
    return {session_id: as_money(total) for session_id, total in rows}
