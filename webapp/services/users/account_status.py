"""An account's status changes (an admin's decision, or the main backend's record), and what follows
from it in the same transaction.

Leaving `active` ends the person's open sessions (active ones end and are billed up to then;
waiting requests are withdrawn with their holds released) and every login session, suspends their wallet (nothing new is
paid from it) and takes an astrologer out of the listing (consultation_availability offline);
coming back makes the wallet active again and derives the availability anew. deleted_at is set
with the `deleted` status and cleared when an account comes back. Deleting an account removes the
files its owner sent in consultations (services/messaging/attachments.py; the objects go after the commit).
"""

from ...models import EndReason, UserStatus, UserType, utcnow
from .. import wallet
from ..astrologers import marketplace
from ..consultations import lifecycle
from ..messaging import attachments
from . import accounts, login_sessions

#: Why the open sessions of an account that leaves `active` end.
END_REASONS = {
    UserStatus.SUSPENDED: EndReason.ADMIN_ENDED,
    UserStatus.INACTIVE: EndReason.ACCOUNT_INACTIVE,
    UserStatus.DELETED: EndReason.ACCOUNT_DELETED,
}


def change(user, status, now=None):
    """Give `user` the status `status` with everything that follows; False when it already has it."""
    now = now or utcnow()
    status = UserStatus(status)
    if user.status == status:
        return False
    if status != UserStatus.ACTIVE:
        lifecycle.close_open_sessions(user, END_REASONS[status], now)
        login_sessions.end_all(user.id, now)
    user.status = status
    user.deleted_at = now if status == UserStatus.DELETED else None
    user.updated_at = now
    if status == UserStatus.DELETED:
        attachments.remove_sent_by(user.id, now)
    wallet.follow_owner_status(user.wallet, user, now)
    if user.type == UserType.ASTROLOGER:  # the channels are as they were: the column changes, nothing is announced
        marketplace.refresh_availability(user.id, before=marketplace.availability(user.id))
    return True


def start_with(user, status):
    """A new account (not yet flushed) starts with `status`: its wallet and availability agree (no queries,
    so a batch of new accounts is inserted together)."""
    user.status = UserStatus(status)
    user.deleted_at = None
    wallet.follow_owner_status(user.wallet, user)
    if user.type == UserType.ASTROLOGER:
        accounts.availability_of_new(user)
