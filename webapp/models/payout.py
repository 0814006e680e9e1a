"""Payouts and ledger checks (additions, migration 0010).

payouts: an astrologer's withdrawal of earnings as a lifecycle, requested -> approved -> paid, or
rejected (by an admin, with a reason) or failed (at the payout provider). The seed has no table for
it; billing_transactions alone cannot tell "approved, the bank has not confirmed" from "requested".
The money is the payout's billing row (kind payout, key `payout:<request id>`, the same id as this
row): pending while requested or approved (the amount held), completed when paid, cancelled when
rejected, failed when the provider failed it. Written by services/money/payouts.py only.

ledger_checks: the result of each `flask ledger verify` (the command, the periodic loop or an admin
asking for it), so the admin overview shows the last result without running it on every view.
"""

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, TimestampMixin
from .enums import PayoutStatus, enum_column_type
from .types import JSONType, Money, UTCDateTime, UUIDType, utcnow


class Payout(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "payouts"

    astrologer_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False)
    wallet_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("wallets.id"), nullable=False)
    #: The payout's money: the billing row whose key is `payout:<request id>`.
    billing_transaction_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("billing_transactions.id"), unique=True, nullable=False
    )
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="INR", server_default="INR")
    status: Mapped[PayoutStatus] = mapped_column(
        enum_column_type(PayoutStatus, "payout_status"), nullable=False, default=PayoutStatus.REQUESTED
    )
    #: The payout provider that sends (or sent) the money: services/money/_payout_providers.py.
    provider: Mapped[str | None] = mapped_column(sa.String(30))
    #: The provider's or the bank's reference of the transfer (a UTR), once known.
    provider_reference: Mapped[str | None] = mapped_column(sa.String(100))
    #: Why it was rejected or failed.
    reason: Mapped[str | None] = mapped_column(sa.Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(UUIDType, sa.ForeignKey("users.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was rejected or failed, and by whom (NULL: the provider failed it).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[uuid.UUID | None] = mapped_column(UUIDType, sa.ForeignKey("users.id"))

    astrologer = relationship("User", foreign_keys=[astrologer_id])
    transaction = relationship("BillingTransaction")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("(status = 'paid') = (paid_at IS NOT NULL)", name="paid_when_paid"),
        sa.CheckConstraint(
            "(status = 'rejected' OR status = 'failed') = (closed_at IS NOT NULL)",
            name="closed_when_rejected_or_failed",
        ),
        sa.Index("ix_payouts_astrologer_requested", "astrologer_id", "requested_at"),
        sa.Index("ix_payouts_status_requested", "status", "requested_at"),
    )


class LedgerCheck(IdMixin, db.Model):
    __tablename__ = "ledger_checks"

    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: "command" (flask ledger verify), "schedule" (the periodic loop) or "admin" (asked for on the console).
    trigger: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    ok: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    breach_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: The report's lines, as `flask ledger verify` prints them.
    report: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)

    __table_args__ = (sa.Index("ix_ledger_checks_finished_at", "finished_at"),)
