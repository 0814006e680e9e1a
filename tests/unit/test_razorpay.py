"""Razorpay as a payer meets it (tests/fake_razorpay.py stands in for the gateway, through the official
SDK): an Order for the total with the tax, Standard Checkout prefilled, the handler's signature checked,
the signed webhook crediting the wallet exactly once, and reconciliation when the webhook never comes."""

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import BillingKind, BillingStatus, BillingTransaction, TaxInvoice
from webapp.security import content_security_policy
from webapp.services import wallet
from webapp.services.money import reconciliation

from ..conftest import csrf_token_from
from ..fake_razorpay import FakeRazorpay, configure, sign

D = Decimal
HTMX = {"HX-Request": "true"}


@pytest.fixture
def gateway(app, monkeypatch):
    fake = FakeRazorpay()
    for name, value in configure(app.config, fake).items():
        monkeypatch.setitem(app.config, name, value)
    yield fake
    fake.stop()


@pytest.fixture
def payer(make_user, auth):
    user = make_user(name="Meera Iyer", email="meera@example.com", phone="+919812345678")
    auth.login(user.email)
    return user


def _topup(client, amount="500", state="33"):
    token = csrf_token_from(client.get("/wallet").get_data(as_text=True))
    return client.post("/wallet/topups", data={"amount": amount, "state": state, "csrf_token": token}, headers=HTMX)


def _topup_row():
    return db.session.query(BillingTransaction).filter_by(kind=BillingKind.TOPUP).one()


def _webhook(client, body, headers):
    return client.post("/payments/webhook/razorpay", data=body, headers=headers)


def _balances(user):
    return wallet.wallet_of(user.id).current_balance, wallet.tax_wallet().current_balance


def test_the_order_is_for_the_total_with_gst_and_the_checkout_is_prefilled(client, gateway, payer):
    panel = _topup(client).get_data(as_text=True)
    ((order_id, order),) = gateway.orders.items()
    topup = _topup_row()
    assert (order["amount"], order["currency"], order["receipt"]) == (59000, "INR", str(topup.id))  # paise
    assert "Pay ₹590" in panel and "GST (18%)" in panel and "Added to your wallet" in panel
    options = json.loads(panel.split('data-razorpay="', 1)[1].split('"', 1)[0].replace("&#34;", '"'))
    assert options["key"] == "rzp_test_standin" and options["order_id"] == order_id and options["amount"] == 59000
    assert options["prefill"] == {"name": "Meera Iyer", "email": "meera@example.com", "contact": "+919812345678"}
    assert topup.status == BillingStatus.PENDING and topup.details["buyer_state"] == "33"


def test_the_webhook_credits_once_with_gst_and_an_invoice_and_redeliveries_change_nothing(client, gateway, payer):
    _topup(client)
    order_id = next(iter(gateway.orders))
    gateway.pay(order_id)
    captured, paid = gateway.webhooks
    first = _webhook(client, *captured)
    assert first.status_code == 200 and first.json["status"] == "processed"
    assert _balances(payer) == (D("500.00"), D("90.00"))
    assert _webhook(client, *captured).json["status"] == "duplicate"  # the same delivery again
    assert _webhook(client, *paid).json["status"] == "duplicate"  # order.paid: the same payment
    assert _balances(payer) == (D("500.00"), D("90.00"))
    invoice = db.session.query(TaxInvoice).one()
    # Tamil Nadu buys from a Karnataka seller: IGST.
    assert (invoice.buyer_state, invoice.cgst, invoice.sgst, invoice.igst, invoice.total) == (
        "33",
        D("0.00"),
        D("0.00"),
        D("90.00"),
        D("590.00"),
    )
    assert _topup_row().payment_method == "upi"


