"""What the gateways' stand-ins (tests/fake_razorpay.py, tests/fake_stripe.py) share: an HTTP server on a free
port in a thread of its own, and webhooks sent the way a gateway sends them (kept, and delivered unless
told not to)."""

import threading
import urllib.request
from http.server import ThreadingHTTPServer


class StandIn:
    def __init__(self, handler):
        self.webhooks = []
        self.webhook_url = None
        self.deliver = True
        self.down = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def send_webhook(self, body, headers):
        """Keep a signed webhook and deliver it to webhook_url (unless `deliver` is off, a lost one)."""
        self.webhooks.append((body, headers))
        if self.deliver and self.webhook_url:
            request = urllib.request.Request(self.webhook_url, data=body, headers=headers, method="POST")
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except OSError:
                pass  # the gateway would retry; reconciliation catches it
        return body, headers
