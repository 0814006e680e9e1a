"""Users pushed in by the main backend: validated one record at a time, upserted by external_id.

A record that changes nothing answers `unchanged` and writes nothing. Fields this schema has
no column for are kept in user_profiles.sync_metadata. A user deleted upstream is soft-deleted,
their open sessions ended, their money untouched. An email or phone that belongs to another
external_id is an error for that record, never a silent merge. Each record is its own unit of
work: the caller commits or rolls back per record, so one bad record never blocks the rest.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..extensions import db
from ..models import (
    AstrologerProfile,
    EndReason,
    SyncStatus,
    User,
    UserProfile,
    UserStatus,
    UserType,
    to_money,
    utcnow,
)
from . import accounts, consultations, marketplace
from .errors import ValidationFailed

BATCH_MAX = 500
KNOWN = {
    "external_id", "name", "email", "phone", "type", "status", "chat_rate_per_minute", "call_rate_per_minute",
    "max_concurrent_sessions", "specializations", "languages", "experience_years",
}  # fmt: skip
ASTROLOGER_FIELDS = (
    "chat_rate_per_minute", "call_rate_per_minute", "max_concurrent_sessions", "specializations", "languages",
    "experience_years",
)  # fmt: skip
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Result:
    external_id: object
    status: str  # created | updated | unchanged | error
    errors: dict = field(default_factory=dict)

    def as_dict(self):
        return {"external_id": self.external_id, "status": self.status, "errors": self.errors}


def _text(record, name, errors, maximum, required=False):
    value = record.get(name)
    if value is None:
        if required:
            errors[name] = "required"
        return None
    if not isinstance(value, str) or not value.strip():
        errors[name] = "must be non-empty text"
        return None
    if len(value) > maximum:
        errors[name] = f"at most {maximum} characters"
        return None
    return value.strip()


def _rate(record, name, errors):
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, float):
        errors[name] = "send amounts as strings or integers, not floats"
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors[name] = "must be an amount"
        return None
    if not amount.is_finite() or not Decimal("1") <= amount <= Decimal("1000") or amount != to_money(amount):
        errors[name] = "must be 1..1000 with at most 2 decimals"
        return None
    return to_money(amount)


def _int(record, name, errors, low, high):
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = f"must be a whole number from {low} to {high}"
        return None
    return value


def _choices(record, name, errors, allowed):
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in allowed for v in value):
        errors[name] = f"must be a non-empty list of: {', '.join(allowed)}"
        return None
    return [v for v in allowed if v in value]


def validate(record):
    """(clean values, errors) for one record; nothing is written."""
    if not isinstance(record, dict):
        return None, {"record": "must be an object"}
    errors = {}
    values = {
        "external_id": _text(record, "external_id", errors, 64, required=True),
        "name": _text(record, "name", errors, 120),
        "email": _text(record, "email", errors, 254),
        "phone": _text(record, "phone", errors, 20),
        "type": record.get("type", "user"),
        "status": record.get("status", "active"),
        "chat_rate_per_minute": _rate(record, "chat_rate_per_minute", errors),
        "call_rate_per_minute": _rate(record, "call_rate_per_minute", errors),
        "max_concurrent_sessions": _int(record, "max_concurrent_sessions", errors, 1, 10),
        "experience_years": _int(record, "experience_years", errors, 0, 80),
        "specializations": _choices(record, "specializations", errors, marketplace.SPECIALIZATIONS),
        "languages": _choices(record, "languages", errors, marketplace.LANGUAGES),
    }
    if values["type"] not in ("user", "astrologer"):
        errors["type"] = "must be user or astrologer"
    if values["status"] not in ("active", "suspended", "deleted"):
        errors["status"] = "must be active, suspended or deleted"
    if values["email"]:
        if not EMAIL.match(values["email"]):
            errors["email"] = "must be an e-mail address"
        values["email"] = accounts.normalize_email(values["email"])
    if values["phone"]:
        try:
            values["phone"] = accounts.normalize_phone(values["phone"])
        except ValidationFailed as error:
            errors["phone"] = error.message
    values["extra"] = {k: v for k, v in record.items() if k not in KNOWN}
    return values, errors


class Index:
    """What a batch needs to know about existing accounts, read in three queries instead of
    several per record; kept up to date as the batch creates users."""

    def __init__(self, records):
        valid = [r for r in records if isinstance(r, dict)]
        ids = [str(r["external_id"]) for r in valid if isinstance(r.get("external_id"), str)]
        emails = [accounts.normalize_email(r["email"]) for r in valid if isinstance(r.get("email"), str)]
        phones = []
        for r in valid:
            try:
                phones.append(accounts.normalize_phone(r["phone"]) if isinstance(r.get("phone"), str) else None)
            except ValidationFailed:
                pass
        self.users = {
            u.external_id: u for u in db.session.execute(db.select(User).where(User.external_id.in_(ids))).scalars()
        }
        self.emails = dict(
            db.session.execute(db.select(User.email, User.id).where(User.email.in_([e for e in emails if e]))).all()
        )
        self.phones = dict(
            db.session.execute(db.select(User.phone, User.id).where(User.phone.in_([p for p in phones if p]))).all()
        )

    def owner(self, name, value):
        return (self.emails if name == "email" else self.phones).get(value)

    def add(self, user):
        self.users[user.external_id] = user
        if user.email:
            self.emails[user.email] = user.id
        if user.phone:
            self.phones[user.phone] = user.id


def _collision(values, user_id, index):
    """The field (email or phone) that another account already has, or None."""
    for name in ("email", "phone"):
        if values[name]:
            if index is not None:
                owner = index.owner(name, values[name])
                taken = owner is not None and owner != user_id
            else:
                query = db.select(User.id).where(getattr(User, name) == values[name])
                if user_id is not None:
                    query = query.where(User.id != user_id)
                taken = db.session.execute(query).first() is not None
            if taken:
                return name
    return None


def upsert(record, now=None, index=None):
    """Apply one record; returns its Result. Writes nothing unless the result is created or updated.
    `index` (an Index of the batch) replaces the per-record lookups."""
    now = now or utcnow()
    values, errors = validate(record)
    external_id = record.get("external_id") if isinstance(record, dict) else None
    if errors:
        return Result(external_id, "error", errors)
    if index is not None:
        user = index.users.get(values["external_id"])
    else:
        user = db.session.execute(db.select(User).filter_by(external_id=values["external_id"])).scalar_one_or_none()
    taken = _collision(values, user.id if user else None, index)
    if taken:
        return Result(external_id, "error", {taken: "already belongs to another account; not merged"})
    if user is None:
        if values["status"] == "deleted":
            return Result(external_id, "unchanged")
        astrologer = (
            {k: values[k] for k in ASTROLOGER_FIELDS if values[k] is not None}
            if values["type"] == "astrologer"
            else None
        )
        if astrologer is not None:
            astrologer.setdefault("chat_rate_per_minute", Decimal("10.00"))
            astrologer.setdefault("call_rate_per_minute", astrologer["chat_rate_per_minute"])
        user = accounts.create_user(
            name=values["name"] or values["external_id"],
            email=values["email"],
            phone=values["phone"],
            type=UserType(values["type"]),
            external_id=values["external_id"],
            now=now,
            astrologer=astrologer,
            identifiers_checked=index is not None,
        )
        user.status = UserStatus(values["status"])
        _mark_synced(user, values, now)
        db.session.flush()
        if index is not None:
            index.add(user)
        return Result(external_id, "created")
    changed = _apply(user, values, now)
    if not changed:
        return Result(external_id, "unchanged")
    _mark_synced(user, values, now)
    db.session.flush()
    return Result(external_id, "updated")


def _apply(user, values, now):
    changed = False
    for name in ("name", "email", "phone"):
        if values[name] is not None and getattr(user, name) != values[name]:
            setattr(user, name, values[name])
            changed = True
    status = UserStatus(values["status"])
    if status != user.status:
        if status == UserStatus.DELETED:
            consultations.close_open_sessions(user, EndReason.ACCOUNT_DELETED, now)
            user.deleted_at = now
        elif user.status == UserStatus.DELETED:
            user.deleted_at = None
        user.status = status
        changed = True
    profile = db.session.execute(db.select(AstrologerProfile).filter_by(user_id=user.id)).scalar_one_or_none()
    if profile is not None:
        for name in ASTROLOGER_FIELDS:
            if values[name] is not None and getattr(profile, name) != values[name]:
                setattr(profile, name, values[name])
                changed = True
    user_profile = db.session.execute(db.select(UserProfile).filter_by(user_id=user.id)).scalar_one()
    if values["extra"] and {**(user_profile.sync_metadata or {}), **values["extra"]} != (
        user_profile.sync_metadata or {}
    ):
        changed = True
    if changed:
        user.updated_at = now
    return changed


def _mark_synced(user, values, now):
    profile = user.profile
    profile.sync_status = SyncStatus.SYNCED
    profile.last_sync_at = now
    if values["extra"]:
        profile.sync_metadata = {**(profile.sync_metadata or {}), **values["extra"]}
