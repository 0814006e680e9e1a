"""Receipts by e-mail: asked for in the transaction of what they report, sent by a job after its commit
(this module is the job channel "email"; services/notifications/mail.py renders and sends).

A completed top-up and a completed consultation each ask for one message (category receipts), each
step of an astrologer's payout one more (category payouts) (the deliveries' keys are
the top-up's and the session's ids: reported twice, asked once). Nothing is asked when the site has
no MAIL_SERVER. What a receipt says is read when it is sent (`context`), so a refund made with the
session's end is on it.
"""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app

from ...extensions import db
from ...models import BillingKind, BillingStatus, BillingTransaction, ConsultationSession, Payout, User, Wallet
from .. import jobs, signals
from ..money import earnings, invoices, topups
from . import mail


def _ask(key, template, user_id, context, now, category="receipts"):
    if mail.enabled():
        jobs.deliver(
            "email",
            key,
            {"template": template, "category": category, "user_id": str(user_id), "context": context},
            now,
        )


@signals.payment_settled.connect
def topup_completed(transaction, *, now=None, **_):
    owner = db.session.get(Wallet, transaction.wallet_id).user_id
    _ask(f"email:topup:{transaction.id}", "topup_receipt", owner, {"transaction_id": str(transaction.id)}, now)


@signals.refund_made.connect
def refund_made(session, *, refund, by_admin, now=None, **_):
    """An admin's refund is e-mailed on its own; the automatic one, made as the session ends (no reply),
    is in that session's receipt already ("Refunded")."""
    if not by_admin:
        return
    _ask(f"email:refund:{refund.refund.id}", "refund_receipt", session.user_id,
         {"session_id": str(session.id), "refund_id": str(refund.refund.id)}, now)  # fmt: skip


@signals.session_ended.connect
def consultation_ended(session, *, now=None, **_):
    _ask(f"email:session:{session.id}", "consultation_receipt", session.user_id, {"session_id": str(session.id)}, now)


def payout_changed(payout, now=None):
    """The astrologer hears of each step of their payout: requested, approved, paid, rejected, failed."""
    status = payout.status.value
    _ask(
        f"email:payout:{payout.id}:{status}",
        "payout_update",
        payout.astrologer_id,
        {"payout_id": str(payout.id), "status": status},
        now,
        category="payouts",
    )


#: app.extensions key: the last week this process asked summaries for (the deliveries' keys stop other
#: processes). Kept on the app itself: a dict keyed by id(app) answered for a new app that happened to
#: get a collected one's id (the test suite makes many), which then never asked.
WEEK_DONE = "astro_weekly_summaries_done"


def weekly_summaries(now):
    """Once the week (Monday to Sunday in REPORTING_TIMEZONE) is over, each astrologer who earned in it
    is sent its figures (the periodic loop calls this every pass; it asks once a week). Returns how many."""
    if not mail.enabled():
        return 0
    local = now.astimezone(earnings.zone())
    this_week = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    last_week = this_week - timedelta(days=7)
    app = current_app._get_current_object()
    if app.extensions.get(WEEK_DONE) == last_week:
        return 0
    asked = 0
    for astrologer_id in earnings.earned_between(last_week, this_week):
        refs = {"start": last_week.isoformat(), "end": this_week.isoformat()}
        _ask(
            f"email:weekly:{astrologer_id}:{last_week.date()}", "weekly_earnings", astrologer_id, refs, now, "earnings"
        )
        asked += 1
    app.extensions[WEEK_DONE] = last_week
    return asked


def context(template, refs):
    """What the template shows, read now (a payout message says the step it reports)."""
    if template == "weekly_earnings":
        start, end = datetime.fromisoformat(refs["start"]), datetime.fromisoformat(refs["end"])
        return {
            "start": start,
            "last_day": end - timedelta(days=1),
            "week": earnings.between(refs["astrologer_id"], start, end),
        }
    if template == "payout_update":
        return {"payout": db.session.get(Payout, uuid.UUID(refs["payout_id"])), "step": refs["status"]}
    if template == "refund_receipt":
        refund = db.session.get(BillingTransaction, uuid.UUID(refs["refund_id"]))
        session = db.session.get(ConsultationSession, uuid.UUID(refs["session_id"]))
        return {"refund": refund, "session": session, "reason": (refund.details or {}).get("reason")}
    if template == "topup_receipt":
        topup = db.session.get(BillingTransaction, uuid.UUID(refs["transaction_id"]))
        paid, tax = topups.price_of(topup)
        return {"topup": topup, "paid": paid, "tax": tax, "invoice": invoices.invoice_of(topup.id)}
    session = db.session.get(ConsultationSession, uuid.UUID(refs["session_id"]))
    refunded = db.session.execute(
        db.select(db.func.coalesce(db.func.sum(BillingTransaction.amount), 0)).where(
            BillingTransaction.session_id == session.id,
            BillingTransaction.wallet_id == session.user.wallet.id,
            BillingTransaction.kind == BillingKind.REFUND,
            BillingTransaction.status == BillingStatus.COMPLETED,
        )
    ).scalar_one()
    refunded = Decimal(refunded or 0)  # total_cost is what stays charged, after refunds
    return {
        "session": session,
        "refunded": refunded,
        "charged": session.total_cost + refunded,
        "paid": session.total_cost,
    }


@jobs.channel("email")
def send_delivery(payload):
    """The e-mail channel: what the message reports read now, rendered and sent (services/notifications/mail.py);
    False when the person has no address or turned the category off, True when sent."""
    user = db.session.get(User, uuid.UUID(payload["user_id"]))
    if not mail.wanted_by(user, payload["category"]):
        return False
    contents = context(payload["template"], {**payload.get("context", {}), "astrologer_id": user.id})
    invoice = contents.get("invoice")
    attachments = (lambda: [_invoice_attachment(invoice, user)]) if invoice is not None else None
    mail.send(user, payload["category"], payload["template"], contents, attachments=attachments)
    return True


def _invoice_attachment(invoice, user):
    _, pdf = invoices.document(invoice.id, user)
    return f"{invoice.number.replace('/', '-')}.pdf", pdf, "application/pdf"
