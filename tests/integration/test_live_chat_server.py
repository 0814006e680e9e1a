"""The real server (python wsgi.py, eventlet) and real Socket.IO clients: chat survives a server kill.

Two clients (user and astrologer) chat; the server process is killed with
SIGKILL mid-chat and started again; the clients reconnect by themselves
(python-socketio's reconnection), re-join with their last seq and re-send
their unacknowledged messages with the same client_id, as static/js/chat.js
does. Nothing is lost and nothing is duplicated.
"""

import threading
import time
import uuid

import socketio as socketio_client

from webapp.extensions import db
from webapp.models import Message

from .live import Server, logged_in, socket_connects


class ChatClient:
    """A participant's client with the room's reconnect behaviour: re-join with the last seq, re-send the outbox."""

    def __init__(self, server, email, session_id):
        self.http = logged_in(server, email)
        self.session_id, self.server = str(session_id), server
        self.seen, self.outbox, self.joined = {}, {}, threading.Event()
        self.sio = socketio_client.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        self.sio.on("connect", self._join)
        self.sio.on("message", self._keep)

    def connect(self):
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        self.sio.connect(self.server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
        assert self.joined.wait(10)

    def _join(self):
        self.joined.clear()
        last = max(self.seen, default=0)
        self.sio.emit("join_session", {"session_id": self.session_id, "after_seq": last}, callback=self._joined)

    def _joined(self, ack):
        for message in ack["messages"]:
            self._keep(message)
        self.joined.set()
        for client_id, content in list(self.outbox.items()):
            self._send(client_id, content)

    def _keep(self, message):
        assert message["seq"] not in self.seen or self.seen[message["seq"]] == message["id"], (
            "a different message under one seq"
        )
        self.seen[message["seq"]] = message["id"]
        self.outbox.pop(message.get("client_id"), None) if message.get("client_id") else None

    def send(self, content):
        client_id = uuid.uuid4().hex
        self.outbox[client_id] = content
        if self.sio.connected:
            self._send(client_id, content)
        return client_id

    def _send(self, client_id, content):
        def acked(ack):
            if ack and ack.get("ok"):
                self._keep(ack["message"])

        try:
            self.sio.emit(
                "send_message",
                {"session_id": self.session_id, "client_id": client_id, "content": content},
                callback=acked,
            )
        except socketio_client.exceptions.BadNamespaceError:
            pass  # disconnected: the outbox keeps it for the next join

    def wait_for(self, seq_count, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.seen) >= seq_count and not self.outbox:
                return True
            time.sleep(0.05)
        return False


def _connected_pair(server, consult, tag):
    """An accepted session between a new user and astrologer, and both their clients joined to it."""
    astrologer = consult.astrologer(email=f"astro-{tag}@example.com")
    user = consult.user(email=f"user-{tag}@example.com")
    session = consult.accept(consult.request(user, astrologer))
    alice, astro = ChatClient(server, user.email, session.id), ChatClient(server, astrologer.email, session.id)
    alice.connect(), astro.connect()
    return session, alice, astro


def _stored(session_id):
    db.session.expire_all()
    return db.session.query(Message).filter_by(session_id=session_id).order_by(Message.seq).all()


def test_chat_survives_a_server_kill(server, consult):
    session, alice, astro = _connected_pair(server, consult, "live")

    alice.send("before the crash 1")
    assert alice.wait_for(2) and astro.wait_for(2)
    astro.send("before the crash 2")
    assert alice.wait_for(3) and astro.wait_for(3)  # the system line + two messages

    server.kill()
    time.sleep(0.5)
    alice.send("written while the server was down")  # kept in the outbox
    server.start()

    assert alice.wait_for(4, timeout=30), "the user's client reconnected, re-joined and re-sent"
    assert astro.wait_for(4, timeout=30), "the astrologer's client received it after re-joining"
    astro.send("after the restart")
    assert alice.wait_for(5) and astro.wait_for(5)

    stored = _stored(session.id)
    assert [m.seq for m in stored] == [1, 2, 3, 4, 5]
    assert [m.content for m in stored[1:]] == [
        "before the crash 1",
        "before the crash 2",
        "written while the server was down",
        "after the restart",
    ]
    assert sorted(alice.seen) == sorted(astro.seen) == [1, 2, 3, 4, 5]
    alice.sio.disconnect(), astro.sio.disconnect()


def test_chat_under_gevent(database_url, tmp_path, consult):
    # SOCKETIO_ASYNC_MODE=gevent (measured beside eventlet in bench/RESULTS.md) serves the same chat.
    server = Server(database_url, tmp_path / "gevent.log", SOCKETIO_ASYNC_MODE="gevent")
    server.start()
    try:
        session, alice, astro = _connected_pair(server, consult, "gevent")
        alice.send("from the user")
        assert alice.wait_for(2) and astro.wait_for(2)
        astro.send("from the astrologer")
        assert alice.wait_for(3) and astro.wait_for(3)
        assert [m.content for m in _stored(session.id)[1:]] == ["from the user", "from the astrologer"]
        alice.sio.disconnect(), astro.sio.disconnect()
    finally:
        server.kill()


def test_sockets_from_another_origin_are_refused(server, consult):
    user = consult.user(email="origin-live@example.com")
    cookie = ChatClient(server, user.email, uuid.uuid4()).http.cookies.get("session")
    for origin, accepted in ((server.url, True), ("http://evil.example", False), ("null", False)):
        assert socket_connects(server, {"Cookie": f"session={cookie}", "Origin": origin}) is accepted, origin
