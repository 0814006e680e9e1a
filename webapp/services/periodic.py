"""One pass of the periodic loop (webapp/scheduler.py runs it every BILLING_POLL_SECONDS):
expire unanswered requests, apply the end rules, charge every due minute, and remove the files of
sessions past ATTACHMENT_RETENTION_DAYS, ask for the astrologers' weekly summaries once a week is over,
delete data exports past their day, carry out the account deletions that are due, and ask the payment
gateways about top-ups whose webhook has not come (services/money/reconciliation.py).

The lifecycle's rules (services/consultations/) and billing (services/billing/) meet here and
nowhere else, so neither imports the other's pass. Entry point: every unit of work commits on its
own (see billing/due.py and consultations/end_rules.py); no transaction is held across units.
"""

from ..extensions import db
from ..models import utcnow
from .billing import due
from .consultations import end_rules, lifecycle
from .messaging import attachments
from .money import reconciliation
from .notifications import receipts
from .users import data_export, erasure


def run_due(now=None):
    """One pass; returns counts for logs and tests."""
    now = now or utcnow()
    expired = len(lifecycle.expire_requests(now))
    db.session.commit()
    ended = end_rules.sweep(now)
    charged, unpaid = due.charge_due(now, end=end_rules.end_for)
    removed = attachments.remove_expired(now)
    receipts.weekly_summaries(now)
    data_export.remove_expired(now)
    db.session.commit()
    erased = erasure.erase_due(now)
    reconciliation.reconcile_due(now)
    return {"expired_requests": expired, "charged": charged, "ended": ended + unpaid, "attachments_removed": removed,
            "accounts_erased": erased}  # fmt: skip
