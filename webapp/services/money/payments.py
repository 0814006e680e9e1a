"""Top-ups through payment providers, behind one small interface.

A provider creates orders (an id and the URL of its checkout) and verifies
the webhooks it sends (signature, freshness, payload). Money moves only in
services/wallet.py: a top-up is a pending billing transaction until a
verified webhook completes it (once, idempotent on the provider's payment
id) or marks it failed. Adding a real provider means one new class in
PROVIDERS.

The built-in `demo` provider has its checkout inside this app
(/payments/demo/checkout/<order_id>); its "server" signs a webhook with
PAYMENT_WEBHOOK_SECRET and hands it to the same `handle_webhook` that
/payments/webhook/demo serves, so the demo exercises the real path.
"""

import hashlib
import hmac
import json
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import utcnow
from .. import locks, payloads, wallet
from ..billing import session_bar
from ..errors import DomainError, InvalidSignature, UnknownOrder, ValidationFailed
from . import amounts, topups

CAPTURED = "captured"
FAILED = "failed"
#: How a payer can pay at the demo checkout (what real Indian providers report as the method).
METHODS = ("upi", "card", "netbanking", "wallet")


class UnknownProvider(DomainError):
    code = "unknown_provider"
    status = 404
    message = _l("There is no such payment provider.")


class BadWebhook(DomainError):
    code = "bad_webhook"
    status = 400
    message = _l("The webhook payload is malformed.")


@dataclass(frozen=True)
class Checkout:
    """Where to send the payer: `embedded` checkouts may render inside our own pages."""

    order_id: str
    url: str
    embedded: bool


@dataclass(frozen=True)
class WebhookEvent:
    order_id: str
    payment_id: str
    status: str  # CAPTURED or FAILED
    amount: Decimal
    method: str | None = None  # how the payer paid (billing_transactions.payment_method), if the provider says


class PaymentProvider(ABC):
    """The interface a provider implements."""

    name = None

    @abstractmethod
    def create_order(self, transaction_amount):
        """A new order for `transaction_amount`: return its Checkout."""

    @abstractmethod
    def verify_webhook(self, body, headers, now):
        """The WebhookEvent in a signed request, or InvalidSignature / BadWebhook."""


class DemoProvider(PaymentProvider):
    """A stand-in provider: HMAC-SHA256 over `timestamp + "." + body`, a 300 s replay window."""

    name = "demo"
    TOLERANCE_SECONDS = 300
    SIGNATURE_HEADER = "X-Demo-Signature"
    TIMESTAMP_HEADER = "X-Demo-Timestamp"

    def __init__(self, secret):
        self.secret = secret.encode()

    def create_order(self, transaction_amount):
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


IDENTIFIER_MAX = 255  # billing_transactions.external_transaction_id


def _identifier(value):
    """A provider's order or payment id: storable text of 1..IDENTIFIER_MAX characters (ValueError)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError("an id must be text")
    text = str(value)
    if not 1 <= len(text) <= IDENTIFIER_MAX or not payloads.storable_text(text):
        raise ValueError("an id must be 1 to 255 storable characters")
    return text


PROVIDERS = {"demo": lambda config: DemoProvider(config["PAYMENT_WEBHOOK_SECRET"])}


def provider(name=None):
    """The provider called `name` (default: PAYMENT_PROVIDER)."""
    name = name or current_app.config["PAYMENT_PROVIDER"]
    factory = PROVIDERS.get(name)
    if factory is None:
        raise UnknownProvider()
    return factory(current_app.config)


def start_topup(user_id, amount, now=None):
    """A pending top-up of `amount` for the user and the checkout to pay it: (transaction, Checkout)."""
    now = now or utcnow()
    chosen = provider()
    amount = amounts.parse_topup_amount(amount)
    checkout = chosen.create_order(amount)
    transaction = topups.create_topup(
        wallet.wallet_of(user_id).id, amount, provider=chosen.name, order_id=checkout.order_id, now=now
    )
    return transaction, checkout


def handle_webhook(provider_name, body, headers, now=None):
    """Apply a provider's webhook: complete or fail its top-up. Returns (transaction, changed).

    Refuses (InvalidSignature, BadWebhook, UnknownOrder, PaymentMismatch, OrderClosed) with nothing changed.
    """
    now = now or utcnow()
    event = provider(provider_name).verify_webhook(body, headers, now)
    if event.status == CAPTURED:
        session = locks.active_session_of(topups.find_topup(provider_name, event.order_id).user_id)  # before the wallet
        transaction, changed = topups.complete_topup(
            provider_name,
            event.order_id,
            payment_id=event.payment_id,
            amount=event.amount,
            method=event.method,
            now=now,
        )
        if changed:
            session_bar.note_topup(session, transaction.amount, now)
        return transaction, changed
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
    body, headers = demo.webhook_for(order_id, outcome, transaction.amount, now, method=method)
    result = handle_webhook(DemoProvider.name, body, headers, now=now)
    db.session.flush()
    return result
