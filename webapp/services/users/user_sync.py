"""Users pushed in by the main backend: validated one record at a time, upserted by external_id.

Records use the seed's names (users: external_id, name, email, phone, type, status; user_profiles:
bio, avatar_url; astrologer_profiles: the rates, capacity, specializations, languages, experience).
A record that changes nothing answers `unchanged` and writes nothing. Fields this schema has no
column for are kept in users.sync_metadata. Applying a record sets users.sync_status `synced` and
last_sync_at; refusing a record of a person already here sets their sync_status `failed` (the
answer says why) and nothing else. A status other than active ends the person's open sessions
(services/users/account_status.py); a user deleted upstream is soft-deleted, their money untouched. An
email or phone that belongs to another external_id is an error for that record, never a silent
merge. One bad record never blocks the rest.

Transactions: `sync` is an entry point that owns its transactions (the API route and
`flask users import` call it and commit nothing): on PostgreSQL the batch in one transaction, a
refused record rolled back to its own savepoint; on SQLite a transaction per record. Record
checks: services/users/_sync_records.py.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import SyncStatus, User, UserStatus, UserType, utcnow
from .. import payloads
from ..astrologers import marketplace
from ..errors import DomainError
from . import account_status, accounts
from ._sync_records import validate

BATCH_MAX = 500
PROFILE_FIELDS = ("bio", "avatar_url")
ASTROLOGER_FIELDS = (
    "chat_rate_per_minute", "call_rate_per_minute", "video_rate_per_minute", "max_concurrent_sessions",
    "specializations", "languages", "experience_years",
)  # fmt: skip


@dataclass
class Result:
    external_id: object
    status: str  # created | updated | unchanged | error
    errors: dict = field(default_factory=dict)

    @property
    def sync_status(self):
        """users.sync_status as this record leaves it (seed name)."""
        return SyncStatus.FAILED.value if self.status == "error" else SyncStatus.SYNCED.value

    def as_dict(self):
        return {
            "external_id": self.external_id,
            "status": self.status,
            "sync_status": self.sync_status,
            "errors": self.errors,
        }


class Index:
    """What a batch needs to know about existing accounts (with their profiles), read in a few
    queries instead of several per record; kept up to date as the batch creates users."""

    def __init__(self, clean):
        """`clean`: the validated values of the batch's records that passed validation."""
        ids = [values["external_id"] for values in clean]
        emails = [values["email"] for values in clean if values["email"]]
        phones = [values["phone"] for values in clean if values["phone"]]
        self.users = {
            u.external_id: u
            for u in db.session.execute(
                db.select(User)
                .where(User.external_id.in_(ids))
                .options(selectinload(User.profile), selectinload(User.astrologer_profile))
            ).scalars()
        }
        self.emails = dict(db.session.execute(db.select(User.email, User.id).where(User.email.in_(emails))).all())
        self.phones = dict(db.session.execute(db.select(User.phone, User.id).where(User.phone.in_(phones))).all())

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


def upsert(record, now=None, index=None, checked=None):
    """Apply one record; returns its Result. Writes nothing unless the result is created or updated.
    `index` (an Index of the batch) replaces the per-record lookups; `checked` is validate(record)
    when the caller already has it."""
    now = now or utcnow()
    values, errors = checked or validate(record)
    external_id = record.get("external_id") if isinstance(record, dict) else None
    if errors:
        mark_failed(values and values["external_id"])
        return Result(external_id, "error", errors)
    if index is not None:
        user = index.users.get(values["external_id"])
    else:
        user = db.session.execute(db.select(User).filter_by(external_id=values["external_id"])).scalar_one_or_none()
    taken = _collision(values, user.id if user else None, index)
    if taken:
        mark_failed(values["external_id"])
        return Result(external_id, "error", {taken: "already belongs to another account; not merged"})
    if user is None:
        if values["status"] == "deleted":
            return Result(external_id, "unchanged")
        user = accounts.create_user(**_account(values, now), identifiers_checked=index is not None)
        _mark_synced(user, values, now)
        db.session.flush()
        if index is not None:
            index.add(user)
        return Result(external_id, "created")
    writes = _changes(user, values)
    if not writes:
        return Result(external_id, "unchanged")
    _apply(user, writes, now)
    db.session.flush()
    return Result(external_id, "updated")


def sync(records, now=None):
    """The use case's entry point (the API and `flask users import`): apply up to BATCH_MAX
    records and commit. PostgreSQL: the batch below, committed once. SQLite, whose driver cannot
    nest transactions safely: a transaction per record."""
    if db.engine.dialect.name == "postgresql":
        results = upsert_batch(records, now)
        db.session.commit()
        return results
    return [_committed(record, now) for record in records]


def _committed(record, now):
    try:
        result = upsert(record, now)
        db.session.commit()
        return result
    except (IntegrityError, DomainError) as error:
        db.session.rollback()
        mark_failed(_external_id(record))
        db.session.commit()
        return conflict(record, error)


def _external_id(record):
    value = record.get("external_id") if isinstance(record, dict) else None
    return value if isinstance(value, str) and payloads.storable(value) else None


def mark_failed(external_id):
    """The main backend's record for `external_id` was refused: that person (if here) is sync_status failed."""
    if external_id:
        db.session.execute(
            db.update(User)
            .where(User.external_id == external_id, User.sync_status != SyncStatus.FAILED)
            .values(sync_status=SyncStatus.FAILED)
            .execution_options(synchronize_session="fetch")
        )


