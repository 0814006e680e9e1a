"""Socket.IO events of a consultation (default namespace, login required).

Every event first spends from the socket's budget (`budgeted`: per socket and
per user, no database; a socket that floods past RATELIMIT_SOCKET_FLOOD is
told why and disconnected). Every event names a session; events other than
join_session and send_message need the socket to have joined it, which is
answered from the socket's rooms without the database. `session_event` then
checks the payload, that the user takes part in that session and that its
state allows the event and calls a service; webapp/boundary.py commits the
event's transaction (socket_transaction). Anything wrong becomes an error
ack {ok: false, error, message}; the connection stays up (unless it floods)
and the server log stays clean. Who sends what:

    join_session   participant -> server: join session:<id>; ack: session state, messages after after_seq
    send_message   participant -> server: store (webapp/realtime/writer.py), ack with the stored message;
                   `message` to session:<id>
    typing         participant -> server: `typing` to the other sockets in session:<id> (not stored)
    mark_delivered participant -> server: {up_to_seq}, the client has received the other side's messages up
                   to it; `delivered` {session_id, user_id, up_to_seq, delivered_at} to session:<id> when any was new
    mark_read      participant -> server: `read` to session:<id> when the read mark moves forward
    presence       participant -> server: heartbeat (every 15 s) for the reconnect rule
    leave_session  participant -> server: leave session:<id>
    call_signal    participant of an active call -> server: {kind: ready | offer | answer | ice, data}; relayed as
                   `call_signal` {session_id, from, kind, data} to the other sockets in session:<id>
    call_state     participant of an active call -> server: {state: connected | failed}, the browser's
                   media connection (answers the call; a failure starts the reconnect grace)
"""

import time
from functools import cache, wraps

from flask import current_app, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import join_room, leave_room
from flask_socketio import rooms as joined_rooms
from limits import parse_many

from .. import metrics
from ..boundary import error_ack, socket_transaction
from ..extensions import limiter, socketio
from ..models import SessionStatus
from ..ratelimits import SocketWindows
from ..services.billing import session_bar
from ..services.consultations import calls, lookup
from ..services.errors import DomainError, SessionNotActive, SessionNotFound, Unexpected
from ..services.messaging import chat
from ..services.notifications import rooms
from .auth import close_socket, reload_user, socket_logins, socket_users

ANY_STATUS = tuple(SessionStatus)


_parsed_limits = cache(parse_many)  # every event asks; the settings rarely change
_message_windows, _signal_windows, _receipt_windows = SocketWindows(), SocketWindows(), SocketWindows()
_event_windows, _user_windows, _flood_windows = SocketWindows(), SocketWindows(), SocketWindows()
_user_flood_windows = SocketWindows()  # keyed by user id
FLOODING = _l("You sent far more than a person can; this connection is closed. Reload the page to go on.")


def _within_limits(windows, setting, key, config=None):
    """app.config[setting] for `key` (a socket or a user) in this process (on when the HTTP limits are)."""
    if not limiter.enabled:
        return True
    return windows.allow(key, _parsed_limits((config or current_app.config)[setting]), time.monotonic())


_cut = {}  # sids cut off for flooding (events of theirs still queued keep arriving), oldest first
CUT_REMEMBERED = 10_000


def _cut_off(sids):
    """Tell each socket why and close it (auth.close_socket), once, and not through the message queue:
    thousands of queued events of a closing socket must not each publish to Redis."""
    for sid in sids:
        if sid in _cut:
            continue
        _cut[sid] = True
        if len(_cut) > CUT_REMEMBERED:
            del _cut[next(iter(_cut))]
        socketio.emit("disconnect_reason", {"reason": "flooding", "message": str(FLOODING)}, to=sid, ignore_queue=True)
        close_socket(sid)


def _over_budget(sid, config=None):
    """Spend one event from the socket's budget (no database): None within it; over the socket's or
    the user's budget, a rate_limited ack; past the flood limit of the socket, it is told why
    (`disconnect_reason`) and disconnected; past the user's flood limit, every socket of the user in
    this process is."""
    if sid in _cut:
        return error_ack("rate_limited", str(FLOODING))
    user = socket_users.get(sid)
    if not _within_limits(_flood_windows, "RATELIMIT_SOCKET_FLOOD", sid, config):
        _cut_off([sid])
        return error_ack("rate_limited", str(FLOODING))
    if user is not None and not _within_limits(_user_flood_windows, "RATELIMIT_USER_SOCKET_FLOOD", user, config):
        _cut_off([other for other, owner in list(socket_users.items()) if owner == user])
        return error_ack("rate_limited", str(FLOODING))
    if not _within_limits(_event_windows, "RATELIMIT_SOCKET_EVENTS", sid, config) or not _within_limits(
        _user_windows, "RATELIMIT_USER_SOCKET_EVENTS", f"user:{user}", config
    ):
        return error_ack("rate_limited", gettext("Too many events; wait a moment."))
    return None


