"""Provider webhooks: signed, fresh, matching an order, idempotent; every refusal changes nothing."""

import json
import time
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import BillingKind, BillingStatus, BillingTransaction
from webapp.services import wallet
from webapp.services.money import payments
from webapp.services.money.payments import DemoProvider


@pytest.fixture
def order(app, make_user):
    user = make_user()
    transaction, checkout = payments.start_topup(user.id, Decimal("500.00"))
    db.session.commit()
    return user, checkout.order_id


def _signed(app, order_id, *, amount="590.00", status="captured", payment_id="pay_1", at=None, secret=None):
    body = json.dumps({"order_id": order_id, "payment_id": payment_id, "status": status, "amount": amount}).encode()
    timestamp = int(at if at is not None else time.time())
    signer = DemoProvider(secret or app.config["PAYMENT_WEBHOOK_SECRET"])
    return body, {"X-Demo-Timestamp": str(timestamp), "X-Demo-Signature": signer.sign(body, timestamp)}


def _post(client, body, headers, provider="demo"):
    return client.post(
        f"/payments/webhook/{provider}", data=body, headers={**headers, "Content-Type": "application/json"}
    )


def _state(user):
    topup = db.session.query(BillingTransaction).filter_by(kind=BillingKind.TOPUP).one()
    return wallet.wallet_of(user.id).current_balance, topup.status


def test_verified_webhook_completes_the_topup(app, client, order):
    user, order_id = order
    response = _post(client, *_signed(app, order_id))
    assert response.status_code == 200 and response.json == {"status": "processed", "order_status": "completed"}
    assert _state(user) == (Decimal("500.00"), BillingStatus.COMPLETED)
    assert wallet.tax_wallet().current_balance == Decimal("90.00")


def test_duplicate_delivery_is_acknowledged_and_changes_nothing(app, client, order):
    user, order_id = order
    body, headers = _signed(app, order_id)
    _post(client, body, headers)
    again = _post(client, body, headers)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert _state(user) == (Decimal("500.00"), BillingStatus.COMPLETED)


def test_failed_payment_webhook_marks_the_order_failed(app, client, order):
    user, order_id = order
    response = _post(client, *_signed(app, order_id, status="failed"))
    assert response.status_code == 200 and response.json["order_status"] == "failed"
    assert _state(user) == (Decimal("0.00"), BillingStatus.FAILED)


def _refused(client, user, response, status, error):
    assert response.status_code == status, response.json
    assert response.json["error"] == error and response.json["message"]
    assert _state(user) == (Decimal("0.00"), BillingStatus.PENDING)


def test_forged_signature_is_refused(app, client, order):
    user, order_id = order
    _refused(client, user, _post(client, *_signed(app, order_id, secret="not-the-secret")), 400, "invalid_signature")


def test_tampered_body_is_refused(app, client, order):
    user, order_id = order
    body, headers = _signed(app, order_id, amount="5.00")
    tampered = body.replace(b'"5.00"', b'"590.00"')
    _refused(client, user, _post(client, tampered, headers), 400, "invalid_signature")


def test_replayed_old_webhook_is_refused(app, client, order):
    user, order_id = order
    _refused(client, user, _post(client, *_signed(app, order_id, at=time.time() - 301)), 400, "invalid_signature")


def test_unsigned_webhook_is_refused(client, order):
    user, order_id = order
    _refused(client, user, _post(client, b'{"order_id": "x"}', {}), 400, "invalid_signature")


def test_amount_that_differs_from_the_order_is_refused_and_kept_for_admins(app, client, order):
    """₹500 + GST = ₹590 ordered; a payment of ₹500 (the tax left out) credits nothing, closes the order
    unpaid with what was paid kept, and is acknowledged (a redelivery changes nothing)."""
    user, order_id = order
    body, headers = _signed(app, order_id, amount="500.00")
    response = _post(client, body, headers)
    assert response.status_code == 200 and response.json["status"] == "refused"
    assert response.json["error"] == "payment_mismatch" and "590.00" in response.json["message"]
    assert _state(user) == (Decimal("0.00"), BillingStatus.FAILED)
    assert (
        db.session.query(BillingTransaction).filter_by(kind=BillingKind.TOPUP).one().details["mismatch"] == "500.00 INR"
    )
    assert _post(client, body, headers).json["status"] == "refused"
    assert wallet.tax_wallet().current_balance == Decimal("0.00")


def test_unknown_order_is_refused(app, client, order):
    user, _ = order
    _refused(client, user, _post(client, *_signed(app, "order_demo_unknown")), 404, "unknown_order")


def test_malformed_payload_is_refused(app, client, order):
    user, _ = order
    body = b"not json"
    timestamp = int(time.time())
    headers = {
        "X-Demo-Timestamp": str(timestamp),
        "X-Demo-Signature": DemoProvider(app.config["PAYMENT_WEBHOOK_SECRET"]).sign(body, timestamp),
    }
    _refused(client, user, _post(client, body, headers), 400, "bad_webhook")


def test_unknown_provider_is_404(app, client, order):
    user, order_id = order
    _refused(client, user, _post(client, *_signed(app, order_id), provider="stripe"), 404, "unknown_provider")


def test_a_second_payment_for_a_paid_order_is_refused(app, client, order):
    user, order_id = order
    _post(client, *_signed(app, order_id))
    response = _post(client, *_signed(app, order_id, payment_id="pay_2"))
    assert response.status_code == 409 and response.json["error"] == "order_closed"
    assert _state(user) == (Decimal("500.00"), BillingStatus.COMPLETED)


def _sign_body(app, body):
    timestamp = int(time.time())
    signature = DemoProvider(app.config["PAYMENT_WEBHOOK_SECRET"]).sign(body, timestamp)
    return {"X-Demo-Timestamp": str(timestamp), "X-Demo-Signature": signature}


@pytest.mark.parametrize(
    "change",
    [
        {"payment_id": "pay\u0000x"},
        {"payment_id": "\ud800"},
        {"payment_id": "p" * 100_000},
        {"order_id": ["not", "an", "id"]},
        {"payment_id": True},
    ],
)
def test_a_signed_webhook_with_a_malformed_id_is_a_400_and_changes_nothing(app, client, order, change):
    user, order_id = order
    payload = {"order_id": order_id, "payment_id": "pay_1", "status": "captured", "amount": "500.00", **change}
    body = json.dumps(payload).encode()
    response = _post(client, body, _sign_body(app, body))
    assert response.status_code == 400 and response.json["error"] == "bad_webhook"
    assert _state(user) == (Decimal("0.00"), BillingStatus.PENDING)


def test_a_signed_webhook_nested_too_deeply_is_a_400(app, client, order):
    body = b'{"a":' * 5000 + b"1" + b"}" * 5000
    response = _post(client, body, _sign_body(app, body))
    assert response.status_code == 400 and response.json["error"] == "bad_webhook"
