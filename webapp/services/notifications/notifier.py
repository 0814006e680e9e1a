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

from ...extensions import db

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
    """Queue an event on the current transaction; it is delivered after its commit (rooms: services/notifications/rooms.py).

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


@dataclass(frozen=True)
class Bulk:
    """Many events at once (a billing batch's ticks): delivered together, to a sink that takes a list."""

    events: list


def announce_all(events):
    """Queue many Events on the current transaction as one delivery (no `latest` replacing: each is
    a state no other event of the transaction repeats). A sink registered with `bulk` gets the list in
    one call after the commit; any other sink, each event."""
    if events:
        db.session().info.setdefault(PENDING, []).append(Bulk(list(events)))


def add_sink(sink, bulk=None):
    """Register `sink(event)` (and `bulk(events)` for announce_all's lists, if given); returns a
    function that removes it again."""
    entry = (sink, bulk)
    _sinks.append(entry)
    return lambda: _sinks.remove(entry)


@event.listens_for(Session, "after_commit")
def _deliver(session):
    session.info.pop(PENDING + "_latest", None)
    events = session.info.pop(PENDING, [])
    for item in events:
        for sink, bulk in list(_sinks):
            if not isinstance(item, Bulk):
                sink(item)
            elif bulk is not None:
                bulk(item.events)
            else:
                for one in item.events:
                    sink(one)


@event.listens_for(Session, "after_rollback")
def _drop(session):
    session.info.pop(PENDING, None)
    session.info.pop(PENDING + "_latest", None)
