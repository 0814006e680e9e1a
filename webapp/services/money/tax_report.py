"""The month's tax invoices and credit notes for the accountant's GST return (/admin/tax): the documents
issued in a calendar month in India (REPORTING_TIMEZONE), their totals, a CSV, and the payments an admin
must settle by hand (a gateway captured an amount or currency other than its order's)."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from ...extensions import db
from ...models import BillingKind, BillingStatus, BillingTransaction, InvoiceKind, TaxInvoice, User
from . import taxes
from .amounts import ZERO
from .earnings import zone

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CSV_HEADER = ("invoice number", "date", "buyer", "state", "taxable value", "CGST", "SGST", "IGST", "total", "document")


def month_of(text, today):
    """The first day of the month `text` names (YYYY-MM), or of `today`'s month when it names none."""
    found = MONTH.match(text or "")
    return date(int(found[1]), int(found[2]), 1) if found else today.replace(day=1)


def _bounds(first):
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (datetime.combine(first, time(), zone()), datetime.combine(following, time(), zone()))


@dataclass(frozen=True)
class MonthTotals:
    invoices: int
    credit_notes: int
    taxable: object
    cgst: object
    sgst: object
    igst: object
    total: object


def documents(first):
    """The month's invoices and credit notes, in number order."""
    start, end = _bounds(first)
    return list(
        db.session.execute(
            db.select(TaxInvoice)
            .where(TaxInvoice.issued_at >= start, TaxInvoice.issued_at < end)
            .order_by(TaxInvoice.kind, TaxInvoice.financial_year, TaxInvoice.seq)
        ).scalars()
    )


def totals(rows):
    """Invoices less credit notes."""

    def net(field):
        return sum(((1 if r.kind == InvoiceKind.INVOICE else -1) * getattr(r, field) for r in rows), ZERO)

    return MonthTotals(
        invoices=sum(r.kind == InvoiceKind.INVOICE for r in rows),
        credit_notes=sum(r.kind == InvoiceKind.CREDIT_NOTE for r in rows),
        taxable=net("taxable_value"), cgst=net("cgst"), sgst=net("sgst"), igst=net("igst"), total=net("total"),
    )  # fmt: skip


def csv_rows(first):
    yield CSV_HEADER
    for row in documents(first):
        yield (
            row.number, row.issued_at.astimezone(zone()).date().isoformat(), row.buyer_name,
            f"{row.buyer_state} {taxes.state_name(row.buyer_state)}", row.taxable_value, row.cgst, row.sgst, row.igst,
            row.total, "credit note" if row.kind == InvoiceKind.CREDIT_NOTE else "invoice",
        )  # fmt: skip


def mismatched_payments(limit=100):
    """Top-ups closed because the gateway captured something other than their order: (top-up, payer), newest first."""
    return db.session.execute(
        db.select(BillingTransaction, User)
        .join(User, User.id == BillingTransaction.user_id)
        .where(
            BillingTransaction.kind == BillingKind.TOPUP,
            BillingTransaction.status == BillingStatus.FAILED,
            BillingTransaction.details["mismatch"].as_string().is_not(None),
        )
        .order_by(BillingTransaction.created_at.desc())
        .limit(limit)
    ).all()
