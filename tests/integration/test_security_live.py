"""Attacks against the real server (python wsgi.py under eventlet, as deployed): what a client sees."""

import threading

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
