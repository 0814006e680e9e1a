"""Stripe (in PAYMENT_PROVIDERS as `stripe`, for cards issued abroad) through the official SDK.

- A Checkout Session per top-up in the wallet's currency, with two line items (the wallet credit and
  the tax) so Stripe's page shows the same price ours did; our top-up's id as client_reference_id.
  The payer goes to Stripe's hosted page and comes back to /payments/stripe/return/<session id>.
- The webhook is checked with stripe.Webhook.construct_event (Stripe-Signature: t=...,v1=HMAC-SHA256
  of "t.body" with the endpoint's secret; 300 s tolerance): checkout.session.completed with
  payment_status "paid" and checkout.session.async_payment_succeeded settle the order;
  checkout.session.async_payment_failed fails it; checkout.session.expired closes it unpaid; others
  are acknowledged and ignored. The event's id names the delivery.
- Reconciliation retrieves the session: paid settles it, expired closes it.
Calls go to STRIPE_API_BASE within PAYMENT_TIMEOUT_SECONDS, without the SDK's retries (the periodic
pass asks again); its errors become GatewayUnavailable.
"""

import logging

import stripe
from flask import url_for
from flask_babel import gettext

from .. import payloads
from ..errors import InvalidSignature
from ._gateway import (
    CAPTURED,
    EXPIRED,
    FAILED,
    BadWebhook,
    Checkout,
    GatewayUnavailable,
    PaymentProvider,
    WebhookEvent,
    _identifier,
)
from ._razorpay import from_paise, to_paise

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


class StripeProvider(PaymentProvider):
    name = "stripe"

    def __init__(self, config):
        self.client = stripe.StripeClient(
            config["STRIPE_SECRET_KEY"],
            base_addresses={"api": config["STRIPE_API_BASE"]},
            http_client=stripe.RequestsClient(timeout=config["PAYMENT_TIMEOUT_SECONDS"]),
            max_network_retries=0,
        )
        self.webhook_secret = config["STRIPE_WEBHOOK_SECRET"]
        self.tax_name = config["TOPUP_TAX_NAME"]

    def _call(self, operation, *args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except stripe.StripeError as error:
            log.warning("stripe: %s failed: %s", getattr(operation, "__name__", "a call"), error)
            raise GatewayUnavailable() from None

    def create_order(self, total, order_for):
        price, currency = order_for.price, order_for.currency.lower()

        def item(name, amount):
            return {"price_data": {"currency": currency, "unit_amount": to_paise(amount), "product_data": {"name": name}},
                    "quantity": 1}  # fmt: skip

        items = [item(gettext("Wallet credit"), price.credit)]
        if price.tax:
            items.append(item(f"{price.name} ({price.percent}%)", price.tax))
        session = self._call(
            self.client.v1.checkout.sessions.create,
            params={
                "mode": "payment",
                "line_items": items,
                "client_reference_id": str(order_for.reference),
                "metadata": {"topup_id": str(order_for.reference), "user_id": str(order_for.user_id)},
                "success_url": url_for("payments.stripe_return", _external=True) + "?session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": url_for("wallet.index", _external=True),
            },
        )
        return Checkout(order_id=_identifier(session.id), url=session.url, embedded=False)

    def event_id(self, headers, body):
        try:
            return _identifier(payloads.loads(body)["id"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def verify_webhook(self, body, headers, now):
        signature = headers.get(SIGNATURE_HEADER)
        if not signature:
            raise InvalidSignature(gettext("The webhook is not signed."))
        try:
            event = stripe.Webhook.construct_event(body, signature, self.webhook_secret)
        except stripe.SignatureVerificationError:
            raise InvalidSignature(gettext("The webhook signature does not match, or it is too old.")) from None
        except ValueError:
            raise BadWebhook() from None
        try:
            session = event.data.object
            if event.type in PAID_EVENTS:
                return self._paid(session) if session.payment_status == "paid" else None
            if event.type == "checkout.session.async_payment_failed":
                return self._event(session, FAILED)
            if event.type == "checkout.session.expired":
                return self._event(session, EXPIRED)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise BadWebhook() from None
        return None

    def _event(self, session, status):
        return WebhookEvent(
            order_id=_identifier(session.id),
            payment_id=_identifier(session.payment_intent or session.id),
            status=status,
            amount=from_paise(session.amount_total),
            method="card",
            currency=str(session.currency).upper(),
        )

    def _paid(self, session):
        return self._event(session, CAPTURED)

    def refund(self, payment_id, amount, key):
        """A Refund of the session's PaymentIntent, with Stripe's Idempotency-Key: a retried job refunds once."""
        self._call(
            self.client.v1.refunds.create,
            params={"payment_intent": payment_id, "amount": to_paise(amount)},
            options={"idempotency_key": key},
        )

    def look_up(self, order_id, now):
        session = self._call(self.client.v1.checkout.sessions.retrieve, order_id)
        try:
            if session.payment_status == "paid":
                return self._paid(session)
            if session.status == "expired":
                return self._event(session, EXPIRED)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise GatewayUnavailable() from None
        return None
