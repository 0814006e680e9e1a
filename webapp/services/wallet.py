"""The wallet ledger: the only code that changes balances.

Every operation takes (or derives) an idempotency key, locks the rows it
touches with SELECT ... FOR UPDATE, writes a billing_transactions row per
leg and, for each change of a current_balance, a wallet_transactions row
chained by balance_before/after; it keeps the user_profiles mirror (balance,
total_credited, total_debited, balance_updated_at), wallets.last_transaction_at
and the astrologer's total_earnings in the same transaction. Every row gets
the seed's transaction_type from its kind (models/enums.py). A repeated key
returns the first result and moves no money; the same key with different
details is an IdempotencyConflict. Refusals are domain errors raised before anything is
written, never a CHECK constraint firing. Functions flush; the caller commits.

Locking order, everywhere (services/locks.py): the astrologer's profile and the
consultation session (when the operation concerns a session), then wallets in
ascending id order. Two operations therefore never wait on each other in a cycle.

Balances: `available` is spendable; `held` is reserved (waiting consultation
requests, pending payouts); `current` = available + held is what the owner
has. Holds and releases move money between available and held and so have a
billing row but no wallet row.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import current_app

from ..extensions import db
from ..models import (
    BILLING_TRANSACTION_TYPES,
    WALLET_ENTRY_TYPES,
    AstrologerProfile,
    BillingKind,
    BillingStatus,
    BillingTransaction,
    UserProfile,
    UserStatus,
    UserType,
    Wallet,
    WalletDirection,
    WalletStatus,
    WalletTransaction,
    utcnow,
)
from ..models.types import PAISE
from . import accounts, locks, paging
from .errors import (
    AccountSuspended,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    NotAllowed,
    NothingToRefund,
    OrderClosed,
    PaymentMismatch,
    PayoutClosed,
    RefundTooLarge,
    UnknownOrder,
    WalletFrozen,
    WalletSuspended,
)

ZERO = Decimal("0.00")
#: billing_transactions.payment_method of what is paid from or into a wallet balance.
WALLET_METHOD = "wallet"
#: ... of a payout, sent to the astrologer's bank account.
BANK_TRANSFER = "bank_transfer"
#: ... of money credited by hand (demo funds, support's credits), not through a provider.
MANUAL = "manual"


# ---------------------------------------------------------------- amounts


#: What a person may type: digits with at most one decimal point, grouped (if at all) exactly as
#: India writes them (1,00,000.50) or as most of the world does (100,000.50). "100,00" is refused,
#: not read as ten thousand.
TYPED_AMOUNT = re.compile(r"^(?:\d+|\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})+,\d{3})(?:\.\d+)?$", re.ASCII)


def parse_amount(value):
    """A positive Decimal with at most 2 decimal places, or InvalidAmount. Text must be a plain or
    correctly grouped amount (TYPED_AMOUNT); Decimal and int pass as they are."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal or str, never float")
    if not isinstance(value, Decimal | int):
        text = str(value).strip()
        if text.startswith("-") and TYPED_AMOUNT.match(text[1:]):
            raise InvalidAmount("The amount must be more than zero.")
        if not TYPED_AMOUNT.match(text):
            raise InvalidAmount("Enter an amount such as 500, 1,000 or 499.50.")
        value = text.replace(",", "")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise InvalidAmount("Enter an amount such as 500 or 499.50.") from None
    if not amount.is_finite():
        raise InvalidAmount("Enter an amount such as 500 or 499.50.")
    if amount <= 0:
        raise InvalidAmount("The amount must be more than zero.")
    if amount >= Decimal("100000000"):  # before quantize, which cannot hold a thousand digits
        raise InvalidAmount("The amount is too large.")
    if amount != amount.quantize(PAISE):
        raise InvalidAmount("The amount can have at most 2 decimal places (paise).")
    return amount.quantize(PAISE)


def parse_topup_amount(value):
    """A top-up amount within TOPUP_MIN..TOPUP_MAX, or InvalidAmount saying the bound."""
    amount = parse_amount(value)
    config = current_app.config
    if amount < config["TOPUP_MIN"]:
        raise InvalidAmount(f"The minimum top-up is {config['CURRENCY']} {config['TOPUP_MIN']:,.2f}.")
    if amount > config["TOPUP_MAX"]:
        raise InvalidAmount(f"The maximum top-up is {config['CURRENCY']} {config['TOPUP_MAX']:,.2f}.")
    return amount


def split_minute(amount, commission_percent):
    """(astrologer share, platform commission) of one minute's charge; they sum to `amount` exactly.

    The astrologer's share is rounded half-up to paise; the platform gets the rest.
    """
    share = (amount * (100 - commission_percent) / 100).quantize(PAISE, rounding=ROUND_HALF_UP)
    return share, amount - share


# ---------------------------------------------------------------- lookups and locks


def find_by_key(idempotency_key):
    return db.session.execute(
        db.select(BillingTransaction).filter_by(idempotency_key=idempotency_key)
    ).scalar_one_or_none()


