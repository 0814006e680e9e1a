"""Leaving: a deletion asked for, called off by signing in, and carried out DELETION_GRACE_DAYS later.

Asking needs the password again (or, for an account without one, a code to its phone). What stops it
is said before anything happens (`blockers`): an open consultation, a payout not yet closed, earnings
not yet withdrawn, a frozen wallet, or, under DELETION_BALANCE_POLICY=block, money left in the wallet.
Under `forfeit` the page says how much will be given up. Every login ends at once; signing in again
before the day cancels it (`cancel`).

On the day (`erase_due`, from the periodic loop) the account becomes `deleted` (account_status: open
sessions end, the files the person sent are removed), the balance is forfeited (services/money/forfeits.py),
and the person's data is erased or pseudonymised:

- erased: name (now "Deleted user"), e-mail, phone, password, sync metadata; the profile's bio, photo,
  preferences, gender and birth details (and so the chart consent); an astrologer's "about"; the text of
  every message they sent (the other side reads "Message removed") and the birth-details line posted for
  them; their reviews; the browsers and addresses of their logins; their notifications, follows, push
  subscriptions, AI summaries and concern searches, links and codes; mail payloads naming their address;
  their name in other people's notifications about their consultations.
- kept, under the account's id alone (a pseudonym once nothing names it): the ledger (billing and wallet
  rows, chained and verified), sessions' figures, payouts, invoices (their buyer named "Deleted user")
  and audit entries, which tax and accounting law require a business to keep.

With no e-mail, phone or main-backend id left, users.email holds `deleted-<id>@deleted.invalid` (the row
must stay identifiable, CHECK identifiable), which names nobody.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date, gettext

from ...extensions import db
from ...models import (
    OPEN_PAYOUT_STATUSES,
    OPEN_SESSION_STATUSES,
    AccountToken,
    ConcernMatch,
    ConsultationSession,
    ConsultationSummary,
    Delivery,
    Follow,
    LoginSession,
    Message,
    MessageType,
    Notification,
    Payout,
    PhoneCode,
    PushSubscription,
    TaxInvoice,
    User,
    UserStatus,
    UserType,
    WalletStatus,
    utcnow,
)
from .. import wallet
from ..consultations import lookup
from ..errors import DeletionBlocked, ValidationFailed
from ..messaging import system_lines
from ..messaging.system_lines import N_
from ..money import earnings, forfeits
from ..notifications import account_mail
from . import account_status, login_sessions, passwords, phone_codes

PSEUDONYM = "Deleted user"
REMOVED = N_("Message removed")
BATCH = 20


@dataclass(frozen=True)
class Leaving:
    """What the account page says before the person confirms."""

    balance: Decimal
    policy: str  #: DELETION_BALANCE_POLICY
    grace_days: int
    blockers: list  #: sentences, in the reader's language; empty when nothing stops it
    proof: str  #: "password", or "code" for an account without one


def leaving(user):
    config = current_app.config
    return Leaving(
        balance=wallet.wallet_of(user.id).available_balance,
        policy=config["DELETION_BALANCE_POLICY"],
        grace_days=config["DELETION_GRACE_DAYS"],
        blockers=blockers(user),
        proof="password" if user.password_hash else "code",
    )


def blockers(user):
    """Why the account cannot be deleted now, each in a sentence; [] when it can."""
    found = []
    open_sessions = db.session.execute(
        sa.select(sa.func.count(ConsultationSession.id)).where(
            lookup.taking_part(user.id), ConsultationSession.status.in_(OPEN_SESSION_STATUSES)
        )
    ).scalar_one()
    if open_sessions:
        found.append(gettext("You have a consultation that has not ended. End it first."))
    owned = wallet.wallet_of(user.id)
    if owned.status == WalletStatus.FROZEN:
        found.append(gettext("Your wallet is under review. Contact support to close your account."))
    if user.type == UserType.ASTROLOGER:
        pending = db.session.execute(
            sa.select(sa.func.count(Payout.id)).where(
                Payout.astrologer_id == user.id, Payout.status.in_(OPEN_PAYOUT_STATUSES)
            )  # fmt: skip
        ).scalar_one()
        if pending:
            found.append(gettext("A payout of yours is still being processed. Wait until it is paid or refused."))
        elif earnings.position(owned).withdrawable > 0:
            found.append(gettext("You have earnings not yet paid out. Ask for a payout first."))
    elif owned.available_balance > 0 and current_app.config["DELETION_BALANCE_POLICY"] == "block":
        found.append(gettext("Your wallet still holds money. Spend it on consultations first, or contact support."))
    return found


def send_code(user, ip_address=None, now=None):
    """A code to the account's phone, the proof for an account without a password."""
    if not user.phone:
        raise ValidationFailed("code", gettext("Your account has no password and no phone: contact support."))
    return phone_codes.send(user.phone, "delete_account", user_id=user.id, ip_address=ip_address, now=now)


