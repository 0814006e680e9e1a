"""Money paid into a wallet: a provider's order (pending until the provider confirms it, exactly
once) or a credit completed at once (demo funds, support's credits). services/money/payments.py speaks
to the providers; this module books what they report.

A provider's order is for the top-up's total (services/money/taxes.py): the wallet amount plus the
tax, or with TOPUP_TAX_INCLUSIVE the amount typed. The top-up's billing row is the wallet credit; its
details keep the total, the tax and the buyer's state. When the payment is confirmed the wallet gets
the credit, the tax account the tax (its own leg, key `<top-up key>:tax`), and the payer a tax invoice
(services/money/invoices.py), all in one transaction.
"""

from flask_babel import gettext

from ...extensions import db
from ...models import BillingKind, BillingStatus, UserStatus, UserType, Wallet, WalletStatus, utcnow
from .. import locks, signals, wallet
from ..errors import AccountSuspended, NotAllowed, OrderClosed, PaymentMismatch, UnknownOrder, WalletFrozen
from . import invoices, taxes
from .amounts import ZERO, parse_amount, parse_topup_amount


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


def price_of(transaction):
    """What a top-up's payer pays: its total and tax (a top-up from before tax: its amount, no tax)."""
    details = transaction.details or {}
    total = parse_amount(details["total"]) if "total" in details else transaction.amount
    return total, total - transaction.amount


def ensure_can_top_up(target):
    """NotAllowed, AccountSuspended or WalletFrozen unless the wallet `target` may be topped up now."""
    if target.user.type != UserType.USER:
        # An astrologer's wallet holds earnings only: they book no consultations, and money paid in must
        # never become withdrawable (card in, bank out).
        raise NotAllowed(gettext("Top-ups are for booking consultations; an astrologer's wallet holds their earnings."))
    if target.user.status != UserStatus.ACTIVE or target.status == WalletStatus.SUSPENDED:
        raise AccountSuspended()
    if target.status == WalletStatus.FROZEN:
        raise WalletFrozen(gettext("This wallet is frozen, so it cannot be topped up. Contact support."))


def create_topup(
    wallet_id, amount, *, provider, order_id, buyer_state=None, transaction_id=None, checkout_url=None, now=None
):
    """A pending top-up for a provider's order of `amount` (what the person picked); no money moves until
    the provider confirms payment. `buyer_state`: the place of supply for the invoice."""
    now = now or utcnow()
    price = taxes.topup_price(parse_topup_amount(amount))
    target = db.session.get(Wallet, wallet_id)
    ensure_can_top_up(target)
    key = topup_key(provider, order_id)
    existing = wallet.replay(key, wallet_id=wallet_id, amount=price.credit)
    if existing is not None:
        return existing
    transaction = wallet.new_transaction(
        target,
        BillingKind.TOPUP,
        price.credit,
        key,
        now,
        status=BillingStatus.PENDING,
        payment_method=None,  # the payer chooses it at the provider's checkout
        description="Wallet top-up",
        id=transaction_id,
        details={
            "provider": provider,
            "order_id": order_id,
            "total": str(price.total),
            "tax": str(price.tax),
            "tax_percent": str(price.percent),
            "tax_name": price.name,
            "buyer_state": buyer_state or taxes.seller_state(),
            **({"checkout_url": checkout_url} if checkout_url else {}),
        },
    )
    db.session.flush()
    return transaction


def find_topup(provider, order_id):
    transaction = wallet.find_by_key(topup_key(provider, order_id))
    if transaction is None or transaction.kind != BillingKind.TOPUP:
        raise UnknownOrder()
    return transaction


def _locked(provider, order_id):
    """The top-up and the wallets it may move (its own and the tax account's), locked in id order."""
    transaction = find_topup(provider, order_id)
    tax_account = wallet.tax_wallet()
    found = locks.wallets(transaction.wallet_id, tax_account.id)
    db.session.refresh(transaction)  # its status as of now, under the wallet lock
    return transaction, found[transaction.wallet_id], found[tax_account.id]


