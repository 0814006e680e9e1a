"""POST /api/v1/users/sync: HMAC-SHA256 over `timestamp + "." + body` with SYNC_SECRET, a 300 s
window, one object or {"users": [...]} (at most 500), a result per record. Each record is
its own unit of work, so one bad record never blocks the rest."""

import hashlib
import hmac
import time

from flask import current_app, jsonify, request

from ...extensions import csrf, limiter
from ...ratelimits import configured
from ...services import payloads
from ...services.users import user_sync
from . import bp
from .openapi import SPEC

WINDOW_SECONDS = 300


def _refuse(status, error, message):
    return jsonify(error=error, message=message), status


def _signature_problem(secret, body):
    timestamp, signature = request.headers.get("X-Sync-Timestamp"), request.headers.get("X-Sync-Signature")
    if not timestamp or not signature:
        return "The request is not signed (X-Sync-Timestamp, X-Sync-Signature)."
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "X-Sync-Timestamp must be unix seconds."
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "The signature does not match."
    if abs(time.time() - sent_at) > WINDOW_SECONDS:
        return "The timestamp is outside the 300-second window (clock skew or a replay)."
    return None


@bp.post("/users/sync")
@csrf.exempt  # authenticated by the HMAC signature
@limiter.limit(configured("RATELIMIT_SYNC"))
def sync_users():
    secret = current_app.config.get("SYNC_SECRET")
    if not secret:
        return _refuse(503, "sync_disabled", "SYNC_SECRET is not configured; the sync API is off.")
    body = request.get_data()
    problem = _signature_problem(secret, body)
    if problem:
        return _refuse(401, "invalid_signature", problem)
    try:
        payload = payloads.loads(body)
    except ValueError:
        return _refuse(
            400,
            "bad_json",
            f'The body must be JSON (nested at most {payloads.MAX_DEPTH} deep): a user object or {{"users": [...]}}.',
        )
    records = payload.get("users") if isinstance(payload, dict) and "users" in payload else [payload]
    if not isinstance(records, list):
        return _refuse(400, "bad_request", "users must be a list.")
    if len(records) > user_sync.BATCH_MAX:
        return _refuse(413, "batch_too_large", f"At most {user_sync.BATCH_MAX} users per request.")
    return jsonify(results=[result.as_dict() for result in user_sync.sync(records)])


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
