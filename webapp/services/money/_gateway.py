"""What a payment gateway's adapter implements (services/money/payments.py uses it; _razorpay.py and
_stripe.py are the real ones, payments.DemoProvider the development one), and what it returns."""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from .. import payloads
from ..errors import DomainError

CAPTURED = "captured"
FAILED = "failed"
EXPIRED = "expired"  #: the gateway closed the order unpaid


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
class OrderFor:
    """Who an order is for, its price (taxes.TopupPrice) and currency, and the id its top-up will have
    (a gateway's receipt)."""

    user_id: object
    price: object
    currency: str
    reference: object


@dataclass(frozen=True)
class WebhookEvent:
    order_id: str
    payment_id: str
    status: str  # CAPTURED, FAILED or EXPIRED
    amount: Decimal
    method: str | None = None  # how the payer paid (billing_transactions.payment_method), if the provider says
    currency: str | None = None  # as the provider says (None: it does not, and it is the order's)


class PaymentProvider(ABC):
    """The interface a provider implements."""

    name = None

    @abstractmethod
    def create_order(self, total, order_for):
        """A new order for `total` (what the payer pays; `order_for`: whose, with the price's parts):
        return its Checkout."""

    @abstractmethod
    def verify_webhook(self, body, headers, now):
        """The WebhookEvent in a signed request (None: an event that settles nothing, acknowledged), or
        InvalidSignature / BadWebhook."""

    def look_up(self, order_id, now):
        """Reconciliation: what the gateway says of the order now: a CAPTURED WebhookEvent, or None (not
        paid yet). GatewayUnavailable when it does not answer."""
        return None

    def refund(self, payment_id, amount, key):
        """Give `amount` of a captured payment back to the payer, once per `key` (the gateway's
        idempotency key); GatewayUnavailable when it does not answer (the job retries). The demo
        gateway has no money to give back: nothing to ask."""
        return None

    def event_id(self, headers, body):
        """The gateway's id of a webhook delivery (a redelivery has the same), or None."""
        return None


IDENTIFIER_MAX = 255  # billing_transactions.external_transaction_id


def _identifier(value):
    """A provider's order or payment id: storable text of 1..IDENTIFIER_MAX characters (ValueError)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError("an id must be text")
    text = str(value)
    if not 1 <= len(text) <= IDENTIFIER_MAX or not payloads.storable_text(text):
        raise ValueError("an id must be 1 to 255 storable characters")
    return text


class GatewayUnavailable(DomainError):
    code = "payment_unavailable"
    status = 503
    message = _l("The payment service is not answering just now. Please try again in a minute.")
