"""A paid top-up given back by an admin: asked first (who, how much, through which gateway), the wallet
and the tax account debited with a credit note against the invoice, and the gateway asked after the
commit by a retried job, once (its idempotency key); what was spent cannot go back."""

from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import AuditEntry, BillingKind, BillingTransaction, Delivery, InvoiceKind, TaxInvoice
from webapp.services import jobs, wallet
from webapp.services.errors import InsufficientBalance
from webapp.services.money import ledger_checker, topup_refunds

from ..conftest import csrf_token_from
from ..fake_razorpay import FakeRazorpay
from ..fake_razorpay import configure as razorpay_settings

D = Decimal


@pytest.fixture
def gateway(app, monkeypatch):
    fake = FakeRazorpay()
    for name, value in razorpay_settings(app.config, fake).items():
        monkeypatch.setitem(app.config, name, value)
    yield fake
    fake.stop()


def _paid_topup(user, gateway):
    from webapp.services.money import payments

    transaction, checkout = payments.start_topup(user.id, "500", buyer_state="27", provider_name="razorpay")
    db.session.commit()
    gateway.pay(checkout.order_id)
    payments.handle_webhook("razorpay", *gateway.webhooks[0])
    db.session.commit()
    return transaction


def test_an_admin_is_asked_first_then_the_top_up_goes_back_with_a_credit_note(
    app, admin_client, make_user, gateway, queued
):
    user = make_user(name="Meera Iyer")
    topup = _paid_topup(user, gateway)
    invoice = db.session.query(TaxInvoice).one()
    person = admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert invoice.number in person and f"/admin/topups/{topup.id}/refund" in person
    ask = admin_client.get(f"/admin/topups/{topup.id}/refund").get_data(as_text=True)
    assert "Pay ₹590 back to Meera Iyer?" in ask and "razorpay" in ask and invoice.number in ask
    token = csrf_token_from(ask)
    blank = admin_client.post(f"/admin/topups/{topup.id}/refund", data={"reason": " ", "csrf_token": token})
    assert blank.status_code == 422 and wallet.wallet_of(user.id).current_balance == D("500.00")
    done = admin_client.post(f"/admin/topups/{topup.id}/refund", data={"reason": "Paid twice", "csrf_token": token})
    assert done.status_code == 303
    assert wallet.wallet_of(user.id).current_balance == D("0.00") and wallet.tax_wallet().current_balance == D("0.00")
    note = db.session.query(TaxInvoice).filter_by(kind=InvoiceKind.CREDIT_NOTE).one()
    assert (note.number, note.invoice_id, note.total, note.igst) == (
        "AC/2627/C00001",
        invoice.id,
        D("590.00"),
        D("90.00"),
    )
    audit = db.session.query(AuditEntry).filter_by(action="topup.refund").one()
    assert audit.after["credit_note"] == note.number and audit.after["reason"] == "Paid twice"
    # The gateway is asked after the commit, by a job; a retry refunds nothing twice.
    (refund_job,) = [i for i in queued if db.session.get(Delivery, i).channel == "gateway_refund"]
    assert gateway.refunds == {}
    assert jobs.perform(refund_job).status == "sent"
    ((key, refund),) = gateway.refunds.items()
    assert key == f"refund-{topup.id}" and refund["amount"] == 59000
    # The person's statement shows it, with the credit note.
    assert ledger_checker.verify().ok
    again = admin_client.post(f"/admin/topups/{topup.id}/refund", data={"reason": "again", "csrf_token": token})
    assert again.status_code == 303 and db.session.query(TaxInvoice).count() == 2  # nothing twice


def test_the_statement_shows_the_top_up_paid_back_with_its_credit_note(app, client, auth, make_user, gateway):
    user = make_user()
    topup = _paid_topup(user, gateway)
    topup_refunds.refund_topup(topup.id, reason="Asked by the payer")
    db.session.commit()
    auth.login(user.email)
    page = client.get("/wallet").get_data(as_text=True)
    assert "Top-up paid back" in page and "Asked by the payer" in page and "−₹500" in page
    assert "Credit note AC/2627/C00001 (PDF)" in page and "Tax invoice AC/2627/000001 (PDF)" in page


def test_money_already_spent_cannot_be_paid_back(app, make_user, gateway, consult):
    user = make_user()
    topup = _paid_topup(user, gateway)
    astrologer = consult.astrologer()
    consult.accept(consult.request(user, astrologer))  # the first minute (₹10) is charged
    with pytest.raises(InsufficientBalance, match="of this top-up's ₹500 is left"):
        topup_refunds.refund_topup(topup.id, reason="too late")
    db.session.rollback()
    assert db.session.query(BillingTransaction).filter_by(kind=BillingKind.TOPUP_REFUND).count() == 0
    assert db.session.query(TaxInvoice).filter_by(kind=InvoiceKind.CREDIT_NOTE).count() == 0
