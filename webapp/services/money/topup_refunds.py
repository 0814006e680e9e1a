"""A paid top-up given back to the payer (an admin's decision): the wallet credit and its tax leave the
ledger as two legs (kinds topup_refund and tax_refund, keys `<top-up key>:refund` and `...:refund:tax`),
a credit note against the top-up's invoice is issued in the same transaction, and the gateway is asked
to pay the total back after the commit, by a job (an outbox: channel `gateway_refund`, retried until the
gateway answers, idempotent at the gateway on the top-up's id). Only what is still in the wallet can go
back: a top-up partly spent on consultations is refused, naming what is left.
"""

import uuid
from decimal import Decimal

from flask_babel import gettext

from ...extensions import db
from ...models import BillingKind, BillingStatus, BillingTransaction, utcnow
from .. import jobs, locks, wallet
from ..errors import InsufficientBalance, NotAllowed, UnknownOrder
from . import invoices, payments, topups
from .amounts import ZERO, format_money

CHANNEL = "gateway_refund"


def refund_key(topup):
    return f"{topup.idempotency_key}:refund"


def refundable(topup):
    """Whether `topup` is a paid gateway top-up not yet given back."""
    return (
        topup.kind == BillingKind.TOPUP
        and topup.status == BillingStatus.COMPLETED
        and "order_id" in (topup.details or {})
        and wallet.find_by_key(refund_key(topup)) is None
    )


def refund_topup(topup_id, *, reason, now=None):
    """Give a paid top-up back: (the topup_refund leg, the credit note, changed). A second call for the
    same top-up returns the first result."""
    now = now or utcnow()
    topup = db.session.get(BillingTransaction, topup_id)
    if topup is None or topup.kind != BillingKind.TOPUP:
        raise UnknownOrder()
    existing = wallet.find_by_key(refund_key(topup))
    if existing is not None:
        return existing, invoices.credit_note_of(topup.id), False
    if topup.status != BillingStatus.COMPLETED or "order_id" not in (topup.details or {}):
        raise NotAllowed(gettext("Only a top-up paid through a payment gateway can be paid back."))
    tax_account = wallet.tax_wallet()
    found = locks.wallets(topup.wallet_id, tax_account.id)
    own, tax_wallet = found[topup.wallet_id], found[tax_account.id]
    total, tax = topups.price_of(topup)
    if own.available_balance < topup.amount:
        raise InsufficientBalance(
            gettext(
                "Only %(left)s of this top-up's %(amount)s is left in the wallet: the rest paid for consultations.",
                left=format_money(own.available_balance),
                amount=format_money(topup.amount),
            ),
            needed=topup.amount,
            available=own.available_balance,
        )
    wallet.ensure_can_pay(own, topup.amount, gettext("the top-up paid back"))
    details = {"topup_id": str(topup.id), "reason": reason}
    leg = wallet.post_leg(
        own,
        wallet.Leg(own.id, own.user_id, BillingKind.TOPUP_REFUND, topup.amount, refund_key(topup),
                   "Top-up paid back", now, details=details),
    )  # fmt: skip
    if tax > ZERO:
        wallet.post_leg(
            tax_wallet,
            wallet.Leg(tax_wallet.id, tax_wallet.user_id, BillingKind.TAX_REFUND, tax, f"{refund_key(topup)}:tax",
                       "Tax on a top-up paid back", now, details=details),
        )  # fmt: skip
    note = invoices.issue_credit_note(topup, now)
    jobs.deliver(CHANNEL, f"gateway-refund:{topup.id}", {"topup_id": str(topup.id), "amount": str(total)}, now)
    db.session.flush()
    return leg, note, True


@jobs.channel(CHANNEL)
def send_refund(payload):
    """The outbox: ask the top-up's gateway to pay the total back (an exception: retried later)."""
    topup = db.session.get(BillingTransaction, uuid.UUID(payload["topup_id"]))
    gateway = payments.provider(topup.details["provider"])
    gateway.refund(topup.external_transaction_id, Decimal(payload["amount"]), f"refund-{topup.id}")
    return True
