"""Login sessions: each sign-in gets a row the cookie names, so signing out ends it on the server.

A request or socket event counts as logged in only while its row is live and its account active
(`live_user`, the one query Flask-Login's loader runs). `end` revokes one (logout), `end_all`
every one of a person's ("log out everywhere", and an account leaving `active`); both announce
`logged_out` to the ended sessions' sockets, which are closed (services never touch sockets: the
realtime sink does). Old rows stay, revoked, as the account's sign-in history.
"""

import uuid
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
import ua_parser
from flask_babel import gettext

from ...extensions import db
from ...models import LoginSession, User, UserStatus, utcnow
from ..notifications import notifier, rooms

USER_AGENT_MAX = 200
LIST_LIMIT = 20
#: login_sessions.last_seen_at is kept to within this: a request writes it only when it is older.
LAST_SEEN_STEP = timedelta(minutes=5)


def start(user_id, *, user_agent=None, ip_address=None, now=None):
    """A new login session for `user_id` (a sign-in); returns it, flushed."""
    now = now or utcnow()
    login = LoginSession(
        id=uuid.uuid4(),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
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


def live_user(user_id, login_id, now=None):
    """The active user `user_id` if `login_id` is one of their live login sessions, else None (one query;
    a second, to mark the device seen, at most once per LAST_SEEN_STEP)."""
    user_id, login_id = parse_id(user_id), parse_id(login_id)
    if user_id is None or login_id is None:
        return None
    row = db.session.execute(
        sa.select(User, LoginSession.last_seen_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == user_id,
            User.status == UserStatus.ACTIVE,
            User.locked_at.is_(None),
            LoginSession.id == login_id,
            LoginSession.revoked_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        return None
    now = now or utcnow()
    if row.last_seen_at is None or now - row.last_seen_at >= LAST_SEEN_STEP:
        _seen(login_id, now)
    return row.User


def _seen(login_id, now):
    """Written on a connection of its own, committed at once: the request's own transaction may be a
    read that is never committed, or a use case's that must not be committed early. Best effort: a
    database busy with a write (SQLite) leaves it for the next request."""
    try:
        with db.engine.begin() as connection:
            connection.execute(sa.update(LoginSession).where(LoginSession.id == login_id).values(last_seen_at=now))
    except sa.exc.OperationalError:
        pass


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


def end_others(user_id, keep_login_id, now=None):
    """Sign out every login session of the person but `keep_login_id` (a changed password)."""
    keep = parse_id(keep_login_id)
    query = LoginSession.user_id == user_id
    return _revoke(query if keep is None else sa.and_(query, LoginSession.id != keep), now or utcnow())


def end_own(user_id, login_id, now=None):
    """Sign out one of the person's own devices (the account page's "Sign out" beside it); [] when
    `login_id` is not theirs or already ended."""
    login_id = parse_id(login_id)
    if login_id is None:
        return []
    return _revoke(sa.and_(LoginSession.id == login_id, LoginSession.user_id == user_id), now or utcnow())


@lru_cache(maxsize=512)
def _browser_and_system(user_agent):
    result = ua_parser.parse(user_agent or "")
    browser = result.user_agent.family if result.user_agent and result.user_agent.family != "Other" else None
    system = result.os.family if result.os and result.os.family != "Other" else None
    if browser:
        browser = " ".join(word for word in browser.split() if word != "Mobile") or browser  # Chrome Mobile: Chrome
    return browser, system


def device_name(user_agent):
    """ "Chrome on Android", "Safari on iOS", from a well-kept user-agent parser (ua-parser); the browser
    alone, or "Unknown browser", when that is all the string tells."""
    browser, system = _browser_and_system(user_agent)
    if browser and system:
        return gettext("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or gettext("Unknown browser")


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
