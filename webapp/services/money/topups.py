"""Money paid into a wallet: a provider's order (pending until the provider confirms it, exactly
once) or a credit completed at once (demo funds, support's credits). services/money/payments.py speaks
to the providers; this module books what they report."""

from flask_babel import gettext

from ...extensions import db
from ...models import BillingKind, BillingStatus, UserStatus, UserType, Wallet, WalletStatus, utcnow
from .. import locks, signals, wallet
from ..errors import AccountSuspended, NotAllowed, OrderClosed, PaymentMismatch, UnknownOrder, WalletFrozen
from .amounts import parse_amount, parse_topup_amount


def topup_key(provider, order_id):
    return f"topup:{provider}:{order_id}"


def deposit(
    wallet_id,
    amount,
    *,
    idempotency_key,
    now=None,
    external_transaction_id=None,
    payment_method=wallet.MANUAL,
    description=None,
    details=None,
):
    """Money paid in and completed at once (demo funds, manual credits): + current and available."""
    now = now or utcnow()
    amount = parse_amount(amount)
    target = locks.wallet(wallet_id)
    existing = wallet.replay(idempotency_key, wallet_id=wallet_id, amount=amount, kind=BillingKind.TOPUP)
    if existing is not None:
        return existing
    transaction = wallet.new_transaction(
        target,
        BillingKind.TOPUP,
        amount,
        idempotency_key,
        now,
        external_transaction_id=external_transaction_id,
        payment_method=payment_method,
        description=description or "Wallet top-up",
        details=details,
    )
    wallet.post(target, transaction, amount, now)
    db.session.flush()
    return transaction


def create_topup(wallet_id, amount, *, provider, order_id, now=None):
    """A pending top-up for a provider's order; no money moves until the provider confirms payment."""
    now = now or utcnow()
    amount = parse_topup_amount(amount)
    target = db.session.get(Wallet, wallet_id)
    if target.user.type != UserType.USER:
        # An astrologer's wallet holds earnings only: they book no consultations, and money paid in must
        # never become withdrawable (card in, bank out).
        raise NotAllowed(gettext("Top-ups are for booking consultations; an astrologer's wallet holds their earnings."))
    if target.user.status != UserStatus.ACTIVE or target.status == WalletStatus.SUSPENDED:
        raise AccountSuspended()
    if target.status == WalletStatus.FROZEN:
        raise WalletFrozen(gettext("This wallet is frozen, so it cannot be topped up. Contact support."))
    key = topup_key(provider, order_id)
    existing = wallet.replay(key, wallet_id=wallet_id, amount=amount)
    if existing is not None:
        return existing
    transaction = wallet.new_transaction(
        target,
        BillingKind.TOPUP,
        amount,
        key,
        now,
        status=BillingStatus.PENDING,
        payment_method=None,  # the payer chooses it at the provider's checkout
        description="Wallet top-up",
        details={"provider": provider, "order_id": order_id},
    )
    db.session.flush()
    return transaction


def find_topup(provider, order_id):
    transaction = wallet.find_by_key(topup_key(provider, order_id))
    if transaction is None or transaction.kind != BillingKind.TOPUP:
        raise UnknownOrder()
    return transaction


def complete_topup(provider, order_id, *, payment_id, amount, method=None, now=None):
    """The provider confirmed payment (`method`: how it was paid, as the provider says): credit the
    wallet exactly once. Returns (transaction, changed)."""
    now = now or utcnow()
    transaction = wallet.lock_transaction(find_topup(provider, order_id).id)
    if transaction.status == BillingStatus.COMPLETED:
        if transaction.external_transaction_id == payment_id:
            return transaction, False  # the provider delivered the same event again
        raise OrderClosed(gettext("This order was already paid by another payment."))
    if transaction.status != BillingStatus.PENDING:
        raise OrderClosed()
    if parse_amount(amount) != transaction.amount:
        raise PaymentMismatch(
            gettext(
                "The payment is for %(amount)s, the order for %(amount2)s.", amount=amount, amount2=transaction.amount
            )
        )
    transaction.status = BillingStatus.COMPLETED
    transaction.external_transaction_id = payment_id
    transaction.payment_method = method
    transaction.processed_at = transaction.updated_at = now
    wallet.post(db.session.get(Wallet, transaction.wallet_id), transaction, transaction.amount, now)
    db.session.flush()
    signals.payment_settled.send(transaction, now=now)  # the receipt, by e-mail
    return transaction, True


def fail_topup(provider, order_id, *, payment_id, method=None, now=None):
    """The provider reports the payment failed: the order closes, nothing moves. Returns (transaction, changed)."""
    now = now or utcnow()
    transaction = wallet.lock_transaction(find_topup(provider, order_id).id)
    if transaction.status == BillingStatus.FAILED:
        return transaction, False
    if transaction.status != BillingStatus.PENDING:
        raise OrderClosed()
    transaction.status = BillingStatus.FAILED
    transaction.external_transaction_id = payment_id
    transaction.payment_method = method
    transaction.processed_at = transaction.updated_at = now
    db.session.flush()
    return transaction, True
