"""The Socket.IO side of the notifier, and the public /marketplace namespace.

/marketplace carries only broadcasts of public facts (an astrologer's
availability) to anyone browsing, logged in or not; it accepts no events
from clients. Everything personal travels on the default namespace, which
requires a logged-in user.
"""

from ..extensions import socketio
from ..services import notifier

MARKETPLACE = "/marketplace"


def _emit(event):
    socketio.emit(event.name, event.payload, to=event.room, namespace=event.namespace)


notifier.add_sink(_emit)


@socketio.on("connect", namespace=MARKETPLACE)
def connect_marketplace(auth=None):
    """Anyone -> server: a read-only subscription to availability broadcasts."""
    return True
