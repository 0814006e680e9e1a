"""Tax invoices for paid top-ups: numbered without gaps, with the tax split by place of supply.

One invoice per paid top-up, issued in the transaction that credits the wallet (services/money/
topups.py), so a top-up is never paid without its invoice and a rolled-back one leaves no number
behind. Numbers run per series and financial year (April to March, in REPORTING_TIMEZONE, India's):
"AC/2627/000001". The counter row (invoice_counters) is taken by an upsert that holds its row lock
until the commit: concurrent top-ups queue for the next number instead of sharing or skipping one.
The seller (SELLER_NAME, SELLER_ADDRESS, SELLER_GSTIN) and the buyer are copied in as they are at
issue. services/money/invoice_pdf.py draws it; admin/tax reports read it.
"""

import uuid
from decimal import Decimal

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from ...extensions import db
from ...models import BillingKind, InvoiceCounter, InvoiceKind, TaxInvoice, User, UserType
from . import invoice_pdf, taxes
from .amounts import ZERO
from .earnings import zone

#: The number's letter for each series (an invoice has none).
SERIES_MARK = {InvoiceKind.INVOICE: "", InvoiceKind.CREDIT_NOTE: "C"}


def financial_year(moment):
    """The financial year `moment` falls in, by its first calendar year (India's: April to March)."""
    local = moment.astimezone(zone())
    return local.year if local.month >= 4 else local.year - 1


def _next_seq(kind, year):
    """The next number of the series, with the counter's row lock held until the commit."""
    table = InvoiceCounter.__table__
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(kind=kind, financial_year=year, last_seq=1)
        .on_conflict_do_update(index_elements=["kind", "financial_year"], set_={"last_seq": table.c.last_seq + 1})
        .returning(table.c.last_seq)
    )
    return db.session.execute(statement).scalar_one()


def number_of(kind, year, seq):
    """'AC/2627/000001' (at most 16 characters, as GST rule 46 allows)."""
    prefix = current_app.config["INVOICE_PREFIX"]
    mark = SERIES_MARK[kind]
    return f"{prefix}/{year % 100:02d}{(year + 1) % 100:02d}/{mark}{seq:0{6 - len(mark)}d}"


def _seller():
    config = current_app.config
    return {"name": config["SELLER_NAME"], "address": config["SELLER_ADDRESS"], "gstin": config["SELLER_GSTIN"]}


def issue_invoice(transaction, total, tax, now):
    """The tax invoice of a top-up just paid (`total` paid, `tax` of it to the tax account)."""
    details = transaction.details or {}
    buyer = db.session.get(User, transaction.user_id)
    buyer_state = details.get("buyer_state") or taxes.seller_state()
    percent = Decimal(details.get("tax_percent", "0"))
    split = taxes.split(tax, transaction.amount, percent, buyer_state, taxes.seller_state())
    return _issue(
        InvoiceKind.INVOICE,
        transaction,
        now,
        buyer=buyer,
        buyer_state=buyer_state,
        tax_name=details.get("tax_name") or current_app.config["TOPUP_TAX_NAME"],
        percent=percent,
        taxable=transaction.amount,
        split=split,
        total=total,
    )


def _issue(kind, transaction, now, *, buyer, buyer_state, tax_name, percent, taxable, split, total, invoice=None):
    year = financial_year(now)
    seq = _next_seq(kind, year)
    row = TaxInvoice(
        kind=kind,
        number=number_of(kind, year, seq),
        financial_year=year,
        seq=seq,
        user_id=transaction.user_id,
        billing_transaction_id=transaction.id,
        invoice_id=invoice.id if invoice is not None else None,
        issued_at=now,
        seller=_seller(),
        buyer_name=buyer.name,
        buyer_email=buyer.email,
        buyer_state=buyer_state,
        sac_code=current_app.config["INVOICE_SAC_CODE"],
        tax_name=tax_name,
        tax_percent=percent,
        taxable_value=taxable,
        cgst=split.cgst,
        sgst=split.sgst,
        igst=split.igst,
        total=total,
        currency=transaction.currency,
    )
    db.session.add(row)
    db.session.flush()
    return row


def invoice_of(transaction_id):
    """The invoice of a top-up, or None (a top-up from before invoices, or not paid)."""
    return db.session.execute(
        db.select(TaxInvoice).filter_by(kind=InvoiceKind.INVOICE, billing_transaction_id=transaction_id)
    ).scalar_one_or_none()


def invoices_of(transaction_ids):
    """{top-up id: its invoice} for the top-ups that have one."""
    if not transaction_ids:
        return {}
    rows = db.session.execute(
        db.select(TaxInvoice).where(
            TaxInvoice.kind == InvoiceKind.INVOICE, TaxInvoice.billing_transaction_id.in_(list(transaction_ids))
        )
    ).scalars()
    return {row.billing_transaction_id: row for row in rows}


def documents_of(topup_ids, paid_back_ids):
    """{(billing kind, top-up id as text): document}: the invoices of `topup_ids` (kind topup) and the
    credit notes of `paid_back_ids` (kind topup_refund), for a statement's lines."""
    wanted = [*topup_ids, *(uuid.UUID(str(i)) for i in paid_back_ids)]
    if not wanted:
        return {}
    kinds = {InvoiceKind.INVOICE: BillingKind.TOPUP, InvoiceKind.CREDIT_NOTE: BillingKind.TOPUP_REFUND}
    rows = db.session.execute(db.select(TaxInvoice).where(TaxInvoice.billing_transaction_id.in_(wanted))).scalars()
    return {(kinds[row.kind], str(row.billing_transaction_id)): row for row in rows}


def tax_of(invoice):
    return invoice.cgst + invoice.sgst + invoice.igst if invoice is not None else ZERO


def document(invoice_id, reader):
    """(the invoice or credit note, its PDF's bytes) for its buyer or an admin; None for anyone else
    (no peeking: the same answer as no such invoice)."""
    invoice = db.session.get(TaxInvoice, invoice_id)
    if invoice is None or (invoice.user_id != reader.id and reader.type != UserType.ADMIN):
        return None
    original = db.session.get(TaxInvoice, invoice.invoice_id) if invoice.invoice_id else None
    return invoice, invoice_pdf.render(invoice, original)


def credit_note_of(topup_id):
    return db.session.execute(
        db.select(TaxInvoice).filter_by(kind=InvoiceKind.CREDIT_NOTE, billing_transaction_id=topup_id)
    ).scalar_one_or_none()


def issue_credit_note(topup, now):
    """The credit note of a top-up paid back: its invoice's figures, in the credit-note series."""
    original = invoice_of(topup.id)
    if original is None:
        return None  # paid before invoices (migration 0025): nothing to credit
    split = taxes.TaxSplit(original.cgst, original.sgst, original.igst)
    buyer = db.session.get(User, topup.user_id)
    return _issue(
        InvoiceKind.CREDIT_NOTE,
        topup,
        now,
        buyer=buyer,
        buyer_state=original.buyer_state,
        tax_name=original.tax_name,
        percent=original.tax_percent,
        taxable=original.taxable_value,
        split=split,
        total=original.total,
        invoice=original,
    )
