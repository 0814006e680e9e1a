"""Holds: money reserved in a wallet (available -> held) and given back (held -> available).

A consultation request holds MIN_START_MINUTES at its rate until it is accepted, declined,
cancelled or times out. Holds change no current_balance, so they have a billing row and no
wallet entry."""

from flask_babel import gettext

from ...extensions import db
from ...models import BillingKind, utcnow
from .. import locks, wallet
from .amounts import parse_amount


def hold(
    wallet_id, amount, *, idempotency_key, session_id=None, now=None, description="Held for a consultation request"
):
    """Reserve `amount`: available -> held. InsufficientBalance / WalletFrozen when it cannot."""
    now = now or utcnow()
    amount = parse_amount(amount)
    target = locks.wallet(wallet_id)
    existing = wallet.replay(idempotency_key, wallet_id=wallet_id, amount=amount, kind=BillingKind.HOLD)
    if existing is not None:
        return existing
    wallet.ensure_can_pay(target, amount, gettext("the amount to hold"))
    transaction = wallet.new_transaction(
        target, BillingKind.HOLD, amount, idempotency_key, now, session_id=session_id, description=description
    )
    wallet.move(target, amount, to_held=True, now=now)
    db.session.flush()
    return transaction


def release(hold_transaction, *, now=None, description="Hold released"):
    """Give a hold back: held -> available, once (the key derives from the hold's)."""
    now = now or utcnow()
    key = f"{hold_transaction.idempotency_key}:release"
    target = locks.wallet(hold_transaction.wallet_id)
    existing = wallet.find_by_key(key)
    if existing is not None:
        return existing
    transaction = wallet.new_transaction(
        target,
        BillingKind.RELEASE,
        hold_transaction.amount,
        key,
        now,
        session_id=hold_transaction.session_id,
        description=description,
        details={"hold_id": str(hold_transaction.id)},
    )
    wallet.move(target, hold_transaction.amount, to_held=False, now=now)
    db.session.flush()
    return transaction
