"""Payouts: an astrologer withdraws earnings to their bank account, as a lifecycle.

    requested --approve--> approved --(provider settles)--> paid
        |                      \\--(provider fails)--> failed
        \\--reject (reason)--> rejected

The money is one billing row per payout (kind payout, key `payout:<request id>`, the payout's own
id): at the request the amount moves from available to held (the row pending), when paid it leaves
the wallet from held (the row completed, its wallet entry written), when rejected or failed it is
available again (the row cancelled or failed). Only earnings are withdrawable (earnings.position,
under the wallet lock); PAYOUT_MINIMUM and PAYOUT_INTERVAL_DAYS (one request per interval) are the
schedule. Every step takes the wallet lock and is idempotent: asking again for the state a payout
is in changes nothing (`changed` False), asking for a state it cannot reach is PayoutClosed.
services/admin/actions.py writes the audit trail of the admins' steps.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext

from ...extensions import db
from ...models import BillingKind, BillingStatus, Payout, PayoutStatus, UserType, utcnow
from ...models.enums import label_of
from .. import locks, wallet
from ..errors import InvalidAmount, NotAllowed, PayoutClosed, PayoutTooSoon, UnknownOrder
from ..notifications import receipts
from . import _payout_providers
from .amounts import format_money, parse_amount


@dataclass(frozen=True)
class Step:
    payout: Payout
    changed: bool  #: False: the payout was already in the state asked for (a retry)


def payout_key(request_id):
    return f"payout:{request_id}"


def minimum():
    return current_app.config["PAYOUT_MINIMUM"]


def next_request_at(wallet_id):
    """When the schedule allows this wallet's next payout request (None: now)."""
    days = current_app.config["PAYOUT_INTERVAL_DAYS"]
    if not days:
        return None
    last = db.session.execute(
        db.select(db.func.max(Payout.requested_at)).where(
            Payout.wallet_id == wallet_id, Payout.status.not_in((PayoutStatus.REJECTED, PayoutStatus.FAILED))
        )
    ).scalar()
    return None if last is None else last + timedelta(days=days)


def request_for(astrologer_id, amount, *, payout_id, now=None):
    return request_payout(wallet.wallet_of(astrologer_id).id, amount, payout_id=payout_id, now=now)


