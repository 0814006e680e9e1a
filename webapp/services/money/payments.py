"""Top-ups through payment gateways, behind one small interface (_gateway.py): Razorpay (_razorpay.py),
Stripe (_stripe.py) and the demo gateway below, those PAYMENT_PROVIDERS names on.

A gateway creates orders (an id and the URL of its checkout) for a top-up's total with its tax
(taxes.py), verifies the webhooks it sends (signature, freshness, payload) and answers what became of
an order. Money moves only in services/wallet.py: a top-up is a pending billing transaction until
`settle` books what the gateway reports (a webhook, Razorpay's checkout callback, or reconciliation.py
asking): completed once, idempotent on the gateway's payment id, with its tax leg and invoice
(topups.py), or failed, or expired. Adding a gateway means one class in PROVIDERS.

The built-in `demo` provider has its checkout inside this app
(/payments/demo/checkout/<order_id>); its "server" signs a webhook with
PAYMENT_WEBHOOK_SECRET and hands it to the same `handle_webhook` that
/payments/webhook/demo serves, so the demo exercises the real path.
"""

import hashlib
import hmac
import json
import logging
import uuid
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext

from ...extensions import db
from ...models import BillingStatus, User, utcnow
from ...models.types import new_ordered_uuid
from .. import locks, payloads, wallet
from ..billing import session_bar
from ..errors import InvalidSignature, UnknownOrder, ValidationFailed
from ..users import accounts
from . import amounts, taxes, topups
from ._gateway import (
    CAPTURED,
    EXPIRED,
    FAILED,
    BadWebhook,
    Checkout,
    GatewayUnavailable,
    OrderFor,
    PaymentProvider,
    UnknownProvider,
    WebhookEvent,
    _identifier,
)
from ._razorpay import RazorpayProvider
from ._stripe import StripeProvider

__all__ = ["CAPTURED", "FAILED", "BadWebhook", "Checkout", "GatewayUnavailable", "OrderFor", "UnknownProvider"]

log = logging.getLogger(__name__)

#: How a payer can pay at the demo checkout (what real Indian providers report as the method).
METHODS = ("upi", "card", "netbanking", "wallet")


