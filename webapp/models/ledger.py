"""Money: wallets and the two ledgers.

Seed tables: wallets, billing_transactions, wallet_transactions. Only
services/wallet.py writes them. Two ledgers, two questions:

- billing_transactions answers "what happened and why": one row per business
  movement (a top-up, a hold, one minute's charge, the astrologer's share,
  a refund), each under a unique idempotency key.
- wallet_transactions answers "how did this balance get here": one row per
  change of a wallet's current_balance, with balance_before/after chained
  row to row (seq), each pointing at the billing transaction that caused it.
  Holds and releases move money between available and held only, so they
  have a billing row and no wallet row.

Additions, each with its reason:

- billing_transactions.idempotency_key UNIQUE: a retried or duplicated
  operation finds the first result and moves no money twice. Keys:
  `topup:<provider>:<external id>`, `session:<id>:minute:<k>:debit`,
  `...:credit`, `...:commission`, `session:<id>:refund:<n>`, `payout:<id>`.
- billing_transactions.wallet_id: the wallet a row moved, for the ledger views
  and invariants (user_id alone is ambiguous for the platform wallet).
- wallet_transactions.seq UNIQUE(wallet_id, seq): an unambiguous order for
  the balance chain (timestamps can tie).
- CHECKs: wallet balances never negative and current = available + held;
  ledger amounts positive; a wallet row's balance_after is its
  balance_before plus or minus its amount.
"""

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, TimestampMixin
from .enums import BillingStatus, BillingType, WalletEntryType, WalletStatus, enum_column_type
from .types import JSONType, Money, UTCDateTime, UUIDType


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
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="INR")
    status: Mapped[WalletStatus] = mapped_column(
        enum_column_type(WalletStatus, "wallet_status"), nullable=False, default=WalletStatus.ACTIVE
    )

    user = relationship("User", back_populates="wallet")

    __table_args__ = (
        sa.CheckConstraint("available_balance >= 0", name="available_not_negative"),
        sa.CheckConstraint("held_balance >= 0", name="held_not_negative"),
        sa.CheckConstraint("current_balance = available_balance + held_balance", name="current_is_available_plus_held"),
    )


class BillingTransaction(IdMixin, TimestampMixin, db.Model):
    """One business movement of money, under a unique idempotency key."""

    __tablename__ = "billing_transactions"

    #: Whose money this is (the wallet owner).
    user_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False, index=True)
    wallet_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("wallets.id"), nullable=False, index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        UUIDType, sa.ForeignKey("consultation_sessions.id"), index=True
    )
    type: Mapped[BillingType] = mapped_column(enum_column_type(BillingType, "billing_type"), nullable=False)
    status: Mapped[BillingStatus] = mapped_column(
        enum_column_type(BillingStatus, "billing_status"), nullable=False, default=BillingStatus.PENDING
    )
    #: INR, always > 0; the direction follows from `type`.
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="INR")
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True, nullable=False)
    #: An outside reference: the provider's payment id for a top-up, the
    #: original charge's id for a refund or reversal.
    reference_id: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    #: Minute number k for charge/earning/commission rows; NULL otherwise.
    minute: Mapped[int | None] = mapped_column(sa.Integer)
    description: Mapped[str | None] = mapped_column(sa.String(500))
    #: Provider payloads, refund reasons, admin ids: context that is not money.
    details: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    wallet = relationship("Wallet")
    user = relationship("User")
    entries: Mapped[list["WalletTransaction"]] = relationship(back_populates="billing_transaction")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("minute IS NULL OR minute >= 1", name="minute_positive"),
        sa.Index("ix_billing_transactions_created_at", "created_at"),
    )


class WalletTransaction(IdMixin, db.Model):
    """One change of a wallet's current_balance, chained by balance_before/after."""

    __tablename__ = "wallet_transactions"

    wallet_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("wallets.id"), nullable=False)
    #: The billing transaction that caused this change (the reference between the ledgers).
    billing_transaction_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("billing_transactions.id"), nullable=False, index=True
    )
    #: 1, 2, 3, ... per wallet, assigned under the wallet row lock.
    seq: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    type: Mapped[WalletEntryType] = mapped_column(
        enum_column_type(WalletEntryType, "wallet_entry_type"), nullable=False
    )
    #: INR, > 0; credit adds it to the balance, debit subtracts it.
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    balance_before: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    balance_after: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    billing_transaction: Mapped[BillingTransaction] = relationship(back_populates="entries")

    __table_args__ = (
        sa.UniqueConstraint("wallet_id", "seq"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("balance_before >= 0 AND balance_after >= 0", name="balances_not_negative"),
        sa.CheckConstraint(
            "(type = 'credit' AND balance_after = balance_before + amount)"
            " OR (type = 'debit' AND balance_after = balance_before - amount)",
            name="balance_follows_amount",
        ),
    )
