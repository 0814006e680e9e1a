"""A stand-in for Razorpay, started by the tests (the gateway is not reachable here). It speaks the part
of Razorpay's documented HTTP API the product uses, through the official SDK, and signs as Razorpay does:

- POST /v1/orders (HTTP Basic auth with the key id and secret) and GET /v1/orders/{id}/payments;
- Standard Checkout: GET /v1/checkout.js defines `Razorpay(options)` whose open() shows the payment
  window in a frame from this server (GET /checkout/frame), as the real checkout does from
  api.razorpay.com; paying there captures a payment, hands the page's handler razorpay_order_id,
  razorpay_payment_id and razorpay_signature (HMAC-SHA256 of "order_id|payment_id" with the key
  secret) through postMessage, and sends the payment.captured and order.paid webhooks (HMAC-SHA256 of
  the body with the webhook secret in X-Razorpay-Signature, X-Razorpay-Event-Id) to `webhook_url`.

Tests steer it: `pay(order_id)` captures a payment as the checkout would and returns the handler's
fields; `webhooks` keeps every (body, headers) it signed, delivered or not; `deliver = False` loses
them (a misconfigured dashboard); `down = True` answers every API call with a 500.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .stand_in import StandIn

KEY_ID = "rzp_test_standin"
KEY_SECRET = "standin-key-secret"
WEBHOOK_SECRET = "standin-webhook-secret"

CHECKOUT_JS = r"""
(function () {
  var base = document.currentScript.src.replace(/\/v1\/checkout\.js.*$/, "");
  function Razorpay(options) { this.options = options; this.handlers = {}; }
  Razorpay.prototype.on = function (event, handler) { this.handlers[event] = handler; };
  Razorpay.prototype.open = function () {
    var self = this, frame = document.createElement("iframe");
    frame.src = base + "/checkout/frame?order_id=" + encodeURIComponent(self.options.order_id) +
      "&key=" + encodeURIComponent(self.options.key) + "&amount=" + self.options.amount +
      "&contact=" + encodeURIComponent((self.options.prefill || {}).contact || "") +
      "&email=" + encodeURIComponent((self.options.prefill || {}).email || "");
    frame.title = "Razorpay Checkout";
    frame.className = "standin-razorpay-frame";
    var look = {position: "fixed", inset: "0", width: "100%", height: "100%", border: "0", background: "#fff", zIndex: "1000"};
    Object.keys(look).forEach(function (name) { frame.style[name] = look[name]; });  // CSSOM: no inline style attribute
    window.addEventListener("message", function listen(event) {
      if (event.source !== frame.contentWindow) return;
      window.removeEventListener("message", listen);
      frame.remove();
      if (event.data.razorpay_payment_id) self.options.handler(event.data);
      else if (event.data.error && self.handlers["payment.failed"]) self.handlers["payment.failed"]({error: event.data.error});
      else if (self.options.modal && self.options.modal.ondismiss) self.options.modal.ondismiss();
    });
    document.body.appendChild(frame);
  };
  window.Razorpay = Razorpay;
})();
"""

FRAME = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Razorpay Checkout (stand-in)</title>
<meta name="viewport" content="width=device-width"></head><body><main>
<h1>Pay &#8377;{rupees}</h1><p>Order {order_id}, prefilled {contact} {email}</p>
<form method="post" action="/checkout/pay"><input type="hidden" name="order_id" value="{order_id}">
<button name="outcome" value="upi">Pay with UPI</button> <button name="outcome" value="fail">Fail</button></form>
</main></body></html>"""