def wallet_of(user_id):
    return db.session.execute(db.select(Wallet).filter_by(user_id=user_id)).scalar_one()


def platform_wallet():
    """The wallet that receives the platform's commission."""
    return wallet_of(accounts.platform_user().id)


def lock_wallets(*wallet_ids):
    """The wallets, locked for update in id order (the one locking order); a dict by id."""
    ids = sorted(set(wallet_ids))
    rows = db.session.execute(
        db.select(Wallet)
        .where(Wallet.id.in_(ids))
        .order_by(Wallet.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    wallets = {wallet.id: wallet for wallet in rows}
    missing = set(ids) - set(wallets)
    if missing:
        raise LookupError(f"no wallet {sorted(missing)[0]}")
    return wallets


def _lock_transaction(transaction_id):
    transaction = db.session.get(BillingTransaction, transaction_id)
    if transaction is None:
        raise UnknownOrder()
    lock_wallets(transaction.wallet_id)
    db.session.refresh(transaction)  # its status as of now, under the wallet lock
    return transaction


def _replay(idempotency_key, **expected):
    """The transaction already stored under `idempotency_key`, checked against what is asked now."""
    transaction = find_by_key(idempotency_key)
    if transaction is not None:
        for field, value in expected.items():
            if value is not None and getattr(transaction, field) != value:
                raise IdempotencyConflict(f"Key {idempotency_key!r} was used with a different {field}.")
    return transaction


# ---------------------------------------------------------------- posting


def _new(
    wallet,
    kind,
    amount,
    key,
    now,
    *,
    status=BillingStatus.COMPLETED,
    session_id=None,
    payment_method=WALLET_METHOD,
    **fields,
):
    transaction = BillingTransaction(
        id=uuid.uuid4(),  # known before the flush: the wallet entry refers to it
        user_id=wallet.user_id,
        wallet_id=wallet.id,
        session_id=session_id,
        kind=kind,
        transaction_type=BILLING_TRANSACTION_TYPES[kind],
        status=status,
        amount=amount,
        currency=wallet.currency,
        idempotency_key=key,
        payment_method=payment_method,
        created_at=now,
        updated_at=now,
        processed_at=None if status == BillingStatus.PENDING else now,
        details=fields.pop("details", None) or {},
        **fields,
    )
    db.session.add(transaction)
    return transaction


def _ensure_can_pay(wallet, amount, what="this"):
    if wallet.status == WalletStatus.FROZEN:
        raise WalletFrozen()
    if wallet.status == WalletStatus.SUSPENDED:
        raise WalletSuspended()
    if wallet.available_balance < amount:
        raise InsufficientBalance(
            f"Your available balance ({wallet.currency} {wallet.available_balance:,.2f}) does not cover {what} "
            f"({wallet.currency} {amount:,.2f}).",
            needed=amount,
            available=wallet.available_balance,
        )


def _moved(wallet, now):
    """Money moved in `wallet` at `now` (a balance of any kind changed)."""
    wallet.updated_at = now
    wallet.last_transaction_at = max(wallet.last_transaction_at or now, now)


def _post(wallet, transaction, amount, now, *, bucket="available"):
    """Change current (and `bucket`: available or held) by `amount` in the direction of the
    transaction's kind; chain a wallet_transactions row; keep the profile's mirror of it."""
    direction, transaction_type = WALLET_ENTRY_TYPES[transaction.kind]
    last_seq = db.session.execute(
        db.select(db.func.max(WalletTransaction.seq)).where(WalletTransaction.wallet_id == wallet.id)
    ).scalar()
    signed = amount if direction == WalletDirection.CREDIT else -amount
    before = wallet.current_balance
    wallet.current_balance = before + signed
    setattr(wallet, f"{bucket}_balance", getattr(wallet, f"{bucket}_balance") + signed)
    _moved(wallet, now)
    db.session.add(
        WalletTransaction(
            wallet_id=wallet.id,
            billing_transaction=transaction,
            seq=(last_seq or 0) + 1,
            direction=direction,
            transaction_type=transaction_type,
            amount=amount,
            balance_before=before,
            balance_after=wallet.current_balance,
            description=transaction.description,
            reference_id=transaction.external_transaction_id or str(transaction.id),
            created_at=now,
            updated_at=now,
        )
    )
    profile = _profile(wallet.user_id)
    profile.current_balance = wallet.current_balance
    if direction == WalletDirection.CREDIT:
        profile.total_credited += amount
    else:
        profile.total_debited += amount
    profile.balance_updated_at = max(profile.balance_updated_at or now, now)


def _move(wallet, amount, *, to_held, now):
    """available -> held (to_held) or held -> available; current is unchanged."""
    signed = amount if to_held else -amount
    wallet.available_balance -= signed
    wallet.held_balance += signed
    _moved(wallet, now)


def _profile(user_id):
    return db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()


def _astrologer_profile(astrologer_id):
    return db.session.execute(db.select(AstrologerProfile).filter_by(astrologer_id=astrologer_id)).scalar_one_or_none()


def follow_owner_status(wallet, user, now=None):
    """`wallet` (the user's) is suspended while its owner's account is not active and active again
    with it; a frozen wallet stays frozen. No money moves."""
    if wallet.status == WalletStatus.FROZEN:
        return wallet
    status = WalletStatus.ACTIVE if user.status == UserStatus.ACTIVE else WalletStatus.SUSPENDED
    if wallet.status != status:
        wallet.status = status
        wallet.updated_at = now or utcnow()
    return wallet


# ---------------------------------------------------------------- top-ups


def topup_key(provider, order_id):
    return f"topup:{provider}:{order_id}"


def deposit(
    wallet_id,
    amount,
    *,
    idempotency_key,
    now=None,
    external_transaction_id=None,
    payment_method=MANUAL,
    description=None,
    details=None,
):
    """Money paid in and completed at once (demo funds, manual credits): + current and available."""
    now = now or utcnow()
    amount = parse_amount(amount)
    wallet = lock_wallets(wallet_id)[wallet_id]
    existing = _replay(idempotency_key, wallet_id=wallet_id, amount=amount, kind=BillingKind.TOPUP)
    if existing is not None:
        return existing
    transaction = _new(
        wallet,
        BillingKind.TOPUP,
        amount,
        idempotency_key,
        now,
        external_transaction_id=external_transaction_id,
        payment_method=payment_method,
        description=description or "Wallet top-up",
        details=details,
    )
    _post(wallet, transaction, amount, now)
    db.session.flush()
    return transaction


def create_topup(wallet_id, amount, *, provider, order_id, now=None):
    """A pending top-up for a provider's order; no money moves until the provider confirms payment."""
    now = now or utcnow()
    amount = parse_topup_amount(amount)
    wallet = db.session.get(Wallet, wallet_id)
    if wallet.user.status != UserStatus.ACTIVE or wallet.status == WalletStatus.SUSPENDED:
        raise AccountSuspended()
    if wallet.status == WalletStatus.FROZEN:
        raise WalletFrozen("This wallet is frozen, so it cannot be topped up. Contact support.")
    key = topup_key(provider, order_id)
    existing = _replay(key, wallet_id=wallet_id, amount=amount)
    if existing is not None:
        return existing
    transaction = _new(
        wallet,
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
    transaction = find_by_key(topup_key(provider, order_id))
    if transaction is None or transaction.kind != BillingKind.TOPUP:
        raise UnknownOrder()
    return transaction


def complete_topup(provider, order_id, *, payment_id, amount, method=None, now=None):
    """The provider confirmed payment (`method`: how it was paid, as the provider says): credit the
    wallet exactly once. Returns (transaction, changed)."""
    now = now or utcnow()
    transaction = _lock_transaction(find_topup(provider, order_id).id)
    if transaction.status == BillingStatus.COMPLETED:
        if transaction.external_transaction_id == payment_id:
            return transaction, False  # the provider delivered the same event again
        raise OrderClosed("This order was already paid by another payment.")
    if transaction.status != BillingStatus.PENDING:
        raise OrderClosed()
    if parse_amount(amount) != transaction.amount:
        raise PaymentMismatch(f"The payment is for {amount}, the order for {transaction.amount}.")
    wallet = db.session.get(Wallet, transaction.wallet_id)
    transaction.status = BillingStatus.COMPLETED
    transaction.external_transaction_id = payment_id
    transaction.payment_method = method
    transaction.processed_at = transaction.updated_at = now
    _post(wallet, transaction, transaction.amount, now)
    db.session.flush()
    return transaction, True


def fail_topup(provider, order_id, *, payment_id, method=None, now=None):
    """The provider reports the payment failed: the order closes, nothing moves. Returns (transaction, changed)."""
    now = now or utcnow()
    transaction = _lock_transaction(find_topup(provider, order_id).id)
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


# ---------------------------------------------------------------- holds


def hold(
    wallet_id, amount, *, idempotency_key, session_id=None, now=None, description="Held for a consultation request"
):
    """Reserve `amount`: available -> held. InsufficientBalance / WalletFrozen when it cannot."""
    now = now or utcnow()
    amount = parse_amount(amount)
    wallet = lock_wallets(wallet_id)[wallet_id]
    existing = _replay(idempotency_key, wallet_id=wallet_id, amount=amount, kind=BillingKind.HOLD)
    if existing is not None:
        return existing
    _ensure_can_pay(wallet, amount, "the amount to hold")
    transaction = _new(
        wallet, BillingKind.HOLD, amount, idempotency_key, now, session_id=session_id, description=description
    )
    _move(wallet, amount, to_held=True, now=now)
    db.session.flush()
    return transaction


def release(hold_transaction, *, now=None, description="Hold released"):
    """Give a hold back: held -> available, once (the key derives from the hold's)."""
    now = now or utcnow()
    key = f"{hold_transaction.idempotency_key}:release"
    wallet = lock_wallets(hold_transaction.wallet_id)[hold_transaction.wallet_id]
    existing = find_by_key(key)
    if existing is not None:
        return existing
    transaction = _new(
        wallet,
        BillingKind.RELEASE,
        hold_transaction.amount,
        key,
        now,
        session_id=hold_transaction.session_id,
        description=description,
        details={"hold_id": str(hold_transaction.id)},
    )
    _move(wallet, hold_transaction.amount, to_held=False, now=now)
    db.session.flush()
    return transaction


# ---------------------------------------------------------------- session charges


@dataclass(frozen=True)
class MinuteCharge:
    """The legs of one charged minute; earning or commission is None when its share is zero."""

    debit: BillingTransaction
    earning: BillingTransaction | None
    commission: BillingTransaction | None


def minute_key(session_id, minute, leg):
    return f"session:{session_id}:minute:{minute}:{leg}"


def charge_minute(session_id, minute, *, commission_percent, now=None):
    """Charge minute `minute` of a session at its frozen rate: debit the user, credit the astrologer
    their share and the platform the rest, in one transaction. Idempotent per (session, minute).

    Raises InsufficientBalance (nothing written) when the user cannot pay it.
    """
    now = now or utcnow()
    _, session = locks.session_and_profile(session_id)  # the profile first: its total_earnings is written
    keys = {leg: minute_key(session_id, minute, leg) for leg in ("debit", "credit", "commission")}
    debit = _replay(keys["debit"], amount=session.rate_per_minute)
    if debit is not None:
        return MinuteCharge(debit, find_by_key(keys["credit"]), find_by_key(keys["commission"]))
    amount = session.rate_per_minute
    if amount <= 0:
        raise InvalidAmount("A session's rate must be more than zero to charge it.")
    share, commission = split_minute(amount, commission_percent)
    user_wallet, astrologer_wallet, house = (
        wallet_of(session.user_id),
        wallet_of(session.astrologer_id),
        platform_wallet(),
    )
    wallets = lock_wallets(user_wallet.id, astrologer_wallet.id, house.id)
    user_wallet, astrologer_wallet, house = wallets[user_wallet.id], wallets[astrologer_wallet.id], wallets[house.id]
    _ensure_can_pay(user_wallet, amount, f"minute {minute}")

    legs = dict(session_id=session.id, minute=minute)
    debit = _new(
        user_wallet, BillingKind.CHARGE, amount, keys["debit"], now, description=f"Consultation minute {minute}", **legs
    )
    _post(user_wallet, debit, amount, now)
    earning = commission_row = None
    if share > 0:
        earning = _new(
            astrologer_wallet,
            BillingKind.EARNING,
            share,
            keys["credit"],
            now,
            description=f"Earning, minute {minute}",
            **legs,
        )
        _post(astrologer_wallet, earning, share, now)
    if commission > 0:
        commission_row = _new(
            house,
            BillingKind.COMMISSION,
            commission,
            keys["commission"],
            now,
            description=f"Commission, minute {minute}",
            **legs,
        )
        _post(house, commission_row, commission, now)

    session.total_cost += amount
    session.billed_minutes += 1
    session.updated_at = now
    astrologer = _astrologer_profile(session.astrologer_id)
    if astrologer is not None:
        astrologer.total_earnings += share
    db.session.flush()
    return MinuteCharge(debit, earning, commission_row)


# ---------------------------------------------------------------- refunds


@dataclass(frozen=True)
class Refund:
    refund: BillingTransaction
    astrologer_reversal: BillingTransaction | None
    platform_reversal: BillingTransaction | None


def refund_key(session_id, number):
    return f"session:{session_id}:refund:{number}"


def _session_sums(session_id):
    rows = db.session.execute(
        db.select(BillingTransaction.kind, db.func.sum(BillingTransaction.amount))
        .where(BillingTransaction.session_id == session_id, BillingTransaction.status == BillingStatus.COMPLETED)
        .group_by(BillingTransaction.kind)
    ).all()
    return {type: total for type, total in rows}


def _reversed_by(session_id, wallet_id):
    total = db.session.execute(
        db.select(db.func.sum(BillingTransaction.amount)).where(
            BillingTransaction.session_id == session_id,
            BillingTransaction.wallet_id == wallet_id,
            BillingTransaction.kind == BillingKind.REVERSAL,
        )
    ).scalar()
    return total or ZERO


def refund(session_id, *, number, amount=None, reason, now=None, actor_id=None):
    """Give back `amount` (default: all that is left) of a session's charges to the user, reversing the
    astrologer's and the platform's shares in proportion. Refund `number` n (1, 2, ...) is idempotent:
    a double submit of the same n moves no money twice.
    """
    now = now or utcnow()
    _, session = locks.session_and_profile(session_id)  # the profile first: its total_earnings is written
    key = refund_key(session_id, number)
    existing = _replay(key, amount=None if amount is None else parse_amount(amount))
    if existing is not None:
        return Refund(existing, find_by_key(f"{key}:astrologer"), find_by_key(f"{key}:platform"))
    refundable = session.total_cost
    if refundable <= 0:
        raise NothingToRefund()
    amount = refundable if amount is None else parse_amount(amount)
    if amount > refundable:
        raise RefundTooLarge(f"At most {refundable:,.2f} is left to refund for this session.")

    user_wallet, astrologer_wallet, house = (
        wallet_of(session.user_id),
        wallet_of(session.astrologer_id),
        platform_wallet(),
    )
    sums = _session_sums(session_id)
    earned = sums.get(BillingKind.EARNING, ZERO) - _reversed_by(session_id, astrologer_wallet.id)
    commissioned = sums.get(BillingKind.COMMISSION, ZERO) - _reversed_by(session_id, house.id)
    if amount == refundable:
        # The last refund reverses exactly what is left, so rounding never leaves a paisa behind.
        astrologer_part, platform_part = earned, commissioned
    else:
        astrologer_part = min((amount * earned / refundable).quantize(PAISE, rounding=ROUND_HALF_UP), earned)
        platform_part = amount - astrologer_part
    wallets = lock_wallets(user_wallet.id, astrologer_wallet.id, house.id)
    user_wallet, astrologer_wallet, house = wallets[user_wallet.id], wallets[astrologer_wallet.id], wallets[house.id]
    if astrologer_wallet.available_balance < astrologer_part:
        raise InsufficientBalance(
            "The astrologer's available balance cannot cover the reversal of their share "
            f"({astrologer_part:,.2f}); it may have been paid out."
        )

    details = {"reason": reason, "actor_id": str(actor_id) if actor_id else None}
    legs = dict(session_id=session.id, details=details)
    refund_row = _new(user_wallet, BillingKind.REFUND, amount, key, now, description=f"Refund: {reason}"[:500], **legs)
    _post(user_wallet, refund_row, amount, now)
    astrologer_row = platform_row = None
    if astrologer_part > 0:
        astrologer_row = _new(
            astrologer_wallet,
            BillingKind.REVERSAL,
            astrologer_part,
            f"{key}:astrologer",
            now,
            description="Refund reversal of earnings",
            **legs,
        )
        _post(astrologer_wallet, astrologer_row, astrologer_part, now)
    if platform_part > 0:
        platform_row = _new(
            house,
            BillingKind.REVERSAL,
            platform_part,
            f"{key}:platform",
            now,
            description="Refund reversal of commission",
            **legs,
        )
        _post(house, platform_row, platform_part, now)

    session.total_cost -= amount
    session.updated_at = now
    astrologer = _astrologer_profile(session.astrologer_id)
    if astrologer is not None:
        astrologer.total_earnings -= astrologer_part
    db.session.flush()
    return Refund(refund_row, astrologer_row, platform_row)


def next_refund_number(session_id):
    """The n for the next refund of a session (forms carry it, so a double submit repeats it)."""
    count = db.session.execute(
        db.select(db.func.count(BillingTransaction.id)).where(
            BillingTransaction.session_id == session_id, BillingTransaction.kind == BillingKind.REFUND
        )
    ).scalar_one()
    return count + 1


# ---------------------------------------------------------------- payouts


def payout_key(payout_id):
    return f"payout:{payout_id}"


def request_payout(wallet_id, amount, *, payout_id, now=None):
    """An astrologer asks to withdraw `amount`: it is held until an admin approves or rejects."""
    now = now or utcnow()
    amount = parse_amount(amount)
    wallet = lock_wallets(wallet_id)[wallet_id]
    if wallet.user.type != UserType.ASTROLOGER:
        raise NotAllowed("Only astrologers can request payouts.")
    key = payout_key(payout_id)
    existing = _replay(key, wallet_id=wallet_id, amount=amount)
    if existing is not None:
        return existing
    _ensure_can_pay(wallet, amount, "the payout")
    transaction = _new(
        wallet,
        BillingKind.PAYOUT,
        amount,
        key,
        now,
        status=BillingStatus.PENDING,
        payment_method=BANK_TRANSFER,
        description="Payout to bank account",
    )
    _move(wallet, amount, to_held=True, now=now)
    db.session.flush()
    return transaction


def approve_payout(transaction_id, *, reference=None, now=None, actor_id=None):
    """The payout was sent (`reference`: the bank's reference of the transfer, when known): the held
    amount leaves the wallet (current and held go down)."""
    now = now or utcnow()
    transaction = _lock_payout(transaction_id)
    if transaction.status == BillingStatus.COMPLETED:
        return transaction
    if transaction.status != BillingStatus.PENDING:
        raise PayoutClosed()
    wallet = db.session.get(Wallet, transaction.wallet_id)
    transaction.status = BillingStatus.COMPLETED
    transaction.external_transaction_id = reference
    transaction.processed_at = transaction.updated_at = now
    transaction.details = {**transaction.details, "approved_by": str(actor_id) if actor_id else None}
    _post(wallet, transaction, transaction.amount, now, bucket="held")
    db.session.flush()
    return transaction


def reject_payout(transaction_id, *, reason, now=None, actor_id=None):
    """The payout will not be sent: the held amount becomes available again."""
    now = now or utcnow()
    transaction = _lock_payout(transaction_id)
    if transaction.status == BillingStatus.CANCELLED:
        return transaction
    if transaction.status != BillingStatus.PENDING:
        raise PayoutClosed()
    wallet = db.session.get(Wallet, transaction.wallet_id)
    transaction.status = BillingStatus.CANCELLED
    transaction.processed_at = transaction.updated_at = now
    transaction.details = {**transaction.details, "rejected_by": str(actor_id) if actor_id else None, "reason": reason}
    _move(wallet, transaction.amount, to_held=False, now=now)
    db.session.flush()
    return transaction


def _lock_payout(transaction_id):
    transaction = _lock_transaction(transaction_id)
    if transaction.kind != BillingKind.PAYOUT:
        raise UnknownOrder("There is no such payout.")
    return transaction


# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class StatementLine:
    transaction: BillingTransaction
    balance_after: Decimal | None  # None when current_balance did not change (holds, pending)


@dataclass(frozen=True)
class Statement:
    lines: list
    page: int
    has_more: bool


def statement(wallet_id, page=1, per_page=20):
    """A wallet's billing transactions, newest first, with the balance after each one that moved money."""
    page = paging.clamp_page(page)
    rows = db.session.execute(
        db.select(BillingTransaction, WalletTransaction.balance_after)
        .outerjoin(WalletTransaction, WalletTransaction.billing_transaction_id == BillingTransaction.id)
        .where(BillingTransaction.wallet_id == wallet_id)
        .order_by(BillingTransaction.created_at.desc(), BillingTransaction.id.desc())
        .limit(per_page + 1)
        .offset(paging.offset(page, per_page))
    ).all()
    lines = [StatementLine(transaction, balance_after) for transaction, balance_after in rows[:per_page]]
    return Statement(lines=lines, page=page, has_more=len(rows) > per_page)


# ---------------------------------------------------------------- set-based minute charging (PostgreSQL)


def _array(values):
    """A PostgreSQL array literal of `values` as one text parameter, for CAST(:name AS type[]).

    psycopg2 sends a Python list as ARRAY[...], an expression per element that the server must
    parse and plan; at thousands of elements the literal is parsed several times faster.
    """
    return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


@dataclass(frozen=True)
class BatchCharge:
    """One minute charged by `charge_due_batch`."""

    session_id: object
    user_id: object
    astrologer_id: object
    minute: int
    billed_minutes: int
    total_cost: Decimal
    balance: Decimal  # the user's available balance after the charge
    rate: Decimal


def charge_due_batch(now, *, limit, minute_seconds, grace_seconds, commission_percent, free_first_minutes):
    """Charge the next minute of up to `limit` due sessions in a handful of statements (PostgreSQL only).

    The same legs, keys, wallet entries (chained per wallet) and totals as
    charge_minute, written set-based: the astrologers' profiles, then their
    sessions claimed with FOR UPDATE SKIP LOCKED, wallets locked in id order,
    every row written by one INSERT or UPDATE over arrays. Sessions it cannot
    charge plainly (a free minute, a
    minute overdue beyond the grace, a short or frozen wallet, a key already
    used) are left for the per-session path, which applies the end rules.
    Returns the BatchCharges; the caller commits.
    """
    # Raw SQL: ids travel as text (cast in the SELECTs, parsed back by CAST(... AS uuid[])), amounts as Decimal.
    due = """
        status = 'active' AND next_charge_at <= :now AND next_charge_at >= :oldest
        AND billed_minutes + free_minutes + 1 > :free_first
    """
    window = {"now": now, "oldest": now - timedelta(seconds=grace_seconds), "free_first": free_first_minutes}
    candidates = db.session.execute(
        db.text(f"SELECT id::text, astrologer_id::text FROM consultation_sessions WHERE {due}"
                " ORDER BY next_charge_at LIMIT :limit"),
        {**window, "limit": limit},
    ).all()  # fmt: skip
    if not candidates:
        return []
    # The lock order: the astrologers' profiles (total_earnings is written) before their sessions. A
    # profile or session someone else holds (a session being ended) is skipped, not waited for.
    astrologers = set(
        db.session.execute(
            db.text(
                "SELECT astrologer_id::text FROM astrologer_profiles WHERE astrologer_id = ANY(CAST(:ids AS uuid[]))"
                " ORDER BY astrologer_id FOR UPDATE SKIP LOCKED"
            ),
            {"ids": _array({row.astrologer_id for row in candidates})},
        ).scalars()
    )
    claimable = _array(row.id for row in candidates if row.astrologer_id in astrologers)
    claimed = db.session.execute(
        db.text(
            f"""
            SELECT id::text AS id, user_id::text AS user_id, astrologer_id::text AS astrologer_id, rate_per_minute,
                   started_at, next_charge_at, billed_minutes, free_minutes, total_cost
            FROM consultation_sessions
            WHERE id = ANY(CAST(:ids AS uuid[])) AND {due}
            ORDER BY id
            FOR UPDATE SKIP LOCKED
            """
        ),
        {**window, "ids": claimable},
    ).all()
    if not claimed:
        return []
    house = str(platform_wallet().user_id)
    people = {row.user_id for row in claimed} | {row.astrologer_id for row in claimed} | {house}
    wallets = {
        row.user_id: row
        for row in db.session.execute(
            db.text(
                "SELECT id::text AS id, user_id::text AS user_id, current_balance, available_balance, status"
                " FROM wallets"
                " WHERE user_id = ANY(CAST(:people AS uuid[])) ORDER BY id FOR UPDATE"
            ),
            {"people": _array(people)},
        )
    }
    keys = {row.id: minute_key(row.id, row.billed_minutes + row.free_minutes + 1, "debit") for row in claimed}
    used = set(
        db.session.execute(
            db.text(
                "SELECT idempotency_key FROM billing_transactions WHERE idempotency_key = ANY(CAST(:keys AS varchar[]))"
            ),
            {"keys": _array(keys.values())},
        ).scalars()
    )
    payable = [
        row
        for row in claimed
        if keys[row.id] not in used
        and wallets[row.user_id].status == WalletStatus.ACTIVE.value
        and wallets[row.user_id].available_balance >= row.rate_per_minute
        and row.rate_per_minute > 0
    ]
    if not payable:
        return []

    balances = {w.id: [w.current_balance, w.available_balance] for w in wallets.values()}
    last_seq = {
        str(wallet_id): seq
        for wallet_id, seq in db.session.execute(
            db.text(
                "SELECT wallet_id, max(seq) FROM wallet_transactions WHERE wallet_id = ANY(CAST(:ids AS uuid[]))"
                " GROUP BY wallet_id"
            ),
            {"ids": _array(balances)},
        )
    }
    billing_rows, entries, charges = [], [], []
    earned, credited, debited, latest = {}, {}, {}, {}
    for row in sorted(payable, key=lambda r: r.id):
        minute = row.billed_minutes + row.free_minutes + 1
        share, commission = split_minute(row.rate_per_minute, commission_percent)
        legs = [
            (wallets[row.user_id], BillingKind.CHARGE, row.rate_per_minute, "debit", f"Consultation minute {minute}"),
            (wallets[row.astrologer_id], BillingKind.EARNING, share, "credit", f"Earning, minute {minute}"),
            (wallets[house], BillingKind.COMMISSION, commission, "commission", f"Commission, minute {minute}"),
        ]
        at = row.next_charge_at
        for owner, kind, amount, leg, description in legs:
            if amount <= 0:
                continue
            billing_id = str(uuid.uuid4())
            billing_rows.append(
                (billing_id, owner.user_id, owner.id, row.id, kind.value, BILLING_TRANSACTION_TYPES[kind].value, amount,
                 minute_key(row.id, minute, leg), minute, description, at)
            )  # fmt: skip
            direction, transaction_type = WALLET_ENTRY_TYPES[kind]
            signed, totals = (amount, credited) if direction == WalletDirection.CREDIT else (-amount, debited)
            before = balances[owner.id][0]
            balances[owner.id][0] += signed
            balances[owner.id][1] += signed
            totals[owner.id] = totals.get(owner.id, ZERO) + amount
            latest[owner.id] = max(latest.get(owner.id, at), at)
            last_seq[owner.id] = (last_seq.get(owner.id) or 0) + 1
            entries.append(
                (str(uuid.uuid4()), owner.id, billing_id, last_seq[owner.id], direction.value, transaction_type.value,
                 amount, before, before + signed, description, billing_id, at)
            )  # fmt: skip
        earned[row.astrologer_id] = earned.get(row.astrologer_id, ZERO) + share
        charges.append(
            BatchCharge(
                session_id=row.id,
                user_id=row.user_id,
                astrologer_id=row.astrologer_id,
                minute=minute,
                billed_minutes=row.billed_minutes + 1,
                total_cost=row.total_cost + row.rate_per_minute,
                balance=balances[wallets[row.user_id].id][1],
                rate=row.rate_per_minute,
            )
        )

    columns = list(zip(*billing_rows, strict=True))
    db.session.execute(
        db.text(
            """
            INSERT INTO billing_transactions (id, user_id, wallet_id, session_id, kind, transaction_type, status, amount,
                currency, idempotency_key, payment_method, minute, description, details, created_at, updated_at, processed_at)
            SELECT b.id, b.user_id, b.wallet_id, b.session_id, b.kind, b.transaction_type, 'completed', b.amount,
                   :currency, b.key, :method, b.minute, b.description, '{}'::jsonb, b.at, b.at, b.at
            FROM unnest(CAST(:ids AS uuid[]), CAST(:users AS uuid[]), CAST(:wallets AS uuid[]), CAST(:sessions AS uuid[]), CAST(:kinds AS varchar[]),
                        CAST(:types AS varchar[]), CAST(:amounts AS numeric[]), CAST(:keys AS varchar[]), CAST(:minutes AS int[]),
                        CAST(:descriptions AS varchar[]), CAST(:ats AS timestamptz[]))
                 AS b(id, user_id, wallet_id, session_id, kind, transaction_type, amount, key, minute, description, at)
            """
        ),
        dict(zip(("ids", "users", "wallets", "sessions", "kinds", "types", "amounts", "keys", "minutes", "descriptions",
                  "ats"), map(_array, columns), strict=True), currency=current_app.config["CURRENCY"], method=WALLET_METHOD),
    )  # fmt: skip
    columns = list(zip(*entries, strict=True))
    db.session.execute(
        db.text(
            """
            INSERT INTO wallet_transactions (id, wallet_id, billing_transaction_id, seq, direction, transaction_type, amount,
                balance_before, balance_after, description, reference_id, created_at, updated_at)
            SELECT e.*, e.at FROM unnest(CAST(:ids AS uuid[]), CAST(:wallets AS uuid[]), CAST(:billing AS uuid[]), CAST(:seqs AS int[]),
                                 CAST(:directions AS varchar[]), CAST(:types AS varchar[]), CAST(:amounts AS numeric[]),
                                 CAST(:befores AS numeric[]), CAST(:afters AS numeric[]), CAST(:descriptions AS varchar[]),
                                 CAST(:references AS varchar[]), CAST(:ats AS timestamptz[]))
                 AS e(id, wallet_id, billing_id, seq, direction, transaction_type, amount, before, after, description, reference, at)
            """
        ),
        dict(zip(("ids", "wallets", "billing", "seqs", "directions", "types", "amounts", "befores", "afters",
                  "descriptions", "references", "ats"), map(_array, columns), strict=True)),
    )  # fmt: skip
    touched = [wallet_id for wallet_id in last_seq if wallet_id in latest]
    db.session.execute(
        db.text(
            """
            UPDATE wallets w SET current_balance = v.current, available_balance = v.available, updated_at = :now,
                   last_transaction_at = GREATEST(w.last_transaction_at, v.at)
            FROM unnest(CAST(:ids AS uuid[]), CAST(:currents AS numeric[]), CAST(:availables AS numeric[]),
                        CAST(:ats AS timestamptz[])) AS v(id, current, available, at)
            WHERE w.id = v.id
            """
        ),
        {
            "ids": _array(touched),
            "currents": _array(balances[w][0] for w in touched),
            "availables": _array(balances[w][1] for w in touched),
            "ats": _array(latest[w] for w in touched),
            "now": now,
        },
    )
    owners = {w.id: w.user_id for w in wallets.values()}
    db.session.execute(
        db.text(
            """
            UPDATE user_profiles p SET current_balance = v.current, total_credited = p.total_credited + v.credited,
                   total_debited = p.total_debited + v.debited, balance_updated_at = GREATEST(p.balance_updated_at, v.at),
                   updated_at = :now
            FROM unnest(CAST(:users AS uuid[]), CAST(:currents AS numeric[]), CAST(:credited AS numeric[]),
                        CAST(:debited AS numeric[]), CAST(:ats AS timestamptz[])) AS v(user_id, current, credited, debited, at)
            WHERE p.user_id = v.user_id
            """
        ),
        {
            "users": _array(owners[w] for w in touched),
            "currents": _array(balances[w][0] for w in touched),
            "credited": _array(credited.get(w, ZERO) for w in touched),
            "debited": _array(debited.get(w, ZERO) for w in touched),
            "ats": _array(latest[w] for w in touched),
            "now": now,
        },
    )
    db.session.execute(
        db.text(
            """
            UPDATE astrologer_profiles a SET total_earnings = a.total_earnings + v.earned, updated_at = :now
            FROM unnest(CAST(:users AS uuid[]), CAST(:earned AS numeric[])) AS v(astrologer_id, earned)
            WHERE a.astrologer_id = v.astrologer_id
            """
        ),
        {"users": _array(earned), "earned": _array(earned.values()), "now": now},
    )
    db.session.execute(
        db.text(
            """
            UPDATE consultation_sessions s
            SET total_cost = s.total_cost + s.rate_per_minute, billed_minutes = s.billed_minutes + 1,
                next_charge_at = s.started_at + v.minute * make_interval(secs => :minute_seconds), updated_at = :now
            FROM unnest(CAST(:ids AS uuid[]), CAST(:minutes AS int[])) AS v(id, minute) WHERE s.id = v.id
            """
        ),
        {
            "ids": _array(c.session_id for c in charges),
            "minutes": _array(c.minute for c in charges),
            "minute_seconds": minute_seconds,
            "now": now,
        },
    )
    return charges
