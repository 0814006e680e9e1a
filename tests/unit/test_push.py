"""Web Push end to end against a push endpoint this test starts: the request is VAPID-signed and
aes128gcm-encrypted, and the test decrypts it with the subscription's own keys; 404/410 drop the
subscription; the service worker is served from the root."""

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from webapp.extensions import db
from webapp.models import Delivery, PushSubscription
from webapp.services import jobs
from webapp.services.notifications import inbox as notifications
from webapp.services.notifications import push

from ..conftest import AuthActions


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


ON_CURVE = b64(
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
)
OFF_CURVE = b64(b"\x04" + b"1" * 64)  # the right length and prefix, not a point of P-256


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Endpoint:
    """A push service: keeps each request; answers `status` (with `location`, a redirect), each header
    line `drip` seconds after the last (a slow service)."""

    def __init__(self):
        self.received, self.status, self.location, self.drip = [], 201, None, 0
        self.closed = threading.Event()  # a dripping answer stops when the test closes the service
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.received.append((self.headers, body))
                self.send_response(endpoint.status)
                if endpoint.location:
                    self.send_header("Location", endpoint.location)
                if endpoint.drip:
                    self.flush_headers()
                    for n in range(20):
                        if endpoint.closed.wait(endpoint.drip):
                            return
                        self.wfile.write(f"X-Slow-{n}: 1\r\n".encode())
                        self.wfile.flush()
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.origin}/push/abc123"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.closed.set()
        self.server.shutdown()


@pytest.fixture
def endpoint(app, monkeypatch):
    """A stand-in push service on this machine, written into PUSH_SERVICES by its address (the
    operator's word: an address listed there is not checked further)."""
    found = Endpoint()
    monkeypatch.setitem(app.config, "PUSH_SERVICES", (*app.config["PUSH_SERVICES"], found.origin))
    yield found
    found.close()


