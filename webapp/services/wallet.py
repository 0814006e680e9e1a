"""The wallet ledger: the only code that changes balances.

Every operation takes an idempotency key, locks the wallet rows it touches
(SELECT ... FOR UPDATE, in wallet-id order so two operations never deadlock),
writes a billing_transactions row and, for each change of current_balance, a
wallet_transactions row chained by balance_before/after, and keeps the
user_profiles mirror in the same transaction. A repeated key returns the
first result and moves no money. Functions flush; the caller commits.
"""

from decimal import Decimal, InvalidOperation

from ..extensions import db
from ..models import (
    BillingStatus,
    BillingTransaction,
    BillingType,
    UserProfile,
    Wallet,
    WalletEntryType,
    WalletTransaction,
    utcnow,
)
from ..models.types import PAISE
from .errors import InvalidAmount


def parse_amount(value):
    """A positive Decimal with at most 2 decimal places, or InvalidAmount."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal or str, never float")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidAmount("Enter an amount such as 500 or 499.50.") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidAmount("The amount must be more than zero.")
    if amount != amount.quantize(PAISE):
        raise InvalidAmount("The amount can have at most 2 decimal places (paise).")
    return amount.quantize(PAISE)


def find_by_key(idempotency_key):
    return db.session.execute(
        db.select(BillingTransaction).filter_by(idempotency_key=idempotency_key)
    ).scalar_one_or_none()


def lock_wallets(*wallet_ids):
    """The wallets, locked for update in id order (the one locking order); a dict by id."""
    ids = sorted(set(wallet_ids))
    rows = db.session.execute(
        db.select(Wallet).where(Wallet.id.in_(ids)).order_by(Wallet.id).with_for_update()
    ).scalars()
    wallets = {wallet.id: wallet for wallet in rows}
    missing = set(ids) - set(wallets)
    if missing:
        raise LookupError(f"no wallet {sorted(missing)[0]}")
    return wallets


def deposit(wallet_id, amount, *, idempotency_key, now=None, reference_id=None, description=None, details=None):
    """Money paid in (a completed top-up): + current and available, + total_recharged."""
    now = now or utcnow()
    amount = parse_amount(amount)
    wallet = lock_wallets(wallet_id)[wallet_id]
    existing = find_by_key(idempotency_key)
    if existing is not None:
        return existing
    transaction = BillingTransaction(
        user_id=wallet.user_id,
        wallet_id=wallet.id,
        type=BillingType.TOPUP,
        status=BillingStatus.COMPLETED,
        amount=amount,
        currency=wallet.currency,
        idempotency_key=idempotency_key,
        reference_id=reference_id,
        description=description or "Wallet top-up",
        details=details or {},
        created_at=now,
        updated_at=now,
        completed_at=now,
    )
    db.session.add(transaction)
    _post(wallet, transaction, WalletEntryType.CREDIT, amount, now)
    profile = _profile(wallet)
    profile.total_recharged += amount
    db.session.flush()
    return transaction


def _post(wallet, transaction, entry_type, amount, now):
    """Change current and available balance by `amount` and chain a wallet_transactions row."""
    last_seq = db.session.execute(
        db.select(db.func.max(WalletTransaction.seq)).where(WalletTransaction.wallet_id == wallet.id)
    ).scalar()
    before = wallet.current_balance
    signed = amount if entry_type == WalletEntryType.CREDIT else -amount
    wallet.current_balance = before + signed
    wallet.available_balance = wallet.available_balance + signed
    wallet.updated_at = now
    db.session.add(
        WalletTransaction(
            wallet_id=wallet.id,
            billing_transaction=transaction,
            seq=(last_seq or 0) + 1,
            type=entry_type,
            amount=amount,
            balance_before=before,
            balance_after=wallet.current_balance,
            description=transaction.description,
            created_at=now,
        )
    )
    _profile(wallet).current_balance = wallet.current_balance


def _profile(wallet):
    return db.session.execute(db.select(UserProfile).filter_by(user_id=wallet.user_id)).scalar_one()
