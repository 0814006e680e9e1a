"""Phone numbers proven with a six-digit code by SMS: signing in (a new number makes an account), changing
the account's number, confirming a deletion.

A number typed at sign-up is not proven (users.phone_verified_at NULL) until a code proves it; whoever
proves a number with a code gets it, so nobody can hold someone else's number by typing it first.
Numbers are parsed by phonenumbers (a bare ten-digit number is Indian) and stored in E.164. A code is
valid for 10 minutes and 5 tries, stored as an HMAC under the site's secret (models/account.py); a newer
one replaces it; another can be asked for after 30 seconds; a number gets at most SMS_DAILY_PER_NUMBER
codes a day and an address SMS_DAILY_PER_IP (the routes add Flask-Limiter's per-address limits). No code
is logged but by the development console provider (services/notifications/sms.py).
"""

import hmac
import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from ...extensions import db
from ...models import PhoneCode, User, UserType, utcnow
from .. import locks
from ..errors import (
    CodeInvalid,
    CodeLimit,
    CodeTooSoon,
    PhoneTaken,
    ValidationFailed,
)
from ..notifications import account_mail, sms
from . import account_tokens, accounts

LIFETIME = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=30)
TRIES = 5
DAY = timedelta(days=1)


def parse(text):
    """E.164 of a number a person typed ("98123 45678", "+91 98123-45678"); ValidationFailed otherwise."""
    phone = accounts.normalize_phone(text)
    if phone is None:
        raise ValidationFailed("phone", gettext("Enter your mobile number."))
    return phone


def masked(phone):
    """ "+91 ••••• •5678": what a page may show of a number."""
    return f"{phone[:3]} ••••• •{phone[-4:]}" if phone and len(phone) > 7 else phone


def _digest(code_id, code):
    return account_tokens.keyed(f"phone-code:{code_id}:{code}").hex()


def _latest(phone, purpose, user_id=None, *, locked=False):
    query = sa.select(PhoneCode).where(PhoneCode.phone == phone, PhoneCode.purpose == purpose)
    if user_id is not None:
        query = query.where(PhoneCode.user_id == user_id)
    if locked:
        return locks.latest_phone_code(query)
    return db.session.execute(query.order_by(PhoneCode.created_at.desc()).limit(1)).scalar_one_or_none()


def send(phone, purpose, *, user_id=None, ip_address=None, now=None):
    """Text a new code to `phone` (typed or E.164); returns the number in E.164. CodeTooSoon within 30 s of
    the last, CodeLimit past the day's limits, SmsUnavailable when the provider fails (nothing kept)."""
    now = now or utcnow()
    phone = parse(phone)
    last = _latest(phone, purpose, user_id)
    if last is not None and now - last.created_at < RESEND_AFTER:
        raise CodeTooSoon(int((RESEND_AFTER - (now - last.created_at)).total_seconds()) + 1)
    config = current_app.config
    sent_to_number = db.session.execute(
        sa.select(sa.func.count(PhoneCode.id)).where(PhoneCode.phone == phone, PhoneCode.created_at > now - DAY)
    ).scalar_one()
    sent_to_address = (
        ip_address
        and db.session.execute(
            sa.select(sa.func.count(PhoneCode.id)).where(
                PhoneCode.ip_address == ip_address, PhoneCode.created_at > now - DAY
            )
        ).scalar_one()
    )
    if sent_to_number >= config["SMS_DAILY_PER_NUMBER"] or (sent_to_address or 0) >= config["SMS_DAILY_PER_IP"]:
        raise CodeLimit()
    _spend_live(phone, purpose, now)
    code = f"{secrets.randbelow(10**6):06d}"
    row = PhoneCode(id=uuid.uuid4(), phone=phone, purpose=purpose, user_id=user_id, ip_address=(ip_address or "")[:45] or None,
                    created_at=now, expires_at=now + LIFETIME, attempts=0)  # fmt: skip
    row.code_hash = _digest(row.id, code)
    db.session.add(row)
    db.session.flush()
    sms.send_code(phone, code)
    return phone


