"""Fixtures that read like the domain: app, client, db, auth, and factories.

The suite runs on PostgreSQL when TEST_DATABASE_URL names a server (it
creates a database of its own with a unique name and drops it at the end),
on a temporary SQLite file otherwise. With CI=true PostgreSQL is required.
The schema comes from the migrations, so every run also proves they apply.
"""

import os
import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import g, request_finished, request_started
from flask_migrate import upgrade

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db as _db
from webapp.extensions import limiter
from webapp.models import UserType
from webapp.services.consultations import lifecycle
from webapp.services.money import ledger_checker, topups
from webapp.services.users import accounts

from .lock_order import LockOrderWatch

DEMO_PASSWORD = "s3cret-Passw0rd"
CSRF_IN_PAGE = re.compile(r'"X-CSRFToken": "([^"]+)"')


def pytest_configure(config):
    if os.environ.get("CI") == "true" and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("CI=true requires TEST_DATABASE_URL (the suite must run on PostgreSQL in CI)")


def _postgres_database(admin_url):
    """Create a uniquely named database on the server of `admin_url`; return (url, drop)."""
    name = f"astro_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if admin_url:
        url, drop = _postgres_database(admin_url)
        yield url
        drop()
    else:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


def _forget_per_request_state(sender, **extra):
    # pytest-flask keeps one app context per test, so every request of the test shares `g`,
    # where Flask-Login caches the user and Flask-WTF the CSRF token. In production each
    # request has its own context; forget both at each request so two clients stay two people
    # (and Flask-Babel's language of the request, so each request chooses its own).
    g.pop("_login_user", None)
    g.pop("_flask_babel", None)
    g.pop("csrf_token", None)
    g.pop("viewer_zone", None)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """The app from the factory, on a freshly migrated test database; attachments in a folder of its own."""
    app = create_app(TestConfig(database_url, ATTACHMENT_LOCAL_PATH=str(tmp_path_factory.mktemp("attachments"))))
    request_started.connect(_forget_per_request_state, app)
    with app.app_context():
        upgrade()
    return app


