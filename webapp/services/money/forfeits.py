"""A deleted account's remaining balance, when DELETION_BALANCE_POLICY is `forfeit`: it leaves the
person's wallet (kind forfeit) into the platform's (kind unclaimed), each leg under its own key, so a
retried erasure moves nothing twice. The person was told the amount before confirming
(services/users/erasure.py). Money is conserved: it moves between wallets, nothing leaves the platform."""

from ...extensions import db
from ...models import BillingKind, utcnow
from .. import locks, wallet
from .amounts import ZERO


def key_of(user_id):
    return f"erasure:{user_id}:forfeit"


def forfeit_balance(user_id, now=None):
    """Move the person's available balance to the platform; the amount moved (0 when there was none)."""
    now = now or utcnow()
    key = key_of(user_id)
    existing = wallet.replay(key)
    if existing is not None:
        return existing.amount
    owner, house = wallet.wallet_of(user_id), wallet.platform_wallet()
    wallets = locks.wallets(owner.id, house.id)
    amount = wallets[owner.id].available_balance
    if amount <= ZERO:
        return ZERO
    details = {"reason": "account deleted"}
    for target, kind, leg_key, description in (
        (wallets[owner.id], BillingKind.FORFEIT, key, "Balance given up when the account was deleted"),
        (wallets[house.id], BillingKind.UNCLAIMED, f"{key}:platform", "Balance of a deleted account"),
    ):
        wallet.post_leg(target, wallet.Leg(target.id, target.user_id, kind, amount, leg_key, description, now, None,
                                           details=details))  # fmt: skip
    db.session.flush()
    return amount