@pytest.fixture
def device():
    """A browser's push keys: its P-256 key pair and auth secret."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return key, b64(public), b64(os.urandom(16))


@pytest.fixture
def subscribed(app, consult, client, endpoint, device):
    user = consult.user(balance=None, email="pushed@example.com")
    auth = AuthActions(client)
    auth.login("pushed@example.com")
    _, p256dh, secret = device
    response = client.post(
        "/push/subscriptions",
        json={"endpoint": endpoint.url, "expirationTime": None, "keys": {"p256dh": p256dh, "auth": secret}},
        headers={"X-CSRFToken": auth.csrf_token()},
    )
    assert response.status_code == 201 and response.get_json()["public_key"] == push.public_key()
    return user, auth


def test_a_notification_is_pushed_signed_and_encrypted_for_the_device(app, subscribed, endpoint, device, queued):
    user, _ = subscribed
    (notification,) = notifications.tell(
        [user.id], "followed_available", "Kavya is available", "Chat now.", "/astrologers/x", "k1"
    )
    db.session.commit()
    (delivery_id,) = queued
    assert jobs.perform(delivery_id).status == "sent"
    ((headers, body),) = endpoint.received
    assert headers["Content-Encoding"] == "aes128gcm" and int(headers["TTL"]) > 0
    scheme, _, params = headers["Authorization"].partition(" ")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert scheme == "vapid" and fields["k"] == push.public_key()
    server_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
    claims = jwt.decode(fields["t"], server_key, algorithms=["ES256"], audience=endpoint.url.rsplit("/push", 1)[0])
    assert claims["sub"].startswith("mailto:")
    key, _, secret = device
    message = json.loads(http_ece.decrypt(body, private_key=key, auth_secret=unb64(secret), version="aes128gcm"))
    assert message == {
        "id": str(notification.id),
        "kind": "followed_available",
        "title": "Kavya is available",
        "body": "Chat now.",
        "url": "/astrologers/x",
        "actions": [],
    }


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_dropped_is_dropped_here(app, subscribed, endpoint, queued, status):
    user, _ = subscribed
    endpoint.status = status
    notifications.tell([user.id], "followed_available", "t", "b", "/x", "k2")
    db.session.commit()
    assert jobs.perform(queued[0]).status == "skipped"
    assert db.session.execute(db.select(PushSubscription)).first() is None


def test_a_push_service_error_is_retried(app, subscribed, endpoint, queued):
    user, _ = subscribed
    endpoint.status = 503
    notifications.tell([user.id], "followed_available", "t", "b", "/x", "k3")
    db.session.commit()
    with pytest.raises(jobs.RetryLater):
        jobs.perform(queued[0])
    endpoint.status = 201
    assert jobs.perform(queued[0]).status == "sent"
    assert len(endpoint.received) == 2 and db.session.get(Delivery, queued[0]).attempts == 2


def test_an_astrologer_with_no_tab_open_is_pushed_a_request_with_accept_and_decline(
    app, consult, client, endpoint, device, queued
):
    astrologer = consult.astrologer(email="away@example.com")
    auth = AuthActions(client)
    auth.login("away@example.com")
    _, p256dh, secret = device
    client.post(
        "/push/subscriptions",
        json={"endpoint": endpoint.url, "keys": {"p256dh": p256dh, "auth": secret}},
        headers={"X-CSRFToken": auth.csrf_token()},
    )
    db.session.commit()
    consult.request(consult.user(name="Asha Seeker"), astrologer)
    (delivery_id,) = queued
    jobs.perform(delivery_id)
    key, _, _ = device
    message = json.loads(
        http_ece.decrypt(endpoint.received[0][1], private_key=key, auth_secret=unb64(secret), version="aes128gcm")
    )
    assert message["kind"] == "request_incoming" and message["title"] == "Asha Seeker asks for a chat"
    assert [a["action"] for a in message["actions"]] == ["accept", "decline"]
    assert all(a["url"] == "/dashboard#requests-panel" for a in message["actions"])


@pytest.mark.parametrize(
    "subscription",
    [
        None,
        {"endpoint": "http://push.example.com/x", "keys": {"p256dh": b64(b"\x04" + b"1" * 64), "auth": b64(b"a" * 16)}},
        {"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": "short", "auth": b64(b"a" * 16)}},
        {"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": ON_CURVE, "auth": "!!"}},
        {"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": OFF_CURVE, "auth": b64(b"a" * 16)}},
        *(
            {"endpoint": endpoint, "keys": {"p256dh": ON_CURVE, "auth": b64(b"a" * 16)}}
            for endpoint in (
                "http://127.0.0.1:6379/",
                "http://localhost/x",
                "https://127.0.0.1/x",
                "https://10.0.0.5/x",
                "https://169.254.169.254/latest/meta-data",
                "https://[::1]/x",
                "https://push.example.com/x",
                "https://fcm.googleapis.com.attacker.example/x",
                "https://fcm.googleapis.com:6379/x",
                "https://user:pass@fcm.googleapis.com/x",
                "https://fcm.googleapis.com:notaport/x",
            )
        ),
    ],
    ids=lambda case: (case or {}).get("endpoint", "nothing")[:40] if isinstance(case, dict) or case is None else None,
)
def test_anything_but_a_subscription_is_refused(app, consult, client, subscription):
    consult.user(balance=None, email="odd@example.com")
    auth = AuthActions(client)
    auth.login("odd@example.com")
    response = client.post(
        "/push/subscriptions",
        json=subscription,
        headers={"X-CSRFToken": auth.csrf_token(), "Accept": "application/json"},
    )
    assert response.status_code == 422 and response.get_json()["error"] == "invalid"
    assert db.session.execute(db.select(PushSubscription)).first() is None


def test_unsubscribing_forgets_the_device(app, subscribed, endpoint):
    _, auth = subscribed
    client = auth.client
    gone = client.delete(
        "/push/subscriptions", json={"endpoint": endpoint.url}, headers={"X-CSRFToken": auth.csrf_token()}
    )
    assert gone.status_code == 204 and db.session.execute(db.select(PushSubscription)).first() is None


def test_the_service_worker_is_served_from_the_root(client):
    response = client.get("/service-worker.js")
    assert response.status_code == 200 and response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert 'addEventListener("push"' in response.get_data(as_text=True)


# ---------------------------------------------------------------- where a push may go (attack round three)


def _subscribe(client, auth, url, p256dh=ON_CURVE):
    return client.post(
        "/push/subscriptions",
        json={"endpoint": url, "keys": {"p256dh": p256dh, "auth": b64(os.urandom(16))}},
        headers={"X-CSRFToken": auth.csrf_token(), "Accept": "application/json"},
    )


def test_a_listed_push_service_whose_name_resolves_inside_is_refused_at_subscribe_and_at_send(
    app, subscribed, endpoint, queued, monkeypatch
):
    """A push service listed by name must resolve only to public addresses: localhost resolves to
    127.0.0.1, so a subscription naming it is refused, and one stored before (or by a name that
    resolved publicly then) is never posted to."""
    user, auth = subscribed
    named = f"http://localhost:{endpoint.port}"
    monkeypatch.setitem(app.config, "PUSH_SERVICES", (*app.config["PUSH_SERVICES"], named))
    refused = _subscribe(auth.client, auth, named + "/push/inside")
    assert refused.status_code == 422 and refused.get_json()["error"] == "invalid"
    stored = db.session.execute(db.select(PushSubscription)).scalar_one()
    stored.endpoint = named + "/push/rebound"  # as if its name now answered with an inside address
    notifications.tell([user.id], "followed_available", "t", "b", "/x", "k-inside")
    db.session.commit()
    with pytest.raises(jobs.RetryLater):
        jobs.perform(queued[0])
    assert endpoint.received == []
    assert "private or reserved" in db.session.get(Delivery, queued[0]).last_error


def test_a_redirect_from_a_push_service_is_not_followed(app, subscribed, endpoint, queued):
    user, _ = subscribed
    elsewhere = Endpoint()
    try:
        endpoint.status, endpoint.location = 302, elsewhere.url
        notifications.tell([user.id], "followed_available", "t", "b", "/x", "k-redirect")
        db.session.commit()
        with pytest.raises(jobs.RetryLater):
            jobs.perform(queued[0])
        assert len(endpoint.received) == 1 and elsewhere.received == []
        assert "answered 302" in db.session.get(Delivery, queued[0]).last_error
    finally:
        elsewhere.close()


def test_a_push_service_that_answers_a_line_at_a_time_is_cut_off_at_the_deadline(
    app, subscribed, endpoint, queued, monkeypatch
):
    """One header line every 0.4 s would take 8 s in all (each read well inside any per-read timeout);
    PUSH_TIMEOUT_SECONDS bounds the whole delivery."""
    user, _ = subscribed
    monkeypatch.setitem(app.config, "PUSH_TIMEOUT_SECONDS", 1)
    endpoint.drip = 0.4
    notifications.tell([user.id], "followed_available", "t", "b", "/x", "k-slow")
    db.session.commit()
    started = time.monotonic()
    with pytest.raises(jobs.RetryLater):
        jobs.perform(queued[0])
    assert time.monotonic() - started < 3
    assert "took more than 1 s" in db.session.get(Delivery, queued[0]).last_error


def test_a_person_keeps_at_most_push_max_subscriptions_devices_the_newest(app, subscribed, endpoint, monkeypatch):
    user, auth = subscribed
    monkeypatch.setitem(app.config, "PUSH_MAX_SUBSCRIPTIONS", 3)
    for n in range(5):
        assert _subscribe(auth.client, auth, f"{endpoint.origin}/push/device-{n}").status_code == 201
        db.session.commit()
    kept = db.session.execute(db.select(PushSubscription.endpoint).filter_by(user_id=user.id)).scalars().all()
    assert sorted(kept) == [f"{endpoint.origin}/push/device-{n}" for n in (2, 3, 4)]


def test_a_push_is_written_in_the_language_its_person_chose(app, subscribed, endpoint, device, queued, consult, fund):
    """Issue 41: the notification, its push and the push's buttons, in the person's own language."""
    from webapp.services.consultations import notices
    from webapp.services.users import languages

    user, _ = subscribed
    languages.store(user.id, "hi")
    fund(user)
    astrologer = consult.astrologer(name="Kavya Rao")
    session = consult.request(user, astrologer)
    queued.clear()
    notices.request_answered(session, "accepted")
    db.session.commit()
    (delivery_id,) = queued
    assert jobs.perform(delivery_id).status == "sent"
    ((_, body),) = endpoint.received
    key, _, secret = device
    message = json.loads(http_ece.decrypt(body, private_key=key, auth_secret=unb64(secret), version="aes128gcm"))
    assert message["title"] == "Kavya ने स्वीकार किया"
    assert message["body"] == "आपकी चैट शुरू हो गई है: अभी खोलें।"
