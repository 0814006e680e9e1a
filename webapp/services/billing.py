"""The billing engine: server-authoritative, per started minute, exactly once per minute.

`start` is the one call point that charges minute 1 when a session is
accepted; `run_due(now)` is what the periodic loop runs (in the web process
by default, or as `flask billing run`): it cancels unanswered requests.
Money moves only through services/wallet.py, under its idempotency keys.
"""

from datetime import timedelta

from flask import current_app

from ..models import utcnow
from . import consultations, wallet


def minute_length():
    return timedelta(seconds=current_app.config["BILLING_MINUTE_SECONDS"])


def start(session, now):
    """Minute 1 is charged at acceptance; minute k falls due at started_at + (k - 1) minutes."""
    wallet.charge_minute(session.id, 1, commission_percent=current_app.config["PLATFORM_COMMISSION_PERCENT"], now=now)
    session.next_charge_at = session.started_at + minute_length()


def run_due(now=None):
    """One pass of the periodic loop. Returns what it did, for logs and tests."""
    now = now or utcnow()
    expired = consultations.expire_requests(now)
    return {"expired_requests": len(expired)}