def request(user_id, *, password=None, code=None, now=None):
    """Schedule the deletion after proof; every login ends. Returns the moment it is due."""
    now = now or utcnow()
    user = db.session.get(User, user_id)
    if user.password_hash is not None:
        if not passwords.verify_password(user.password_hash, password or ""):
            raise ValidationFailed("password", gettext("That is not your current password."))
    else:
        if not user.phone:
            raise ValidationFailed("code", gettext("Your account has no password and no phone: contact support."))
        phone_codes.check(user.phone, "delete_account", code, user_id=user.id, now=now)
    found = blockers(user)
    if found:
        raise DeletionBlocked(" ".join(found))
    user.deletion_due_at = now + timedelta(days=current_app.config["DELETION_GRACE_DAYS"])
    user.updated_at = now
    login_sessions.end_all(user.id, now)
    if user.email and user.email_verified_at is not None:
        account_mail.ask("deletion", user, now=now, day=format_date(user.deletion_due_at, "long"))
    db.session.flush()
    return user.deletion_due_at


def cancel(user_id):
    """Signing in keeps the account: a deletion asked for is called off. True when there was one."""
    user = db.session.get(User, user_id)
    if user is None or user.deletion_due_at is None:
        return False
    user.deletion_due_at = None
    db.session.flush()
    return True


def erase_due(now=None):
    """Carry out the deletions that are due, each in a transaction of its own (the periodic loop). A
    deletion something now stops (a payout asked for since) waits a day. Returns how many were erased."""
    now = now or utcnow()
    due = db.session.execute(
        sa.select(User.id).where(User.deletion_due_at <= now, User.status != UserStatus.DELETED).limit(BATCH)
    ).scalars().all()  # fmt: skip
    erased = 0
    for user_id in due:
        user = db.session.get(User, user_id)
        if blockers(user):
            user.deletion_due_at = now + timedelta(days=1)
            current_app.logger.warning("deletion of %s waits a day: something still stops it", user_id)
        else:
            erase(user, now)
            erased += 1
        db.session.commit()
    return erased


def erase(user, now):
    """Erase the person's data and keep the records the law requires, under the account's id alone."""
    name, email, phone = user.name, user.email, user.phone
    forfeits.forfeit_balance(user.id, now)
    account_status.change(user, UserStatus.DELETED, now)
    _scrub_account(user, now)
    _scrub_messages(user, now)
    _scrub_around(user, name, email, phone, now)
    db.session.flush()