DONE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Done</title></head><body>
<main><p>Returning to the shop.</p></main><script>parent.postMessage({message}, "*");</script></body></html>"""


def sign(secret, message):
    return hmac.new(
        secret.encode(), message.encode() if isinstance(message, str) else message, hashlib.sha256
    ).hexdigest()


class FakeRazorpay(StandIn):
    def __init__(self):
        self.orders = {}
        self.payments = {}
        self.requests = []
        self.refunds = {}  # X-Refund-Idempotency -> the refund (a retried call refunds once)
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, content_type="application/json"):
                data = (
                    body
                    if isinstance(body, bytes)
                    else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
                )
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self):
                expected = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
                return self.headers.get("Authorization") == expected

            def do_GET(self):
                url = urlsplit(self.path)
                outer.requests.append(("GET", url.path))
                if url.path == "/v1/checkout.js":
                    return self._send(200, CHECKOUT_JS, "application/javascript")
                if url.path == "/checkout/frame":
                    query = {key: values[0] for key, values in parse_qs(url.query).items()}
                    order = outer.orders.get(query.get("order_id"))
                    if order is None or query.get("key") != KEY_ID:
                        return self._send(400, "unknown order or key", "text/plain")
                    page = FRAME.format(
                        rupees=order["amount"] / 100,
                        order_id=order["id"],
                        contact=query.get("contact", ""),
                        email=query.get("email", ""),
                    )
                    return self._send(200, page, "text/html; charset=utf-8")
                if outer.down:
                    return self._send(500, {"error": {"code": "SERVER_ERROR", "description": "down"}})
                if not self._authorized():
                    return self._send(401, {"error": {"code": "BAD_REQUEST_ERROR", "description": "auth"}})
                parts = url.path.strip("/").split("/")
                if len(parts) == 4 and parts[:2] == ["v1", "orders"] and parts[3] == "payments":
                    items = [p for p in outer.payments.values() if p["order_id"] == parts[2]]
                    return self._send(200, {"entity": "collection", "count": len(items), "items": items})
                if len(parts) == 3 and parts[:2] == ["v1", "orders"] and parts[2] in outer.orders:
                    return self._send(200, outer.orders[parts[2]])
                return self._send(404, {"error": {"code": "BAD_REQUEST_ERROR", "description": "not found"}})

            def do_POST(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                outer.requests.append(("POST", url.path))
                if url.path == "/checkout/pay":
                    form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
                    if form.get("outcome") == "fail":
                        message = json.dumps({"error": {"code": "BAD_REQUEST_ERROR", "description": "Payment failed"}})
                    else:
                        message = json.dumps(outer.pay(form["order_id"], method=form.get("outcome", "upi")))
                    return self._send(200, DONE.format(message=message), "text/html; charset=utf-8")
                if outer.down:
                    return self._send(500, {"error": {"code": "SERVER_ERROR", "description": "down"}})
                if not self._authorized():
                    return self._send(401, {"error": {"code": "BAD_REQUEST_ERROR", "description": "auth"}})
                parts = url.path.strip("/").split("/")
                if len(parts) == 4 and parts[:2] == ["v1", "payments"] and parts[3] == "refund":
                    payment = outer.payments.get(parts[2])
                    data = json.loads(raw or b"{}")
                    if payment is None or data.get("amount", payment["amount"]) > payment["amount"]:
                        return self._send(400, {"error": {"code": "BAD_REQUEST_ERROR", "description": "refund"}})
                    key = self.headers.get("X-Refund-Idempotency") or uuid.uuid4().hex
                    refund = outer.refunds.setdefault(key, {
                        "id": f"rfnd_{uuid.uuid4().hex[:14]}", "entity": "refund", "payment_id": payment["id"],
                        "amount": data.get("amount", payment["amount"]), "currency": payment["currency"],
                        "receipt": data.get("receipt"), "status": "processed",
                    })  # fmt: skip
                    return self._send(200, refund)
                if url.path == "/v1/orders":
                    data = json.loads(raw)
                    if not isinstance(data.get("amount"), int) or data["amount"] < 100:
                        return self._send(400, {"error": {"code": "BAD_REQUEST_ERROR", "description": "amount"}})
                    order = {
                        "id": f"order_{uuid.uuid4().hex[:14]}", "entity": "order", "amount": data["amount"],
                        "amount_paid": 0, "amount_due": data["amount"], "currency": data["currency"],
                        "receipt": data.get("receipt"), "status": "created", "attempts": 0,
                        "notes": data.get("notes", {}), "created_at": int(time.time()),
                    }  # fmt: skip
                    outer.orders[order["id"]] = order
                    return self._send(200, order)
                return self._send(404, {"error": {"code": "BAD_REQUEST_ERROR", "description": "not found"}})

        super().__init__(Handler)

    def pay(self, order_id, method="upi", amount=None, currency=None):
        """Capture a payment for the order as the checkout would: the handler's three fields. The
        webhooks are signed (and delivered to webhook_url unless deliver is False)."""
        with self.lock:
            order = self.orders[order_id]
            payment = {
                "id": f"pay_{uuid.uuid4().hex[:14]}", "entity": "payment", "amount": amount or order["amount"],
                "currency": currency or order["currency"], "status": "captured", "order_id": order_id,
                "method": method, "captured": True, "email": "", "contact": "", "created_at": int(time.time()),
            }  # fmt: skip
            self.payments[payment["id"]] = payment
            order.update(status="paid", amount_paid=payment["amount"], amount_due=0, attempts=order["attempts"] + 1)
        for event in ("payment.captured", "order.paid"):
            self.webhook(event, payment, order)
        return {
            "razorpay_payment_id": payment["id"],
            "razorpay_order_id": order_id,
            "razorpay_signature": sign(KEY_SECRET, f"{order_id}|{payment['id']}"),
        }

    def webhook(self, event, payment, order):
        entities = {"payment": {"entity": payment}}
        if event.startswith("order."):
            entities["order"] = {"entity": order}
        body = json.dumps({
            "entity": "event", "account_id": "acc_standin", "event": event, "contains": list(entities),
            "payload": entities, "created_at": int(time.time()),
        }).encode()  # fmt: skip
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": sign(WEBHOOK_SECRET, body),
            "X-Razorpay-Event-Id": f"evt_{uuid.uuid4().hex[:14]}",
        }
        return self.send_webhook(body, headers)


def configure(config, fake):
    """The app settings that point the product at the stand-in."""
    return {
        "PAYMENT_PROVIDER": "razorpay",
        "PAYMENT_PROVIDERS": ("razorpay",),
        "RAZORPAY_KEY_ID": KEY_ID,
        "RAZORPAY_KEY_SECRET": KEY_SECRET,
        "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "RAZORPAY_API_BASE": fake.base,
        "RAZORPAY_CHECKOUT_JS": f"{fake.base}/v1/checkout.js",
    }
