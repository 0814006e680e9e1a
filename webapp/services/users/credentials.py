"""What opens an account and what it is called: a forgotten password reset by e-mail, a password or a
name changed from the account page.

A reset link (services/users/account_tokens.py) works once, for 30 minutes, and ends every login session
of the account; asking for one answers the same whether or not the address has an account (the route
says so, and this module does the same work either way up to the insert). Mail goes through the job
queue (services/notifications/account_mail.py).
"""

from flask_babel import gettext

from ...extensions import db
from ...models import User, UserStatus, UserType, utcnow
from ..errors import LinkInvalid, ValidationFailed
from ..notifications import account_mail
from . import account_tokens, accounts, login_sessions, passwords

NAME_MAX = 100
#: Who may reset by e-mail: people, not the platform account.
RESETTABLE = (UserType.USER, UserType.ASTROLOGER, UserType.ADMIN)


def request_reset(email, now=None):
    """A reset link to `email` when an account has it; nothing (and no sign of it) otherwise."""
    now = now or utcnow()
    address = accounts.normalize_email(email)
    user = db.session.execute(db.select(User).filter_by(email=address)).scalar_one_or_none() if address else None
    if user is None or user.type not in RESETTABLE or user.status == UserStatus.DELETED:
        return None
    row, _ = account_tokens.issue(user.id, "reset_password", email=address, now=now)
    account_mail.ask("reset_password", user, token_id=row.id, now=now)
    return row


def reset_link_valid(token, now=None):
    """Whether the reset page should offer the form (the link is live)."""
    return account_tokens.find(token, "reset_password", now) is not None


def reset_password(token, password, now=None):
    """The new password for the account the link names; every login session ended, a lock lifted, and the
    address proven (the link reached it). LinkInvalid for a used, expired or unknown link."""
    now = now or utcnow()
    row = account_tokens.find(token, "reset_password", now)
    if row is None:
        raise LinkInvalid()
    user = db.session.get(User, row.user_id)
    problem = passwords.password_problem(password, email=user.email, name=user.name)
    if problem:
        raise ValidationFailed("password", problem)
    row.used_at = now
    user.password_hash = passwords.hash_password(password)
    user.locked_at = None
    if user.email and user.email == row.email and user.email_verified_at is None:
        user.email_verified_at = now
    user.updated_at = now
    login_sessions.end_all(user.id, now)
    db.session.flush()
    return user


def change_password(user_id, current, password, *, keep_login_id, now=None):
    """From the account page: the current password proves it is the owner; every other login session ends."""
    now = now or utcnow()
    user = db.session.get(User, user_id)
    if user.password_hash is not None and not passwords.verify_password(user.password_hash, current or ""):
        raise ValidationFailed("current", gettext("That is not your current password."))
    problem = passwords.password_problem(password, email=user.email, name=user.name)
    if problem:
        raise ValidationFailed("password", problem)
    user.password_hash = passwords.hash_password(password)
    user.updated_at = now
    login_sessions.end_others(user.id, keep_login_id, now)
    account_tokens.revoke(user.id, "reset_password", now)
    db.session.flush()
    return user


def change_name(user_id, name, now=None):
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("name", gettext("Enter your name."))
    if len(name) > NAME_MAX:
        raise ValidationFailed("name", gettext("Use at most %(max)s characters.", max=NAME_MAX))
    if accounts.UNSAFE_IN_NAME.search(name):
        raise ValidationFailed("name", gettext("Use letters, spaces and punctuation only."))
    user = db.session.get(User, user_id)
    user.name, user.updated_at = name, now or utcnow()
    db.session.flush()
    return user
