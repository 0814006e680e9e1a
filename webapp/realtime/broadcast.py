"""The Socket.IO side of the notifier, and the public /marketplace namespace.

/marketplace carries only broadcasts of public facts (an astrologer's
availability) to anyone browsing, logged in or not; it accepts no events
from clients. Everything personal travels on the default namespace, which
requires a logged-in user.
"""

import socketio as python_socketio

from ..extensions import socketio
from ..services.notifications import notifier
from .auth import close_socket

MARKETPLACE = "/marketplace"


#: Announcements after which the sockets they reach are closed, in every process.
CLOSING = ("account_suspended", "logged_out")


def _emit(event):
    socketio.emit(event.name, event.payload, to=event.room, namespace=event.namespace)
    if event.name in CLOSING:
        _drop_sockets(event.room)


class ClosingRedisManager(python_socketio.RedisManager):
    """python-socketio's Redis manager (several web processes), which also closes this process's
    sockets in the room of a CLOSING announcement made by another process. The emit alone only tells
    the clients, and a client that ignores it would go on receiving its sessions' messages."""

    def _handle_emit(self, message):
        super()._handle_emit(message)
        if message.get("event") in CLOSING and (message.get("namespace") or "/") == "/" and message.get("room"):
            _drop_sockets(message["room"])


def _drop_sockets(room):
    """Close this process's sockets in `room`: a suspended user's, or an ended login session's (in
    the other processes, ClosingRedisManager does the same when the announcement reaches them)."""
    for sid, _ in list(socketio.server.manager.get_participants("/", room)):
        close_socket(sid)  # the disconnect handler runs inside this commit, where it could not write anyway


#: Emits of a bulk delivery between two yields to the other tasks of the process.
BULK_SLICE = 500


def _emit_all(events):
    """A bulk delivery (a billing batch's ticks, thousands): sent by a background task, so the pass
    that committed it goes on to its next batch, and in slices, so sockets are served in between."""

    def send():
        for start in range(0, len(events), BULK_SLICE):
            for event in events[start : start + BULK_SLICE]:
                _emit(event)
            socketio.sleep(0)

    socketio.start_background_task(send)


notifier.add_sink(_emit, bulk=_emit_all)


@socketio.on("connect", namespace=MARKETPLACE)
def connect_marketplace(auth=None):
    """Anyone -> server: a read-only subscription to availability broadcasts."""
    return True