def upsert_batch(records, now=None):
    """Results for a batch, in order, on PostgreSQL: each record in a SAVEPOINT of its own, so a
    failed one leaves no trace; the new accounts that no other record of the batch names are
    inserted together first. Flushes; the caller commits once."""
    now = now or utcnow()
    checked = [validate(record) for record in records]
    index = Index([values for values, errors in checked if not errors])
    results = dict(_create_together(records, checked, index, now))
    for position, (record, validated) in enumerate(zip(records, checked, strict=True)):
        if position not in results:
            results[position] = _in_savepoint(record, lambda r=record, v=validated: upsert(r, now, index, v))
    return [results[position] for position in range(len(records))]


def _create_together(records, checked, index, now):
    """(position, Result) of the records that create an account and share no identifier with
    another record of the batch, so their order cannot matter; all inserted in one flush."""
    named = Counter(
        (name, values[name])
        for values, errors in checked
        if not errors
        for name in ("external_id", "email", "phone")
        if values[name]
    )
    fresh = [
        position
        for position, (values, errors) in enumerate(checked)
        if not errors
        and values["status"] != "deleted"
        and values["external_id"] not in index.users
        and not _collision(values, None, index)
        and all(named[(name, values[name])] == 1 for name in ("external_id", "email", "phone") if values[name])
    ]
    if not fresh:
        return []
    try:
        with db.session.begin_nested():
            users = []
            for position in fresh:
                users.append(accounts.new_user(**_account(checked[position][0], now)))
                _mark_synced(users[-1], checked[position][0], now)
            db.session.add_all(users)
            db.session.flush()
    except IntegrityError:  # a concurrent writer took an identifier meanwhile: one by one instead
        return []
    for user in users:
        index.add(user)
    return [(position, Result(records[position]["external_id"], "created")) for position in fresh]


def _in_savepoint(record, apply):
    try:
        with db.session.begin_nested():
            return apply()
    except (IntegrityError, DomainError) as error:
        mark_failed(_external_id(record))  # outside the savepoint that was rolled back
        return conflict(record, error)


def conflict(record, error):
    """The Result of a record the database or a domain rule refused."""
    external_id = record.get("external_id") if isinstance(record, dict) else None
    return Result(external_id, "error", {"record": getattr(error, "message", "conflicts with another account")})


def _account(values, now):
    """accounts.create_user's arguments for a new account from a clean record."""
    astrologer = None
    if values["type"] == "astrologer":
        astrologer = {k: values[k] for k in ASTROLOGER_FIELDS if values[k] is not None}
        astrologer.setdefault("chat_rate_per_minute", Decimal("10.00"))
        astrologer.setdefault("call_rate_per_minute", astrologer["chat_rate_per_minute"])
        astrologer.setdefault("video_rate_per_minute", astrologer["call_rate_per_minute"])
    return dict(
        name=values["name"] or values["external_id"],
        email=values["email"],
        phone=values["phone"],
        type=UserType(values["type"]),
        external_id=values["external_id"],
        now=now,
        astrologer=astrologer,
        email_verified=True,  # the main backend owns this person's identity and vouches for both
        phone_verified=True,
    )


def _changes(user, values):
    """The (object, attribute, value) writes a clean record asks of an existing account; none
    when it changes nothing. Reads only what Index loaded."""
    writes = [
        (user, n, values[n])
        for n in ("name", "email", "phone")
        if values[n] is not None and getattr(user, n) != values[n]
    ]
    if UserStatus(values["status"]) != user.status:
        writes.append((user, "status", UserStatus(values["status"])))
    writes += [
        (user.profile, n, values[n])
        for n in PROFILE_FIELDS
        if values[n] is not None and getattr(user.profile, n) != values[n]
    ]
    if user.astrologer_profile is not None:
        writes += [
            (user.astrologer_profile, n, values[n])
            for n in ASTROLOGER_FIELDS
            if values[n] is not None and getattr(user.astrologer_profile, n) != values[n]
        ]
    kept = user.sync_metadata or {}
    if {**kept, **values["extra"]} != kept:
        writes.append((user, "sync_metadata", {**kept, **values["extra"]}))
    if user.sync_status != SyncStatus.SYNCED:  # the last record was refused; this one is applied
        writes.append((user, "sync_status", SyncStatus.SYNCED))
    return writes


def _apply(user, writes, now):
    """Make the writes: a status through account_status (sessions, wallet, listing follow), an
    astrologer's capacity with their derived availability."""
    capacity = user.astrologer_profile is not None and any(t is user.astrologer_profile for t, _, _ in writes)
    availability = marketplace.availability(user.id) if capacity else None
    for target, name, value in writes:
        if target is user and name == "status":
            account_status.change(user, value, now)
        else:
            setattr(target, name, value)
    user.updated_at = now
    user.sync_status = SyncStatus.SYNCED
    user.last_sync_at = now
    if capacity:
        db.session.flush()
        marketplace.refresh_availability(user.id, before=availability)


def _mark_synced(user, values, now):
    """A new account: its upstream status and profile fields, and the sync marks."""
    account_status.start_with(user, values["status"])
    for name in PROFILE_FIELDS:
        setattr(user.profile, name, values[name])
    user.sync_status = SyncStatus.SYNCED
    user.last_sync_at = now
    user.sync_metadata = dict(values["extra"]) or None
