"""Billing: charges per second for N due sessions (10,000 and 100,000 over 500 astrologers) on PostgreSQL,
beside pgbench's tpcb-like TPS on the same server as the baseline.

The data is seeded set-based and is a consistent ledger (every wallet funded by a top-up with its
entry); after the timed pass every session has exactly one more minute and `ledger verify` is run
(untimed) to show nothing was bent for speed. Targets (issue 27): 100,000 due sessions in under 10 s,
and a million active sessions, all due in the same minute, charged within it.
"""

import os
import re
import shutil
import subprocess
import time
from datetime import timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db
from webapp.models import utcnow
from webapp.services import periodic
from webapp.services.money import ledger_checker
from webapp.services.users import accounts

from .db import fresh_database
from .sizes import size

SIZES = size((10_000, 100_000), (40,))
ASTROLOGERS = size(500, 4)
MILLION = size(1_000_000, 60)
MILLION_ASTROLOGERS = size(50_000, 3)  # 20 concurrent sessions each: a marketplace of that size
TARGET_SECONDS = 10

SEED = """
WITH people AS (
    INSERT INTO users (id, name, email, type, status, session_status, consultation_availability, sync_status,
                       created_at, updated_at)
    SELECT gen_random_uuid(), 'Bench ' || n, 'bench' || n || '@example.com',
           CASE WHEN n <= :astrologers THEN 'astrologer' ELSE 'user' END, 'active',
           'in_session', CASE WHEN n <= :astrologers THEN 'busy' ELSE 'unavailable' END, 'pending', :t0, :t0
    FROM generate_series(1, :astrologers + :sessions) AS n
    RETURNING id, type, email
), wallets_made AS (
    INSERT INTO wallets (id, user_id, current_balance, available_balance, held_balance, currency, status,
                         last_transaction_at, created_at, updated_at)
    SELECT gen_random_uuid(), id, CASE WHEN type = 'user' THEN 1000 ELSE 0 END,
           CASE WHEN type = 'user' THEN 1000 ELSE 0 END, 0, 'INR', 'active', :t0, :t0, :t0
    FROM people RETURNING id, user_id, current_balance
), profiles AS (
    INSERT INTO user_profiles (id, user_id, current_balance, total_credited, total_debited, balance_updated_at,
                               total_consultations, completed_consultations, average_rating, total_ratings,
                               created_at, updated_at)
    SELECT gen_random_uuid(), user_id, current_balance, current_balance, 0, :t0,
           CASE WHEN current_balance > 0 THEN 1 ELSE 0 END, 0, 0, 0, :t0, :t0 FROM wallets_made
), topups AS (
    INSERT INTO billing_transactions (id, user_id, wallet_id, kind, transaction_type, status, amount, currency,
                                      idempotency_key, payment_method, details, created_at, updated_at, processed_at)
    SELECT uuid7(), user_id, id, 'topup', 'credit', 'completed', current_balance, 'INR',
           'topup:bench:' || user_id, 'manual', '{}'::jsonb, :t0, :t0, :t0
    FROM wallets_made WHERE current_balance > 0 RETURNING id, wallet_id, amount
)
INSERT INTO wallet_transactions (id, wallet_id, billing_transaction_id, seq, direction, transaction_type, amount,
                                 balance_before, balance_after, reference_id, created_at, updated_at)
SELECT uuid7(), wallet_id, id, 1, 'credit', 'deposit', amount, 0, amount, id::text, :t0, :t0 FROM topups
"""

PROFILES = """
INSERT INTO astrologer_profiles (id, astrologer_id, specializations, languages, experience_years, chat_rate_per_minute,
    call_rate_per_minute, video_rate_per_minute, max_concurrent_sessions, chat_availability, call_availability,
    video_availability, is_approved, rating_average, rating_count, total_sessions, total_minutes, total_earnings,
    monthly_sessions, monthly_rating, created_at, updated_at)
SELECT gen_random_uuid(), id, '["Vedic"]'::jsonb, '["Hindi"]'::jsonb, 5, 9.99, 9.99, 9.99, 20, 'available', 'offline',
       'offline', true, 0, 0, 0, 0, 0, 0, 0, :t0, :t0
FROM users WHERE type = 'astrologer'
"""

