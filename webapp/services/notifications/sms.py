"""Text messages: the one-time codes of phone sign-in (services/users/phone_codes.py).

SMS_PROVIDER:
- console (development only; refused in production by webapp/config.py): the code is written to the
  server log as "one-time code for <E.164 number>: <code>" and kept, the last few, for the
  development-only page /auth/phone/dev-codes.
- msg91: MSG91's documented Flow API (POST {MSG91_API_BASE}/api/v5/flow/, header authkey, the approved
  DLT template MSG91_TEMPLATE_ID with the variable `otp`), over HTTPS with SMS_TIMEOUT_SECONDS in all.
  India's DLT rules make a registered template the only way to text a code there; MSG91 is an Indian
  provider with no official Python SDK, so its HTTP API is used as documented.

A code is sent while the request waits (a code that arrives minutes later is no use): a provider that
refuses or does not answer is SmsUnavailable, and the code's row is rolled back with the request.
"""

import json
import urllib.error
import urllib.request
from collections import deque

from flask import current_app

from ..errors import SmsUnavailable

CONSOLE_KEPT = 20
CONSOLE = "astro_console_sms"


def send_code(phone, code):
    """Text `code` to `phone` (E.164)."""
    provider = current_app.config["SMS_PROVIDER"]
    if provider == "console":
        current_app.logger.info("one-time code for %s: %s", phone, code)
        current_app.extensions.setdefault(CONSOLE, deque(maxlen=CONSOLE_KEPT)).appendleft((phone, code))
        return
    _msg91(phone, code)


def console_codes():
    """The codes the console provider "sent" in this process, newest first (the development page)."""
    return list(current_app.extensions.get(CONSOLE, ()))


def _msg91(phone, code):
    config = current_app.config
    body = json.dumps({
        "template_id": config["MSG91_TEMPLATE_ID"],
        "short_url": "0",
        "recipients": [{"mobiles": phone.lstrip("+"), "otp": code}],
    }).encode()  # fmt: skip
    request = urllib.request.Request(
        config["MSG91_API_BASE"].rstrip("/") + "/api/v5/flow/",
        data=body,
        method="POST",
        headers={"authkey": config["MSG91_AUTH_KEY"], "Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=config["SMS_TIMEOUT_SECONDS"]) as response:
            answer = json.loads(response.read(64 * 1024) or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        current_app.logger.warning("SMS provider failed: %s", type(error).__name__)
        raise SmsUnavailable() from None
    if not isinstance(answer, dict) or answer.get("type") != "success":
        current_app.logger.warning(
            "SMS provider refused: %s", str(answer.get("message") if isinstance(answer, dict) else "")[:200]
        )
        raise SmsUnavailable()
