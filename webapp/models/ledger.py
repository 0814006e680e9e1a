"""Money: wallets and the two ledgers.

Seed tables: wallets, billing_transactions, wallet_transactions, every column
under the seed's name (../shared/SEED_SCHEMA.md). Only services/wallet.py
writes them. Two ledgers, two questions:

- billing_transactions answers "what happened and why": one row per business
  movement (a top-up, a hold, one minute's charge, the astrologer's share,
  a refund), each under a unique idempotency key.
- wallet_transactions answers "how did this balance get here": one row per
  change of a wallet's current_balance, with balance_before/after chained
  row to row (seq), each pointing at the billing transaction that caused it.
  Holds and releases move money between available and held only, so they
  have a billing row and no wallet row.

Both carry the seed's transaction_type, derived from the billing row's kind
(enums.BILLING_TRANSACTION_TYPES and WALLET_ENTRY_TYPES: topup, earning and
commission are credits; charge, reversal and payout are debits; refund, hold
and release are themselves; on the wallet rows a top-up is a deposit, a
minute's charge and earning a transfer, the commission a fee, a refund and
its reversals a refund, a payout a withdrawal). `flask ledger verify` checks
every row against the mapping.

Additions, each with its reason:

- billing_transactions.kind: the product's finer type of a movement (see
  enums.BillingKind); the invariants need to tell earnings from top-ups.
- billing_transactions.idempotency_key UNIQUE: a retried or duplicated
  operation finds the first result and moves no money twice. Keys:
  `topup:<provider>:<external id>`, `session:<id>:minute:<k>:debit`,
  `...:credit`, `...:commission`, `session:<id>:refund:<n>`, `payout:<id>`.
- billing_transactions.wallet_id: the wallet a row moved, for the ledger views
  and invariants (user_id alone is ambiguous for the platform wallet).
- billing_transactions.minute: k for a minute's legs, so a session's charges read in order.
- billing_transactions.details: provider payloads, refund reasons, admin
  ids, the hold a release gives back: context that is not money.
- wallet_transactions.billing_transaction_id: the causing billing row (a
  foreign key; reference_id is the seed's looser text reference).
- wallet_transactions.seq UNIQUE(wallet_id, seq): an unambiguous order for
  the balance chain (timestamps can tie).
- wallet_transactions.direction: credit or debit (the CHECK below needs it;
  the seed's `transfer` goes either way).
- CHECKs: wallet balances never negative and current = available + held;
  ledger amounts positive; a wallet row's balance_after is its
  balance_before plus or minus its amount.

wallet_transactions rows are never changed after they are written, so their
updated_at is their created_at.
"""

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, OrderedIdMixin, TimestampMixin
from .enums import (
    BillingKind,
    BillingStatus,
    BillingTransactionType,
    WalletDirection,
    WalletStatus,
    WalletTransactionType,
    enum_column_type,
)
from .types import JSONType, Money, UTCDateTime, UUIDType, utcnow


class Wallet(IdMixin, TimestampMixin, db.Model):
    """A user's money in INR; every wallet-owning user has exactly one."""

    __tablename__ = "wallets"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("users.id", ondelete="RESTRICT"), unique=True, nullable=False
    )
    #: available + held, INR, >= 0: what the user owns.
    current_balance: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    #: What can be spent or held now, INR, >= 0.
    available_balance: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    #: Reserved for waiting consultation requests (and pending payouts), INR, >= 0.
    held_balance: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="INR", server_default="INR")
    status: Mapped[WalletStatus] = mapped_column(
        enum_column_type(WalletStatus, "wallet_status"), nullable=False, default=WalletStatus.ACTIVE
    )
    #: When money last moved in this wallet (any balance: an entry, a hold or its release, a payout
    #: request); when it was opened until then.
    last_transaction_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    user = relationship("User", back_populates="wallet")

    __table_args__ = (
        sa.CheckConstraint("available_balance >= 0", name="available_not_negative"),
        sa.CheckConstraint("held_balance >= 0", name="held_not_negative"),
        sa.CheckConstraint("current_balance = available_balance + held_balance", name="current_is_available_plus_held"),
    )


