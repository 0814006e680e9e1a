"""Notifications: what the platform tells a person, stored once and announced live.

`tell` writes a row unless the person was already told the same happening (its dedupe_key: a
retried job or a second report writes nothing), and after the commit sends `notification` {id,
kind, title, body, url, created_at} and the new unread count to the person's sockets (user:<id>).
The notification centre (GET /notifications) lists them newest first; reading marks them read.
Title and body are written in each person's own language when they are told (issue 41): the row,
the live event and the push all say it the same way.
"""

from flask_babel import force_locale

from ...extensions import db
from ...models import Notification, utcnow
from .. import paging
from ..messaging import system_lines
from ..users import languages
from . import notifier, push, rooms

PER_PAGE = 20


def serialize(notification):
    return {
        "id": str(notification.id),
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created_at": notification.created_at.isoformat(),
    }


def tell(user_ids, kind, title, body, url, key, now=None, actions=None):
    """Tell each of `user_ids` once about the happening `key`, in the site and by Web Push on every
    device they subscribed (services/notifications/push.py; `actions`: the push's buttons, their
    titles message keys); returns the rows written. `title` and `body` are system_lines.line()s,
    written in each person's language."""
    now = now or utcnow()
    user_ids = list(dict.fromkeys(user_ids))
    if not user_ids:
        return []
    already = set(
        db.session.execute(
            db.select(Notification.user_id).where(Notification.user_id.in_(user_ids), Notification.dedupe_key == key)
        ).scalars()
    )
    fresh = [user_id for user_id in user_ids if user_id not in already]
    language = languages.of_users(fresh)
    written = []
    for user_id in fresh:
        with force_locale(language[user_id]):
            said = {"title": system_lines.render(title)[:120], "body": system_lines.render(body)[:300]}
        written.append(Notification(user_id=user_id, kind=kind, url=url, dedupe_key=key, created_at=now, **said))
    db.session.add_all(written)
    db.session.flush()
    counts = unread_counts([n.user_id for n in written])
    if written:
        push.push_for(written, actions, language)
    for notification in written:
        room = rooms.of_user(notification.user_id)
        notifier.announce("notification", serialize(notification), room=room)
        notifier.announce(
            "notifications_unread", {"unread": counts.get(notification.user_id, 0)}, room=room, latest=("unread", room)
        )
    return written


def unread_counts(user_ids):
    rows = db.session.execute(
        db.select(Notification.user_id, db.func.count())
        .where(Notification.user_id.in_(user_ids), Notification.read_at.is_(None))
        .group_by(Notification.user_id)
    ).all()
    return dict(rows)


def unread_count(user_id):
    return unread_counts([user_id]).get(user_id, 0)


def page_for(user_id, page=1):
    query = (
        db.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return paging.page_of(query, page, PER_PAGE, scalars=True)


def mark_read(user_id, ids=None, now=None):
    """Mark the person's notifications `ids` (None: all) read; returns how many changed, and
    announces the new unread count."""
    query = db.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    changed = db.session.execute(
        query.values(read_at=now or utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    room = rooms.of_user(user_id)
    notifier.announce("notifications_unread", {"unread": unread_count(user_id)}, room=room, latest=("unread", room))
    return changed


def one_of(user_id, notification_id):
    """The person's notification `notification_id`, or None (another person's is None too)."""
    found = db.session.get(Notification, notification_id, populate_existing=True)
    return found if found is not None and found.user_id == user_id else None
