"""Check 9 of `flask ledger verify` (services/money/ledger_checker.py): every paid top-up's wallet credit
plus its tax leg is what the gateway captured and its tax invoice says so, every top-up paid back has
its tax given back and a credit note that says so, and no invoice series has a gap."""

import uuid
from decimal import Decimal

from ...extensions import db
from ...models import BillingKind, BillingStatus, BillingTransaction, InvoiceKind, TaxInvoice
from .amounts import ZERO, as_money


def _completed(kind, *conditions):
    return db.session.execute(
        db.select(BillingTransaction).where(
            BillingTransaction.kind == kind, BillingTransaction.status == BillingStatus.COMPLETED, *conditions
        )
    ).scalars()


def _amounts_by_key(kind):
    """{idempotency key: amount} of the completed rows of `kind` (the tax legs, found by their top-up's key)."""
    return {row.idempotency_key: row.amount for row in _completed(kind)}


def _documents(kind):
    """{top-up id: its invoice or credit note}."""
    return {
        row.billing_transaction_id: row
        for row in db.session.execute(db.select(TaxInvoice).filter_by(kind=kind)).scalars()
    }


def _tax_of(document):
    return document.cgst + document.sgst + document.igst


def breaches():
    found = []
    taxes, taxes_back = _amounts_by_key(BillingKind.TAX), _amounts_by_key(BillingKind.TAX_REFUND)
    invoices, credit_notes = _documents(InvoiceKind.INVOICE), _documents(InvoiceKind.CREDIT_NOTE)
    for topup in _completed(BillingKind.TOPUP, BillingTransaction.details["order_id"].is_not(None)):
        if "total" not in topup.details:
            continue  # paid before tax and invoices (migration 0025)
        captured = as_money(Decimal(topup.details["total"]))
        tax = taxes.get(f"{topup.idempotency_key}:tax", ZERO)
        if topup.amount + tax != captured:
            found.append(f"top-up {topup.id}: credit {topup.amount} + tax {tax} != captured {captured}")
        invoice = invoices.get(topup.id)
        if invoice is None:
            found.append(f"top-up {topup.id}: paid without a tax invoice")
        elif (invoice.taxable_value, _tax_of(invoice), invoice.total) != (topup.amount, tax, captured):
            found.append(
                f"invoice {invoice.number}: {invoice.taxable_value} + tax != the top-up's {topup.amount} + {tax}"
            )
    for leg in _completed(BillingKind.TOPUP_REFUND):
        topup_id = uuid.UUID(leg.details["topup_id"])
        tax = taxes.get(f"{leg.idempotency_key.removesuffix(':refund')}:tax", ZERO)
        tax_back = taxes_back.get(f"{leg.idempotency_key}:tax", ZERO)
        note = credit_notes.get(topup_id)
        if tax_back != tax:
            found.append(f"top-up {topup_id}: paid back with tax {tax_back}, its tax was {tax}")
        if invoices.get(topup_id) is not None and (
            note is None or (note.taxable_value, _tax_of(note)) != (leg.amount, tax_back)
        ):
            found.append(f"top-up {topup_id}: paid back without a credit note that says so")
    series = db.session.execute(
        db.select(TaxInvoice.kind, TaxInvoice.financial_year, db.func.count(), db.func.max(TaxInvoice.seq)).group_by(
            TaxInvoice.kind, TaxInvoice.financial_year
        )
    )
    for kind, year, count, last in series:
        if count != last:
            found.append(f"{kind.value} numbers of {year}: {count} issued, the last is {last} (a gap)")
    return found
