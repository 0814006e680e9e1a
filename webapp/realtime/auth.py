"""Connect checks: only a logged-in, active user with a live login session gets a socket (Origin
is checked by Engine.IO against the app's own origin, since cors_allowed_origins is left unset).
A socket joins its user's room and its login session's room (closed on logout)."""

from flask import g, request, session
from flask_login import current_user
from flask_socketio import join_room

from .. import metrics
from ..extensions import socketio
from ..services.notifications import rooms

socket_users = {}  # sid -> user id, for the sockets of this process
socket_logins = {}  # sid -> the login session it connected with (its cookie's), for the sockets of this process


def close_socket(sid):
    """Close one of this process's sockets, forgotten first: its disconnect handler then records no
    presence and touches no database (its login was just ended, or it is cut off for flooding). Locally
    (ignore_queue): the socket is this process's own, no other needs to hear of it."""
    socket_users.pop(sid, None)
    socket_logins.pop(sid, None)
    socketio.server.disconnect(sid, namespace="/", ignore_queue=True)


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
    join_room(rooms.of_user(current_user.id))
    join_room(rooms.of_login(session["login_id"]))  # closed when that login session ends
    socket_users[request.sid] = current_user.id
    socket_logins[request.sid] = session["login_id"]
    metrics.SOCKETS.inc()
    return True
