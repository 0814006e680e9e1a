"""Connect checks: only a logged-in, active user gets a socket (Origin is checked by
Engine.IO against the app's own origin, since cors_allowed_origins is left unset)."""

from flask import g, request
from flask_login import current_user
from flask_socketio import join_room

from .. import metrics
from ..extensions import socketio

socket_users = {}  # sid -> user id, for the sockets of this process


def user_room(user_id):
    return f"user:{user_id}"


def reload_user():
    """current_user, loaded again from the session for this event.

    A socket lives long; every event re-checks who is behind it, so a user
    suspended or logged out since the connect is refused at once.
    """
    g.pop("_login_user", None)
    return current_user


@socketio.on("connect")
def connect(auth=None):
    """Browser -> server: refused (False) for anonymous users; joins the user's own room."""
    if not reload_user().is_authenticated:
        return False
    join_room(user_room(current_user.id))
    socket_users[request.sid] = current_user.id
    metrics.SOCKETS.inc()
    return True
