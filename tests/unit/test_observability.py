"""Request ids, structured logs, the slow-request log and /metrics as an operator meets them."""

import io
import json
import logging

import pytest
from prometheus_client import REGISTRY

from webapp import scheduler
from webapp.extensions import socketio

from .test_chat import join, live, send  # noqa: F401  (live is a fixture)
from .test_wallet_pages import _order_id, _pay, _topup, user  # noqa: F401  (user is a fixture)


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0


@pytest.fixture
def log_lines(app):
    """What our log handler writes, as parsed JSON lines."""
    handler = next(h for h in app.logger.handlers if getattr(h, "astro", False))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    handler.setStream(previous)


def test_every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept(client):
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32 and generated != client.get("/healthz").headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "edge-42.a"}).headers["X-Request-ID"] == "edge-42.a"
    forged = client.get("/healthz", headers={"X-Request-ID": "x" * 65}).headers["X-Request-ID"]
    assert forged != "x" * 65 and len(forged) == 32


def test_access_lines_are_json_with_request_and_user_ids(client, auth, make_user, log_lines):
    person = make_user(email="logged@example.com")
    auth.login("logged@example.com")
    response = client.get("/wallet", headers={"X-Request-ID": "trace-1"})
    line = next(entry for entry in log_lines() if entry.get("request_id") == "trace-1")
    assert line["level"] == "INFO" and line["name"] == "webapp.access" and line["message"] == "request"
    assert line["user_id"] == str(person.id) and line["status"] == response.status_code == 200
    assert line["path"] == "/wallet" and line["duration_ms"] >= 0


def test_slow_requests_are_logged_as_warnings(app, client, monkeypatch, log_lines):
    monkeypatch.setitem(app.config, "SLOW_REQUEST_MS", 0)
    client.get("/astrologers")
    slow = [entry for entry in log_lines() if entry["message"] == "slow request"]
    assert slow and slow[0]["level"] == "WARNING" and slow[0]["path"] == "/astrologers"


def test_metrics_are_served_to_the_allowlist_or_the_bearer_token_only(app, client, monkeypatch):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    outsider = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outsider).status_code == 403
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token")
    assert client.get("/metrics", environ_base=outsider, headers={"Authorization": "Bearer wrong"}).status_code == 403
    allowed = client.get("/metrics", environ_base=outsider, headers={"Authorization": "Bearer scrape-token"})
    assert allowed.status_code == 200 and allowed.mimetype == "text/plain"


def test_http_requests_are_counted_and_timed_by_endpoint_and_status(client):
    labels = dict(endpoint="/astrologers/<astrologer_id>", method="GET", status="404")
    before = sample("astro_http_requests_total", **labels)
    timed = sample("astro_http_request_duration_seconds_count", endpoint="/astrologers/<astrologer_id>", method="GET")
    client.get("/astrologers/00000000-0000-0000-0000-000000000000")
    client.get("/astrologers/not-an-id")
    assert sample("astro_http_requests_total", **labels) == before + 2  # one series per route, not per URL
    after = sample("astro_http_request_duration_seconds_count", endpoint="/astrologers/<astrologer_id>", method="GET")
    assert after == timed + 2
    unmatched = dict(endpoint="unmatched", method="GET", status="404")
    before = sample("astro_http_requests_total", **unmatched)
    client.get("/no/such/page/at/all")
    assert sample("astro_http_requests_total", **unmatched) == before + 1


def test_sessions_by_status_sockets_and_messages(client, live):  # noqa: F811
    text = client.get("/metrics").get_data(as_text=True)
    assert 'astro_sessions{status="active"} 1.0' in text and 'astro_sessions{status="waiting"} 0.0' in text
    connected = sample("astro_socketio_connections")
    extra = live.socket_for("user@example.com")
    assert sample("astro_socketio_connections") == connected + 1
    extra.disconnect()
    assert sample("astro_socketio_connections") == connected
    join(live.user_socket, live.session)
    messages = sample("astro_chat_messages_total")
    ack = send(live.user_socket, live.session, "counted once", client_id="c-1")
    send(live.user_socket, live.session, "counted once", client_id="c-1")  # a resend
    assert ack["ok"] and sample("astro_chat_messages_total") == messages + 1
    assert socketio  # the real Socket.IO server counted these


def test_settled_topups_are_counted_by_outcome(client, user):  # noqa: F811
    paid, failed = (
        sample("astro_wallet_topups_total", outcome="completed"),
        sample("astro_wallet_topups_total", outcome="failed"),
    )
    _pay(client, _order_id(_topup(client, "100")))
    _pay(client, _order_id(_topup(client, "100")), outcome="fail")
    assert sample("astro_wallet_topups_total", outcome="completed") == paid + 1
    assert sample("astro_wallet_topups_total", outcome="failed") == failed + 1


def test_billing_passes_are_timed_and_failures_counted(app, monkeypatch):
    passes = sample("astro_billing_pass_duration_seconds_count")
    assert scheduler.run_pass(app) is not None
    assert sample("astro_billing_pass_duration_seconds_count") == passes + 1
    failures = sample("astro_billing_pass_failures_total")
    monkeypatch.setattr("webapp.services.periodic.run_due", lambda now: 1 / 0)
    logging.getLogger("webapp").disabled = True
    try:
        assert scheduler.run_pass(app) is None
    finally:
        logging.getLogger("webapp").disabled = False
    assert sample("astro_billing_pass_failures_total") == failures + 1
