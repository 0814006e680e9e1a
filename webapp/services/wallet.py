"""The wallet ledger's writer: the only code that changes balances.

Every money movement is a billing_transactions row per leg under its own
idempotency key and, for each change of a current_balance, a
wallet_transactions row chained by seq and balance_before/after; the
user_profiles mirror (balance, total_credited, total_debited,
balance_updated_at) and wallets.last_transaction_at change with it. Every row
gets the seed's transaction_type from its kind (models/enums.py). Two ways
to post, one meaning: `post_leg` writes one leg through the ORM, `post_legs_sql`
writes the legs an SQL query yields, set-based (PostgreSQL), with the same rows.

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

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import current_app
from flask_babel import gettext

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
from ..models.types import new_ordered_uuid
from . import locks
from .errors import (
    IdempotencyConflict,
    InsufficientBalance,
    NotWithdrawable,
    UnknownOrder,
    WalletFrozen,
    WalletSuspended,
)
from .money import earnings
from .money.amounts import format_money
from .notifications import notifier, rooms
from .users import accounts

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


def tax_wallet():
    """The wallet that holds the tax paid with top-ups until it is paid to the government."""
    return wallet_of(accounts.tax_user().id)


def replay(idempotency_key, **expected):
    """The transaction already stored under `idempotency_key` (None: the first time), checked
    against what is asked now."""
    transaction = find_by_key(idempotency_key)
    if transaction is not None:
        for field, value in expected.items():
            if value is not None and getattr(transaction, field) != value:
                raise IdempotencyConflict(
                    gettext(
                        "Key %(idempotency_key)s was used with a different %(field)s.",
                        idempotency_key=repr(idempotency_key),
                        field=field,
                    )
                )
    return transaction


def lock_transaction(transaction_id):
    """A billing transaction with its wallet locked (the wallet's rank in the order), reloaded."""
    transaction = db.session.get(BillingTransaction, transaction_id)
    if transaction is None:
        raise UnknownOrder()
    locks.wallet(transaction.wallet_id)
    db.session.refresh(transaction)  # its status as of now, under the wallet lock
    return transaction


def ensure_can_pay(wallet, amount, what=None):
    """WalletFrozen, WalletSuspended or InsufficientBalance unless `wallet` can spend `amount` now."""
    if wallet.status == WalletStatus.FROZEN:
        raise WalletFrozen()
    if wallet.status == WalletStatus.SUSPENDED:
        raise WalletSuspended()
    if wallet.available_balance < amount:
        raise InsufficientBalance(
            gettext(
                "Your available balance (%(amount)s) does not cover %(what)s (%(amount2)s).",
                amount=format_money(wallet.available_balance, wallet.currency),
                what=what or gettext("this"),
                amount2=format_money(amount, wallet.currency),
            ),
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
            gettext(
                "You can withdraw at most %(amount)s now: what you earned from consultations, less refunds and payouts already paid or asked for. Money paid into a wallet is never paid out.",
                amount=format_money(position.withdrawable, wallet.currency),
            ),
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
        id=fields.pop("id", None) or new_ordered_uuid(),  # known before the flush: the wallet entry refers to it
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


def balance_event(user_id, current, available):
    """The `balance` event for the owner's sockets: the one figure every page shows (the header
    badge, the wallet page, the session bar) is `available`."""
    payload = {"available": str(available), "held": str(current - available), "current": str(current)}
    return notifier.Event("balance", payload, rooms.of_user(user_id))


def announce_balance(user_id, wallet_id, current, available):
    """`balance` to the owner's sockets after the commit; only the state at the commit is sent."""
    event = balance_event(user_id, current, available)
    notifier.announce(event.name, event.payload, room=event.room, latest=("balance", str(wallet_id)))


def _chain_head(wallet_id):
    """The seq of the wallet's last entry (None before its first). Asked as ORDER BY ... LIMIT 1, one
    step down the (wallet_id, seq) index: written as max(seq), the planner, with statistics older than
    a busy hour (one entry a wallet at the last ANALYZE), aggregated every entry of the platform's
    wallet instead, 0.16 s at 400,000 entries, for every charge (bench/PROFILES.md)."""
    return db.session.execute(
        db.select(WalletTransaction.seq)
        .where(WalletTransaction.wallet_id == wallet_id)
        .order_by(WalletTransaction.seq.desc())
        .limit(1)
    ).scalar()


def post(wallet, transaction, amount, now, *, bucket="available"):
    """Change current (and `bucket`: available or held) by `amount` in the direction of the
    transaction's kind; chain a wallet_transactions row; keep the profile's mirror of it."""
    direction, transaction_type = WALLET_ENTRY_TYPES[transaction.kind]
    last_seq = _chain_head(wallet.id)
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


def _sql_case(column, mapping):
    """A CASE over `column` (text) giving mapping[kind] (an enum's value) for each kind."""
    return (
        "CASE " + " ".join(f"WHEN {column} = '{kind.value}' THEN '{to.value}'" for kind, to in mapping.items()) + " END"
    )


def _ordered_id(n):
    """SQL: the statement's n-th time-ordered id: one uuid7() (its milliseconds and random bits) with a
    counter from a random start in its low 62 bits (RFC 9562's fixed-length counter, method 1), so a
    batch's ids are unique, ascending and cost no random draw each."""
    return f"encode(overlay(ids.head PLACING int8send((ids.counter + {n}) | (-9223372036854775807 - 1)) FROM 9 FOR 8), 'hex')::uuid"


_DIRECTIONS = {kind: direction for kind, (direction, _) in WALLET_ENTRY_TYPES.items()}
_ENTRY_TYPES = {kind: entry_type for kind, (_, entry_type) in WALLET_ENTRY_TYPES.items()}

#: `post_legs_sql`'s statement: the legs placed in their wallets' chains (in the order of session id,
#: then the leg's order in its minute), then every row `post_leg` writes, in one statement.
POST_LEGS_SQL = f"""
WITH legs AS ({{legs}}),
owners AS MATERIALIZED (
    SELECT o.owner, w.id AS wallet_id, w.current_balance
    FROM (SELECT DISTINCT owner FROM legs) o
    CROSS JOIN LATERAL (SELECT id, current_balance FROM wallets WHERE user_id = o.owner LIMIT 1) w
),
placed AS (
    SELECT l.*, w.wallet_id, w.current_balance AS start_balance,
           CASE {_sql_case("l.kind", _DIRECTIONS)} WHEN 'credit' THEN l.amount ELSE -l.amount END AS signed,
           row_number() OVER (PARTITION BY w.wallet_id ORDER BY l.session_id, l.ord) AS n
    FROM legs l JOIN owners w ON w.owner = l.owner
),
heads AS MATERIALIZED (
    SELECT o.wallet_id, coalesce((SELECT t.seq FROM wallet_transactions t WHERE t.wallet_id = o.wallet_id
                                  ORDER BY t.seq DESC LIMIT 1), 0) AS seq
    FROM owners o
),
ids AS MATERIALIZED (SELECT uuid_send(uuid7()) AS head, (random() * 2 ^ 60)::bigint AS counter),
numbered AS (
    SELECT p.*, h.seq + p.n AS seq, row_number() OVER () AS k,
           p.start_balance + sum(p.signed) OVER (PARTITION BY p.wallet_id ORDER BY p.n) AS after
    FROM placed p JOIN heads h ON h.wallet_id = p.wallet_id
),
chained AS (
    SELECT n.*, {_ordered_id("2 * n.k")} AS billing_id, {_ordered_id("2 * n.k + 1")} AS entry_id
    FROM numbered n CROSS JOIN ids
),
billing AS (
    INSERT INTO billing_transactions (id, user_id, wallet_id, session_id, kind, transaction_type, status, amount,
        currency, idempotency_key, payment_method, minute, description, details, created_at, updated_at, processed_at)
    SELECT billing_id, owner, wallet_id, session_id, kind, {_sql_case("kind", BILLING_TRANSACTION_TYPES)}, 'completed',
           amount, :currency, key, :method, minute, description, '{{{{}}}}'::jsonb, at, at, at
    FROM chained
),
entries AS (
    INSERT INTO wallet_transactions (id, wallet_id, billing_transaction_id, seq, direction, transaction_type, amount,
        balance_before, balance_after, description, reference_id, created_at, updated_at)
    SELECT entry_id, wallet_id, billing_id, seq, {_sql_case("kind", _DIRECTIONS)}, {_sql_case("kind", _ENTRY_TYPES)},
           amount, after - signed, after, description, billing_id::text, at, at
    FROM chained
),
moved AS (
    SELECT wallet_id, owner, sum(signed) AS signed, coalesce(sum(amount) FILTER (WHERE signed > 0), 0) AS credited,
           coalesce(sum(amount) FILTER (WHERE signed < 0), 0) AS debited, max(at) AS at
    FROM chained GROUP BY wallet_id, owner
),
wallets_moved AS (
    UPDATE wallets w SET current_balance = w.current_balance + m.signed,
           available_balance = w.available_balance + m.signed, updated_at = :now,
           last_transaction_at = GREATEST(w.last_transaction_at, m.at)
    FROM moved m WHERE w.id = m.wallet_id AND w.id = ANY(ARRAY(SELECT wallet_id FROM moved))
    RETURNING w.id, w.user_id, w.current_balance, w.available_balance
),
profiles_moved AS (
    UPDATE user_profiles p SET current_balance = v.current_balance, total_credited = p.total_credited + m.credited,
           total_debited = p.total_debited + m.debited, balance_updated_at = GREATEST(p.balance_updated_at, m.at),
           updated_at = :now
    FROM wallets_moved v JOIN moved m ON m.wallet_id = v.id
    WHERE p.user_id = v.user_id
)
SELECT id::text AS wallet_id, user_id::text AS user_id, current_balance, available_balance FROM wallets_moved
"""


def post_legs_sql(legs, params, now):
    """Write the legs an SQL SELECT yields (PostgreSQL), every row `post_leg` writes, in one statement.

    `legs` yields session_id, minute, at, ord (the leg's order within its minute), kind, owner (the
    wallet owner's user id), amount (> 0), key and description; the wallets it names are locked
    (locks.py) and can pay. Ids are made by the database, time-ordered (uuid7, migration 0018).
    Returns {owner's user id (text): available balance after} of the wallets it moved; the owners hear it.
    """
    moved = db.session.execute(
        db.text(POST_LEGS_SQL.format(legs=legs)),
        {**params, "currency": current_app.config["CURRENCY"], "method": WALLET_METHOD, "now": now},
    ).all()
    notifier.announce_all(balance_event(row.user_id, row.current_balance, row.available_balance) for row in moved)
    return {row.user_id: row.available_balance for row in moved}