class BillingTransaction(OrderedIdMixin, TimestampMixin, db.Model):
    """One business movement of money, under a unique idempotency key."""

    __tablename__ = "billing_transactions"

    #: Whose money this is (the wallet owner).
    user_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False, index=True)
    #: Indexed by ix_billing_transactions_wallet_kind, whose first column it is.
    wallet_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("wallets.id"), nullable=False)
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        UUIDType, sa.ForeignKey("consultation_sessions.id"), index=True
    )
    #: The product's kind of movement; the direction on the wallet follows from it.
    kind: Mapped[BillingKind] = mapped_column(enum_column_type(BillingKind, "billing_kind"), nullable=False)
    #: The seed's type, derived from `kind` (enums.BILLING_TRANSACTION_TYPES).
    transaction_type: Mapped[BillingTransactionType] = mapped_column(
        enum_column_type(BillingTransactionType, "billing_transaction_type"), nullable=False
    )
    status: Mapped[BillingStatus] = mapped_column(
        enum_column_type(BillingStatus, "billing_status"), nullable=False, default=BillingStatus.PENDING
    )
    #: INR, always > 0; the direction follows from `kind`.
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="INR", server_default="INR")
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True, nullable=False)
    #: How the money moved: the provider's method for a top-up (upi, card, netbanking, ...),
    #: `bank_transfer` for a payout, `wallet` for everything paid from or into a wallet balance.
    payment_method: Mapped[str | None] = mapped_column(sa.String(50))
    #: The provider's id of the payment (top-ups) or the bank's reference of the transfer (payouts).
    external_transaction_id: Mapped[str | None] = mapped_column(sa.String(255))
    #: Minute number k for charge/earning/commission rows; NULL otherwise.
    minute: Mapped[int | None] = mapped_column(sa.Integer)
    description: Mapped[str | None] = mapped_column(sa.Text)
    #: Provider payloads, refund reasons, admin ids, a release's hold: context that is not money.
    details: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    #: When the transaction reached its final status (completed, failed or cancelled); NULL while pending.
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    wallet = relationship("Wallet")
    user = relationship("User")
    entries: Mapped[list["WalletTransaction"]] = relationship(back_populates="billing_transaction")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("minute IS NULL OR minute >= 1", name="minute_positive"),
        sa.CheckConstraint("(status = 'pending') = (processed_at IS NULL)", name="processed_unless_pending"),
        sa.Index("ix_billing_transactions_created_at", "created_at"),
        #: Only top-ups and payouts have one: minute legs (most rows) are not in this index.
        sa.Index(
            "ix_billing_transactions_external_transaction_id",
            "external_transaction_id",
            postgresql_where=sa.text("external_transaction_id IS NOT NULL"),
            sqlite_where=sa.text("external_transaction_id IS NOT NULL"),
        ),
        #: An astrologer's earnings, reversals and payouts are summed under the wallet lock (services/earnings.position).
        sa.Index("ix_billing_transactions_wallet_kind", "wallet_id", "kind", "status"),
        #: Top-ups waiting for their gateway, oldest first (services/money/reconciliation.py; migration 0025).
        sa.Index(
            "ix_billing_transactions_pending_topups",
            "created_at",
            postgresql_where=sa.text("kind = 'topup' AND status = 'pending'"),
            sqlite_where=sa.text("kind = 'topup' AND status = 'pending'"),
        ),
    )


class WalletTransaction(OrderedIdMixin, TimestampMixin, db.Model):
    """One change of a wallet's current_balance, chained by balance_before/after."""

    __tablename__ = "wallet_transactions"

    wallet_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("wallets.id"), nullable=False)
    #: The billing transaction that caused this change (the reference between the ledgers).
    billing_transaction_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("billing_transactions.id"), nullable=False, index=True
    )
    #: 1, 2, 3, ... per wallet, assigned under the wallet row lock.
    seq: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    direction: Mapped[WalletDirection] = mapped_column(
        enum_column_type(WalletDirection, "wallet_direction"), nullable=False
    )
    #: The seed's type, derived from the causing billing row's kind (enums.WALLET_ENTRY_TYPES).
    transaction_type: Mapped[WalletTransactionType] = mapped_column(
        enum_column_type(WalletTransactionType, "wallet_transaction_type"), nullable=False
    )
    #: INR, > 0; a credit adds it to the balance, a debit subtracts it.
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    balance_before: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    balance_after: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    #: The outside reference of the movement when it has one (the provider's payment id, the bank's
    #: transfer reference), else the id of the billing transaction, as text.
    reference_id: Mapped[str | None] = mapped_column(sa.String(255))

    billing_transaction: Mapped[BillingTransaction] = relationship(back_populates="entries")

    __table_args__ = (
        sa.UniqueConstraint("wallet_id", "seq"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("balance_before >= 0 AND balance_after >= 0", name="balances_not_negative"),
        sa.CheckConstraint(
            "(direction = 'credit' AND balance_after = balance_before + amount)"
            " OR (direction = 'debit' AND balance_after = balance_before - amount)",
            name="balance_follows_amount",
        ),
    )