def request_payout(wallet_id, amount, *, payout_id, now=None):
    """An astrologer asks to withdraw `amount` of their earnings: it is held until the payout closes.
    `payout_id` (the form's request id) makes a double submit one request."""
    now = now or utcnow()
    amount = parse_amount(amount)
    target = locks.wallet(wallet_id)
    if target.user.type != UserType.ASTROLOGER:
        raise NotAllowed(gettext("Only astrologers can request payouts."))
    key = payout_key(payout_id)
    existing = wallet.replay(key, wallet_id=wallet_id, amount=amount)
    if existing is not None:
        return db.session.execute(db.select(Payout).filter_by(billing_transaction_id=existing.id)).scalar_one()
    if amount < minimum():
        raise InvalidAmount(
            gettext("The minimum payout is %(amount)s.", amount=format_money(minimum(), target.currency))
        )
    allowed_from = next_request_at(wallet_id)
    if allowed_from is not None and now < allowed_from:
        days = current_app.config["PAYOUT_INTERVAL_DAYS"]
        raise PayoutTooSoon(
            gettext(
                "Payouts are once every %(days)s days; you can ask for the next one from %(allowed_from)s UTC.",
                days=days,
                allowed_from=format(allowed_from, "%d %b %Y, %H:%M"),
            ),
            allowed_from=allowed_from,
        )
    wallet.ensure_can_withdraw(target, amount)
    transaction = wallet.new_transaction(
        target,
        BillingKind.PAYOUT,
        amount,
        key,
        now,
        status=BillingStatus.PENDING,
        payment_method=wallet.BANK_TRANSFER,
        description="Payout to bank account",
    )
    wallet.move(target, amount, to_held=True, now=now)
    payout = Payout(
        id=transaction.id,
        astrologer_id=target.user_id,
        wallet_id=target.id,
        billing_transaction_id=transaction.id,
        amount=amount,
        currency=target.currency,
        status=PayoutStatus.REQUESTED,
        requested_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(payout)
    db.session.flush()
    receipts.payout_changed(payout, now)
    return payout


def lock(payout_id):
    """The payout and its wallet, locked and reloaded (UnknownOrder: there is none)."""
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise UnknownOrder(gettext("There is no such payout."))
    target = locks.wallet(payout.wallet_id)
    db.session.refresh(payout)
    db.session.refresh(payout.transaction)
    return payout, target


def approve(payout_id, *, actor_id, reference=None, now=None):
    """An admin approves a requested payout: the provider is asked to send it (settling at once, it
    is paid in the same step). Approving an approved or paid payout again changes nothing."""
    now = now or utcnow()
    payout, target = lock(payout_id)
    if payout.status in (PayoutStatus.APPROVED, PayoutStatus.PAID):
        return Step(payout, False)
    if payout.status != PayoutStatus.REQUESTED:
        raise PayoutClosed(
            gettext("This payout was %(status)s; it cannot be approved now.", status=label_of(payout.status))
        )
    provider = _payout_providers.configured()
    payout.status, payout.approved_at, payout.approved_by = PayoutStatus.APPROVED, now, actor_id
    payout.provider, payout.updated_at = provider.name, now
    transfer = provider.send(payout, reference=reference)
    payout.provider_reference = transfer.reference
    if transfer.settled:
        _pay(payout, target, transfer.reference, now)
    else:
        receipts.payout_changed(payout, now)
    db.session.flush()
    return Step(payout, True)


def mark_paid(payout_id, *, reference, now=None):
    """The provider (or staff, for a manual transfer) confirms an approved payout reached the bank
    account under `reference`: the held amount leaves the wallet."""
    now = now or utcnow()
    payout, target = lock(payout_id)
    if payout.status == PayoutStatus.PAID:
        return Step(payout, False)
    if payout.status != PayoutStatus.APPROVED:
        raise PayoutClosed(
            gettext(
                "Only an approved payout can be marked paid; this one is %(status)s.", status=label_of(payout.status)
            )
        )
    _pay(payout, target, reference, now)
    db.session.flush()
    return Step(payout, True)


def _pay(payout, target, reference, now):
    transaction = payout.transaction
    payout.status, payout.paid_at, payout.updated_at = PayoutStatus.PAID, now, now
    payout.provider_reference = reference
    transaction.status = BillingStatus.COMPLETED
    transaction.processed_at = transaction.updated_at = now
    transaction.external_transaction_id = reference
    wallet.post(target, transaction, transaction.amount, now, bucket="held")
    receipts.payout_changed(payout, now)


def reject(payout_id, *, reason, actor_id, now=None):
    """An admin refuses a requested payout with `reason`: the amount is withdrawable again."""
    return _close(payout_id, PayoutStatus.REJECTED, (PayoutStatus.REQUESTED,), reason, actor_id, now)


def fail(payout_id, *, reason, now=None):
    """The provider could not send an approved payout: the amount is withdrawable again."""
    return _close(payout_id, PayoutStatus.FAILED, (PayoutStatus.APPROVED,), reason, None, now)


BILLING_STATUS_OF = {PayoutStatus.REJECTED: BillingStatus.CANCELLED, PayoutStatus.FAILED: BillingStatus.FAILED}


def _close(payout_id, status, from_statuses, reason, actor_id, now):
    now = now or utcnow()
    payout, target = lock(payout_id)
    if payout.status == status:
        return Step(payout, False)
    if payout.status not in from_statuses:
        raise PayoutClosed(
            gettext(
                "This payout is %(status)s; it cannot be %(wanted)s now.",
                status=label_of(payout.status),
                wanted=label_of(status),
            )
        )
    payout.status, payout.reason, payout.closed_at, payout.closed_by = status, reason, now, actor_id
    payout.updated_at = now
    transaction = payout.transaction
    transaction.status = BILLING_STATUS_OF[status]
    transaction.processed_at = transaction.updated_at = now
    transaction.details = {**transaction.details, "reason": reason}
    wallet.move(target, transaction.amount, to_held=False, now=now)
    receipts.payout_changed(payout, now)
    db.session.flush()
    return Step(payout, True)
