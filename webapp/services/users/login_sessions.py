"""Login sessions: each sign-in gets a row the cookie names, so signing out ends it on the server.

A request or socket event counts as logged in only while its row is live and its account active
(`live_user`, the one query Flask-Login's loader runs). `end` revokes one (logout), `end_all`
every one of a person's ("log out everywhere", and an account leaving `active`); both announce
`logged_out` to the ended sessions' sockets, which are closed (services never touch sockets: the
realtime sink does). Old rows stay, revoked, as the account's sign-in history.
"""

import uuid

import sqlalchemy as sa

from ...extensions import db
from ...models import LoginSession, User, UserStatus, utcnow
from ..notifications import notifier, rooms

USER_AGENT_MAX = 200
LIST_LIMIT = 20


def start(user_id, *, user_agent=None, ip_address=None, now=None):
    """A new login session for `user_id` (a sign-in); returns it, flushed."""
    now = now or utcnow()
    login = LoginSession(
        id=uuid.uuid4(),
        user_id=user_id,
        created_at=now,
        user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
        ip_address=(ip_address or "")[:45] or None,
    )
    db.session.add(login)
    db.session.flush()
    return login


def parse_id(value):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def live_user(user_id, login_id):
    """The active user `user_id` if `login_id` is one of their live login sessions, else None (one query)."""
    user_id, login_id = parse_id(user_id), parse_id(login_id)
    if user_id is None or login_id is None:
        return None
    return db.session.execute(
        sa.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == user_id,
            User.status == UserStatus.ACTIVE,
            LoginSession.id == login_id,
            LoginSession.revoked_at.is_(None),
        )
    ).scalar_one_or_none()


def _revoke(query, now):
    ended = db.session.execute(
        sa.update(LoginSession)
        .where(query, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(LoginSession.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    ids = [str(login_id) for login_id in ended]
    for login_id in ids:
        notifier.announce("logged_out", {"login_id": login_id}, room=rooms.of_login(login_id))
    return ids


def end(login_id, now=None):
    """Sign out one login session (a logout). Returns the ids ended ([] when it already was)."""
    login_id = parse_id(login_id)
    return [] if login_id is None else _revoke(LoginSession.id == login_id, now or utcnow())


def end_all(user_id, now=None):
    """Sign out every login session of the person (log out everywhere; the account left `active`)."""
    return _revoke(LoginSession.user_id == user_id, now or utcnow())


def live_for(user_id):
    """The person's live login sessions, newest first (the account page's list)."""
    return (
        db.session.execute(
            sa.select(LoginSession)
            .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
            .order_by(LoginSession.created_at.desc())
            .limit(LIST_LIMIT)
        )
        .scalars()
        .all()
    )
