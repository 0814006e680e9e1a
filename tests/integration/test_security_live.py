"""Attacks against the real server (python wsgi.py under eventlet, as deployed): what a client sees."""

import threading
from decimal import Decimal as D

import pytest

from .live import csrf_token, logged_in

pytestmark = pytest.mark.postgres

TRACE_MARKERS = ("Traceback", 'File "/', "sqlalchemy", "psycopg2", "IntegrityError")


def _no_internals(body):
    leaked = [marker for marker in TRACE_MARKERS if marker in body]
    assert not leaked, f"the response shows internals: {leaked}"


def test_a_burst_of_requests_from_one_user_opens_one_session_and_refuses_the_rest_cleanly(server, consult):
    user = consult.user(email="burst@example.com", balance="1000.00")
    astrologers = [str(consult.astrologer().id) for _ in range(10)]
    http = logged_in(server, user.email)
    token = csrf_token(http, f"{server.url}/astrologers/{astrologers[0]}")
    start, answers = threading.Barrier(len(astrologers)), [None] * len(astrologers)

    def request(index, astrologer):
        start.wait()
        try:
            answers[index] = http.post(
                f"{server.url}/consultations",
                data={"astrologer_id": astrologer, "session_type": "chat", "csrf_token": token},
                allow_redirects=False,
            )
        except Exception as error:  # the server dropped the connection: shown as what it was
            answers[index] = error

    threads = [threading.Thread(target=request, args=(i, a)) for i, a in enumerate(astrologers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(getattr(answer, "status_code", 0) for answer in answers)
    assert all(hasattr(answer, "status_code") for answer in answers), answers
    assert statuses == [303] + [409] * 9, statuses
    for answer in answers:
        _no_internals(answer.text)
    assert all("already have an open consultation" in a.text for a in answers if a.status_code == 409)


def _page_seconds(url, count=15):
    import time

    import requests

    times = []
    for _ in range(count):
        started = time.perf_counter()
        assert requests.get(url, timeout=60).status_code == 200
        times.append(time.perf_counter() - started)
    return sorted(times)


def test_one_flooding_socket_does_not_stall_another_clients_page(server, consult):
    """5,000 events from one socket, sent without waiting for acks (the attack pass's flood pushed
    /astrologers from 2 ms to 13 s): the socket is cut off and another person's page stays fast."""
    import statistics

    import socketio as socketio_client

    from .live import cookie_header

    user, astrologer = consult.user(email="flood@example.com"), consult.astrologer()
    session_id = str(consult.accept(consult.request(user, astrologer)).id)
    listing = f"{server.url}/astrologers"
    idle = _page_seconds(listing)

    flooder = socketio_client.Client(reconnection=False)
    told = []
    flooder.on("disconnect_reason", told.append)
    flooder.connect(
        server.url, headers={"Cookie": cookie_header(logged_in(server, user.email))}, transports=["websocket"]
    )
    flooder.call("join_session", {"session_id": session_id, "after_seq": 0}, timeout=10)
    flood = threading.Thread(
        target=lambda: [flooder.emit("presence", {"session_id": session_id}) for _ in range(5000) if flooder.connected]
    )
    flood.start()
    during = _page_seconds(listing)
    flood.join(timeout=60)
    flooder.sleep(1)
    ratio = statistics.median(during) / statistics.median(idle)
    print(
        f"/astrologers idle median {statistics.median(idle) * 1000:.1f} ms, max {idle[-1] * 1000:.1f} ms; "
        f"during the flood median {statistics.median(during) * 1000:.1f} ms, max {during[-1] * 1000:.1f} ms "
        f"(median ratio {ratio:.1f}x); the flooder was told {told}"
    )
    assert told and told[0]["reason"] == "flooding" and not flooder.connected
    # Before the budgets every request here waited on the flood (about 13 s); now the typical one does
    # not (median within 10x of idle). One request may still meet the burst of queued frames being
    # dropped, so the slowest has a wide bound.
    assert statistics.median(during) < max(10 * statistics.median(idle), 0.05), "the page waited on the flood"
    assert during[-1] < 8.0


def test_a_cookie_and_a_socket_from_before_logout_are_refused_after_it(server, consult):
    """Replayed from another address and browser (the attack pass's case) against the real server."""
    import requests
    import socketio as socketio_client

    from .live import cookie_header

    user, astrologer = consult.user(email="replay@example.com", balance="300.00"), consult.astrologer()
    session_id = str(consult.accept(consult.request(user, astrologer)).id)
    owner = logged_in(server, user.email)
    saved = cookie_header(owner)
    socket = socketio_client.Client(reconnection=False)
    socket.connect(server.url, headers={"Cookie": saved}, transports=["websocket"])
    assert socket.call("join_session", {"session_id": session_id, "after_seq": 0}, timeout=10)["ok"]
    owner.post(f"{server.url}/auth/logout", data={"csrf_token": csrf_token(owner, f"{server.url}/wallet")})
    elsewhere = {"Cookie": saved, "User-Agent": "another-browser/1.0", "X-Forwarded-For": "203.0.113.9"}
    wallet = requests.get(f"{server.url}/wallet", headers=elsewhere, allow_redirects=False)
    assert wallet.status_code == 302 and "/auth/login" in wallet.headers["Location"]
    socket.sleep(0.5)
    assert not socket.connected, "the logout closed the open socket"
    late = socketio_client.Client(reconnection=False)
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        late.connect(server.url, headers={"Cookie": saved}, transports=["websocket"])


def test_the_accepted_origin_comes_from_public_url_not_from_a_host_header_a_proxy_rewrites(
    database_url, tmp_path, consult
):
    """docs/operations.md's nginx on another port than 80/443 sends Host without the port; with
    PUBLIC_URL the Origin check no longer depends on it."""
    from .live import Server, cookie_header, socket_connects

    server = Server(database_url, tmp_path / "server.log")
    server.env["PUBLIC_URL"] = server.url
    server.start()
    try:
        user = consult.user(email="origin-config@example.com")
        cookie = cookie_header(logged_in(server, user.email))
        for origin, accepted in ((server.url, True), ("http://evil.example", False)):
            headers = {"Cookie": cookie, "Origin": origin, "Host": "127.0.0.1"}  # the port dropped by the proxy
            assert socket_connects(server, headers) is accepted, origin
    finally:
        server.kill()


def test_an_oversized_upload_is_refused_before_the_server_reads_it_and_the_client_is_told_why(server, consult):
    """Under eventlet, as deployed: a 12 MB body against the 10 MB limit is answered 413 with the reason
    (the Content-Length says it all; nothing is read or stored). A body that hides its length (chunked)
    is not read at all: the WSGI server does not mark such input as terminated, so Werkzeug sees an
    empty form, and the request is refused for its missing CSRF token (browsers send a length)."""
    import io

    astrologer = consult.astrologer()
    user = consult.user(email="uploader@example.com")
    session = consult.accept(consult.request(user, astrologer))
    http = logged_in(server, user.email)
    url = f"{server.url}/consultations/{session.id}"
    token = csrf_token(http, url)
    big = io.BytesIO(b"\xff\xd8\xff" + b"\x00" * (12 * 1024 * 1024))
    answer = http.post(
        url + "/attachments",
        data={"csrf_token": token, "client_id": "big-1"},
        files={"file": ("huge.jpg", big, "image/jpeg")},
        headers={"Accept": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 413
    assert answer.json() == {"error": "file_too_large", "message": "A file can have at most 10 MB."}

    def chunks():
        boundary = b"--x\r\n"
        yield boundary + b'Content-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode() + b"\r\n"
        yield boundary + b'Content-Disposition: form-data; name="file"; filename="huge.jpg"\r\n'
        yield b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff"
        for _ in range(12 * 16):
            yield b"\x00" * 65536

    streamed = http.post(
        url + "/attachments",
        data=chunks(),
        headers={"Accept": "application/json", "Content-Type": "multipart/form-data; boundary=x"},
        timeout=60,
    )
    assert streamed.status_code == 400 and "security token" in streamed.json()["message"]
    page = http.get(url).text
    assert "huge.jpg" not in page  # nothing was stored


# ---------------------------------------------------------------- attack round three (2026-12-07)


@pytest.fixture
def small_pool_server(database_url, tmp_path):
    """The real server as the attack pass had it: over Redis (every emit a publish), with a small database
    pool (DB_POOL_SIZE=2: four connections)."""
    import uuid

    from .live import Server
    from .test_scale_out import REDIS_URL, redis_or_skip

    redis_or_skip()
    live = Server(
        database_url, tmp_path / "server.log", DB_POOL_SIZE="2", REDIS_URL=REDIS_URL,
        SOCKETIO_CHANNEL=f"astro-flood-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    live.start()
    yield live
    live.kill()


def test_five_flooding_sockets_of_one_user_are_cut_off_and_another_visitor_is_served(small_pool_server, consult):
    """The attack pass: one user's 5 sockets sending 3,000 typing / presence events each made another
    visitor's /astrologers answer 500 after 45.6 s (836 events failed on a pool timeout; no socket was
    disconnected). Now every one of those sockets is told why and closed, and the page stays fast."""
    import statistics
    import time

    import socketio as socketio_client

    from .live import cookie_header

    server = small_pool_server

    user, astrologer = consult.user(email="flood5@example.com"), consult.astrologer()
    session_id = str(consult.accept(consult.request(user, astrologer)).id)
    listing = f"{server.url}/astrologers"
    idle = _page_seconds(listing)
    cookie = cookie_header(logged_in(server, user.email))
    sockets, told, closed = [], [], []
    for _ in range(5):
        socket = socketio_client.Client(reconnection=False)
        socket.on("disconnect_reason", told.append)
        closed.append(threading.Event())
        socket.on("disconnect", closed[-1].set)
        socket.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"])
        assert socket.call("join_session", {"session_id": session_id, "after_seq": 0}, timeout=10)["ok"]
        sockets.append(socket)

    def flood(socket):
        for n in range(3000):
            if not socket.connected:
                return
            if n % 2:
                socket.emit("presence", {"session_id": session_id})
            else:
                socket.emit("typing", {"session_id": session_id, "is_typing": n % 4 == 0})

    floods = [threading.Thread(target=flood, args=(socket,)) for socket in sockets]
    for thread in floods:
        thread.start()
    during = _page_seconds(listing)
    for thread in floods:
        thread.join(timeout=60)
    deadline = time.monotonic() + 10
    for event in closed:  # each socket's own disconnect, awaited
        event.wait(max(deadline - time.monotonic(), 0))
    print(
        f"/astrologers idle median {statistics.median(idle) * 1000:.1f} ms; during five floods median "
        f"{statistics.median(during) * 1000:.1f} ms, max {during[-1] * 1000:.1f} ms; {len(told)} sockets told why"
    )
    assert not any(socket.connected for socket in sockets), "every flooding socket was closed"
    assert len(told) == 5 and {t["reason"] for t in told} == {"flooding"}
    assert statistics.median(during) < max(10 * statistics.median(idle), 0.05), "the page waited on the floods"
    assert during[-1] < 8.0
    log = server.log_path.read_text(errors="replace")
    assert "QueuePool limit" not in log and "TimeoutError" not in log, "socket events waited on the pool"


def _progressive_bomb(scans, side=7000):
    """A progressive JPEG whose last scan is repeated `scans` times (the attack pass's upload)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side), (120, 130, 140)).save(out, "JPEG", progressive=True, quality=50)
    data = out.getvalue()
    last, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last:end] * scans + b"\xff\xd9"


def _decoding_children(pid):
    """How many photo decoders (children running services/messaging/_photo_decoder.py) the process `pid` runs now."""
    import pathlib

    count = 0
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat, command = (entry / "stat").read_text(), (entry / "cmdline").read_bytes()
        except OSError:  # it ended meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        count += parent == pid and b"photo_decoder" in command
    return count


def test_upload_bombs_neither_delay_a_login_nor_hold_a_database_connection(database_url, tmp_path, consult):
    """The attack pass: a 237 KB progressive JPEG with its last scan repeated 600 times took 26 s of
    server CPU, two delayed another person's login by 21 s, and each held a connection idle in
    transaction. Now: the 600-scan file is refused unread; four files just under the scan limit are
    decoded in child processes cut off at ATTACHMENT_DECODE_SECONDS, while a login stays quick and no
    connection of the server waits idle in a transaction."""
    import time

    import requests
    import sqlalchemy as sa

    from .live import Server

    server = Server(
        database_url + "?application_name=astro-bomb", tmp_path / "server.log", ATTACHMENT_DECODE_SECONDS="1"
    )
    server.start()
    try:
        astrologer, user = consult.astrologer(), consult.user(email="bomber@example.com")
        consult.user(email="bystander-login@example.com")
        session = consult.accept(consult.request(user, astrologer))
        http = logged_in(server, user.email)
        url = f"{server.url}/consultations/{session.id}"
        token = csrf_token(http, url)

        def upload(data, name):
            return http.post(
                url + "/attachments",
                data={"csrf_token": token, "client_id": f"{name}-{time.monotonic_ns()}"},
                files={"file": (name, data, "image/jpeg")},
                headers={"Accept": "application/json"},
                timeout=120,
            )

        started = time.monotonic()
        refused = upload(_progressive_bomb(600), "scans.jpg")
        assert refused.status_code == 415 and "unusual" in refused.json()["message"]
        assert time.monotonic() - started < 3, "refused before any decoding"

        slow, answers = _progressive_bomb(88), []  # 98 scans: under the limit, decoded until cut off
        uploads = [threading.Thread(target=lambda: answers.append(upload(slow, "slow.jpg"))) for _ in range(4)]
        for thread in uploads:
            thread.start()
        engine = sa.create_engine(database_url)
        idle_in_transaction, login_seconds, decoding = [], [], []
        # Logins (and looks at the database) until three were made and one of them while a photo decoded.
        while len(login_seconds) < 3 or (not any(decoding) and len(login_seconds) < 20):
            decoding.append(_decoding_children(server.process.pid))
            began = time.monotonic()
            logged_in(server, "bystander-login@example.com")
            login_seconds.append(time.monotonic() - began)
            with engine.connect() as connection:
                idle_in_transaction.append(
                    connection.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'astro-bomb' "
                            "AND state = 'idle in transaction' AND now() - state_change > interval '1 second'"
                        )
                    ).scalar_one()
                )
        for thread in uploads:
            thread.join(timeout=120)
        engine.dispose()
        print(f"logins during four upload bombs: {[round(s, 2) for s in login_seconds]} s; decoders seen {decoding}")
        assert any(decoding), "the logins ran while photos decoded"
        assert sorted(a.status_code for a in answers) == [415] * 4
        assert all("too long" in a.json()["message"] for a in answers), [a.json() for a in answers]
        assert max(login_seconds) < 3.0, "a login waited on the photos"
        assert not any(idle_in_transaction), "a connection waited idle in a transaction while a photo decoded"
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    finally:
        server.kill()


def test_an_astrologer_who_accepts_and_never_comes_is_paid_nothing_live(
    database_url, tmp_path, consult, app, monkeypatch
):
    """The attack pass: the astrologer accepts and never opens the room; the user waits in it. The
    reconnect grace ended the session first and both charged minutes stayed with the astrologer. Against
    the real server with its own billing loop, minutes of 2 s and a grace of 6 s."""
    import time

    import socketio as socketio_client

    from webapp.extensions import db
    from webapp.models import ConsultationSession
    from webapp.services import wallet

    from .live import Server, cookie_header

    timing = dict(BILLING_MINUTE_SECONDS="2", RECONNECT_GRACE_SECONDS="6", NO_REPLY_SECONDS="12")
    server = Server(database_url, tmp_path / "server.log", RUN_BILLING_IN_PROCESS="1", **timing)
    server.start()
    try:
        monkeypatch.setitem(app.config, "BILLING_MINUTE_SECONDS", 2)  # the accept here schedules minute 2
        astrologer, user = consult.astrologer(rate="12.00"), consult.user(email="waiting@example.com", balance="300.00")
        session = consult.accept(consult.request(user, astrologer))
        socket, ended = socketio_client.Client(reconnection=False), threading.Event()
        socket.on("session_ended", lambda payload: ended.set() if payload["session_id"] == str(session.id) else None)
        socket.connect(
            server.url, headers={"Cookie": cookie_header(logged_in(server, user.email))}, transports=["websocket"]
        )
        assert socket.call("join_session", {"session_id": str(session.id), "after_seq": 0}, timeout=10)["ok"]
        deadline = time.monotonic() + 30
        while not ended.is_set() and time.monotonic() < deadline:
            socket.emit("presence", {"session_id": str(session.id)})  # the user stays, waiting
            ended.wait(1)
        socket.disconnect()
        assert ended.is_set(), "the session ended"
        db.session.expire_all()
        finished = db.session.get(ConsultationSession, session.id)
        assert finished.end_reason.value == "astrologer_no_reply" and finished.billed_minutes >= 2
        assert wallet.wallet_of(user.id).current_balance == D("300.00")
        assert wallet.wallet_of(astrologer.id).current_balance == D("0.00")
    finally:
        server.kill()


def test_a_push_subscription_cannot_point_inside(server, consult):
    """The attack pass subscribed http://127.0.0.1:<port>, http://localhost and https:// private and
    link-local addresses; the server then POSTed into them, local Redis and PostgreSQL included."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    user = consult.user(balance=None, email="push-inside@example.com")
    http = logged_in(server, user.email)
    token = csrf_token(http, f"{server.url}/wallet")
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    keys = {"p256dh": base64.urlsafe_b64encode(point).rstrip(b"=").decode(), "auth": "AAAAAAAAAAAAAAAAAAAAAA"}
    for endpoint in (
        "http://127.0.0.1:6379/",
        "http://127.0.0.1:5432/",
        "http://localhost/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00::1]/x",
        "https://localhost/x",
    ):
        answer = http.post(
            f"{server.url}/push/subscriptions",
            json={"endpoint": endpoint, "keys": keys},
            headers={"X-CSRFToken": token, "Accept": "application/json"},
        )
        assert answer.status_code == 422 and answer.json()["error"] == "invalid", endpoint
        _no_internals(answer.text)
