"""Web Push: a notification reaches a browser whose tab is closed, through its push service.

The standards, with the libraries made for their parts: a subscription (RFC 8030) is what the
browser's PushSubscription.toJSON() gives (endpoint, keys.p256dh, keys.auth); each message is
encrypted for it with aes128gcm (RFC 8291; http_ece) and signed for the push service with VAPID
(RFC 8292: an ES256 JWT, PyJWT and cryptography). Keys: VAPID_PRIVATE_KEY (PEM) and
VAPID_PUBLIC_KEY (base64url, what the browser subscribes with), VAPID_SUBJECT (mailto: or https:);
unset in development, a key pair is generated into the instance folder on first use.

Sending is a job (services/jobs.py, channel "push"): one delivery per notification and subscription,
so a retry reaches only the device that failed, each bounded by PUSH_TIMEOUT_SECONDS in all. Where a
subscription may point is checked (PUSH_SERVICES, public addresses only: "where a push may go"
below), and a person keeps at most PUSH_MAX_SUBSCRIPTIONS devices. A push service answering 404 or
410 has dropped the subscription: so do we (the delivery is then skipped, not failed).
static/js/service-worker.js shows what arrives.
"""

import base64
import fnmatch
import http.client
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask_babel import force_locale, gettext

from ...extensions import db
from ...models import PushSubscription, utcnow
from .. import jobs
from ..errors import ValidationFailed
from ..users import languages

TTL_SECONDS = 3600  # a request no one saw within the hour is news no more
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


# ---------------------------------------------------------------- where a push may go
#
# An endpoint is a URL the browser hands us and the server later POSTs to: a way into the server's own
# network if it were taken as given. It must belong to a push service of PUSH_SERVICES (the browsers'
# own by default: scheme, host pattern, port), and a host named by a name must resolve only to public
# addresses, checked when the browser subscribes and again at every delivery, which connects to the
# very address checked (no second lookup for a rebinding DNS to answer differently). A push service's
# redirect is not followed. An IP address written into PUSH_SERVICES is the operator's word (a stand-in
# push service on this machine in tests) and is not checked further.


class EndpointRefused(Exception):
    """The endpoint is not one this server may send to (named in the delivery's last_error)."""