def complete_topup(provider, order_id, *, payment_id, amount, currency=None, method=None, now=None):
    """The provider confirmed a payment of `amount` (`currency`: as the provider says; `method`: how it
    was paid): credit the wallet and the tax account and issue the invoice, exactly once. Returns
    (transaction, changed). A payment that differs from the order in amount or currency credits
    nothing: the order closes failed with the problem kept (`mismatch_of`), for an admin to settle with
    the payer (the tax page lists it)."""
    now = now or utcnow()
    transaction, own, tax_account = _locked(provider, order_id)
    if transaction.status == BillingStatus.COMPLETED:
        if transaction.external_transaction_id == payment_id:
            return transaction, False  # the provider delivered the same event again
        raise OrderClosed(gettext("This order was already paid by another payment."))
    if transaction.status != BillingStatus.PENDING:
        if "mismatch" in transaction.details and transaction.external_transaction_id == payment_id:
            return transaction, False  # this payment was refused already
        raise OrderClosed()
    total, tax = price_of(transaction)
    paid = parse_amount(amount)
    currency = (currency or transaction.currency).upper()
    if paid != total or currency != transaction.currency:
        _close(transaction, payment_id, method, now, status=BillingStatus.FAILED)
        transaction.details = {**transaction.details, "mismatch": f"{paid} {currency}"}
        db.session.flush()
        return transaction, True
    _close(transaction, payment_id, method, now, status=BillingStatus.COMPLETED)
    wallet.post(own, transaction, transaction.amount, now)
    if tax > ZERO:
        wallet.post_leg(
            tax_account,
            wallet.Leg(tax_account.id, tax_account.user_id, BillingKind.TAX, tax, f"{transaction.idempotency_key}:tax",
                       f"{transaction.details.get('tax_name', 'Tax')} on a top-up", now,
                       details={"topup_id": str(transaction.id)}),
        )  # fmt: skip
    invoices.issue_invoice(transaction, total, tax, now)
    db.session.flush()
    signals.payment_settled.send(transaction, now=now)  # the receipt, with its invoice, by e-mail
    return transaction, True


def mismatch_of(transaction):
    """A PaymentMismatch saying how a payment differed from its order, or None."""
    paid = (transaction.details or {}).get("mismatch")
    if paid is None:
        return None
    total, _ = price_of(transaction)
    return PaymentMismatch(
        gettext("The payment is for %(amount)s, the order for %(amount2)s.", amount=paid,
                amount2=f"{total} {transaction.currency}")
    )  # fmt: skip


def _close(transaction, payment_id, method, now, *, status):
    transaction.status = status
    transaction.external_transaction_id = payment_id
    transaction.payment_method = method
    transaction.processed_at = transaction.updated_at = now


def fail_topup(provider, order_id, *, payment_id, method=None, now=None):
    """The provider reports the payment failed: the order closes, nothing moves. Returns (transaction, changed)."""
    now = now or utcnow()
    transaction = wallet.lock_transaction(find_topup(provider, order_id).id)
    if transaction.status in (BillingStatus.FAILED, BillingStatus.CANCELLED):
        return transaction, False
    if transaction.status != BillingStatus.PENDING:
        raise OrderClosed()
    _close(transaction, payment_id, method, now, status=BillingStatus.FAILED)
    db.session.flush()
    return transaction, True


def expire_topup(provider, order_id, now=None):
    """Nobody paid the order in PAYMENT_EXPIRY_MINUTES (the gateway says so): it closes, nothing moves.
    Returns (transaction, changed)."""
    now = now or utcnow()
    transaction = wallet.lock_transaction(find_topup(provider, order_id).id)
    if transaction.status != BillingStatus.PENDING:
        return transaction, False
    _close(transaction, None, None, now, status=BillingStatus.CANCELLED)
    transaction.details = {**transaction.details, "expired": True}
    db.session.flush()
    return transaction, True
