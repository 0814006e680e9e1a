"""Proving an address, changing it, and "this wasn't me".

What needs a proven address (users.email_verified_at): every e-mail but the link that proves it, so
receipts, invoices, payout news and weekly summaries (services/notifications/mail.py `wanted_by`), and
the download link of one's data (services/users/data_export.py). Browsing, consulting and paying do
not: an unproven account sees a banner with "Send the link again".

A change of address is confirmed from the new address; the old one, when it was proven, is told, with a
"this wasn't me" link (7 days) that puts the old address back, locks the account (every login ended,
the password unusable) and sends that address a reset link, which is what opens it again.
"""

from flask_babel import gettext

from ...extensions import db
from ...models import User, utcnow
from ..errors import EmailTaken, LinkInvalid, ValidationFailed
from ..notifications import account_mail
from . import account_tokens, accounts, login_sessions, passwords


def send_verification(user, now=None):
    """The link that proves the account's address (sign-up, "send it again"); None when there is nothing to prove."""
    if not user.email or user.email_verified_at is not None:
        return None
    row, _ = account_tokens.issue(user.id, "verify_email", email=user.email, now=now)
    account_mail.ask("verify_email", user, token_id=row.id, now=now)
    return row


def confirm(token, now=None):
    """The link from a verification or change mail: the address is the account's, proven. Returns the user;
    LinkInvalid for a used, expired or unknown link, EmailTaken when another account took the address since."""
    now = now or utcnow()
    row = account_tokens.redeem(token, "change_email", now) or account_tokens.redeem(token, "verify_email", now)
    if row is None:
        raise LinkInvalid()
    user = db.session.get(User, row.user_id)
    if row.purpose == "verify_email" and row.email != user.email:
        raise LinkInvalid()  # the address changed since the link was sent
    if row.purpose == "change_email":
        taken = db.session.execute(db.select(User.id).where(User.email == row.email, User.id != user.id)).first()
        if taken:
            raise EmailTaken()
        user.email = row.email
        account_tokens.revoke(user.id, "verify_email", now)
    user.email_verified_at = now
    user.updated_at = now
    db.session.flush()
    return user


def request_change(user_id, email, password=None, now=None):
    """Send the confirmation to the new address (and tell the old, proven one). The password proves the
    owner is at the keyboard when the account has one."""
    now = now or utcnow()
    user = db.session.get(User, user_id)
    if user.password_hash is not None and not passwords.verify_password(user.password_hash, password or ""):
        raise ValidationFailed("password", gettext("That is not your current password."))
    address = accounts.normalize_email(email)
    if address == user.email:
        raise ValidationFailed("email", gettext("This is already your address."))
    if db.session.execute(db.select(User.id).filter_by(email=address)).first():
        raise EmailTaken()
    row, _ = account_tokens.issue(user.id, "change_email", email=address, now=now)
    account_mail.ask("change_email", user, token_id=row.id, to=address, now=now)
    if user.email and user.email_verified_at is not None:
        warning, _ = account_tokens.issue(user.id, "not_me", email=user.email, now=now)
        account_mail.ask("email_changing", user, token_id=warning.id, now=now, new_address=address)
    return row


def not_me_link_valid(token, now=None):
    return account_tokens.find(token, "not_me", now) is not None


def not_me(token, now=None):
    """ "This wasn't me": the old address back, the account locked, everyone signed out, a reset link sent."""
    now = now or utcnow()
    row = account_tokens.redeem(token, "not_me", now)
    if row is None:
        raise LinkInvalid()
    user = db.session.get(User, row.user_id)
    for purpose in ("change_email", "reset_password", "export"):
        account_tokens.revoke(user.id, purpose, now)
    if user.email != row.email:
        taken = db.session.execute(db.select(User.id).where(User.email == row.email, User.id != user.id)).first()
        if not taken:
            user.email = row.email
    user.email_verified_at = now if user.email == row.email else user.email_verified_at
    user.locked_at = now
    user.updated_at = now
    login_sessions.end_all(user.id, now)
    db.session.flush()
    reset, _ = account_tokens.issue(user.id, "reset_password", email=user.email, now=now)
    account_mail.ask("reset_password", user, token_id=reset.id, now=now)
    return user
