"""Stripe for cards from abroad, beside the demo gateway (tests/fake_stripe.py stands in for Stripe, through
the official SDK): the payer chooses it, pays on Stripe's page a session whose line items show the tax,
and the signed webhook (stripe.Webhook.construct_event) credits the wallet once."""

from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import BillingKind, BillingStatus, BillingTransaction, TaxInvoice
from webapp.services import wallet
from webapp.services.money import reconciliation

from ..conftest import csrf_token_from
from ..fake_stripe import FakeStripe, configure, signature

D = Decimal
HTMX = {"HX-Request": "true"}


@pytest.fixture
def gateway(app, monkeypatch):
    fake = FakeStripe()
    for name, value in configure(app.config, fake).items():
        monkeypatch.setitem(app.config, name, value)
    yield fake
    fake.stop()


@pytest.fixture
def payer(make_user, auth):
    user = make_user(name="Anil Mehta", email="anil@example.com")
    auth.login(user.email)
    return user


def _topup(client, provider="stripe", amount="1000", state="07", headers=None):
    token = csrf_token_from(client.get("/wallet").get_data(as_text=True))
    data = {"amount": amount, "state": state, "provider": provider, "csrf_token": token}
    return client.post("/wallet/topups", data=data, headers=headers or {})


def _topup_row():
    return db.session.query(BillingTransaction).filter_by(kind=BillingKind.TOPUP).one()


def _webhook(client, body, headers):
    return client.post("/payments/webhook/stripe", data=body, headers=headers)


def test_the_payer_chooses_stripe_and_its_session_shows_the_credit_and_the_tax(client, gateway, payer):
    page = client.get("/wallet").get_data(as_text=True)
    assert "International cards (Stripe)" in page and "Demo payment" in page  # both on: the payer chooses
    panel = _topup(client, headers=HTMX).get_data(as_text=True)
    ((session_id, session),) = gateway.sessions.items()
    assert session["_items"] == [("Wallet credit", 100000), ("GST (18%)", 18000)]
    assert (session["amount_total"], session["currency"]) == (118000, "inr")
    assert session["client_reference_id"] == str(_topup_row().id)
    assert "Pay ₹1,180 with a card" in panel and session["url"] in panel


def test_the_signed_webhook_credits_once_and_a_forged_or_stale_one_is_refused(client, gateway, payer):
    _topup(client)
    session_id = next(iter(gateway.sessions))
    body, headers = gateway.pay(session_id)
    for forged in (signature(body, secret="whsec_wrong"), signature(body, at=0)):
        refused = _webhook(client, body, {**headers, "Stripe-Signature": forged})
        assert refused.status_code == 400 and refused.json["error"] == "invalid_signature"
    assert wallet.wallet_of(payer.id).current_balance == D("0.00")
    assert _webhook(client, body, headers).json["status"] == "processed"
    assert _webhook(client, body, headers).json["status"] == "duplicate"
    assert wallet.wallet_of(payer.id).current_balance == D("1000.00")
    assert wallet.tax_wallet().current_balance == D("180.00")
    invoice = db.session.query(TaxInvoice).one()
    assert (invoice.buyer_state, invoice.igst, invoice.total) == ("07", D("180.00"), D("1180.00"))
    assert _topup_row().external_transaction_id.startswith("pi_")


def test_coming_back_from_stripes_page_shows_the_order_until_the_webhook_credits_it(client, gateway, payer):
    gateway.deliver = False
    response = _topup(client)
    session_id = next(iter(gateway.sessions))
    assert response.status_code == 303
    assert "/payments/stripe/checkout/" in response.headers["Location"]
    back = client.get(f"/payments/stripe/return?session_id={session_id}").get_data(as_text=True)
    assert "being confirmed" in back and 'hx-trigger="load delay:3s"' in back
    _webhook(client, *gateway.pay(session_id))
    done = client.get(f"/payments/stripe/return?session_id={session_id}", headers=HTMX).get_data(as_text=True)
    assert "₹1,000 was added to your wallet." in done and "hx-trigger" not in done


def test_an_amount_that_differs_is_refused_and_an_expired_session_closes_the_order(client, gateway, payer):
    _topup(client)
    first = next(iter(gateway.sessions))
    response = _webhook(client, *gateway.pay(first, amount_total=100000))
    assert response.json["error"] == "payment_mismatch" and _topup_row().status == BillingStatus.FAILED
    db.session.query(BillingTransaction).delete()
    db.session.commit()
    _topup(client)
    second = [key for key in gateway.sessions if key != first][0]
    assert _webhook(client, *gateway.expire(second)).json["order_status"] == "cancelled"
    assert wallet.wallet_of(payer.id).current_balance == D("0.00")


def test_reconciliation_asks_stripe_about_a_session_whose_webhook_was_lost(client, gateway, payer):
    gateway.deliver = False
    _topup(client)
    session_id = next(iter(gateway.sessions))
    gateway.pay(session_id)
    later = _topup_row().created_at + timedelta(minutes=20)
    assert reconciliation.reconcile_due(later, force=True)["credited"] == 1
    assert wallet.wallet_of(payer.id).current_balance == D("1000.00")
    body, headers = gateway.webhooks[-1]
    assert _webhook(client, body, headers).json["status"] == "duplicate"


def test_a_top_up_paid_back_is_refunded_at_stripe_once(app, client, gateway, payer, queued):
    from webapp.models import Delivery
    from webapp.services import jobs
    from webapp.services.money import topup_refunds

    _topup(client)
    _webhook(client, *gateway.pay(next(iter(gateway.sessions))))
    topup_refunds.refund_topup(_topup_row().id, reason="Card charged twice")
    db.session.commit()
    (job,) = [i for i in queued if db.session.get(Delivery, i).channel == "gateway_refund"]
    assert jobs.perform(job).status == "sent" and jobs.perform(job).status == "sent"
    ((key, refund),) = gateway.refunds.items()
    assert key == f"refund-{_topup_row().id}" and refund["amount"] == 118000
    assert refund["payment_intent"] == _topup_row().external_transaction_id
