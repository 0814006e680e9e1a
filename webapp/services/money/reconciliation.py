"""Top-ups whose webhook never came: the periodic pass asks each gateway about every top-up pending
longer than PAYMENT_RECONCILE_MINUTES and settles it through the webhook's own code
(payments.settle): credited once if the gateway captured the payment, closed as expired once it is
older than PAYMENT_EXPIRY_MINUTES with nothing captured, else left to the next pass. A webhook that
arrives after that changes nothing (the settlement is idempotent on the payment id).

At most one round a minute (each process of the loop keeps its own last round); each top-up is asked
about outside any transaction and settled in its own, so one silent gateway holds no lock and loses
no other top-up's settlement.
"""

import logging
from datetime import timedelta

from flask import current_app

from ...extensions import db
from ...models import BillingKind, BillingStatus, BillingTransaction
from . import payments, topups
from ._gateway import GatewayUnavailable

log = logging.getLogger(__name__)

ROUND_EVERY = timedelta(minutes=1)
#: Top-ups asked about in one round (the oldest first); the rest wait for the next.
ROUND_SIZE = 200
_last_round = {}


def due(now):
    """The pending top-ups to ask about now: (provider, order id, created at), oldest first."""
    cutoff = now - timedelta(minutes=current_app.config["PAYMENT_RECONCILE_MINUTES"])
    rows = db.session.execute(
        db.select(BillingTransaction.details, BillingTransaction.created_at)
        .where(
            BillingTransaction.kind == BillingKind.TOPUP,
            BillingTransaction.status == BillingStatus.PENDING,
            BillingTransaction.created_at <= cutoff,
        )
        .order_by(BillingTransaction.created_at)
        .limit(ROUND_SIZE)
    ).all()
    return [(details["provider"], details["order_id"], created_at) for details, created_at in rows]


def reconcile_due(now, force=False):
    """One round (unless one ran less than a minute ago and not `force`): {"credited", "expired", "asked"}."""
    app = current_app._get_current_object()
    if not force and now - _last_round.get(app, now - ROUND_EVERY) < ROUND_EVERY:
        return None
    _last_round[app] = now
    counts = {"asked": 0, "credited": 0, "expired": 0}
    orders = due(now)
    db.session.commit()  # the read ends before the gateways are asked
    expiry = timedelta(minutes=current_app.config["PAYMENT_EXPIRY_MINUTES"])
    for provider_name, order_id, created_at in orders:
        counts["asked"] += 1
        try:
            event = payments.provider(provider_name).look_up(order_id, now)
        except (GatewayUnavailable, payments.UnknownProvider):
            continue  # asked again next round
        if event is not None:
            transaction, changed = payments.settle(provider_name, event, now)
            counts["credited"] += int(changed and transaction.status == BillingStatus.COMPLETED)
            counts["expired"] += int(changed and transaction.status == BillingStatus.CANCELLED)
        elif now - created_at >= expiry:
            _, changed = topups.expire_topup(provider_name, order_id, now)
            counts["expired"] += int(changed)
        db.session.commit()
    if counts["credited"] or counts["expired"]:
        log.info("payments reconciled: %s", counts)
    return counts
