"""Charging one session's minute: minute 1 at acceptance (`start`), and the minutes the set-based
batch leaves to the pass (due.py). Locks in the one order (services/locks.py): the astrologer's
profile (its total_earnings is written), the session, then the three wallets."""

from dataclasses import dataclass

from flask_babel import gettext

from ...extensions import db
from ...models import BillingKind, BillingTransaction, utcnow
from .. import locks, wallet
from ..errors import InvalidAmount
from . import minutes


@dataclass(frozen=True)
class MinuteCharge:
    """The legs of one charged minute; earning or commission is None when its share is zero."""

    debit: BillingTransaction
    earning: BillingTransaction | None
    commission: BillingTransaction | None


def charge_minute(session_id, minute, *, commission_percent, now=None):
    """Charge minute `minute` of a session at its frozen rate: debit the user, credit the astrologer
    their share and the platform the rest, in one transaction. Idempotent per (session, minute).

    Raises InsufficientBalance (nothing written) when the user cannot pay it.
    """
    now = now or utcnow()
    profile, session = locks.session_and_profile(session_id)
    debit = wallet.replay(minutes.minute_key(session_id, minute, "debit"), amount=session.rate_per_minute)
    if debit is not None:
        return MinuteCharge(
            debit,
            wallet.find_by_key(minutes.minute_key(session_id, minute, "credit")),
            wallet.find_by_key(minutes.minute_key(session_id, minute, "commission")),
        )
    rate = session.rate_per_minute
    if rate <= 0:
        raise InvalidAmount(gettext("A session's rate must be more than zero to charge it."))
    payer, astrologer, house = (
        wallet.wallet_of(session.user_id),
        wallet.wallet_of(session.astrologer_id),
        wallet.platform_wallet(),
    )
    wallets = locks.wallets(payer.id, astrologer.id, house.id)
    wallet.ensure_can_pay(wallets[payer.id], rate, gettext("minute %(minute)s", minute=minute))
    posted = {
        leg.kind: wallet.post_leg(wallets[leg.wallet_id], leg)
        for leg in minutes.legs(
            session.id, minute, rate, commission_percent, payer=payer, astrologer=astrologer, house=house, at=now
        )
    }
    session.total_cost += rate
    session.billed_minutes += 1
    session.updated_at = now
    earning = posted.get(BillingKind.EARNING)
    if profile is not None and earning is not None:
        profile.total_earnings += earning.amount
    db.session.flush()
    return MinuteCharge(posted[BillingKind.CHARGE], earning, posted.get(BillingKind.COMMISSION))


def bill_minute(session, minute, now):
    """Charge minute `minute` (or count it free). InsufficientBalance when it cannot be paid."""
    if minute <= minutes.free_minute_allowance(session):
        session.free_minutes += 1
        return None
    return charge_minute(session.id, minute, commission_percent=minutes.commission_percent(), now=now)


def start(session, now):
    """The one call point for minute 1, at acceptance: charged (or free), and minute 2 scheduled."""
    bill_minute(session, 1, now)
    session.next_charge_at = session.started_at + minutes.minute_length()