def _scrub_account(user, now):
    user.name = PSEUDONYM
    user.email = None if user.external_id else f"deleted-{user.id.hex}@deleted.invalid"
    user.phone = None
    user.password_hash = None
    user.sync_metadata = None
    user.email_verified_at = user.phone_verified_at = user.locked_at = user.deletion_due_at = None
    user.updated_at = now
    profile = user.profile
    profile.bio = profile.avatar_url = profile.preferences = profile.gender = None
    profile.birth_date = profile.birth_time = profile.birth_place = None
    profile.birth_latitude = profile.birth_longitude = profile.birth_time_zone = None
    profile.updated_at = now
    if user.astrologer_profile is not None:
        user.astrologer_profile.about = None
        user.astrologer_profile.is_approved = False
    for model, column in ((AccountToken, AccountToken.user_id), (PhoneCode, PhoneCode.user_id),
                          (PushSubscription, PushSubscription.user_id), (Notification, Notification.user_id),
                          (Follow, Follow.user_id), (Follow, Follow.astrologer_id),
                          (ConsultationSummary, ConsultationSummary.user_id), (ConcernMatch, ConcernMatch.user_id)):  # fmt: skip
        db.session.execute(sa.delete(model).where(column == user.id).execution_options(synchronize_session=False))
    db.session.execute(
        sa.update(LoginSession).where(LoginSession.user_id == user.id).values(user_agent=None, ip_address=None)
    )
    db.session.execute(
        sa.update(ConsultationSession).where(ConsultationSession.user_id == user.id).values(review_text=None)
    )
    # Tax invoices are kept (numbers, amounts, place of supply) without the buyer's name and address: an
    # invoice to an unregistered buyer below ₹50,000 needs neither (CGST Rules, rule 46).
    db.session.execute(
        sa.update(TaxInvoice).where(TaxInvoice.user_id == user.id).values(buyer_name=PSEUDONYM, buyer_email=None)
    )


def _scrub_messages(user, now):
    """Their words become "Message removed" (files are already removed by account_status); so does the
    birth-details line posted for them."""
    db.session.execute(
        sa.update(Message)
        .where(Message.sender_id == user.id, Message.message_type == MessageType.TEXT)
        .values(content=REMOVED, message_metadata=_removed(), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    birth_lines = db.session.execute(
        sa.select(Message)
        .join(ConsultationSession, ConsultationSession.id == Message.session_id)
        .where(ConsultationSession.user_id == user.id, Message.message_type == MessageType.SYSTEM)
    ).scalars()
    for message in birth_lines:
        if (message.message_metadata or {}).get("kind") == "birth_details":
            message.content = REMOVED
            message.message_metadata = {"kind": "birth_details", **_removed()}
            message.updated_at = now


def _removed():
    """A removed message's metadata: read as "Message removed" in each reader's language."""
    return {"removed": "account_deleted", "text": system_lines.line(REMOVED)}


def _scrub_around(user, name, email, phone, now):
    """What others' rows say of the person: their name in notifications about their consultations and
    follows, their address or number in queued mail."""
    if name and len(name) >= 3:
        first = name.split()[0]
        around = db.session.execute(
            sa.select(Notification).where(
                Notification.user_id != user.id,
                sa.or_(Notification.title.contains(name), Notification.body.contains(name),
                       Notification.title.contains(first), Notification.body.contains(first)),
                Notification.created_at >= user.created_at,
            )
        ).scalars()  # fmt: skip
        sessions = {str(session_id) for session_id in db.session.execute(lookup.session_ids_of(user.id)).scalars()}
        for notification in around:
            about = f"{notification.url} {notification.dedupe_key}"  # a request's key names its session
            if str(user.id) in about or any(session_id in about for session_id in sessions):
                for field in ("title", "body"):
                    text = getattr(notification, field).replace(name, PSEUDONYM)
                    setattr(notification, field, text.replace(first, PSEUDONYM) if len(first) >= 3 else text)
    for value in (email, phone):
        if value:
            db.session.execute(
                sa.update(Delivery)
                .where(sa.cast(Delivery.payload, sa.Text).contains(value))
                .values(payload={"erased": True}, status=sa.case((Delivery.status == "pending", "skipped"),
                                                                  else_=Delivery.status))
                .execution_options(synchronize_session=False)
            )  # fmt: skip
