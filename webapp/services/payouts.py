"""Payouts: an astrologer withdraws earnings to their bank account. The amount is held at the
request and leaves the wallet when an admin approves it, or becomes available again when they
reject it."""

from ..extensions import db
from ..models import BillingKind, BillingStatus, UserType, Wallet, utcnow
from . import locks, wallet
from .amounts import parse_amount
from .errors import NotAllowed, PayoutClosed, UnknownOrder


def payout_key(payout_id):
    return f"payout:{payout_id}"


def request_payout(wallet_id, amount, *, payout_id, now=None):
    """An astrologer asks to withdraw `amount`: it is held until an admin approves or rejects."""
    now = now or utcnow()
    amount = parse_amount(amount)
    target = locks.wallet(wallet_id)
    if target.user.type != UserType.ASTROLOGER:
        raise NotAllowed("Only astrologers can request payouts.")
    key = payout_key(payout_id)
    existing = wallet.replay(key, wallet_id=wallet_id, amount=amount)
    if existing is not None:
        return existing
    wallet.ensure_can_pay(target, amount, "the payout")
    transaction = wallet.new_transaction(
        target,
        BillingKind.PAYOUT,
        amount,
        key,
        now,
        status=BillingStatus.PENDING,
        payment_method=wallet.BANK_TRANSFER,
        description="Payout to bank account",
    )
    wallet.move(target, amount, to_held=True, now=now)
    db.session.flush()
    return transaction


def _close(transaction_id, status, now):
    """The payout, locked, and whether this call closes it as `status` (False: a repeat of the same
    decision). PayoutClosed when it was decided the other way."""
    transaction = _lock_payout(transaction_id)
    if transaction.status == status:
        return transaction, False
    if transaction.status != BillingStatus.PENDING:
        raise PayoutClosed()
    transaction.status = status
    transaction.processed_at = transaction.updated_at = now
    return transaction, True


def approve_payout(transaction_id, *, reference=None, now=None, actor_id=None):
    """The payout was sent (`reference`: the bank's reference of the transfer, when known): the held
    amount leaves the wallet (current and held go down)."""
    now = now or utcnow()
    transaction, closing = _close(transaction_id, BillingStatus.COMPLETED, now)
    if closing:
        transaction.external_transaction_id = reference
        transaction.details = {**transaction.details, "approved_by": str(actor_id) if actor_id else None}
        wallet.post(db.session.get(Wallet, transaction.wallet_id), transaction, transaction.amount, now, bucket="held")
        db.session.flush()
    return transaction


def reject_payout(transaction_id, *, reason, now=None, actor_id=None):
    """The payout will not be sent: the held amount becomes available again."""
    now = now or utcnow()
    transaction, closing = _close(transaction_id, BillingStatus.CANCELLED, now)
    if closing:
        by = str(actor_id) if actor_id else None
        transaction.details = {**transaction.details, "rejected_by": by, "reason": reason}
        wallet.move(db.session.get(Wallet, transaction.wallet_id), transaction.amount, to_held=False, now=now)
        db.session.flush()
    return transaction
    if transaction.status != BillingStatus.PENDING:
        raise PayoutClosed()
    transaction.status = BillingStatus.CANCELLED
    transaction.processed_at = transaction.updated_at = now
    transaction.details = {**transaction.details, "rejected_by": str(actor_id) if actor_id else None, "reason": reason}
    wallet.move(db.session.get(Wallet, transaction.wallet_id), transaction.amount, to_held=False, now=now)
    db.session.flush()
    return transaction


def _lock_payout(transaction_id):
    transaction = wallet.lock_transaction(transaction_id)
    if transaction.kind != BillingKind.PAYOUT:
        raise UnknownOrder("There is no such payout.")
    return transaction
