"""Web Push end to end against a push endpoint this test starts: the request is VAPID-signed and
aes128gcm-encrypted, and the test decrypts it with the subscription's own keys; 404/410 drop the
subscription; the service worker is served from the root."""

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from webapp.extensions import db
from webapp.models import Delivery, PushSubscription
from webapp.services import jobs, notifications, push

from ..conftest import AuthActions


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Endpoint:
    """A push service: keeps each request; answers `status`."""

    def __init__(self):
        self.received, self.status = [], 201
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.received.append((self.headers, body))
                self.send_response(endpoint.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push/abc123"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def endpoint():
    found = Endpoint()
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
        {"endpoint": "https://push.example.com/x", "keys": {"p256dh": "short", "auth": b64(b"a" * 16)}},
        {"endpoint": "https://push.example.com/x", "keys": {"p256dh": b64(b"\x04" + b"1" * 64), "auth": "!!"}},
    ],
    ids=["nothing", "plain-http", "bad-key", "bad-secret"],
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
