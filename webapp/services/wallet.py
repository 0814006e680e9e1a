"""The wallet ledger's writer: the only code that changes balances.

Every money movement is a billing_transactions row per leg under its own
idempotency key and, for each change of a current_balance, a
wallet_transactions row chained by seq and balance_before/after; the
user_profiles mirror (balance, total_credited, total_debited,
balance_updated_at) and wallets.last_transaction_at change with it. Every row
gets the seed's transaction_type from its kind (models/enums.py). Two ways
to post, one meaning: `post_leg` writes one leg through the ORM, `post_legs`
writes a batch set-based (PostgreSQL), with the same rows.

The use cases that move money are beside this module, each by its job:
topups.py, holds.py, services/billing/ (minute charges), refunds.py,
payouts.py; statements.py reads. They take their row locks through
locks.py (the one order: profile, session, wallets, user profile), check
a repeated key with `replay` (the first result comes back and nothing moves
twice; the same key with different details is an IdempotencyConflict), and
refuse with a domain error before anything is written, never by a CHECK
constraint firing. Functions flush; the entry point commits.

Balances: `available` is spendable; `held` is reserved (waiting consultation
requests, pending payouts); `current` = available + held is what the owner
has. Holds and releases move money between available and held and so have a
billing row but no wallet row.

Earnings are their own balance, read from the ledger under the wallet lock
(earnings.position, checked here by `ensure_can_withdraw`): what an astrologer may withdraw is what they earned (minute
earnings less reversals) less payouts paid and pending, and never more than
is available. Money paid in is never withdrawable: astrologers cannot top up
(they do not book consultations), and a credit by hand is not an earning.
`flask ledger verify` checks "paid out + pending <= earned" for every wallet.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import current_app

from ..extensions import db
from ..models import (
    BILLING_TRANSACTION_TYPES,
    WALLET_ENTRY_TYPES,
    BillingKind,
    BillingStatus,
    BillingTransaction,
    UserProfile,
    UserStatus,
    Wallet,
    WalletDirection,
    WalletStatus,
    WalletTransaction,
    utcnow,
)
from . import accounts, earnings, locks, notifier, rooms
from .amounts import ZERO, format_money
from .errors import (
    IdempotencyConflict,
    InsufficientBalance,
    NotWithdrawable,
    UnknownOrder,
    WalletFrozen,
    WalletSuspended,
)
from .sql_arrays import array_literal

#: billing_transactions.payment_method of what is paid from or into a wallet balance.
WALLET_METHOD = "wallet"
#: ... of a payout, sent to the astrologer's bank account.
BANK_TRANSFER = "bank_transfer"
#: ... of money credited by hand (demo funds, support's credits), not through a provider.
MANUAL = "manual"


# ---------------------------------------------------------------- lookups


def find_by_key(idempotency_key):
    return db.session.execute(
        db.select(BillingTransaction).filter_by(idempotency_key=idempotency_key)
    ).scalar_one_or_none()


def wallet_of(user_id):
    return db.session.execute(db.select(Wallet).filter_by(user_id=user_id)).scalar_one()


def platform_wallet():
    """The wallet that receives the platform's commission."""
    return wallet_of(accounts.platform_user().id)


def replay(idempotency_key, **expected):
    """The transaction already stored under `idempotency_key` (None: the first time), checked
    against what is asked now."""
    transaction = find_by_key(idempotency_key)
    if transaction is not None:
        for field, value in expected.items():
            if value is not None and getattr(transaction, field) != value:
                raise IdempotencyConflict(f"Key {idempotency_key!r} was used with a different {field}.")
    return transaction


def lock_transaction(transaction_id):
    """A billing transaction with its wallet locked (the wallet's rank in the order), reloaded."""
    transaction = db.session.get(BillingTransaction, transaction_id)
    if transaction is None:
        raise UnknownOrder()
    locks.wallet(transaction.wallet_id)
    db.session.refresh(transaction)  # its status as of now, under the wallet lock
    return transaction


def ensure_can_pay(wallet, amount, what="this"):
    """WalletFrozen, WalletSuspended or InsufficientBalance unless `wallet` can spend `amount` now."""
    if wallet.status == WalletStatus.FROZEN:
        raise WalletFrozen()
    if wallet.status == WalletStatus.SUSPENDED:
        raise WalletSuspended()
    if wallet.available_balance < amount:
        raise InsufficientBalance(
            f"Your available balance ({format_money(wallet.available_balance, wallet.currency)}) does not cover "
            f"{what} ({format_money(amount, wallet.currency)}).",
            needed=amount,
            available=wallet.available_balance,
        )


def ensure_can_withdraw(wallet, amount):
    """WalletFrozen, WalletSuspended or NotWithdrawable unless `wallet` (locked) may pay out `amount`
    of its earnings now."""
    if wallet.status == WalletStatus.FROZEN:
        raise WalletFrozen()
    if wallet.status == WalletStatus.SUSPENDED:
        raise WalletSuspended()
    position = earnings.position(wallet)
    if amount > position.withdrawable:
        raise NotWithdrawable(
            f"You can withdraw at most {format_money(position.withdrawable, wallet.currency)} now: what you "
            "earned from consultations, less refunds and payouts already paid or asked for. "
            "Money paid into a wallet is never paid out.",
            withdrawable=position.withdrawable,
        )
    return position


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


# ---------------------------------------------------------------- one transaction at a time