def _spend_live(phone, purpose, now):
    db.session.execute(
        sa.update(PhoneCode)
        .where(PhoneCode.phone == phone, PhoneCode.purpose == purpose, PhoneCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def check(phone, purpose, code, *, user_id=None, now=None, spend=True):
    """The live code `code` for `phone` and `purpose`, spent (unless `spend` is False). A wrong code spends a
    try, committed at once (the request that tried is refused and rolled back, its try is not); past 5 tries,
    10 minutes or a newer code: CodeInvalid."""
    now = now or utcnow()
    phone = parse(phone)
    code = "".join((code or "").split())
    row = _latest(phone, purpose, user_id, locked=True)
    if row is None or row.used_at is not None or row.expires_at <= now or row.attempts >= TRIES:
        raise CodeInvalid()
    if not (code.isdigit() and len(code) == 6 and hmac.compare_digest(row.code_hash, _digest(row.id, code))):
        row.attempts += 1
        left = TRIES - row.attempts
        db.session.commit()
        if left <= 0:
            raise CodeInvalid(gettext("Too many wrong codes. Ask for a new one."))
        raise CodeInvalid(gettext("That code is not right. %(left)s tries left.", left=left))
    if spend:
        row.used_at = now
        db.session.flush()
    return row


def sign_in(phone, code, *, name=None, claim=False, now=None):
    """ "Continue with phone": the account with this number, or a new one (it needs a name, asked for only
    once the code is right, which keeps the code for the second try). A number typed at another account's
    sign-up and never proven is not signed in to: the prover is told so (it may be their own account, to
    open with its password) and may `claim` the number for a new account instead (`_release`).
    Returns (user, created)."""
    now = now or utcnow()
    phone = parse(phone)
    row = check(phone, "sign_in", code, now=now, spend=False)
    user = db.session.execute(sa.select(User).filter_by(phone=phone)).scalar_one_or_none()
    holder = user if user is not None and _releasable(user) else None
    if holder is not None and not claim:
        raise ValidationFailed("claim", gettext(
            "This number is on an account that never confirmed it. If that account is yours, log in with its "
            "e-mail and password and confirm the number under Sign-in and security. If not, tick the box to "
            "make a new account with your number."
        ))  # fmt: skip
    user = None if holder is not None else user
    if user is not None:
        if user.type == UserType.SYSTEM:
            raise CodeInvalid()
        accounts.refuse_closed(user)
    elif not " ".join((name or "").split()):
        raise ValidationFailed("name", gettext("You are new here: tell us your name."))
    row.used_at = now
    if holder is not None:
        _release(holder, now)
    created = user is None
    if created:
        user = accounts.create_user(name=" ".join(name.split())[:100], phone=phone, now=now, phone_verified=True)
    user.phone_verified_at = user.phone_verified_at or now
    user.last_login_at = now
    db.session.flush()
    return user, created


def _releasable(holder):
    """A number on an account that never proved it, which can do without it (it has another identifier):
    whoever proves the number with a code gets it, not whoever typed it first."""
    return holder.phone_verified_at is None and bool(holder.email or holder.external_id)


def _release(holder, now):
    """The number leaves the account that typed it; its owner hears so at a proven address."""
    holder.phone, holder.updated_at = None, now
    db.session.flush()
    if holder.email and holder.email_verified_at is not None:
        account_mail.ask("phone_released", holder, now=now)


def change_phone(user_id, phone, code, now=None):
    """The account's number, new or the same one now proven, by the code sent to it."""
    now = now or utcnow()
    phone = parse(phone)
    check(phone, "change_phone", code, user_id=user_id, now=now)
    holder = db.session.execute(sa.select(User).where(User.phone == phone, User.id != user_id)).scalar_one_or_none()
    if holder is not None and not _releasable(holder):
        raise PhoneTaken()
    if holder is not None:
        _release(holder, now)
    user = db.session.get(User, user_id)
    user.phone, user.phone_verified_at, user.updated_at = phone, now, now
    db.session.flush()
    return user
