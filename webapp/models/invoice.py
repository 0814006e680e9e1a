"""Tax invoices and credit notes (additions, migration 0025): one invoice per paid top-up, one credit
note per refunded one, written by services/money/invoices.py in the transaction that moves the money.

Numbers run without gaps per series and financial year (April to March): invoice_counters holds the
last number of each, taken under its row lock in that same transaction, so a rolled-back top-up gives
its number back and two top-ups never share one. Seller and buyer are copied onto the row as they
were at issue: an invoice never changes after it is issued (the law keeps it for eight years, so
erasing an account keeps its invoices: services/users/erasure.py).
"""

import enum
import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import OrderedIdMixin
from .enums import enum_column_type
from .types import JSONType, Money, UTCDateTime, UUIDType


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"  #: a tax invoice for a paid top-up
    CREDIT_NOTE = "credit_note"  #: a refunded top-up's tax given back (CGST Act s. 34)


class TaxInvoice(OrderedIdMixin, db.Model):
    __tablename__ = "tax_invoices"

    kind: Mapped[InvoiceKind] = mapped_column(enum_column_type(InvoiceKind, "invoice_kind"), nullable=False)
    #: As printed: "AC/2627/000001" (invoices), "AC/2627/C00001" (credit notes); at most 16 characters (GST rule 46).
    number: Mapped[str] = mapped_column(sa.String(16), nullable=False, unique=True)
    #: The financial year's first calendar year (2026 for April 2026 to March 2027) and the number within it.
    financial_year: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    seq: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUIDType, sa.ForeignKey("users.id"), nullable=False, index=True)
    #: The top-up it invoices (one invoice per top-up); for a credit note, that same top-up.
    billing_transaction_id: Mapped[uuid.UUID] = mapped_column(
        UUIDType, sa.ForeignKey("billing_transactions.id"), nullable=False
    )
    #: A credit note's invoice.
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(UUIDType, sa.ForeignKey("tax_invoices.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: The seller as configured at issue: name, address, gstin.
    seller: Mapped[dict] = mapped_column(JSONType, nullable=False)
    buyer_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    buyer_email: Mapped[str | None] = mapped_column(sa.String(255))
    #: The place of supply: a GST state code (services/money/taxes.STATES).
    buyer_state: Mapped[str] = mapped_column(sa.String(2), nullable=False)
    sac_code: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    tax_name: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    tax_percent: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), nullable=False)
    taxable_value: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    cgst: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    sgst: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    igst: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)

    transaction = relationship("BillingTransaction")
    user = relationship("User")

    __table_args__ = (
        sa.UniqueConstraint("kind", "financial_year", "seq", name="uq_tax_invoices_series_seq"),
        sa.Index(
            "uq_tax_invoices_one_per_topup",
            "kind",
            "billing_transaction_id",
            unique=True,
        ),
        sa.Index("ix_tax_invoices_issued_at", "issued_at"),
        sa.CheckConstraint("seq >= 1", name="seq_positive"),
        sa.CheckConstraint("taxable_value > 0 AND cgst >= 0 AND sgst >= 0 AND igst >= 0", name="amounts_valid"),
        sa.CheckConstraint("total = taxable_value + cgst + sgst + igst", name="total_adds_up"),
        sa.CheckConstraint("(kind = 'credit_note') = (invoice_id IS NOT NULL)", name="credit_note_names_invoice"),
    )


class InvoiceCounter(db.Model):
    """The last number issued in a series and financial year (locked while a number is taken)."""

    __tablename__ = "invoice_counters"

    kind: Mapped[InvoiceKind] = mapped_column(enum_column_type(InvoiceKind, "invoice_kind"), primary_key=True)
    financial_year: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(sa.Integer, nullable=False)