def new_transaction(
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
    """A billing_transactions row for `wallet` (added, not posted: `post` or `move` changes balances)."""
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


def _moved(wallet, now):
    """Money moved in `wallet` at `now` (a balance of any kind changed); its owner hears the result."""
    wallet.updated_at = now
    wallet.last_transaction_at = max(wallet.last_transaction_at or now, now)
    announce_balance(wallet.user_id, wallet.id, wallet.current_balance, wallet.available_balance)


def announce_balance(user_id, wallet_id, current, available):
    """`balance` to the owner's sockets after the commit: the one figure every page shows (the header
    badge, the wallet page, the session bar) is `available`; only the state at the commit is sent."""
    notifier.announce(
        "balance",
        {"available": str(available), "held": str(current - available), "current": str(current)},
        room=rooms.of_user(user_id),
        latest=("balance", str(wallet_id)),
    )


def post(wallet, transaction, amount, now, *, bucket="available"):
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
    profile = db.session.execute(db.select(UserProfile).filter_by(user_id=wallet.user_id)).scalar_one()
    profile.current_balance = wallet.current_balance
    if direction == WalletDirection.CREDIT:
        profile.total_credited += amount
    else:
        profile.total_debited += amount
    profile.balance_updated_at = max(profile.balance_updated_at or now, now)


def move(wallet, amount, *, to_held, now):
    """available -> held (to_held) or held -> available; current is unchanged."""
    signed = amount if to_held else -amount
    wallet.available_balance -= signed
    wallet.held_balance += signed
    _moved(wallet, now)


# ---------------------------------------------------------------- legs: completed movements, one or many


@dataclass(frozen=True)
class Leg:
    """One completed movement into or out of a wallet (its kind says which way) at `at`."""

    wallet_id: object
    user_id: object
    kind: BillingKind
    amount: Decimal
    key: str
    description: str
    at: datetime
    session_id: object = None
    minute: int | None = None
    details: dict | None = None


def post_leg(wallet, leg):
    """Write `leg` for `wallet` (locked; leg.wallet_id is its id): the billing row and its entry."""
    extra = {"minute": leg.minute} if leg.minute is not None else {}
    transaction = new_transaction(
        wallet,
        leg.kind,
        leg.amount,
        leg.key,
        leg.at,
        session_id=leg.session_id,
        description=leg.description,
        details=leg.details,
        **extra,
    )
    post(wallet, transaction, leg.amount, leg.at)
    return transaction


def post_legs(legs, wallets, now):
    """Write `legs` set-based (PostgreSQL): the rows `post_leg` would write, one statement per table.

    `wallets`: the locked rows (locks.batch_wallets_of) of every wallet a leg names, by user id.
    Legs are posted in the order given, so each wallet's chain follows it; each names its session and
    minute (the batch minute charge is its user). Returns {wallet id (text): available balance after}.
    """
    balances = {w.id: [w.current_balance, w.available_balance] for w in wallets.values()}
    owners = {w.id: w.user_id for w in wallets.values()}
    last_seq = {
        str(wallet_id): seq
        for wallet_id, seq in db.session.execute(
            db.text(
                "SELECT wallet_id, max(seq) FROM wallet_transactions WHERE wallet_id = ANY(CAST(:ids AS uuid[]))"
                " GROUP BY wallet_id"
            ),
            {"ids": array_literal(balances)},
        )
    }
    billing_rows, entries, credited, debited, latest = [], [], {}, {}, {}
    for leg in legs:
        wallet_id, billing_id = str(leg.wallet_id), str(uuid.uuid4())
        direction, transaction_type = WALLET_ENTRY_TYPES[leg.kind]
        billing_rows.append(
            (billing_id, owners[wallet_id], wallet_id, str(leg.session_id), leg.kind.value,
             BILLING_TRANSACTION_TYPES[leg.kind].value, leg.amount, leg.key, leg.minute, leg.description, leg.at)
        )  # fmt: skip
        signed, totals = (leg.amount, credited) if direction == WalletDirection.CREDIT else (-leg.amount, debited)
        before = balances[wallet_id][0]
        balances[wallet_id][0] += signed
        balances[wallet_id][1] += signed
        totals[wallet_id] = totals.get(wallet_id, ZERO) + leg.amount
        latest[wallet_id] = max(latest.get(wallet_id, leg.at), leg.at)
        last_seq[wallet_id] = (last_seq.get(wallet_id) or 0) + 1
        entries.append(
            (str(uuid.uuid4()), wallet_id, billing_id, last_seq[wallet_id], direction.value, transaction_type.value,
             leg.amount, before, before + signed, leg.description, billing_id, leg.at)
        )  # fmt: skip
    if not billing_rows:
        return {wallet_id: balance[1] for wallet_id, balance in balances.items()}

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
                  "ats"), map(array_literal, columns), strict=True), currency=current_app.config["CURRENCY"],
             method=WALLET_METHOD),
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
                  "descriptions", "references", "ats"), map(array_literal, columns), strict=True)),
    )  # fmt: skip
    touched = list(latest)
    for w in touched:
        announce_balance(owners[w], w, balances[w][0], balances[w][1])
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
            "ids": array_literal(touched),
            "currents": array_literal(balances[w][0] for w in touched),
            "availables": array_literal(balances[w][1] for w in touched),
            "ats": array_literal(latest[w] for w in touched),
            "now": now,
        },
    )
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
            "users": array_literal(owners[w] for w in touched),
            "currents": array_literal(balances[w][0] for w in touched),
            "credited": array_literal(credited.get(w, ZERO) for w in touched),
            "debited": array_literal(debited.get(w, ZERO) for w in touched),
            "ats": array_literal(latest[w] for w in touched),
            "now": now,
        },
    )
    return {wallet_id: balance[1] for wallet_id, balance in balances.items()}
