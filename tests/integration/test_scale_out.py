"""Scale-out over Redis: two real web processes (python wsgi.py, eventlet) and one billing worker
(flask billing run), sharing PostgreSQL and Redis. The user talks to one process, the astrologer
to the other; messages, the worker's billing ticks and the end of the session reach both sides.
Nothing in a process's memory is needed: the worker has no sockets at all."""

import os
import subprocess
import sys
import threading
import uuid

import pytest
import redis
import requests
import socketio as socketio_client

from webapp.extensions import db
from webapp.models import ConsultationSession, SessionStatus

from .live import ROOT, Server
from .test_live_chat_server import ChatClient

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MINUTE = 2  # seconds: a billing minute, so ticks come quickly


def redis_or_skip():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs Redis at {REDIS_URL}")
        pytest.skip(f"needs Redis at {REDIS_URL}")


class Listener:
    """Collects one socket's billing_tick and session_ended events."""

    def __init__(self, client):
        self.ticks, self.ended = [], threading.Event()
        self.tick_seen = threading.Event()
        client.sio.on("billing_tick", self._tick)
        client.sio.on("session_ended", lambda payload: self.ended.set())

    def _tick(self, payload):
        self.ticks.append(payload)
        self.tick_seen.set()


@pytest.fixture
def cluster(database_url, tmp_path):
    redis_or_skip()
    channel = f"astro-test-{uuid.uuid4().hex[:8]}"  # this run's own Socket.IO channel on the shared Redis
    shared = dict(REDIS_URL=REDIS_URL, SOCKETIO_CHANNEL=channel, BILLING_MINUTE_SECONDS=str(MINUTE))
    servers = [Server(database_url, tmp_path / f"web{n}.log") for n in (1, 2)]
    for server in servers:
        server.env.update(shared)
        server.start()
    worker_env = dict(servers[0].env, BILLING_POLL_SECONDS="1")
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "webapp", "billing", "run"],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "ab"),
    )
    yield servers
    worker.terminate()
    worker.wait(timeout=30)
    for server in servers:
        if server.process.poll() is None:
            server.kill()


@pytest.mark.postgres
def test_two_processes_and_a_worker_over_redis(app, cluster, consult, monkeypatch):
    web1, web2 = cluster
    monkeypatch.setitem(app.config, "BILLING_MINUTE_SECONDS", MINUTE)  # the accept here schedules the next minute
    astrologer = consult.astrologer(email="astro-scale@example.com", rate="10.00")
    user = consult.user(email="user-scale@example.com", balance="500.00")
    session = consult.accept(consult.request(user, astrologer))
    alice = ChatClient(web1, user.email, session.id)
    astro = ChatClient(web2, astrologer.email, session.id)
    alice_events, astro_events = Listener(alice), Listener(astro)
    alice.connect(), astro.connect()

    alice.send("from process one")
    assert astro.wait_for(2), "a message sent to process 1 reached the astrologer on process 2"
    astro.send("from process two")
    assert alice.wait_for(3), "and back"

    assert alice_events.tick_seen.wait(4 * MINUTE + 10), "the worker's billing tick reached the user"
    assert astro_events.tick_seen.wait(4 * MINUTE + 10), "and the astrologer, on the other process"
    assert alice_events.ticks[-1]["session_id"] == str(session.id)

    page = alice.http.get(f"{web1.url}/consultations/{session.id}").text
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    ended = alice.http.post(f"{web1.url}/consultations/{session.id}/end", data={"csrf_token": token})
    assert ended.status_code in (200, 303)
    assert alice_events.ended.wait(15) and astro_events.ended.wait(15), "the end reached both processes"

    db.session.expire_all()
    finished = db.session.get(ConsultationSession, session.id)
    assert finished.status == SessionStatus.COMPLETED and finished.billed_minutes >= 2
    assert requests.get(f"{web2.url}/readyz", timeout=5).json()["checks"]["redis"] == "ok"
    alice.sio.disconnect(), astro.sio.disconnect()

    # The same login's socket on the other process is closed by a logout on this one (attack round
    # three: it was told `logged_out` but stayed connected and kept receiving the session's messages).
    elsewhere = socketio_client.Client(reconnection=False)
    told, closed = threading.Event(), threading.Event()
    elsewhere.on("logged_out", lambda payload: told.set())
    elsewhere.on("disconnect", closed.set)
    cookie = "; ".join(f"{c.name}={c.value}" for c in alice.http.cookies)
    elsewhere.connect(web2.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
    token = alice.http.get(f"{web1.url}/wallet").text.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    assert alice.http.post(f"{web1.url}/auth/logout", data={"csrf_token": token}).ok
    assert told.wait(10), "the logout was announced on the other process"
    assert closed.wait(5) and not elsewhere.connected, "and its socket there was closed"
