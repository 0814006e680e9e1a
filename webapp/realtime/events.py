"""Socket.IO events of a consultation (default namespace, login required).

Every event names a session; `session_event` checks the payload, that the
user takes part in that session and that its state allows the event, then
calls a service and commits. Anything wrong becomes an error ack
{ok: false, error, message}; the connection stays up and the server log
stays clean. Who sends what:

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
from flask_login import current_user
from flask_socketio import join_room, leave_room, rooms
from limits import parse_many

from .. import metrics
from ..extensions import db, limiter, socketio
from ..models import SessionStatus
from ..ratelimits import SocketWindows
from ..services import billing, calls, chat, consultations
from ..services.errors import DomainError, SessionNotActive, Unexpected
from . import writer
from .auth import reload_user, socket_users

ANY_STATUS = tuple(SessionStatus)


def error_ack(code, message):
    return {"ok": False, "error": code, "message": message}


def session_event(*statuses):
    """Validate, authorize and commit around a handler `(session, data) -> ack`."""

    def decorator(handler):
        @wraps(handler)
        def wrapped(data=None):
            try:
                if not reload_user().is_authenticated:
                    return error_ack("unauthorized", "Log in again to continue.")
                if not isinstance(data, dict):
                    return error_ack("bad_request", "The event needs an object with a session_id.")
                session_id = chat.parse_session_id(data.get("session_id"))
                session = consultations.get_for_participant(session_id, current_user.id)
                if session.status not in statuses:
                    raise SessionNotActive()
                ack = handler(session, data)
                db.session.commit()
                return ack
            except DomainError as error:
                db.session.rollback()
                return error_ack(error.code, error.message)
            except Exception:
                db.session.rollback()
                current_app.logger.exception("socket event %s failed", handler.__name__)
                return error_ack(Unexpected.code, Unexpected.message)

        return wrapped

    return decorator


@socketio.on("join_session")
@session_event(*ANY_STATUS)
def join_session(session, data):
    after_seq = data.get("after_seq") or 0
    if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
        return error_ack("bad_request", "after_seq must be a whole number.")
    join_room(chat.session_room(session.id))
    chat.connected(session.id, current_user.id)
    messages = chat.history(session.id, after_seq=after_seq)
    return {
        "ok": True,
        "session": billing.session_state(session, current_user.id),
        "messages": [chat.serialize(m) for m in messages],
        "has_more": len(messages) == chat.HISTORY_LIMIT,
        "read": chat.read_state(session.id),
        "delivered": chat.delivery_state(session.id),
    }


_parsed_limits = cache(parse_many)  # every message asks; the setting rarely changes
_message_windows, _signal_windows, _receipt_windows = SocketWindows(), SocketWindows(), SocketWindows()


def _within_limits(windows, setting, sid):
    """app.config[setting] per socket (on when the HTTP limits are)."""
    if not limiter.enabled:
        return True
    return windows.allow(sid, _parsed_limits(current_app.config[setting]), time.monotonic())


@socketio.on("send_message")
def send_message(data=None):
    """Checked here without the database, stored by the writer with other sockets' messages.

    The sender's id is the one the socket connected as; the writer refuses it when that user is no
    longer active, and a non-participant or an ended session like the other events do."""
    try:
        user_id = socket_users.get(request.sid)
        if user_id is None:
            return error_ack("unauthorized", "Log in again to continue.")
        if not isinstance(data, dict):
            return error_ack("bad_request", "The event needs an object with a session_id.")
        session_id = chat.parse_session_id(data.get("session_id"))
        if not _within_limits(_message_windows, "RATELIMIT_CHAT_MESSAGES", request.sid):
            return error_ack("rate_limited", "You are sending messages too fast; wait a moment.")
        message, created = writer.submit(chat.draft(session_id, user_id, data.get("client_id"), data.get("content")))
    except DomainError as error:
        return error_ack(error.code, error.message)
    except Exception:
        current_app.logger.exception("socket event send_message failed")
        return error_ack(Unexpected.code, Unexpected.message)
    if created:
        metrics.MESSAGES.inc()
    return {"ok": True, "message": message}


@socketio.on("typing")
@session_event(SessionStatus.ACTIVE)
def typing(session, data):
    socketio.emit(
        "typing",
        {"session_id": str(session.id), "user_id": str(current_user.id), "is_typing": bool(data.get("is_typing"))},
        to=chat.session_room(session.id),
        skip_sid=request.sid,
    )
    return {"ok": True}


def _receipts_allowed():
    return _within_limits(_receipt_windows, "RATELIMIT_CHAT_RECEIPTS", request.sid)


@socketio.on("mark_delivered")
@session_event(*ANY_STATUS)
def mark_delivered(session, data):
    if not _receipts_allowed():
        return error_ack("rate_limited", "Too many receipts; wait a moment.")
    return {"ok": True, "up_to_seq": chat.mark_delivered(session.id, current_user.id, data.get("up_to_seq"))}


@socketio.on("mark_read")
@session_event(*ANY_STATUS)
def mark_read(session, data):
    if not _receipts_allowed():
        return error_ack("rate_limited", "Too many receipts; wait a moment.")
    participant = chat.mark_read(session.id, current_user.id, data.get("up_to_seq"))
    return {"ok": True, "up_to_seq": participant.last_read_seq}


@socketio.on("presence")
@session_event(*ANY_STATUS)
def presence(session, data):
    chat.connected(session.id, current_user.id)
    return {"ok": True}


@socketio.on("leave_session")
@session_event(*ANY_STATUS)
def leave_session(session, data):
    leave_room(chat.session_room(session.id))
    _mark_gone_if_last(session.id)
    return {"ok": True}


@socketio.on("call_signal")
@session_event(SessionStatus.ACTIVE)
def call_signal(session, data):
    if not _within_limits(_signal_windows, "RATELIMIT_CALL_SIGNALS", request.sid):
        return error_ack("rate_limited", "Too many call signals; wait a moment.")
    signal = calls.clean_signal(session, data.get("kind"), data.get("data"))
    socketio.emit(
        "call_signal",
        {"session_id": str(session.id), "from": str(current_user.id), **signal},
        to=chat.session_room(session.id),
        skip_sid=request.sid,
    )
    return {"ok": True}


@socketio.on("call_state")
@session_event(SessionStatus.ACTIVE)
def call_state(session, data):
    calls.media_state(session, current_user.id, data.get("state"))
    return {"ok": True}


@socketio.on("disconnect")
def disconnect(reason=None):
    """A socket closed: participants with no other socket here are marked disconnected."""
    metrics.SOCKETS.dec()
    user_id = socket_users.pop(request.sid, None)
    for windows in (_message_windows, _signal_windows, _receipt_windows):
        windows.forget(request.sid)
    sessions = [chat.parse_session_id(room.split(":", 1)[1]) for room in rooms() if room.startswith("session:")]
    if user_id is None or not sessions:
        return
    try:
        for session_id in sessions:
            _mark_gone_if_last(session_id, user_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("marking a disconnect failed")


def _mark_gone_if_last(session_id, user_id=None):
    user_id = user_id or current_user.id
    room = chat.session_room(session_id)
    others = [
        sid
        for sid, _ in socketio.server.manager.get_participants("/", room)
        if sid != request.sid and socket_users.get(sid) == user_id
    ]
    if not others:
        chat.disconnected(session_id, user_id)
