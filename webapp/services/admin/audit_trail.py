"""Reading the admin audit trail: a filtered page (who, what, when, before -> after), its CSV, and each
entry's details as readable fields. The trail is written by services/admin/actions.py, never changed."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import AuditEntry, User
from .. import paging

PER_PAGE = 50

#: What each action is, in words.
ACTIONS = {
    "refund": _l("Refunded a session"),
    "topup.refund": _l("Paid a top-up back"),
    "user.status": _l("Changed an account's status"),
    "astrologer.approve": _l("Approved an astrologer"),
    "payout.approve": _l("Approved a payout"),
    "payout.paid": _l("Recorded a payout as paid"),
    "payout.reject": _l("Rejected a payout"),
    "session.read": _l("Read a conversation"),
    "flag.decide": _l("Decided on a safety flag"),
}
#: Field names in the entries' details, in words.
FIELDS = {
    "status": _l("Status"),
    "total_cost": _l("Total cost"),
    "amount": _l("Amount"),
    "reason": _l("Reason"),
    "refund_id": _l("Refund"),
    "is_approved": _l("Approved"),
    "reference": _l("Bank reference"),
    "from_minute": _l("From minute"),
    "messages": _l("Messages"),
    "note": _l("Note"),
    "credit_note": _l("Credit note"),
}
TARGETS = ("user", "session", "payout", "flag")


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""  #: the actor's name, email or phone (part of it)
    target: uuid.UUID | None = None  #: the object's id
    action: str | None = None
    since: date | None = None
    until: date | None = None
    page: int = 1

    def params(self, **changes):
        values = {
            "actor": self.actor or None,
            "target": str(self.target) if self.target else None,
            "action": self.action,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str | None


def changes(entry):
    """The entry's details as (field, before, after) in words, in a stable order."""
    keys = list(dict.fromkeys([*entry.before.keys(), *entry.after.keys()]))
    return [
        Change(
            FIELDS.get(key, key.replace("_", " ").capitalize()),
            _text(entry.before.get(key)),
            _text(entry.after.get(key)),
        )
        for key in keys
    ]


def _text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _query(f):
    query = db.select(AuditEntry, User.name).join(User, User.id == AuditEntry.actor_id)
    if f.actor:
        like = f"%{f.actor.lower()}%"
        query = query.where(
            db.or_(db.func.lower(User.name).like(like), db.func.lower(User.email).like(like), User.phone.like(like))
        )
    if f.target:
        query = query.where(AuditEntry.object_id == f.target)
    if f.action:
        query = query.where(AuditEntry.action == f.action)
    if f.since:
        query = query.where(AuditEntry.created_at >= datetime.combine(f.since, time.min, UTC))
    if f.until:
        query = query.where(AuditEntry.created_at < datetime.combine(f.until + timedelta(days=1), time.min, UTC))
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id)


def page(f, per_page=PER_PAGE):
    """A paging.Page of (AuditEntry, actor name), newest first."""
    return paging.page_of(_query(f), f.page, per_page)


def csv_rows(f):
    """Every matching entry, newest first, a row per changed field (streamed, as the ledgers' CSVs)."""
    yield ("when_utc", "actor", "action", "target_type", "target_id", "field", "before", "after")
    for entry, actor in db.session.execute(_query(f).execution_options(yield_per=1000)):
        for change in changes(entry) or [Change("", None, None)]:
            yield (entry.created_at.isoformat(), actor, entry.action, entry.object_type, entry.object_id,
                   change.field, change.before, change.after)  # fmt: skip


def history_of(object_type, object_id, limit=20):
    """The latest audit entries of one object, newest first: (AuditEntry, actor name)."""
    return db.session.execute(
        db.select(AuditEntry, User.name)
        .join(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
        .order_by(AuditEntry.created_at.desc())
        .limit(limit)
    ).all()
