"""Listing: a filtered /astrologers page with 2,000 astrologers on PostgreSQL, served by the real
server (python wsgi.py, eventlet) to 32 concurrent clients for 15 s: requests per second and
p50/p99 latency. The baseline is a bare route of the same server (/healthz, a constant answer
through the same middleware), under the same load; the ratio is the listing's own cost.
Targets (issue 12): >= 300 requests/s with p99 < 100 ms.
"""

import random
import uuid
from decimal import Decimal

import sqlalchemy as sa
from flask_migrate import upgrade

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db
from webapp.models import AstrologerProfile, Availability, User, UserProfile, UserType, Wallet, utcnow
from webapp.services.astrologers.marketplace import LANGUAGES, SPECIALIZATIONS

from .db import fresh_database
from .load import http_load
from .server import web
from .sizes import size

ASTROLOGERS = size(2000, 12)
CLIENTS = size(32, 2)
SECONDS = size(15, 1)
TARGET_RPS = 300
TARGET_P99_MS = 100
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
                consultation_availability="available",
                created_at=now,
                updated_at=now,
            )
        )
        rate = Decimal(rng.randint(500, 15000)) / 100
        profiles.append(dict(
            id=uuid.uuid4(), astrologer_id=user_id, specializations=rng.sample(SPECIALIZATIONS, 2), languages=rng.sample(LANGUAGES, 2),
            experience_years=rng.randint(0, 40), chat_rate_per_minute=rate, call_rate_per_minute=rate, video_rate_per_minute=rate, max_concurrent_sessions=2,
            chat_availability=rng.choice(list(Availability)), call_availability=Availability.OFFLINE, is_approved=True,
            rating_average=Decimal(rng.randint(250, 500)) / 100, rating_count=rng.randint(0, 900), total_sessions=0,
            total_minutes=0, total_earnings=Decimal("0"), created_at=now, updated_at=now,
        ))  # fmt: skip
        wallets.append(dict(id=uuid.uuid4(), user_id=user_id, created_at=now, updated_at=now, last_transaction_at=now))
        user_profiles.append(
            dict(id=uuid.uuid4(), user_id=user_id, balance_updated_at=now, created_at=now, updated_at=now)
        )
    db.session.execute(sa.insert(User), users)
    db.session.execute(sa.insert(AstrologerProfile), profiles)
    db.session.execute(sa.insert(UserProfile), user_profiles)
    db.session.execute(sa.insert(Wallet), wallets)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def run(admin_url):
    with fresh_database(admin_url) as url:
        app = create_app(TestConfig(url))
        with app.app_context():
            upgrade()
            _populate(ASTROLOGERS)
            matches = app.test_client().get(FILTERED).get_data(as_text=True).count('class="astrologer-name"')
            db.session.remove()
            db.engine.dispose()
        with web(url) as server:
            bare = http_load(server.url + "/healthz", CLIENTS, SECONDS)
            page = http_load(server.url + FILTERED, CLIENTS, SECONDS)
            partial = http_load(server.url + FILTERED, CLIENTS, SECONDS, headers={"HX-Request": "true"})
    rows = []
    for name, (rate, p50, p99, failed) in (("filtered page", page), ("filtered htmx partial", partial)):
        rows.append(
            dict(
                name=f"listing: {name}, {ASTROLOGERS} astrologers, {matches} on the page, {CLIENTS} clients",
                figure=f"{rate:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms ({rate / bare[0]:.0%} of bare)"
                + (f", {failed} non-200" if failed else ""),
                baseline=f"bare route {bare[0]:,.0f} req/s, p50 {bare[1]:.1f} ms, p99 {bare[2]:.1f} ms",
                target=f">= {TARGET_RPS} req/s, p99 < {TARGET_P99_MS} ms",
                verdict="met" if rate >= TARGET_RPS and p99 < TARGET_P99_MS and not failed else "missed",
            )
        )
    return rows