def test_forged_tampered_and_unsigned_webhooks_are_refused(client, gateway, payer):
    _topup(client)
    gateway.pay(next(iter(gateway.orders)))
    body, headers = gateway.webhooks[0]
    forged = {**headers, "X-Razorpay-Signature": sign("not-the-secret", body)}
    tampered = body.replace(b'"amount": 59000', b'"amount": 99000')
    for sent, with_headers in ((body, forged), (tampered, headers), (body, {"Content-Type": "application/json"})):
        response = _webhook(client, sent, with_headers)
        assert response.status_code == 400 and response.json["error"] == "invalid_signature"
    assert _balances(payer) == (D("0.00"), D("0.00")) and _topup_row().status == BillingStatus.PENDING


@pytest.mark.parametrize("paid", [{"amount": 50000}, {"currency": "USD"}])
def test_a_payment_that_differs_from_the_order_credits_nothing_and_is_kept_for_admins(client, gateway, payer, paid):
    _topup(client)
    gateway.pay(next(iter(gateway.orders)), **paid)
    response = _webhook(client, *gateway.webhooks[0])
    assert response.status_code == 200 and response.json["error"] == "payment_mismatch"
    assert _balances(payer) == (D("0.00"), D("0.00"))
    topup = _topup_row()
    assert topup.status == BillingStatus.FAILED and topup.details["mismatch"] in ("500.00 INR", "590.00 USD")
    assert db.session.query(TaxInvoice).count() == 0


def test_a_failed_attempt_leaves_the_order_open_for_the_next_one(client, gateway, payer):
    _topup(client)
    order_id = next(iter(gateway.orders))
    failed = json.dumps(
        {
            "event": "payment.failed",
            "payload": {
                "payment": {
                    "entity": {
                        "id": "pay_failed1",
                        "order_id": order_id,
                        "amount": 59000,
                        "currency": "INR",
                        "status": "failed",
                    }
                }
            },
        }
    ).encode()
    headers = {"Content-Type": "application/json", "X-Razorpay-Signature": sign("standin-webhook-secret", failed)}
    assert _webhook(client, failed, headers).json == {"status": "ignored"}
    assert _topup_row().status == BillingStatus.PENDING
    gateway.pay(order_id)
    assert _webhook(client, *gateway.webhooks[0]).json["status"] == "processed"
    assert _balances(payer) == (D("500.00"), D("90.00"))


def test_the_checkout_handler_is_checked_and_settles_from_the_gateway_when_the_webhook_is_late(client, gateway, payer):
    gateway.deliver = False
    _topup(client)
    order_id = next(iter(gateway.orders))
    fields = gateway.pay(order_id)
    token = csrf_token_from(client.get("/wallet").get_data(as_text=True))
    forged = client.post(
        "/payments/razorpay/callback",
        data={
            **fields,
            "razorpay_signature": sign("guess", f"{order_id}|{fields['razorpay_payment_id']}"),
            "csrf_token": token,
        },
        headers=HTMX,
    )
    assert forged.status_code == 400 and "signature" in forged.get_data(as_text=True)
    assert _balances(payer) == (D("0.00"), D("0.00"))
    answer = client.post("/payments/razorpay/callback", data={**fields, "csrf_token": token}, headers=HTMX)
    assert answer.status_code == 200 and "₹500 was added to your wallet." in answer.get_data(as_text=True)
    assert answer.headers["HX-Trigger"] == "wallet-changed"
    for body, headers in gateway.webhooks:  # the webhooks arrive after all
        assert _webhook(client, body, headers).json["status"] == "duplicate"
    assert _balances(payer) == (D("500.00"), D("90.00"))


def test_someone_elses_order_cannot_be_claimed_with_its_valid_signature(client, gateway, payer, make_user, auth):
    _topup(client)
    order_id = next(iter(gateway.orders))
    fields = gateway.pay(order_id)
    other = make_user()
    auth.logout()
    auth.login(other.email)
    token = csrf_token_from(client.get("/wallet").get_data(as_text=True))
    response = client.post("/payments/razorpay/callback", data={**fields, "csrf_token": token}, headers=HTMX)
    assert response.status_code == 404
    assert wallet.wallet_of(other.id).current_balance == D("0.00")


