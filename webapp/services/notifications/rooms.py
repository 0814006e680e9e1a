"""Socket.IO room names, in one place: services announce to them (services/notifications/notifier.py), and
webapp/realtime joins sockets to them.

    user:<id>     every socket of one person (personal notifications: requests, ticks, endings)
    session:<id>  the sockets that joined one consultation (messages, receipts, typing, call signals)
    login:<id>    the sockets of one login session (closed when it ends: logout, suspension)
"""

USER = "user:"
SESSION = "session:"
LOGIN = "login:"


def of_user(user_id):
    return f"{USER}{user_id}"


def of_session(session_id):
    return f"{SESSION}{session_id}"


def of_login(login_id):
    return f"{LOGIN}{login_id}"


def session_ids(room_names):
    """The session ids (as text) of the session rooms among `room_names`."""
    return [name.removeprefix(SESSION) for name in room_names if name.startswith(SESSION)]
