"""A stand-in for Stripe, started by the tests: the part of Stripe's documented API the product uses, through
the official SDK, signing webhooks as Stripe does.

- POST /v1/checkout/sessions (Bearer secret key; form-encoded line_items as the SDK sends them) and
  GET /v1/checkout/sessions/{id};
- the hosted page: GET /pay/{id} shows the amount, POST /pay/{id} pays (or with outcome=cancel goes
  back), then redirects to the session's success_url with {CHECKOUT_SESSION_ID} filled in;
- webhooks as Stripe signs them: Stripe-Signature "t=<unix time>,v1=<hex HMAC-SHA256 of 't.body'>".

`pay(session_id)` pays as the hosted page would; `webhooks` keeps every (body, headers) signed;
`deliver = False` loses them; `down = True` answers the API with a 500.
"""

import hashlib
import hmac
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .stand_in import StandIn

SECRET_KEY = "sk_test_standin"
WEBHOOK_SECRET = "whsec_standin"

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stripe Checkout (stand-in)</title>
<meta name="viewport" content="width=device-width"></head><body><main><h1>Pay {total} {currency}</h1>
<ul>{items}</ul><form method="post"><button name="outcome" value="pay">Pay</button></form></main></body></html>"""


def signature(body, secret=WEBHOOK_SECRET, at=None):
    at = int(at if at is not None else time.time())
    return f"t={at},v1={hmac.new(secret.encode(), f'{at}.'.encode() + body, hashlib.sha256).hexdigest()}"


class FakeStripe(StandIn):
    def __init__(self):
        self.sessions = {}
        self.refunds = {}  # Idempotency-Key -> the refund (a retried call refunds once)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, content_type="application/json", location=None):
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                if location:
                    self.send_header("Location", location)
                self.end_headers()
                self.wfile.write(data)

            def _api_refusal(self):
                if outer.down:
                    return self._send(500, {"error": {"type": "api_error", "message": "down"}})
                if self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
                    return self._send(401, {"error": {"type": "invalid_request_error", "message": "key"}})
                return None

            def do_GET(self):
                path = urlsplit(self.path).path
                if path.startswith("/pay/") and path[5:] in outer.sessions:
                    session = outer.sessions[path[5:]]
                    items = "".join(f"<li>{name}: {amount / 100}</li>" for name, amount in session["_items"])
                    page = PAGE.format(total=session["amount_total"] / 100, currency=session["currency"], items=items)
                    return self._send(200, page, "text/html; charset=utf-8")
                if self._api_refusal() is None:
                    session_id = path.removeprefix("/v1/checkout/sessions/")
                    if session_id in outer.sessions:
                        return self._send(200, outer.public(session_id))
                    self._send(404, {"error": {"type": "invalid_request_error", "message": "No such session"}})

            def do_POST(self):
                path = urlsplit(self.path).path
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {key: values[0] for key, values in parse_qs(raw).items()}
                if path.startswith("/pay/") and path[5:] in outer.sessions:
                    outer.pay(path[5:])
                    url = outer.sessions[path[5:]]["success_url"].replace("{CHECKOUT_SESSION_ID}", path[5:])
                    return self._send(303, "", "text/plain", location=url)
                if self._api_refusal() is not None:
                    return
                if path == "/v1/refunds":
                    key = self.headers.get("Idempotency-Key") or uuid.uuid4().hex
                    refund = outer.refunds.setdefault(key, {
                        "id": f"re_{uuid.uuid4().hex[:20]}", "object": "refund", "amount": int(form["amount"]),
                        "payment_intent": form["payment_intent"], "status": "succeeded",
                    })  # fmt: skip
                    return self._send(200, refund)
                if path != "/v1/checkout/sessions":
                    return self._send(404, {"error": {"type": "invalid_request_error", "message": "not found"}})
                items, n = [], 0
                while f"line_items[{n}][price_data][unit_amount]" in form:
                    prefix = f"line_items[{n}]"
                    amount = int(form[f"{prefix}[price_data][unit_amount]"]) * int(form.get(f"{prefix}[quantity]", 1))
                    items.append((form[f"{prefix}[price_data][product_data][name]"], amount))
                    n += 1
                session_id = f"cs_test_{uuid.uuid4().hex}"
                outer.sessions[session_id] = {
                    "id": session_id, "object": "checkout.session", "mode": form.get("mode"),
                    "url": f"{outer.base}/pay/{session_id}", "amount_total": sum(a for _, a in items),
                    "currency": form.get("line_items[0][price_data][currency]"), "payment_status": "unpaid",
                    "status": "open", "payment_intent": None, "client_reference_id": form.get("client_reference_id"),
                    "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                    "success_url": form.get("success_url"), "cancel_url": form.get("cancel_url"), "_items": items,
                }  # fmt: skip
                self._send(200, outer.public(session_id))

        super().__init__(Handler)

    def public(self, session_id):
        return {key: value for key, value in self.sessions[session_id].items() if not key.startswith("_")}

    def pay(self, session_id, amount_total=None, currency=None):
        session = self.sessions[session_id]
        session.update(payment_status="paid", status="complete", payment_intent=f"pi_{uuid.uuid4().hex[:20]}")
        if amount_total is not None:
            session["amount_total"] = amount_total
        if currency is not None:
            session["currency"] = currency
        return self.webhook("checkout.session.completed", session_id)

    def expire(self, session_id):
        self.sessions[session_id].update(status="expired")
        return self.webhook("checkout.session.expired", session_id)

    def webhook(self, event_type, session_id):
        body = json.dumps({
            "id": f"evt_{uuid.uuid4().hex[:20]}", "object": "event", "api_version": "2025-01-27.acacia",
            "type": event_type, "created": int(time.time()), "livemode": False,
            "data": {"object": self.public(session_id)},
        }).encode()  # fmt: skip
        headers = {"Content-Type": "application/json", "Stripe-Signature": signature(body)}
        return self.send_webhook(body, headers)


def configure(config, fake, *, alone=False):
    """The app settings that turn Stripe on beside the demo gateway (or alone) against the stand-in."""
    return {
        "PAYMENT_PROVIDERS": ("stripe",) if alone else (*config["PAYMENT_PROVIDERS"], "stripe"),
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake.base,
    }