_in_flight = {}  # user id -> events of theirs being handled in this process now


def budgeted(handler):
    """Spend one event from the socket's budget before the handler runs (`_over_budget`), and let at
    most SOCKET_EVENTS_IN_FLIGHT of one user's events be handled at once in this process: a burst
    that arrives faster than the database answers waits in no queue and holds no connection; it is
    refused from memory."""

    @wraps(handler)
    def wrapped(data=None):
        refused = _over_budget(request.sid)
        if refused:
            return refused
        user = socket_users.get(request.sid)
        if _in_flight.get(user, 0) >= current_app.config["SOCKET_EVENTS_IN_FLIGHT"]:
            return error_ack("rate_limited", gettext("Too many events at once; wait a moment."))
        _in_flight[user] = _in_flight.get(user, 0) + 1
        try:
            return handler(data)
        finally:
            left = _in_flight.pop(user) - 1
            if left:
                _in_flight[user] = left

    return wrapped


#: A heartbeat or typing signal this soon after the socket's last one says nothing new: acknowledged
#: without the database (last_seen_at is that fresh already; the reconnect grace is far longer).
REPEAT_SECONDS = {"presence": 5.0, "typing": 1.0}
_last_signal = {}  # (sid, event, session id, what it said) -> monotonic time it was last handled


def said_recently(handler):
    """Answer a repeated presence or typing signal {ok: true} at once, before any database work."""
    wait = REPEAT_SECONDS[handler.__name__]

    @wraps(handler)
    def wrapped(data=None):
        if not isinstance(data, dict):
            return handler(data)
        session = str(data.get("session_id"))[:64]
        key, now = (request.sid, handler.__name__, session, bool(data.get("is_typing"))), time.monotonic()
        if now - _last_signal.get(key, -wait) < wait:
            return {"ok": True}
        # Remembered before the handler runs: the same signal arriving while this one waits on the
        # database is answered from memory too. Forgotten again if it was refused.
        _last_signal[key] = now
        ack = handler(data)
        if not ack.get("ok") and _last_signal.get(key) == now:
            del _last_signal[key]
        return ack

    return wrapped


def session_event(*statuses, joined=True):
    """Validate and authorize around a handler `(session, data) -> ack`, in the event's transaction
    (boundary.socket_transaction). joined: the socket must be in the session's room (checked first,
    from memory: a stranger's or a random id costs nothing)."""

    def decorator(handler):
        @socket_transaction
        @wraps(handler)
        def wrapped(data=None):
            if not isinstance(data, dict):
                return error_ack("bad_request", gettext("The event needs an object with a session_id."))
            session_id = chat.parse_session_id(data.get("session_id"))
            if joined and rooms.of_session(session_id) not in joined_rooms():
                raise SessionNotFound(gettext("Join the consultation first."))
            if not reload_user().is_authenticated:
                return error_ack("unauthorized", gettext("Log in again to continue."))
            session = lookup.get_for_participant(session_id, current_user.id)
            if session.status not in statuses:
                raise SessionNotActive()
            return handler(session, data)

        return wrapped

    return decorator


@socketio.on("join_session")
@budgeted
@session_event(*ANY_STATUS, joined=False)
def join_session(session, data):
    after_seq = data.get("after_seq") or 0
    if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
        return error_ack("bad_request", "after_seq must be a whole number.")
    join_room(rooms.of_session(session.id))
    chat.connected(session.id, current_user.id)
    messages = chat.history(session.id, after_seq=after_seq, viewer_id=current_user.id)
    return {
        "ok": True,
        "session": session_bar.session_state(session, current_user.id),
        "messages": [chat.serialize(m) for m in messages],
        "has_more": len(messages) == chat.HISTORY_LIMIT,
        "read": chat.read_state(session.id),
        "delivered": chat.delivery_state(session.id),
    }


