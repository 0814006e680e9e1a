"""How services announce what happened, without knowing who listens.

`announce()` queues an event on the current database transaction (db.session);
the events are delivered to every registered sink after the transaction commits and
dropped if it rolls back, so no client ever hears of a change that did not
happen. webapp/realtime registers the Socket.IO sink; tests register their
own to capture events.
"""

from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

PENDING = "astro_pending_events"
_sinks = []


@dataclass(frozen=True)
class Event:
    """`name` with `payload`, for `room` (None: everyone) on `namespace`."""

    name: str
    payload: dict
    room: str | None = None
    namespace: str = "/"


def announce(name, payload, room=None, namespace="/", *, latest=None):
    """Queue an event on the current transaction; it is delivered after its commit (rooms: services/rooms.py).

    `latest` (any hashable key): a state rather than a happening; an event queued earlier in the
    transaction under the same key is replaced, so only the state at the commit is sent."""
    pending = db.session().info.setdefault(PENDING, [])
    item = Event(name, payload, room, namespace)
    if latest is not None:
        keys = db.session().info.setdefault(PENDING + "_latest", {})
        if latest in keys:
            pending[keys[latest]] = item
            return
        keys[latest] = len(pending)
    pending.append(item)


def add_sink(sink):
    """Register `sink(event)`; returns a function that removes it again."""
    _sinks.append(sink)
    return lambda: _sinks.remove(sink)


@event.listens_for(Session, "after_commit")
def _deliver(session):
    session.info.pop(PENDING + "_latest", None)
    events = session.info.pop(PENDING, [])
    for item in events:
        for sink in list(_sinks):
            sink(item)


@event.listens_for(Session, "after_rollback")
def _drop(session):
    session.info.pop(PENDING, None)
    session.info.pop(PENDING + "_latest", None)
