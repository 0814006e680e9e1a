"""Memory: the peak RSS (VmHWM) of one server process (python wsgi.py, eventlet) holding 1,000 idle
authenticated sockets, beside the same process before any socket; and of a billing worker
(`flask billing run`) working through 10,000 active sessions, beside the same worker on an empty
database. Targets (issue 12): the server with 1,000 sockets under 250 MB."""

import sys
import time

import sqlalchemy as sa
from flask_migrate import upgrade

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db

from . import billing
from .db import fresh_database
from .load import hold_sockets
from .server import SECRET_KEY, Process, session_cookie, web
from .sizes import size

SOCKETS = size(1000, 4)
SESSIONS = size(10_000, 20)
WORKER_SECONDS = size(20, 1)
TARGET_MB = 250


def _worker_peak(url, seconds):
    env = dict(DATABASE_URL=url, BILLING_POLL_SECONDS="1", LOG_LEVEL="WARNING")
    with Process([sys.executable, "-m", "flask", "--app", "webapp", "billing", "run"], env, None, "worker") as worker:
        time.sleep(seconds)  # a benchmark, not a test: it watches a process work for a fixed time
        return worker.peak_rss_mb()


def run(admin_url):
    with fresh_database(admin_url) as url:
        app = create_app(TestConfig(url, SECRET_KEY=SECRET_KEY))
        with app.app_context():
            upgrade()
            db.session.remove()
        idle_worker = _worker_peak(url, size(5, 1))
        with app.app_context():
            billing.seed(SESSIONS, 60)
            users = db.session.execute(sa.text("SELECT id FROM users WHERE type = 'user' LIMIT :n"), {"n": SOCKETS})
            cookies = [session_cookie(app, user_id) for (user_id,) in users]
            db.session.remove()
            db.engine.dispose()
        with web(url) as server:
            server_alone = server.peak_rss_mb()
            connected, with_sockets = hold_sockets(server.url, cookies, server.peak_rss_mb)
        busy_worker = _worker_peak(url, WORKER_SECONDS)
    return [
        dict(
            name=f"memory: one server process (eventlet) holding {SOCKETS:,} idle authenticated sockets",
            figure=f"peak RSS {with_sockets:.0f} MB ({connected:,} connected)",
            baseline=f"the same process before any socket: {server_alone:.0f} MB",
            target=f"< {TARGET_MB} MB",
            verdict="met" if with_sockets < TARGET_MB and connected == SOCKETS else "missed",
        ),
        dict(
            name=f"memory: billing worker with {SESSIONS:,} active sessions ({WORKER_SECONDS} s of passes)",
            figure=f"peak RSS {busy_worker:.0f} MB",
            baseline=f"the same worker on an empty database: {idle_worker:.0f} MB",
            target="-",
            verdict="-",
        ),
    ]