def empty_database():
    """Delete every row of every table (works across connections and threads)."""
    _db.session.remove()
    tables = [table.name for table in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as connection:
        # DELETE, children first: on the few rows a test leaves it is several times faster than
        # TRUNCATE, whose cost is per table (new files) whatever the rows.
        for table in tables:
            connection.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
def db(app, request):
    """The database, emptied after every test; first, whatever the test left must pass `ledger verify`."""
    yield _db
    try:
        if not request.node.get_closest_marker("raw_ledger"):
            _assert_ledger_consistent()
    finally:
        empty_database()


def _assert_ledger_consistent():

    _db.session.rollback()
    report = ledger_checker.verify()
    if not report.ok:
        pytest.fail("the test left an inconsistent ledger:\n" + "\n".join(report.lines()), pytrace=False)


@pytest.fixture(autouse=True)
def lock_order(app, backend):
    """Every row lock a test's code takes follows webapp/services/locks.py (PostgreSQL: SQLite has
    none); a lock taken out of order fails the test. Yields the watch (None on SQLite)."""
    if backend != "postgresql":
        yield None
        return
    watch = LockOrderWatch(_db.engine).start()
    try:
        yield watch
    finally:
        watch.stop()
    if watch.violations:
        pytest.fail("locks taken out of order:\n" + "\n".join(watch.violations), pytrace=False)


TRACEBACK = b"Traceback (most recent call last)"


@pytest.fixture(autouse=True)
def no_tracebacks(app):
    """No response in any test shows a traceback (the error pages speak to people)."""
    leaked = []

    def check(sender, response, **extra):
        if not response.is_streamed and TRACEBACK in response.get_data():
            leaked.append(f"{response.status} {response.content_type}")

    request_finished.connect(check, app)
    yield
    request_finished.disconnect(check, app)
    assert not leaked, f"responses showed a traceback: {leaked}"


@pytest.fixture(autouse=True)
def fresh_rate_limits(app):
    """Rate limits are on, as in production; each test starts with none spent."""
    yield
    limiter.reset()


@pytest.fixture
def backend(app):
    """'postgresql' or 'sqlite': the backend this run is on."""
    return _db.engine.dialect.name


def csrf_token_from(html):
    match = CSRF_IN_PAGE.search(html)
    assert match, "page has no CSRF token in <body hx-headers>"
    return match.group(1)


class AuthActions:
    """Log in and out through the real forms, CSRF token included."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self):
        return csrf_token_from(self.client.get("/astrologers").get_data(as_text=True))

    def login(self, identifier, password=DEMO_PASSWORD, follow_redirects=False):
        token = csrf_token_from(self.client.get("/auth/login").get_data(as_text=True))
        return self.client.post(
            "/auth/login",
            data={"identifier": identifier, "password": password, "csrf_token": token},
            follow_redirects=follow_redirects,
        )

    def logout(self):
        return self.client.post("/auth/logout", data={"csrf_token": self.csrf_token()})


@pytest.fixture
def auth(client):
    """Each test gets a new client (cookie jar) and pytest-flask a new request
    context, so no login (or Flask-Login's user cached on g) outlives a test."""
    return AuthActions(client)


@pytest.fixture
def make_user(app):
    """make_user(email=..., type=UserType.USER, password=...) -> a committed user with profile and wallet."""
    counter = iter(range(1, 10_000))

    def make(
        name=None, email=None, phone=None, password=DEMO_PASSWORD, type=UserType.USER, verified=True, **astrologer
    ):
        n = next(counter)
        user = accounts.create_user(
            name=name or f"Person {n}",
            email=email or f"person{n}-{uuid.uuid4().hex[:6]}@example.com",
            phone=phone,
            password=password,
            type=type,
            astrologer=astrologer or None,
            email_verified=verified,  # an established account; tests/unit/test_account_recovery.py makes new ones
            phone_verified=verified,
        )
        _db.session.commit()
        return user

    return make


@pytest.fixture
def admin_client(app, make_user):
    """A client logged in as an admin (Boss Admin, boss@example.com)."""
    make_user(email="boss@example.com", type=UserType.ADMIN, name="Boss Admin")
    client = app.test_client()
    AuthActions(client).login("boss@example.com")
    return client


@pytest.fixture
def make_astrologer(make_user):
    """make_astrologer(rate=Decimal('20.00'), ...) -> an approved astrologer."""

    def make(rate=Decimal("20.00"), call_rate=None, **fields):
        fields.setdefault("is_approved", True)
        return make_user(
            type=UserType.ASTROLOGER,
            chat_rate_per_minute=rate,
            call_rate_per_minute=call_rate or rate,
            **fields,
        )

    return make


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """Tests marked `postgres` skip on SQLite (CI=true guarantees they run)."""
    if request.node.get_closest_marker("postgres") and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")


@pytest.fixture
def fund(app):
    """fund(user, '500.00') -> a completed top-up into the user's wallet, committed."""
    from webapp.services import wallet

    def add(user, amount="500.00", key=None):
        transaction = topups.deposit(
            wallet.wallet_of(user.id).id, Decimal(amount), idempotency_key=key or f"topup:test:{uuid.uuid4().hex}"
        )
        _db.session.commit()
        return transaction

    return add


@pytest.fixture
def earn(app, make_user, make_session):
    """earn(astrologer, '700.00') -> the astrologer earns exactly that: a paying user's completed one-minute
    session at that rate with no commission, committed. Earnings are what an astrologer can withdraw."""
    from webapp.models import EndReason, SessionStatus, utcnow
    from webapp.services import wallet
    from webapp.services.billing import charges

    def add(astrologer, amount, now=None):
        payer = make_user()
        topups.deposit(wallet.wallet_of(payer.id).id, Decimal(amount), idempotency_key=f"topup:test:{uuid.uuid4().hex}")
        _db.session.commit()
        session = make_session(payer, astrologer, rate=Decimal(amount))
        charges.charge_minute(session.id, 1, commission_percent=0, now=now)
        _db.session.commit()
        session.status, session.ended_at = SessionStatus.COMPLETED, now or utcnow()
        session.end_reason = EndReason.USER_ENDED
        _db.session.commit()
        return session

    return add


@pytest.fixture
def make_session(app):
    """make_session(user, astrologer, rate=Decimal('10.00'), status=SessionStatus.ACTIVE) -> a committed session."""
    from webapp.models import ConsultationSession, SessionStatus, utcnow

    def make(user, astrologer, rate=Decimal("10.00"), status=SessionStatus.ACTIVE, **fields):
        now = utcnow()
        session = ConsultationSession(
            user_id=user.id,
            astrologer_id=astrologer.id,
            status=status,
            rate_per_minute=rate,
            requested_at=now,
            started_at=now if status != SessionStatus.WAITING else None,
            **fields,
        )
        _db.session.add(session)
        _db.session.commit()
        return session

    return make


@pytest.fixture
def events():
    """Every notifier event delivered (after commit) during the test, in order."""
    from webapp.services.notifications import notifier

    delivered = []
    remove = notifier.add_sink(delivered.append)
    yield delivered
    remove()


@pytest.fixture
def queued(monkeypatch):
    """The ids of the deliveries queued after each commit, not run: the test runs them (jobs.perform)."""
    from webapp.services import jobs

    ids = []
    monkeypatch.setattr(jobs, "dispatch", lambda app, delivery_ids: ids.extend(delivery_ids))
    return ids


@pytest.fixture
def count_queries(app):
    """with count_queries() as counted: ... -> counted.n is the number of SQL statements run inside."""
    import contextlib

    @contextlib.contextmanager
    def counting():
        class Counted:
            n = 0

        def before(*args, **kwargs):
            Counted.n += 1

        sa.event.listen(_db.engine, "before_cursor_execute", before)
        try:
            yield Counted
        finally:
            sa.event.remove(_db.engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def consult(app, make_user, make_astrologer, fund):
    """Helpers for lifecycle tests: available astrologers, funded users, and the service calls."""
    from types import SimpleNamespace

    from webapp.models import Availability
    from webapp.services.users import accounts

    accounts.platform_user()
    _db.session.commit()

    def astrologer(capacity=1, rate=Decimal("10.00"), **fields):
        fields.setdefault("chat_availability", Availability.AVAILABLE)
        return make_astrologer(rate=rate, max_concurrent_sessions=capacity, **fields)

    def user(balance="500.00", **fields):
        person = make_user(**fields)
        if balance:
            fund(person, balance)
        return person

    def request(person, astrologer, session_type="chat", now=None):
        session = lifecycle.request(person.id, astrologer.id, session_type, now=now)
        _db.session.commit()
        return session

    def accept(session, now=None):
        lifecycle.accept(session.id, session.astrologer_id, now=now)
        _db.session.commit()
        _db.session.refresh(session)
        return session

    def reply(session, now=None):
        """The astrologer answers (a first message): a session they never answered in is refunded when it ends."""
        from webapp.services.messaging import chat

        chat.send(session.id, session.astrologer_id, f"reply-{uuid.uuid4().hex[:8]}", "Namaste, tell me more.", now=now)
        _db.session.commit()
        return session

    return SimpleNamespace(astrologer=astrologer, user=user, request=request, accept=accept, reply=reply)


@pytest.fixture
def server(database_url, tmp_path):
    """`python wsgi.py` (eventlet) on a free port against the test database (tests/integration/live.py)."""
    from .integration.live import Server

    live = Server(database_url, tmp_path / "server.log")
    live.start()
    yield live
    if live.process.poll() is None:
        live.kill()
