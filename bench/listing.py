"""Listing: server time of a filtered /astrologers page with 2,000 astrologers on PostgreSQL.

Server time is the WSGI call in process (routing, queries, rendering), without
a network. The baseline is a bare route returning a constant string through
the same app and the same stack, so the difference is the listing's own cost.
Target (issue 4): a filtered page under 50 ms.
"""

import random
import time
import uuid
from decimal import Decimal

import sqlalchemy as sa
from flask_migrate import upgrade

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db
from webapp.models import AstrologerProfile, Availability, User, UserProfile, UserType, Wallet, utcnow
from webapp.services.marketplace import LANGUAGES, SPECIALIZATIONS

from .db import fresh_database, percentile

ASTROLOGERS = 2000
REQUESTS = 300
TARGET_MS = 50
FILTERED = "/astrologers?language=Hindi&min_price=10&max_price=80&min_rating=3.5&sort=rating"


def _populate(count):
    rng = random.Random(7)
    now = utcnow()
    users, profiles, wallets, user_profiles = [], [], [], []
    for n in range(count):
        user_id = uuid.uuid4()
        users.append(
            dict(
                id=user_id,
                name=f"Astrologer {n:04d}",
                email=f"bench{n}@example.com",
                type=UserType.ASTROLOGER,
                status="active",
                created_at=now,
                updated_at=now,
            )
        )
        rate = Decimal(rng.randint(500, 15000)) / 100
        profiles.append(dict(
            id=uuid.uuid4(), user_id=user_id, specializations=rng.sample(SPECIALIZATIONS, 2), languages=rng.sample(LANGUAGES, 2),
            experience_years=rng.randint(0, 40), chat_rate_per_minute=rate, call_rate_per_minute=rate, max_concurrent_sessions=2,
            chat_availability=rng.choice(list(Availability)), call_availability=Availability.OFFLINE, is_approved=True,
            rating_average=Decimal(rng.randint(250, 500)) / 100, rating_count=rng.randint(0, 900), total_sessions=0,
            total_minutes=0, total_earnings=Decimal("0"), created_at=now, updated_at=now,
        ))  # fmt: skip
        wallets.append(dict(id=uuid.uuid4(), user_id=user_id, created_at=now, updated_at=now))
        user_profiles.append(dict(id=uuid.uuid4(), user_id=user_id, sync_metadata={}, created_at=now, updated_at=now))
    db.session.execute(sa.insert(User), users)
    db.session.execute(sa.insert(AstrologerProfile), profiles)
    db.session.execute(sa.insert(UserProfile), user_profiles)
    db.session.execute(sa.insert(Wallet), wallets)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def _time(client, path, headers=None, n=REQUESTS):
    for _ in range(20):  # warm caches, pools and templates
        client.get(path, headers=headers)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return percentile(samples, 50), percentile(samples, 99)


def run(admin_url):
    with fresh_database(admin_url) as url:
        app = create_app(TestConfig(url))

        @app.get("/bench/bare")
        def bare():
            return "ok"

        with app.app_context():
            upgrade()
            _populate(ASTROLOGERS)
            client = app.test_client()
            matches = client.get(FILTERED).get_data(as_text=True).count('class="astrologer-name"')
            baseline = _time(client, "/bench/bare")
            page = _time(client, FILTERED)
            partial = _time(client, FILTERED, headers={"HX-Request": "true"})
            db.session.remove()
            db.engine.dispose()
    rows = []
    for name, (p50, p99) in (("filtered page", page), ("filtered htmx partial", partial)):
        rows.append(
            dict(
                name=f"listing: {name}, {ASTROLOGERS} astrologers, {matches} on the page",
                figure=f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
                baseline=f"bare route p50 {baseline[0]:.2f} ms, p99 {baseline[1]:.2f} ms",
                target=f"< {TARGET_MS} ms",
                verdict="met" if p50 < TARGET_MS else "missed",
            )
        )
    return rows