def _service_of(endpoint):
    """(scheme, host, port, the PUSH_SERVICES entry it matched) of `endpoint`, or None."""
    parts = urlsplit(endpoint)
    try:
        host, port = (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port that is not a number
        return None
    if not host or parts.username or parts.password:
        return None
    for entry in current_app.config["PUSH_SERVICES"]:
        allowed = urlsplit(entry)
        allowed_port = allowed.port or (443 if allowed.scheme == "https" else 80)
        if (
            parts.scheme == allowed.scheme
            and port == allowed_port
            and fnmatch.fnmatchcase(host, (allowed.hostname or "").lower())
        ):
            return parts.scheme, host, port, allowed.hostname
    return None


def _literal(host):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _address_for(host, port, allowed):
    """The address to connect to for `host`: a public one it resolves to; EndpointRefused when it
    resolves to none, or to any address that is not public."""
    if _literal(allowed) is not None:
        return host  # an address the operator listed
    if _literal(host) is not None:
        raise EndpointRefused("push endpoints are named by a host name, not an address")
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except OSError as error:
        raise EndpointRefused(f"the push service's name does not resolve: {error}") from None
    addresses = [ipaddress.ip_address(address.split("%", 1)[0]) for address in found]
    if not addresses or not all(address.is_global for address in addresses):
        raise EndpointRefused("the push service's name resolves to a private or reserved address")
    return str(addresses[0])


def _destination(endpoint):
    """(scheme, host, port, the address to connect to) of `endpoint`: a push service of PUSH_SERVICES
    at a public address (resolved now); EndpointRefused otherwise."""
    service = _service_of(endpoint)
    if service is None:
        raise EndpointRefused("the endpoint is not a push service of PUSH_SERVICES")
    scheme, host, port, allowed = service
    return scheme, host, port, _address_for(host, port, allowed)


def _checked(data):
    """(endpoint, p256dh, auth) of a PushSubscription's JSON, or ValidationFailed."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise ValidationFailed("subscription", gettext("Send the browser's PushSubscription (endpoint and keys)."))
    endpoint, keys = data.get("endpoint"), data["keys"]
    try:
        if not isinstance(endpoint, str) or len(endpoint) > 1000:
            raise EndpointRefused("not an endpoint")
        _destination(endpoint)
    except EndpointRefused:
        raise ValidationFailed(
            "endpoint", gettext("Notifications from this browser's push service are not supported.")
        ) from None
    try:
        p256dh, auth = _unb64(keys.get("p256dh")), _unb64(keys.get("auth"))
    except (ValueError, TypeError):
        raise ValidationFailed("keys", gettext("The subscription's keys are not base64url.")) from None
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)  # a point on the curve, or no key
    except ValueError:
        p256dh = b""
    if len(p256dh) != 65 or len(auth) != 16:
        raise ValidationFailed("keys", gettext("The subscription's keys are not a P-256 key and a 16-byte secret."))
    return endpoint, _b64(p256dh), _b64(auth)


# ---------------------------------------------------------------- subscriptions


def subscribe(user_id, data, user_agent=None, now=None):
    """Store this device's subscription for `user_id` (the same endpoint again: it is this person's now)."""
    endpoint, p256dh, auth = _checked(data)
    now = now or utcnow()
    found = db.session.execute(db.select(PushSubscription).filter_by(endpoint=endpoint)).scalar_one_or_none()
    if found is None:
        found = PushSubscription(endpoint=endpoint, created_at=now)
        db.session.add(found)
    found.user_id, found.p256dh, found.auth = user_id, p256dh, auth
    found.user_agent = (user_agent or "")[:200] or None
    db.session.flush()
    _keep_newest(user_id, current_app.config["PUSH_MAX_SUBSCRIPTIONS"])
    return found


def _keep_newest(user_id, most):
    """A person's devices past `most` are forgotten, oldest first (a browser that subscribes anew
    replaces the device they stopped using)."""
    kept = (
        db.select(PushSubscription.id)
        .filter_by(user_id=user_id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
        .limit(most)
    )
    db.session.execute(
        db.delete(PushSubscription)
        .where(PushSubscription.user_id == user_id, PushSubscription.id.not_in(kept.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )


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


def push_for(written, actions=None, language=None):
    """Ask for each notification of `written` to be pushed to every device of its person (a job each,
    after commit); one query for all their devices. `actions` titles are message keys, said in each
    person's `language` ({user id: code})."""
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
            "actions": _actions_in((language or {}).get(notification.user_id), actions or []),
        }
        for subscription in devices.get(notification.user_id, ()):
            jobs.deliver(
                "push",
                f"push:{notification.id}:{subscription.id}",
                {"subscription_id": str(subscription.id), "message": message},
                notification.created_at,
            )


def _actions_in(code, actions):
    with force_locale(code or languages.of(None)):
        return [{**action, "title": gettext(key)} for action in actions for key in (action["title"],)]


@jobs.channel("push")
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
    status = _post(
        subscription.endpoint,
        body,
        {
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL_SECONDS),
            "Urgency": "high",
            "Authorization": _vapid_header(subscription.endpoint),
        },
        current_app.config["PUSH_TIMEOUT_SECONDS"],
    )
    if status in GONE:
        db.session.delete(subscription)
        return False
    if not 200 <= status < 300:  # a redirect included: it is never followed
        raise PushFailed(f"the push service answered {status}")
    return True


class PushFailed(Exception):
    """The push service did not take the message (the delivery is retried)."""


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the address that was checked, whatever the name resolves to by now."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the address that was checked, the certificate verified for the host's name."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def _post(endpoint, body, headers, seconds):
    """POST `body` to `endpoint` within `seconds` in all (connecting, sending and reading the answer
    together: a service that answers a byte at a time is cut off at the deadline); the status."""
    scheme, host, port, address = _destination(endpoint)
    parts = urlsplit(endpoint)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = kind(host, port, address, seconds)
    expired = threading.Event()

    def cut_off():
        expired.set()
        sock = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    deadline = threading.Timer(seconds, cut_off)
    deadline.start()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # the answer's body means nothing to us; a bounded read
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        if expired.is_set():
            raise PushFailed(f"the push service took more than {seconds} s") from None
        raise PushFailed(f"the push service was not reached: {type(error).__name__}") from None
    finally:
        deadline.cancel()
        connection.close()
    if expired.is_set():
        raise PushFailed(f"the push service took more than {seconds} s")
    return status
