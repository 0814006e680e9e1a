"""The links the site e-mails about an account: made, found and spent here (models/account.py).

A link's token is HMAC-SHA256(SECRET_KEY, "account-token:" + row id), base64url: the job that sends the
mail is given the row's id only (deliveries keep no secret), and the row stores the token's SHA-256, so
the database alone opens nothing. `redeem` finds a live token of one purpose and spends it in the
caller's transaction; a used, expired or unknown token is the same None.
"""

import base64
import hashlib
import hmac
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ...extensions import db
from ...models import AccountToken, utcnow
from .. import locks

LIFETIMES = {
    "reset_password": timedelta(minutes=30),
    "verify_email": timedelta(days=3),
    "change_email": timedelta(hours=24),
    "not_me": timedelta(days=7),
    "export": timedelta(hours=24),
}
TOKEN_MAX = 100  # a token is 43 characters; anything longer is not one


def keyed(message):
    """HMAC-SHA256 of `message` under the site's secret (SECRET_KEY): what links and codes are made of."""
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def token_of(token_id):
    return base64.urlsafe_b64encode(keyed(f"account-token:{token_id}")).rstrip(b"=").decode()


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user_id, purpose, *, email=None, now=None, replace=True):
    """A new link for `user_id`; with `replace`, the person's unused links of this purpose stop working
    (the newest mail is the one that counts). Returns (row, token)."""
    now = now or utcnow()
    if replace:
        revoke(user_id, purpose, now)
    row = AccountToken(id=uuid.uuid4(), user_id=user_id, purpose=purpose, email=email, created_at=now,
                       expires_at=now + LIFETIMES[purpose])  # fmt: skip
    token = token_of(row.id)
    row.token_hash = _hash(token)
    db.session.add(row)
    db.session.flush()
    return row, token


def revoke(user_id, purpose, now=None):
    """Spend every unused link of `purpose` the person has (a newer one, a reset, a lock)."""
    db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def find(token, purpose, now=None):
    """The live row `token` names for `purpose`, locked for this transaction, or None."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX:
        return None
    row = locks.account_token(_hash(token))  # reloaded: as stored now, not as this session last saw it
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= (now or utcnow()):
        return None
    return row


def redeem(token, purpose, now=None):
    """`find`, and the row spent: a second use finds nothing."""
    row = find(token, purpose, now)
    if row is not None:
        row.used_at = now or utcnow()
        db.session.flush()
    return row