SESSIONS = """
WITH astrologers AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS slot FROM users WHERE type = 'astrologer'
), clients AS (
    SELECT id, (row_number() OVER (ORDER BY id) - 1) % :astrologers AS slot FROM users WHERE type = 'user'
)
INSERT INTO consultation_sessions (id, user_id, astrologer_id, session_type, status, rate_per_minute, requested_at,
    offered_at, started_at, billed_minutes, free_minutes, next_charge_at, astrologer_replied_at,
    total_cost, created_at, updated_at)
SELECT uuid7(), c.id, a.id, 'chat', 'active', 9.99, :t0, :t0, :t0, 0, 1, :due, :t0, 0, :t0, :t0
FROM clients c JOIN astrologers a ON a.slot = c.slot
"""


def pgbench_tps(url):
    """pgbench tpcb-like TPS (2 clients, 10 s, scale 10) on a database of the same server."""
    pgbench = (
        shutil.which("pgbench")
        or next(
            (
                p
                for p in (f"/usr/lib/postgresql/{v}/bin/pgbench" for v in os.listdir("/usr/lib/postgresql"))
                if os.path.exists(p)
            ),
            None,
        )
        if os.path.isdir("/usr/lib/postgresql")
        else shutil.which("pgbench")
    )
    if not pgbench:
        return None
    parts = sa.engine.make_url(url)
    args = ["-h", parts.host or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    subprocess.run(
        [pgbench, *args, "-i", "-s", str(size(10, 1)), "-q", parts.database], check=True, capture_output=True
    )
    out = subprocess.run(
        [pgbench, *args, "-b", "tpcb-like", "-c", "2", "-j", "2", "-T", str(size(10, 1)), parts.database],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def seed(sessions, minute_seconds, astrologers=ASTROLOGERS):
    """`sessions` active, funded chat sessions over ASTROLOGERS astrologers, started an hour ago, set-based
    (in the current app context). Returns when the first minute after the start is due."""
    accounts.platform_user()
    db.session.commit()
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    due = t0 + timedelta(seconds=minute_seconds)
    params = {"t0": t0, "due": due, "astrologers": astrologers, "sessions": sessions}
    for statement in (SEED, PROFILES, SESSIONS):
        db.session.execute(sa.text(statement), params)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return due


def _charge_all(admin_url, sessions, astrologers=ASTROLOGERS):
    """Seconds for the periodic pass to charge `sessions` due minutes; passes follow one another, as
    the scheduler's would, until every one is charged (one pass charges at most due.MAX_ROUNDS batches)."""
    with fresh_database(admin_url) as url:
        app = create_app(TestConfig(url))
        with app.app_context():
            upgrade()
            due = seed(sessions, app.config["BILLING_MINUTE_SECONDS"], astrologers)
            start, charged, passes = time.perf_counter(), 0, 0
            while charged < sessions and passes < 100:
                charged += periodic.run_due(due + timedelta(seconds=1))["charged"]
                passes += 1
            elapsed = time.perf_counter() - start
            billed = db.session.execute(
                sa.text("SELECT count(*) FROM consultation_sessions WHERE billed_minutes = 1")
            ).scalar()
            report = ledger_checker.verify()
            db.session.remove()
            db.engine.dispose()
    assert charged == billed == sessions, (charged, billed)
    assert report.ok, "\n".join(report.lines())
    return elapsed, passes


def run(admin_url):
    with fresh_database(admin_url) as url:
        tps = pgbench_tps(url)
    baseline = f"pgbench tpcb-like {tps:,.0f} TPS" if tps else "pgbench not found"
    rows = []
    for sessions in SIZES:
        elapsed, _ = _charge_all(admin_url, sessions)
        rows.append(
            dict(
                name=f"billing: {sessions:,} due sessions over {ASTROLOGERS} astrologers, one pass (ledger verified after)",
                figure=_figure(sessions, elapsed, tps),
                baseline=baseline,
                target=f"100,000 in < {TARGET_SECONDS} s (>= 10,000/s, about 3x pgbench)",
                verdict="met" if sessions / elapsed >= 10_000 else "missed",
            )
        )
    elapsed, passes = _charge_all(admin_url, MILLION, MILLION_ASTROLOGERS)
    rows.append(
        dict(
            name=f"billing: {MILLION:,} active sessions over {MILLION_ASTROLOGERS:,} astrologers, all due in the same"
            f" minute, charged by back-to-back passes ({passes}; ledger verified after)",
            figure=_figure(MILLION, elapsed, tps),
            baseline=baseline,
            target="all charged within the minute (< 60 s)",
            verdict="met" if elapsed < 60 else "missed",
        )
    )
    return rows


def _figure(sessions, elapsed, tps):
    rate = sessions / elapsed
    return f"{elapsed:.2f} s, {rate:,.0f} charges/s" + (f" ({rate / tps:.1f}x pgbench's TPS)" if tps else "")
