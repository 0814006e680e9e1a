"""Accounts: creating users of every role with what they own, and logging them in.

Every wallet-owning user gets a user profile and a wallet when created;
astrologers also an astrologer profile. Identifiers are normalized here, the
one place, so login and uniqueness agree.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

import phonenumbers
from flask import current_app
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import (
    AstrologerProfile,
    Availability,
    Channel,
    Notification,
    User,
    UserProfile,
    UserStatus,
    UserType,
    Wallet,
    to_money,
    utcnow,
)
from ..astrologers import marketplace, performance
from ..astrology import birth_chart
from ..errors import (
    AccountDeleted,
    AccountInactive,
    AccountLocked,
    AccountSuspended,
    EmailTaken,
    InvalidCredentials,
    PhoneTaken,
    ValidationFailed,
)
from ..messaging.message_text import DISPLAY_CONTROLS
from . import passwords, time_zones

PLATFORM_EMAIL = "platform@astroconsult.invalid"
#: The tax account: tax paid with top-ups, owed to the government (services/money/invoices.py).
TAX_EMAIL = "tax@astroconsult.invalid"
DEFAULT_REGION = "IN"


def normalize_email(email):
    return email.strip().lower() if email and email.strip() else None


def normalize_phone(phone):
    """E.164 ('+919812345678') of a number as typed, parsed by phonenumbers; a number without a
    country code is Indian. None for nothing typed; ValidationFailed for anything but a valid number."""
    if not phone or not phone.strip():
        return None
    try:
        number = phonenumbers.parse(phone.strip()[:40], DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationFailed("phone", gettext("Enter a phone number with country code, e.g. +91 98123 45678."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_identifier(identifier):
    """("email" or "phone", the normalized value) of a login identifier, or None when it is neither."""
    identifier = (identifier or "").strip()
    if "@" in identifier:
        return "email", normalize_email(identifier)
    try:
        phone = normalize_phone(identifier)
    except ValidationFailed:
        return None
    return ("phone", phone) if phone else None


def find_by_identifier(identifier):
    """The user whose email or phone is `identifier`, or None."""
    named = normalize_identifier(identifier)
    if named is None:
        return None
    field, value = named
    return db.session.execute(db.select(User).filter_by(**{field: value})).scalar_one_or_none()


def create_user(
    *,
    name,
    email=None,
    phone=None,
    password=None,
    type=UserType.USER,
    external_id=None,
    now=None,
    astrologer=None,
    identifiers_checked=False,
    email_verified=False,
    phone_verified=False,
):
    """A user with profile and wallet (and astrologer profile when `astrologer` gives one's fields).

    Raises EmailTaken / PhoneTaken, also when another request wins the race. A caller that has
    already looked the identifiers up (the batch sync) passes identifiers_checked=True.
    """
    now = now or utcnow()
    if UNSAFE_IN_NAME.search(name or ""):
        raise ValidationFailed("name", gettext("Use letters, spaces and punctuation only."))
    email = normalize_email(email)
    phone = normalize_phone(phone)
    if not identifiers_checked:
        if email and db.session.execute(db.select(User.id).filter_by(email=email)).first():
            raise EmailTaken()
        if phone and db.session.execute(db.select(User.id).filter_by(phone=phone)).first():
            raise PhoneTaken()
    user = new_user(
        name=name, email=email, phone=phone, password=password, type=type, external_id=external_id, now=now,
        astrologer=astrologer, email_verified=email_verified, phone_verified=phone_verified,
    )  # fmt: skip
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as error:
        # Lost a race with a concurrent registration of the same identifier. The caller rolls
        # the transaction back (it must, after any domain error).
        text = str(error.orig).lower()
        if "phone" in text:
            raise PhoneTaken() from None
        raise EmailTaken() from None
    return user


#: What a person's name may not hold: C0 control characters and those that display text as something else.
UNSAFE_IN_NAME = re.compile(f"[\x00-\x1f{DISPLAY_CONTROLS}]")


def new_user(
    *, name, email, phone, type, now, password=None, external_id=None, astrologer=None, email_verified=False,
    phone_verified=False,
):  # fmt: skip
    """The unsaved User with profile, wallet (and astrologer profile); identifiers already normalized
    and checked. create_user saves one; the batch sync adds many and flushes them together."""
    user = User(
        name=name.strip(),
        email=email,
        phone=phone,
        type=type,
        status=UserStatus.ACTIVE,
        external_id=external_id,
        password_hash=passwords.hash_password(password) if password else None,
        email_verified_at=now if email and email_verified else None,
        phone_verified_at=now if phone and phone_verified else None,
        created_at=now,
        updated_at=now,
    )
    user.profile = UserProfile(created_at=now, updated_at=now, balance_updated_at=now)
    user.wallet = Wallet(
        currency=current_app.config["CURRENCY"], created_at=now, updated_at=now, last_transaction_at=now
    )
    if type == UserType.ASTROLOGER:
        fields = dict(astrologer or {})
        for rate in ("chat_rate_per_minute", "call_rate_per_minute"):
            fields[rate] = to_money(fields.get(rate, "10"))
        fields["video_rate_per_minute"] = to_money(fields.get("video_rate_per_minute", fields["call_rate_per_minute"]))
        fields.setdefault("is_approved", False)
        for channel in Channel:
            fields.setdefault(f"{channel.value}_availability", Availability.OFFLINE)
        fields.setdefault("max_concurrent_sessions", 1)
        fields.setdefault("monthly_period", performance.month_of(now)[0])  # no sessions this month yet
        user.astrologer_profile = AstrologerProfile(created_at=now, updated_at=now, **fields)
        availability_of_new(user)
    return user


def availability_of_new(user):
    """users.consultation_availability of a new astrologer (no sessions yet; nothing is queried)."""
    profile = user.astrologer_profile
    user.consultation_availability = marketplace.across_channels(
        user, profile, marketplace.channel_statuses(profile, 0)
    )


def register_user(*, name, email, phone, password, now=None):
    """Self-registration of an end user (the /auth/register form)."""
    problem = passwords.password_problem(password, email=email, name=name)
    if problem:
        raise ValidationFailed("password", problem)
    return create_user(name=name, email=email, phone=phone, password=password, now=now)


def authenticate(identifier, password, now=None):
    """The user `identifier` (email or phone) names, if `password` is theirs.

    Raises InvalidCredentials (same message for unknown account and wrong
    password), AccountSuspended, AccountDeleted.
    """
    user = find_by_identifier(identifier)
    if user is None or user.password_hash is None or user.type == UserType.SYSTEM:
        passwords.burn_verification_time(password)
        raise InvalidCredentials()
    if not passwords.verify_password(user.password_hash, password):
        raise InvalidCredentials()
    refuse_closed(user)  # status is told only to someone who proved the password
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now or utcnow()
    db.session.flush()
    return user


def refuse_closed(user):
    """Refuse to sign in to an account that is not open: suspended, inactive, deleted or locked."""
    if user.status == UserStatus.SUSPENDED:
        raise AccountSuspended()
    if user.status == UserStatus.INACTIVE:
        raise AccountInactive()
    if user.status == UserStatus.DELETED:
        raise AccountDeleted()
    if user.locked_at is not None:
        raise AccountLocked()


def platform_user(now=None):
    """The system user whose wallet receives the platform's commission; created on first use. Found
    by its reserved e-mail (users.email is unique, so indexed): users.type has no index, and at a
    million users a scan of it cost 0.8 s, once per billing batch and per charge (bench/PROFILES.md)."""
    return _system_user(PLATFORM_EMAIL, "AstroConsult platform", now)


def tax_user(now=None):
    """The system user whose wallet holds the tax collected with top-ups (tax payable); created on first use."""
    return _system_user(TAX_EMAIL, "AstroConsult tax", now)


def _system_user(email, name, now):
    """A system account, made by the first use that needs it: concurrent first uses (twenty copies of a
    webhook) race to insert it, and the losers' savepoints roll back to read the winner's."""
    query = db.select(User).filter_by(email=email, type=UserType.SYSTEM)
    user = db.session.execute(query).scalar_one_or_none()
    if user is None:
        try:
            with db.session.begin_nested():
                user = create_user(name=name, email=email, type=UserType.SYSTEM, now=now)
        except EmailTaken:
            user = db.session.execute(query).scalar_one()
    return user


BIO_MAX = 500


def update_details(user_id, *, birth_date, birth_time, birth_place, bio=None, language=None, now=None):
    """Save the account page: the optional birth details, a short bio and the preferred language
    (None clears one). The bio and language reach astrologers with the birth details. The place
    must be a gazetteer label (services/astrology/places.py): its coordinates and zone are stored with it."""
    bio = (bio or "").strip() or None
    if bio and len(bio) > BIO_MAX:
        raise ValidationFailed("bio", gettext("Use at most %(bio_max)s characters.", bio_max=BIO_MAX))
    if language and language not in marketplace.LANGUAGES:
        raise ValidationFailed("language", gettext("Choose a language from the list."))
    place = birth_chart.locate(birth_place) if birth_place else None
    profile = db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()
    profile.birth_date, profile.birth_time = birth_date, birth_time
    profile.birth_place = place.label if place else None
    profile.birth_latitude = place.latitude if place else None
    profile.birth_longitude = place.longitude if place else None
    profile.birth_time_zone = place.time_zone if place else None
    profile.bio = bio
    preferences = {key: value for key, value in (profile.preferences or {}).items() if key != "language"}
    if language:
        preferences["language"] = language
    profile.preferences = preferences or None
    profile.updated_at = now or utcnow()
    db.session.flush()
    return profile


@dataclass(frozen=True)
class Shell:
    """What every full page's shell shows a signed-in person."""

    balance: Decimal | None  #: the wallet's available balance; None for an admin (no wallet badge)
    unread: int  #: unread notifications, on the bell
    time_zone: str | None  #: the zone stored on the account, None until the browser sends one


def shell_of(user):
    """The page shell's facts for `user`, in one query (the context processor runs it once per full page)."""
    balance = db.select(Wallet.available_balance).where(Wallet.user_id == user.id).scalar_subquery()
    unread = (
        db.select(db.func.count(Notification.id))
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    preferences = db.select(UserProfile.preferences).where(UserProfile.user_id == user.id).scalar_subquery()
    row = db.session.execute(db.select(balance, unread, preferences)).one()
    return Shell(
        balance=None if user.is_admin else row[0],
        unread=row[1],
        time_zone=time_zones.stored_in(row[2]),
    )


def remember_billing_state(user_id, state):
    """The state a person named for their tax invoices (their place of supply), asked again next time as its default."""
    profile = db.session.execute(db.select(UserProfile).filter_by(user_id=user_id)).scalar_one()
    profile.billing_state = state


def billing_state_of(user_id):
    return db.session.execute(db.select(UserProfile.billing_state).filter_by(user_id=user_id)).scalar()
