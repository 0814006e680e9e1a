"""Connect checks: only a logged-in, active user gets a socket (Origin is checked by
Engine.IO against the app's own origin, since cors_allowed_origins is left unset)."""

from flask_login import current_user
from flask_socketio import join_room

from ..extensions import socketio


def user_room(user_id):
    return f"user:{user_id}"


@socketio.on("connect")
def connect(auth=None):
    """Browser -> server: refused (False) for anonymous users; joins the user's own room."""
    if not current_user.is_authenticated:
        return False
    join_room(user_room(current_user.id))
    return True
