"""Razorpay (PAYMENT_PROVIDER=razorpay): Orders and Standard Checkout through the official SDK.

- An Order per top-up, for its total in paise, with our top-up's id as its receipt; the payer pays in
  Razorpay's Standard Checkout (UPI, cards, net banking, wallets), opened by webapp/static/js/razorpay.js.
- The checkout's handler hands back razorpay_order_id, _payment_id and _signature: `verify_payment`
  checks HMAC-SHA256(order_id|payment_id, key secret) before the page says anything of success.
- The webhook (X-Razorpay-Signature: HMAC-SHA256 of the raw body with the webhook secret) is what
  credits: payment.captured and order.paid settle the order; payment.failed settles nothing (the payer
  may try again in the same checkout, and a later capture must still credit); other events are
  acknowledged and ignored. X-Razorpay-Event-Id names a delivery (services/money/payments.py keeps them).
- Reconciliation asks GET /v1/orders/{id}/payments for a captured payment.
Every call goes to RAZORPAY_API_BASE within PAYMENT_TIMEOUT_SECONDS; the SDK's errors and the
network's become GatewayUnavailable (nothing is written).
"""

import logging
from decimal import Decimal

import razorpay
import requests
from flask_babel import gettext

from .. import payloads
from ..errors import InvalidSignature
from ._gateway import CAPTURED, BadWebhook, Checkout, GatewayUnavailable, PaymentProvider, WebhookEvent, _identifier

log = logging.getLogger(__name__)

#: The events the webhook settles an order with (subscribe to these in Razorpay's dashboard).
SETTLING_EVENTS = ("payment.captured", "order.paid")
SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"


def to_paise(amount):
    return int(amount * 100)


def from_paise(paise):
    if isinstance(paise, bool) or not isinstance(paise, int) or paise < 0:
        raise ValueError("an amount in paise must be a whole number")
    return (Decimal(paise) / 100).quantize(Decimal("0.01"))


class RazorpayProvider(PaymentProvider):
    name = "razorpay"

    def __init__(self, config):
        self.key_id = config["RAZORPAY_KEY_ID"]
        self.client = razorpay.Client(
            auth=(config["RAZORPAY_KEY_ID"], config["RAZORPAY_KEY_SECRET"]), base_url=config["RAZORPAY_API_BASE"]
        )
        self.client.set_app_details({"title": "AstroConsult"})
        self.webhook_secret = config["RAZORPAY_WEBHOOK_SECRET"]
        self.timeout = config["PAYMENT_TIMEOUT_SECONDS"]

    def _call(self, operation, *args, **options):
        try:
            return operation(*args, timeout=self.timeout, **options)
        except (requests.RequestException, razorpay.errors.BadRequestError, razorpay.errors.ServerError,
                razorpay.errors.GatewayError, ValueError) as error:  # fmt: skip
            log.warning("razorpay: %s failed: %s", getattr(operation, "__name__", "a call"), error)
            raise GatewayUnavailable() from None

    def create_order(self, total, order_for):
        order = self._call(
            self.client.order.create,
            {
                "amount": to_paise(total),
                "currency": order_for.currency,
                "receipt": str(order_for.reference),
                "notes": {"user_id": str(order_for.user_id), "wallet_credit": str(order_for.price.credit)},
            },
        )
        order_id = order.get("id") if isinstance(order, dict) else None
        if not isinstance(order_id, str) or not order_id:
            raise GatewayUnavailable()
        return Checkout(order_id=order_id, url=f"/payments/razorpay/checkout/{order_id}", embedded=True)

    def verify_payment(self, order_id, payment_id, signature):
        """The checkout handler's signature (InvalidSignature unless it is Razorpay's for this order)."""
        try:
            self.client.utility.verify_payment_signature(
                {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}
            )
        except razorpay.errors.SignatureVerificationError:
            raise InvalidSignature(gettext("The payment signature does not match.")) from None

    def event_id(self, headers, body):
        return headers.get(EVENT_ID_HEADER) or None

    def verify_webhook(self, body, headers, now):
        signature = headers.get(SIGNATURE_HEADER)
        if not signature:
            raise InvalidSignature(gettext("The webhook is not signed."))
        try:
            self.client.utility.verify_webhook_signature(body.decode("utf-8"), signature, self.webhook_secret)
        except (razorpay.errors.SignatureVerificationError, UnicodeDecodeError):
            raise InvalidSignature(gettext("The webhook signature does not match.")) from None
        try:
            payload = payloads.loads(body)
            event = payload["event"]
            if event not in SETTLING_EVENTS:
                return None  # payment.failed and the rest: nothing to settle
            return self._captured(payload["payload"]["payment"]["entity"])
        except (ValueError, KeyError, TypeError):
            raise BadWebhook() from None

    def _captured(self, payment):
        """A captured payment entity as a WebhookEvent (ValueError when it is not one)."""
        if payment.get("status") != "captured":
            raise ValueError("the payment is not captured")
        method = payment.get("method")
        return WebhookEvent(
            order_id=_identifier(payment["order_id"]),
            payment_id=_identifier(payment["id"]),
            status=CAPTURED,
            amount=from_paise(payment["amount"]),
            method=method if isinstance(method, str) and len(method) <= 50 else None,
            currency=str(payment["currency"]),
        )

    def look_up(self, order_id, now):
        answer = self._call(self.client.order.payments, order_id)
        try:
            for payment in answer["items"]:
                if payment.get("status") == "captured":
                    return self._captured(payment)
        except (KeyError, TypeError, ValueError):
            raise GatewayUnavailable() from None
        return None

    def refund(self, payment_id, amount, key):
        """POST /v1/payments/{id}/refund, with X-Refund-Idempotency: a retried job refunds once."""
        self._call(
            self.client.payment.refund,
            payment_id,
            {"amount": to_paise(amount), "receipt": key[:40]},
            headers={"X-Refund-Idempotency": key},
        )

    def checkout_options(self, order, buyer, total, description):
        """What Standard Checkout is opened with (razorpay.js reads it from the page)."""
        return {
            "key": self.key_id,
            "order_id": order.details["order_id"],
            "amount": to_paise(total),
            "currency": order.currency,
            "name": "AstroConsult",
            "description": description,
            "prefill": {"name": buyer.name, "email": buyer.email or "", "contact": buyer.phone or ""},
            "notes": {"topup_id": str(order.id)},
        }
