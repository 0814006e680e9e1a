"""User sync: 10,000 users pushed in batches of 500 through the real signed endpoint (in process),
then the same again (nothing written), on PostgreSQL. Baseline: the same requests to /healthz.
Target (issue 10): the first push under 30 s."""

import hashlib
import hmac
import json
import time

from flask_migrate import upgrade

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db

from .db import fresh_database
from .sizes import size

USERS = size(10_000, 30)
BATCH = size(500, 10)
SECRET = "bench-sync-secret"
HANDOFF_SECRET = "bench-handoff-secret-0123456789abcdef"
TARGET_SECONDS = 30


def _signed(batch):
    body = json.dumps({"users": batch}).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"X-Sync-Timestamp": timestamp, "X-Sync-Signature": signature, "Content-Type": "application/json"}


def _hand_over(app, n):
    """The main backend signs pushed user `n` in: a one-time token, then a logged-in page."""
    import uuid

    import jwt

    now = int(time.time())
    token = jwt.encode(
        {"sub": f"main-{n}", "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}, HANDOFF_SECRET, "HS256"
    )
    browser = app.test_client()
    response = browser.get(f"/auth/handoff?token={token}&next=/wallet")
    return response.status_code == 302 and f"Main User {n}" in browser.get("/wallet").get_data(as_text=True)


def run(admin_url):
    records = [
        {
            "external_id": f"main-{n}",
            "name": f"Main User {n}",
            "email": f"main{n}@example.com",
            "phone": f"+9197{n:08d}",
        }
        for n in range(USERS)
    ]
    batches = [records[i : i + BATCH] for i in range(0, USERS, BATCH)]
    with fresh_database(admin_url) as url:
        app = create_app(TestConfig(url, SYNC_SECRET=SECRET, HANDOFF_JWT_SECRET=HANDOFF_SECRET))
        with app.app_context():
            upgrade()
            client = app.test_client()
            timings, statuses = [], []
            for _ in range(2):
                start = time.perf_counter()
                for batch in batches:
                    body, headers = _signed(batch)
                    response = client.post("/api/v1/users/sync", data=body, headers=headers)
                    statuses.extend(r["status"] for r in response.json["results"])
                timings.append(time.perf_counter() - start)
            start = time.perf_counter()
            for _ in batches:
                client.get("/healthz")
            baseline = time.perf_counter() - start
            handed_over = _hand_over(app, USERS // 2)
            db.session.remove()
            db.engine.dispose()
    first, second = statuses[:USERS], statuses[USERS:]
    assert first.count("created") == USERS and second.count("unchanged") == USERS, "every user created, then unchanged"
    assert handed_over, "one pushed user is handed over into a logged-in session"
    return [
        dict(
            name=f"user sync: {USERS:,} users in batches of {BATCH} (then again: all unchanged; one handed over)",
            figure=f"first push {timings[0]:.1f} s ({USERS / timings[0]:,.0f} users/s); second {timings[1]:.1f} s",
            baseline=f"{len(batches)} requests to /healthz {baseline * 1000:.0f} ms",
            target=f"first push < {TARGET_SECONDS} s",
            verdict="met" if timings[0] < TARGET_SECONDS else "missed",
        )
    ]