class DemoProvider(PaymentProvider):
    """A stand-in provider: HMAC-SHA256 over `timestamp + "." + body`, a 300 s replay window."""

    name = "demo"
    TOLERANCE_SECONDS = 300
    SIGNATURE_HEADER = "X-Demo-Signature"
    TIMESTAMP_HEADER = "X-Demo-Timestamp"

    def __init__(self, secret):
        self.secret = secret.encode()

    def create_order(self, total, order_for):
        order_id = f"order_demo_{uuid.uuid4().hex}"
        return Checkout(order_id=order_id, url=f"/payments/demo/checkout/{order_id}", embedded=True)

    def sign(self, body, timestamp):
        return hmac.new(self.secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()

    def webhook_for(self, order_id, outcome, amount, now, method="upi"):
        """What the demo provider's server sends when the payer clicks pay or fail: (body, headers)."""
        payload = {
            "event": "payment.captured" if outcome == CAPTURED else "payment.failed",
            "order_id": order_id,
            "payment_id": f"pay_demo_{uuid.uuid4().hex}",
            "status": outcome,
            "amount": str(amount),
            "method": method,
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        timestamp = int(now.timestamp())
        return body, {self.TIMESTAMP_HEADER: str(timestamp), self.SIGNATURE_HEADER: self.sign(body, timestamp)}

    def verify_webhook(self, body, headers, now):
        timestamp, signature = headers.get(self.TIMESTAMP_HEADER), headers.get(self.SIGNATURE_HEADER)
        if not timestamp or not signature:
            raise InvalidSignature(gettext("The webhook is not signed."))
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise InvalidSignature(gettext("The webhook timestamp is malformed.")) from None
        if not hmac.compare_digest(self.sign(body, sent_at), signature):
            raise InvalidSignature(gettext("The webhook signature does not match."))
        if abs(now.timestamp() - sent_at) > self.TOLERANCE_SECONDS:
            raise InvalidSignature(gettext("The webhook is too old (or from the future): refusing a replay."))
        try:
            payload = payloads.loads(body)
            event = WebhookEvent(
                order_id=_identifier(payload["order_id"]),
                payment_id=_identifier(payload["payment_id"]),
                status=payload["status"],
                amount=Decimal(str(payload["amount"])),
                method=payload.get("method"),
            )
        except (ValueError, KeyError, TypeError, InvalidOperation):
            raise BadWebhook() from None
        if event.status not in (CAPTURED, FAILED):
            raise BadWebhook(gettext("Unknown payment status %(status)s.", status=repr(event.status)))
        if event.method is not None and event.method not in METHODS:
            raise BadWebhook(gettext("Unknown payment method %(method)s.", method=repr(event.method)))
        return event


PROVIDERS = {
    "demo": lambda config: DemoProvider(config["PAYMENT_WEBHOOK_SECRET"]),
    "razorpay": RazorpayProvider,
    "stripe": StripeProvider,
}


def provider(name=None):
    """The provider called `name` (default: PAYMENT_PROVIDER), if PAYMENT_PROVIDERS has it on."""
    name = name or current_app.config["PAYMENT_PROVIDER"]
    factory = PROVIDERS.get(name)
    if factory is None or name not in current_app.config["PAYMENT_PROVIDERS"]:
        raise UnknownProvider()
    return factory(current_app.config)


def start_topup(user_id, amount, buyer_state=None, provider_name=None, now=None):
    """A pending top-up of `amount` (the wallet amount picked; TOPUP_TAX_INCLUSIVE: the amount paid) for
    the user, through `provider_name` (default PAYMENT_PROVIDER), and the checkout to pay its total:
    (transaction, Checkout). `buyer_state` (a GST state code) is the invoice's place of supply and is
    remembered for the next top-up."""
    now = now or utcnow()
    if provider_name is not None and provider_name not in current_app.config["PAYMENT_PROVIDERS"]:
        raise UnknownProvider()
    chosen = provider(provider_name)
    price = taxes.topup_price(amounts.parse_topup_amount(amount))
    if buyer_state is not None:
        if buyer_state not in taxes.STATES:
            raise ValidationFailed("state", gettext("Choose your state from the list."))
        accounts.remember_billing_state(user_id, buyer_state)
    own = wallet.wallet_of(user_id)
    topups.ensure_can_top_up(own)  # before the gateway hears of it
    reference = new_ordered_uuid()
    checkout = chosen.create_order(price.total, OrderFor(user_id, price, own.currency, reference))
    transaction = topups.create_topup(
        own.id,
        amount,
        provider=chosen.name,
        order_id=checkout.order_id,
        buyer_state=buyer_state,
        transaction_id=reference,
        checkout_url=None if checkout.embedded else checkout.url,
        now=now,
    )
    return transaction, checkout


def handle_webhook(provider_name, body, headers, now=None):
    """Apply a provider's webhook: complete or fail its top-up. Returns (transaction, changed).

    Refuses (InvalidSignature, BadWebhook, UnknownOrder, PaymentMismatch, OrderClosed) with nothing changed.
    """
    now = now or utcnow()
    gateway = provider(provider_name)
    event = gateway.verify_webhook(body, headers, now)
    if event is None:
        return None, False  # an event that settles nothing (acknowledged)
    return settle(provider_name, event, now, delivery=gateway.event_id(headers, body))


#: How many webhook delivery ids a top-up remembers (a gateway redelivers one event a few times).
DELIVERIES_KEPT = 20


def settle(provider_name, event, now, delivery=None):
    """Book what a provider reports about an order (a webhook's event, its `delivery` id if the gateway
    names one, or, from reconciliation, what its API answered): complete or fail its top-up, once.
    Returns (transaction, changed)."""
    if delivery is not None and delivery in topups.find_topup(provider_name, event.order_id).details.get(
        "deliveries", ()
    ):
        return topups.find_topup(provider_name, event.order_id), False  # this delivery was applied already
    transaction, changed = _settle(provider_name, event, now)
    if changed and delivery is not None:
        kept = [*transaction.details.get("deliveries", ()), delivery][-DELIVERIES_KEPT:]
        transaction.details = {**transaction.details, "deliveries": kept}
    return transaction, changed


def _settle(provider_name, event, now):
    if event.status == CAPTURED:
        session = locks.active_session_of(topups.find_topup(provider_name, event.order_id).user_id)  # before the wallet
        transaction, changed = topups.complete_topup(
            provider_name,
            event.order_id,
            payment_id=event.payment_id,
            amount=event.amount,
            currency=event.currency,
            method=event.method,
            now=now,
        )
        if changed and transaction.status == BillingStatus.COMPLETED:
            session_bar.note_topup(session, transaction.amount, now)
        elif changed:
            log.warning(
                "payment %s for %s order %s does not match it: %s",
                event.payment_id, provider_name, event.order_id, topups.mismatch_of(transaction).message,
            )  # fmt: skip
        return transaction, changed
    if event.status == EXPIRED:
        return topups.expire_topup(provider_name, event.order_id, now=now)
    return topups.fail_topup(provider_name, event.order_id, payment_id=event.payment_id, method=event.method, now=now)


def order_for_user(provider_name, order_id, user_id):
    """The top-up behind a checkout, if it belongs to the user; UnknownOrder otherwise (no peeking)."""
    transaction = topups.find_topup(provider_name, order_id)
    if transaction.user_id != user_id:
        raise UnknownOrder()
    return transaction


def demo_checkout(order_id, outcome, user_id, method="upi", now=None):
    """The payer chose a method and clicked pay or fail on the demo checkout: the demo provider sends
    its signed webhook."""
    now = now or utcnow()
    transaction = order_for_user(DemoProvider.name, order_id, user_id)
    if method not in METHODS:
        raise ValidationFailed("method", gettext("Choose UPI, card, net banking or a wallet."))
    demo = provider(DemoProvider.name)
    outcome = CAPTURED if outcome == "pay" else FAILED
    total, _ = topups.price_of(transaction)
    body, headers = demo.webhook_for(order_id, outcome, total, now, method=method)
    result = handle_webhook(DemoProvider.name, body, headers, now=now)
    db.session.flush()
    return result


def checkout_options(order, user_id):
    """What a gateway's part of our checkout panel needs: Razorpay's Standard Checkout options, Stripe's
    page (`url`), nothing for the demo."""
    gateway = provider(order.details["provider"])
    if isinstance(gateway, StripeProvider):
        return {"url": order.details.get("checkout_url")}
    if not isinstance(gateway, RazorpayProvider):
        return None
    total, _ = topups.price_of(order)
    return gateway.checkout_options(order, db.session.get(User, user_id), total, gettext("Wallet top-up"))


def razorpay_paid(user_id, order_id, payment_id, signature, now=None):
    """Razorpay's checkout handed the page a payment: its signature is checked (InvalidSignature), then
    the gateway is asked about the order and what it says is settled as a webhook would (the webhook
    may come before or after; either way the wallet is credited once). Returns the top-up."""
    now = now or utcnow()
    transaction = order_for_user(RazorpayProvider.name, order_id, user_id)
    gateway = provider(RazorpayProvider.name)
    gateway.verify_payment(order_id, payment_id, signature)
    if transaction.status == BillingStatus.PENDING:
        try:
            event = gateway.look_up(order_id, now)
        except GatewayUnavailable:
            event = None  # the webhook or the next reconciliation settles it
        if event is not None:
            transaction, _ = settle(RazorpayProvider.name, event, now)
    return transaction