def send_message(sid, data=None):
    """Checked here without the database, stored by the writer with other sockets' messages (in
    the writer's transaction).

    The busiest event, so it is registered on the Socket.IO server itself (`register_direct`), not
    through Flask-SocketIO: it needs no request context (which would open and verify the session
    cookie again for every message), only the socket's id, which it was connected as. The sender's
    id is the one the socket connected as; the writer refuses it when that user is no longer active
    or the socket's login session has ended (a logout elsewhere), and a non-participant or an ended
    session like the other events do."""
    environ = socketio.server.get_environ(sid)
    if not environ:
        return error_ack("unauthorized", gettext("Log in again to continue."))
    app = environ["flask.app"]  # the app this socket connected to, as Flask-SocketIO finds it
    try:
        refused = _over_budget(sid, app.config)
        if refused:
            return refused
        user_id = socket_users.get(sid)
        if user_id is None:
            return error_ack("unauthorized", gettext("Log in again to continue."))
        if not isinstance(data, dict):
            return error_ack("bad_request", gettext("The event needs an object with a session_id."))
        session_id = chat.parse_session_id(data.get("session_id"))
        if not _within_limits(_message_windows, "RATELIMIT_CHAT_MESSAGES", sid, app.config):
            return error_ack("rate_limited", gettext("You are sending messages too fast; wait a moment."))
        draft = chat.draft(
            session_id, user_id, data.get("client_id"), data.get("content"), login_id=socket_logins.get(sid)
        )
        message, created = app.extensions["chat_writer"].submit(draft)
    except DomainError as error:
        return error_ack(error.code, error.message)
    except Exception:
        app.logger.exception("socket event send_message failed")
        return error_ack(Unexpected.code, Unexpected.message)
    if created:
        metrics.MESSAGES.inc()
    return {"ok": True, "message": message}


def register_direct():
    """Register the events that bypass Flask-SocketIO on the Socket.IO server (after each init_app,
    which makes a new one)."""
    socketio.server.on("send_message", send_message, namespace="/")


@socketio.on("typing")
@budgeted
@said_recently
@session_event(SessionStatus.ACTIVE)
def typing(session, data):
    socketio.emit(
        "typing",
        {"session_id": str(session.id), "user_id": str(current_user.id), "is_typing": bool(data.get("is_typing"))},
        to=rooms.of_session(session.id),
        skip_sid=request.sid,
    )
    return {"ok": True}


def _receipts_allowed():
    return _within_limits(_receipt_windows, "RATELIMIT_CHAT_RECEIPTS", request.sid)


@socketio.on("mark_delivered")
@budgeted
@session_event(*ANY_STATUS)
def mark_delivered(session, data):
    if not _receipts_allowed():
        return error_ack("rate_limited", gettext("Too many receipts; wait a moment."))
    return {"ok": True, "up_to_seq": chat.mark_delivered(session.id, current_user.id, data.get("up_to_seq"))}


@socketio.on("mark_read")
@budgeted
@session_event(*ANY_STATUS)
def mark_read(session, data):
    if not _receipts_allowed():
        return error_ack("rate_limited", gettext("Too many receipts; wait a moment."))
    participant = chat.mark_read(session.id, current_user.id, data.get("up_to_seq"))
    return {"ok": True, "up_to_seq": participant.last_read_seq}


@socketio.on("presence")
@budgeted
@said_recently
@session_event(*ANY_STATUS)
def presence(session, data):
    chat.connected(session.id, current_user.id)
    return {"ok": True}


@socketio.on("leave_session")
@budgeted
@session_event(*ANY_STATUS)
def leave_session(session, data):
    leave_room(rooms.of_session(session.id))
    _mark_gone_if_last(session.id)
    return {"ok": True}


@socketio.on("call_signal")
@budgeted
@session_event(SessionStatus.ACTIVE)
def call_signal(session, data):
    if not _within_limits(_signal_windows, "RATELIMIT_CALL_SIGNALS", request.sid):
        return error_ack("rate_limited", gettext("Too many call signals; wait a moment."))
    signal = calls.clean_signal(session, data.get("kind"), data.get("data"))
    socketio.emit(
        "call_signal",
        {"session_id": str(session.id), "from": str(current_user.id), **signal},
        to=rooms.of_session(session.id),
        skip_sid=request.sid,
    )
    return {"ok": True}


@socketio.on("call_state")
@budgeted
@session_event(SessionStatus.ACTIVE)
def call_state(session, data):
    calls.media_state(session, current_user.id, data.get("state"))
    return {"ok": True}


@socketio.on("disconnect")
def disconnect(reason=None):
    """A socket closed: participants with no other socket here are marked disconnected."""
    metrics.SOCKETS.dec()
    user_id = socket_users.pop(request.sid, None)
    socket_logins.pop(request.sid, None)
    for windows in (_message_windows, _signal_windows, _receipt_windows, _event_windows, _flood_windows):
        windows.forget(request.sid)
    for key in [key for key in _last_signal if key[0] == request.sid]:
        del _last_signal[key]
    if user_id is not None:
        _mark_disconnected(user_id)


@socket_transaction
def _mark_disconnected(user_id):
    for session_id in rooms.session_ids(joined_rooms()):
        _mark_gone_if_last(chat.parse_session_id(session_id), user_id)


def _mark_gone_if_last(session_id, user_id=None):
    user_id = user_id or current_user.id
    room = rooms.of_session(session_id)
    others = [
        sid
        for sid, _ in socketio.server.manager.get_participants("/", room)
        if sid != request.sid and socket_users.get(sid) == user_id
    ]
    if not others:
        chat.disconnected(session_id, user_id)
