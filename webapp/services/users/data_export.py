"""Leaving with one's data: a ZIP of JSON and CSV files, one pair per table the person appears in, with
the files of their consultations, built by a job (the channel "data_export"), kept 24 hours, fetched
only by its owner, signed in (/auth/account/export/<token>).

Which rows are theirs is read from the schema: every row of a table with a column that refers to their
account (users.id), plus the messages and participants of their consultations and their wallet's
entries. Secrets are left out (password and code hashes, link hashes, push keys, storage keys); so are
the codes and links themselves and the site's own delivery queue. The link is mailed when the account
has a proven address; the security page shows it either way.
"""

import csv
import io
import json
import uuid
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from tempfile import SpooledTemporaryFile

import sqlalchemy as sa
from flask import current_app

from ...extensions import db
from ...models import AccountToken, Attachment, Delivery, User, Wallet, utcnow
from .. import jobs
from ..consultations import lookup
from ..messaging import attachment_storage
from ..notifications import account_mail
from . import account_tokens

PURPOSE = "export"
SKIPPED_TABLES = {"account_tokens", "phone_codes", "deliveries", "alembic_version"}
SECRET_COLUMNS = {"password_hash", "token_hash", "code_hash", "p256dh", "auth", "storage_key", "thumbnail_key"}
README = """Your AstroConsult data, as of {moment} (UTC).

Each table you appear in is here twice: <table>.json (every value as stored) and <table>.csv (the same,
for a spreadsheet). users.json is your account, user_profiles.json your details, consultation_sessions
your consultations with their ratings, messages the conversations, billing_transactions and
wallet_transactions your money movements (top-ups are your receipts), payouts an astrologer's payouts.
attachments/ holds the photos and documents of your consultations.

Times are UTC; money is in {currency}.
"""


def key_of(token_id):
    return f"exports/{token_id}.zip"


def request_export(user, now=None):
    """Ask for a new copy (an older one stops working); returns the link's row."""
    now = now or utcnow()
    for old in _live(user.id, now):
        attachment_storage.delete_after_commit([key_of(old.id)])
    row, _ = account_tokens.issue(user.id, PURPOSE, now=now)
    jobs.deliver("data_export", f"data_export:{row.id}", {"user_id": str(user.id), "token_id": str(row.id)}, now)
    return row


def _live(user_id, now):
    return (
        db.session.execute(
            sa.select(AccountToken).where(
                AccountToken.user_id == user_id,
                AccountToken.purpose == PURPOSE,
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > now,
            )  # fmt: skip
        )
        .scalars()
        .all()
    )


def latest(user_id, now=None):
    """(row, ready, token) of the person's live copy, or None: the security page's line about it."""
    rows = sorted(_live(user_id, now or utcnow()), key=lambda row: row.created_at)
    if not rows:
        return None
    row = rows[-1]
    delivery = db.session.execute(sa.select(Delivery.status).filter_by(key=f"data_export:{row.id}")).scalar()
    return row, delivery == "sent", account_tokens.token_of(row.id)


def open_export(token, user_id, now=None):
    """The ZIP `token` names, when it is `user_id`'s, live and built; None otherwise."""
    row = account_tokens.find(token, PURPOSE, now)
    if row is None or row.user_id != user_id:
        return None
    try:
        return attachment_storage.storage().open(key_of(row.id))
    except attachment_storage.MissingObject:
        return None


def remove_expired(now):
    """The periodic loop: copies past their 24 hours are deleted. Returns how many."""
    expired = (
        db.session.execute(
            sa.select(AccountToken)
            .where(AccountToken.purpose == PURPOSE, AccountToken.used_at.is_(None), AccountToken.expires_at <= now)
            .limit(100)  # fmt: skip
        )
        .scalars()
        .all()
    )
    for row in expired:
        row.used_at = now
    attachment_storage.delete_after_commit([key_of(row.id) for row in expired])
    return len(expired)


# ---------------------------------------------------------------- building the ZIP


def _plain(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _conditions(table, user_id, sessions, wallet_ids):
    """Which rows of `table` are the person's (None: the table holds nothing of theirs)."""
    found = [column == user_id for column in table.columns
             if any(fk.column.table.name == "users" for fk in column.foreign_keys)]  # fmt: skip
    if table.name == "users":
        found.append(table.c.id == user_id)
    if "session_id" in table.c and table.name in ("messages", "session_participants", "attachments"):
        found.append(table.c.session_id.in_(sessions))
    if table.name == "wallet_transactions":
        found.append(table.c.wallet_id.in_(wallet_ids))
    return sa.or_(*found) if found else None


def tables_of(user_id):
    """{table name: [row dicts]} of everything the person appears in."""
    sessions = lookup.session_ids_of(user_id)
    wallet_ids = sa.select(Wallet.id).where(Wallet.user_id == user_id)
    found = {}
    for table in db.metadata.sorted_tables:
        if table.name in SKIPPED_TABLES:
            continue
        condition = _conditions(table, user_id, sessions, wallet_ids)
        if condition is None:
            continue
        columns = [column for column in table.columns if column.name not in SECRET_COLUMNS]
        rows = db.session.execute(sa.select(*columns).where(condition)).mappings().all()
        if rows:
            found[table.name] = [{name: _plain(value) for name, value in row.items()} for row in rows]
    return found


def build(user_id, now=None):
    """The ZIP's bytes in a temporary file (in memory up to 8 MB)."""
    now = now or utcnow()
    out = SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(moment=now.isoformat(timespec="seconds"),
                                                     currency=current_app.config["CURRENCY"]))  # fmt: skip
        for name, rows in tables_of(user_id).items():
            archive.writestr(f"{name}.json", json.dumps(rows, ensure_ascii=False, indent=1, default=str))
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                                 for k, v in row.items()})  # fmt: skip
            archive.writestr(f"{name}.csv", text.getvalue())
        _files(archive, user_id)
    out.seek(0)
    return out


def _files(archive, user_id):
    sessions = lookup.session_ids_of(user_id)
    found = db.session.execute(
        sa.select(Attachment).where(Attachment.session_id.in_(sessions), Attachment.removed_at.is_(None))
    ).scalars()
    store = attachment_storage.storage()
    for attachment in found:
        try:
            with store.open(attachment.storage_key) as stored:
                archive.writestr(f"attachments/{attachment.id}-{attachment.name}", stored.read())
        except attachment_storage.MissingObject:
            continue


@jobs.channel("data_export")
def send_delivery(payload):
    """Build the ZIP, store it, and mail the link to a proven address; False when the copy was replaced."""
    token_id = uuid.UUID(payload["token_id"])
    row = db.session.get(AccountToken, token_id)
    if row is None or row.used_at is not None:
        return False
    with build(row.user_id) as built:
        attachment_storage.storage().put(key_of(token_id), built.read(), "application/zip")
    user = db.session.get(User, row.user_id)
    if user.email and user.email_verified_at is not None:
        account_mail.ask("export", user, token_id=token_id)
    return True