def test_reconciliation_credits_a_top_up_whose_webhook_was_lost_and_the_late_webhook_changes_nothing(
    app, client, gateway, payer
):
    gateway.deliver = False
    _topup(client)
    order_id = next(iter(gateway.orders))
    gateway.pay(order_id)
    created = _topup_row().created_at
    early = reconciliation.reconcile_due(created + timedelta(minutes=5), force=True)
    assert early == {"asked": 0, "credited": 0, "expired": 0}  # younger than PAYMENT_RECONCILE_MINUTES
    done = reconciliation.reconcile_due(created + timedelta(minutes=16), force=True)
    assert done == {"asked": 1, "credited": 1, "expired": 0}
    assert _balances(payer) == (D("500.00"), D("90.00")) and db.session.query(TaxInvoice).count() == 1
    assert reconciliation.reconcile_due(created + timedelta(minutes=40), force=True)["asked"] == 0
    for body, headers in gateway.webhooks:
        assert _webhook(client, body, headers).json["status"] == "duplicate"
    assert _balances(payer) == (D("500.00"), D("90.00"))


def test_an_order_nobody_paid_expires_and_a_silent_gateway_is_asked_again(app, client, gateway, payer):
    _topup(client)
    created = _topup_row().created_at
    gateway.down = True
    later = created + timedelta(days=2)
    assert reconciliation.reconcile_due(later, force=True) == {"asked": 1, "credited": 0, "expired": 0}
    assert _topup_row().status == BillingStatus.PENDING
    gateway.down = False
    assert reconciliation.reconcile_due(later, force=True)["expired"] == 1
    assert _topup_row().status == BillingStatus.CANCELLED and _topup_row().details["expired"] is True


def test_a_gateway_that_does_not_answer_gets_a_clear_refusal_and_nothing_is_kept(client, gateway, payer):
    gateway.down = True
    response = _topup(client)
    assert response.status_code == 422
    assert "payment service is not answering" in response.get_data(as_text=True)
    assert db.session.query(BillingTransaction).count() == 0


@pytest.mark.postgres
def test_twenty_copies_of_one_webhook_at_once_credit_once(app, gateway, payer):
    with app.test_request_context():
        from webapp.services.money import payments

        _, checkout = payments.start_topup(payer.id, "500", buyer_state="29", provider_name="razorpay")
        db.session.commit()
    gateway.pay(checkout.order_id)
    body, headers = gateway.webhooks[0]
    answers, start = [], threading.Barrier(20)

    def deliver():
        with app.test_client() as client:
            start.wait()
            response = _webhook(client, body, headers)
            answers.append(response.json.get("status") or response.json)

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, answers)) == ["duplicate"] * 19 + ["processed"], answers
    db.session.expire_all()
    assert _balances(payer) == (D("500.00"), D("90.00"))
    assert db.session.query(TaxInvoice).count() == 1


def test_the_csp_opens_for_razorpays_checkout_only_while_razorpay_is_on(app, gateway):
    assert "script-src" not in content_security_policy({"PAYMENT_PROVIDERS": ("demo",)})
    policy = content_security_policy(app.config)
    assert policy["script-src"] == f"'self' {gateway.base}" and gateway.base in policy["frame-src"]
    real = content_security_policy(
        {"PAYMENT_PROVIDERS": ("razorpay",), "RAZORPAY_CHECKOUT_JS": "https://checkout.razorpay.com/v1/checkout.js",
         "RAZORPAY_API_BASE": "https://api.razorpay.com"}
    )  # fmt: skip
    assert real["script-src"] == "'self' https://checkout.razorpay.com"
    assert real["frame-src"] == "'self' https://checkout.razorpay.com https://api.razorpay.com"


def test_the_webhook_of_a_gateway_that_is_off_is_404(client, payer):
    response = client.post("/payments/webhook/razorpay", data=b"{}", headers={"X-Razorpay-Signature": "x"})
    assert response.status_code == 404 and response.json["error"] == "unknown_provider"  # demo alone is on
