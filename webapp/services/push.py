"""Web Push: a notification reaches a browser whose tab is closed, through its push service.

The standards, with the libraries made for their parts: a subscription (RFC 8030) is what the
browser's PushSubscription.toJSON() gives (endpoint, keys.p256dh, keys.auth); each message is
encrypted for it with aes128gcm (RFC 8291; http_ece) and signed for the push service with VAPID
(RFC 8292: an ES256 JWT, PyJWT and cryptography). Keys: VAPID_PRIVATE_KEY (PEM) and
VAPID_PUBLIC_KEY (base64url, what the browser subscribes with), VAPID_SUBJECT (mailto: or https:);
unset in development, a key pair is generated into the instance folder on first use.

Sending is a job (services/jobs.py, channel "push"): one delivery per notification and subscription,
so a retry reaches only the device that failed. A push service answering 404 or 410 has dropped the
subscription: so do we (the delivery is then skipped, not failed). static/js/service-worker.js shows
what arrives.
"""

import base64
import ipaddress
import json
import os
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app

from ..extensions import db
from ..models import PushSubscription, utcnow
from . import jobs
from .errors import ValidationFailed

TTL_SECONDS = 3600  # a request no one saw within the hour is news no more
TIMEOUT_SECONDS = 15
GONE = (404, 410)


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    text = str(text or "")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------- VAPID keys


def _private_key():
    app = current_app
    key = app.extensions.get("vapid_key")
    if key is None:
        pem = app.config.get("VAPID_PRIVATE_KEY")
        if pem:
            key = serialization.load_pem_private_key(pem.encode().replace(b"\\n", b"\n"), password=None)
        else:
            key = _development_key(os.path.join(app.instance_path, "vapid_private.pem"))
        app.extensions["vapid_key"] = key
    return key


def _development_key(path):
    """The instance folder's key pair, made on first use (development: no VAPID settings)."""
    if os.path.exists(path):
        with open(path, "rb") as stored:
            return serialization.load_pem_private_key(stored.read(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(pem)
    return key


def public_key():
    """The VAPID public key as the browser's pushManager.subscribe takes it (base64url, uncompressed point)."""
    configured = current_app.config.get("VAPID_PUBLIC_KEY")
    if configured:
        return configured
    point = (
        _private_key()
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return _b64(point)


def _vapid_header(endpoint):
    parts = urlsplit(endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int(time.time()) + 12 * 3600,
        "sub": current_app.config["VAPID_SUBJECT"],
    }
    token = jwt.encode(claims, _private_key(), algorithm="ES256")
    return f"vapid t={token}, k={public_key()}"


# ---------------------------------------------------------------- subscriptions


def _loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _checked(data):
    """(endpoint, p256dh, auth) of a PushSubscription's JSON, or ValidationFailed."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise ValidationFailed("subscription", "Send the browser's PushSubscription (endpoint and keys).")
    endpoint, keys = data.get("endpoint"), data["keys"]
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if (
        parts is None
        or len(endpoint) > 1000
        or not (parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname or "")))
    ):
        raise ValidationFailed("endpoint", "A push endpoint is an https URL.")
    try:
        p256dh, auth = _unb64(keys.get("p256dh")), _unb64(keys.get("auth"))
    except (ValueError, TypeError):
        raise ValidationFailed("keys", "The subscription's keys are not base64url.") from None
    if len(p256dh) != 65 or p256dh[0] != 4 or len(auth) != 16:
        raise ValidationFailed("keys", "The subscription's keys are not a P-256 key and a 16-byte secret.")
    return endpoint, _b64(p256dh), _b64(auth)


def subscribe(user_id, data, user_agent=None, now=None):
    """Store this device's subscription for `user_id` (the same endpoint again: it is this person's now)."""
    endpoint, p256dh, auth = _checked(data)
    found = db.session.execute(db.select(PushSubscription).filter_by(endpoint=endpoint)).scalar_one_or_none()
    if found is None:
        found = PushSubscription(endpoint=endpoint, created_at=now or utcnow())
        db.session.add(found)
    found.user_id, found.p256dh, found.auth = user_id, p256dh, auth
    found.user_agent = (user_agent or "")[:200] or None
    db.session.flush()
    return found


def unsubscribe(user_id, endpoint):
    """Forget this person's subscription at `endpoint`; True when there was one."""
    found = db.session.execute(
        db.select(PushSubscription).filter_by(user_id=user_id, endpoint=str(endpoint or ""))
    ).scalar_one_or_none()
    if found is not None:
        db.session.delete(found)
        db.session.flush()
    return found is not None


# ---------------------------------------------------------------- sending


def push_for(written, actions=None):
    """Ask for each notification of `written` to be pushed to every device of its person (a job each,
    after commit); one query for all their devices."""
    devices = {}
    for subscription in db.session.execute(
        db.select(PushSubscription).where(PushSubscription.user_id.in_({n.user_id for n in written}))
    ).scalars():
        devices.setdefault(subscription.user_id, []).append(subscription)
    for notification in written:
        message = {
            "id": str(notification.id),
            "kind": notification.kind,
            "title": notification.title,
            "body": notification.body,
            "url": notification.url,
            "actions": actions or [],
        }
        for subscription in devices.get(notification.user_id, ()):
            jobs.deliver(
                "push",
                f"push:{notification.id}:{subscription.id}",
                {"subscription_id": str(subscription.id), "message": message},
                notification.created_at,
            )


def send_delivery(payload):
    """The job's channel: encrypt and post one message; False when the subscription is gone."""
    import uuid

    subscription = db.session.get(PushSubscription, uuid.UUID(payload["subscription_id"]))
    if subscription is None:
        return False
    server_key = ec.generate_private_key(ec.SECP256R1())  # a fresh key per message (RFC 8291)
    body = http_ece.encrypt(
        json.dumps(payload["message"]).encode(),
        private_key=server_key,
        dh=_unb64(subscription.p256dh),
        auth_secret=_unb64(subscription.auth),
        version="aes128gcm",
    )
    request = urllib.request.Request(
        subscription.endpoint,
        data=body,
        method="POST",
        headers={
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL_SECONDS),
            "Urgency": "high",
            "Authorization": _vapid_header(subscription.endpoint),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):
            return True
    except urllib.error.HTTPError as error:
        if error.code in GONE:
            db.session.delete(subscription)
            return False
        raise
