"""Migration 0008 on a database that holds data: the services write a little of everything at head,
downgrade takes it to 0007 (where the old columns hold what the old code wrote), upgrade brings it
back, and the ledger verifies at every step. Everything 0007 can hold survives the round trip
unchanged; what only 0008 can say (LOST below) is all that goes."""

import json
import os
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db
from webapp.models import (
    AstrologerProfile,
    Availability,
    BillingKind,
    BillingTransaction,
    InvoiceCounter,
    TaxInvoice,
    UserType,
    utcnow,
)
from webapp.services import periodic, wallet
from webapp.services.admin import actions as admin
from webapp.services.billing import minutes
from webapp.services.consultations import lifecycle, ratings
from webapp.services.messaging import chat
from webapp.services.money import ledger_checker, payments, payouts, topups
from webapp.services.users import accounts, user_sync

from ..conftest import _postgres_database

#: (table, column): facts that only the 0008 schema can hold, so a downgrade drops them.
LOST = {
    ("messages", "metadata"),  # masking and platform-line kinds
    ("messages", "delivered_at"),  # a message delivered but not read
    ("messages", "updated_at"),  # moved by a delivery receipt
    ("messages", "visible_to_id"),  # 0011: a line for one participant (below 0011 everyone saw it)
    ("consultation_sessions", "session_metadata"),  # end details beyond reason and by, a call's media
    ("consultation_sessions", "user_rating"),
    ("user_profiles", "bio"),
    ("user_profiles", "average_rating"),  # the users' ratings by astrologers go with user_rating
    ("user_profiles", "total_ratings"),
    ("billing_transactions", "payment_method"),  # the method a top-up was paid with
    ("astrologer_profiles", "last_active_at"),  # dashboard visits; 0008 rebuilds it from sessions
    ("user_profiles", "birth_latitude"),  # 0014: where the birth place is (below 0014 only its name)
    ("user_profiles", "birth_longitude"),
    ("user_profiles", "birth_time_zone"),
    ("users", "email_verified_at"),  # 0024: when an address or number was proven (a synced account's is
    ("users", "phone_verified_at"),  # taken to be its last change when 0024 runs again)
    ("login_sessions", "last_seen_at"),  # 0024: a device's last request
}
#: (table, column): keys of a JSON value that only a later schema can hold (0020: the safety review's counts).
LOST_KEYS = {("astrologer_profiles", "performance_metrics"): {"safety_flags", "safety_flags_confirmed"}}
TABLES = (
    "users", "user_profiles", "astrologer_profiles", "consultation_sessions", "messages", "session_participants",
    "wallets", "billing_transactions", "wallet_transactions",
)  # fmt: skip


@pytest.fixture
def scratch():
    """An app on a database of its own: the round trip drops columns the suite's database needs."""
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if admin_url:
        url, drop = _postgres_database(admin_url)
    else:
        import tempfile

        folder = tempfile.mkdtemp()
        url, drop = f"sqlite:///{folder}/round-trip.db", lambda: None
    app = create_app(TestConfig(url))
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()
    drop()


def _as_before_invoices():
    """Top-ups as they were before 0025: no invoice and no price in their details. Invoices are documents
    the law keeps, so 0025's downgrade refuses while any exist (tested below)."""
    db.session.query(TaxInvoice).delete()
    db.session.query(InvoiceCounter).delete()
    table = BillingTransaction.__table__
    for topup in db.session.query(BillingTransaction).filter_by(kind=BillingKind.TOPUP):
        kept = {key: value for key, value in topup.details.items() if key in ("provider", "order_id")}
        db.session.execute(
            table.update().where(table.c.id == topup.id).values(details=kept, updated_at=table.c.updated_at)
        )


def test_0025_downgrade_refuses_while_invoices_exist(scratch):
    user = accounts.create_user(name="Invoiced", email="invoiced@example.com")
    _, checkout = payments.start_topup(user.id, "100")
    payments.demo_checkout(checkout.order_id, "pay", user.id)
    db.session.commit()
    with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's refusal and exits
        downgrade(revision="0024")
    assert db.session.query(TaxInvoice).count() == 1


def _history(app):
    """A user's consultations (paid and rated, cancelled, unanswered and refunded), top-ups that
    succeeded, failed and wait, an astrologer's payout, read and masked messages."""
    accounts.platform_user()
    user = accounts.create_user(name="Round Trip", email="round@example.com", phone="+919811111111")
    astrologer = accounts.create_user(
        name="Acharya Round",
        email="acharya@example.com",
        type=UserType.ASTROLOGER,
        astrologer=dict(
            chat_rate_per_minute=Decimal("10.00"), is_approved=True, chat_availability=Availability.AVAILABLE
        ),
    )
    user_sync.upsert({"external_id": "ext-round", "email": "synced@example.com", "tier": "gold"})
    db.session.commit()
    topups.deposit(
        wallet.wallet_of(user.id).id, "500", idempotency_key="topup:test:round", external_transaction_id="r1"
    )
    # Without tax: a tax leg (0025) is a money movement no earlier schema can hold, so it refuses a downgrade.
    app.config["TOPUP_TAX_PERCENT"] = Decimal(0)
    for outcome in ("pay", "fail"):
        _, checkout = payments.start_topup(user.id, "100")
        payments.demo_checkout(checkout.order_id, outcome, user.id, method="card")
    payments.start_topup(user.id, "200")  # left pending
    _as_before_invoices()
    db.session.commit()
    accounts.update_details(
        user.id, birth_date=None, birth_time=None, birth_place="Pune, India", bio="Career", language="Hindi"
    )

    t0 = utcnow().replace(microsecond=0) - timedelta(hours=2)
    minute = minutes.minute_length()
    paid = lifecycle.request(user.id, astrologer.id, now=t0)
    lifecycle.accept(paid.id, astrologer.id, now=t0)
    chat.send(paid.id, astrologer.id, "a1", "Namaste, mail me at guru@example.com", now=t0 + timedelta(seconds=20))
    chat.send(paid.id, user.id, "u1", "Thank you", now=t0 + timedelta(seconds=40))
    chat.mark_read(paid.id, user.id, 10, now=t0 + timedelta(seconds=50))
    chat.mark_delivered(paid.id, astrologer.id, 10, now=t0 + timedelta(seconds=55))  # received, never read
    for person in (user, astrologer):
        chat.connected(paid.id, person.id, now=t0 + minute)
    db.session.commit()
    periodic.run_due(now=t0 + minute)
    lifecycle.end(paid.id, by_user_id=user.id, now=t0 + minute * 1.5)
    ratings.rate(paid.id, user.id, 4, "Clear", now=t0 + minute * 2)
    ratings.rate_user(paid.id, astrologer.id, 5, now=t0 + minute * 2)
    cancelled = lifecycle.request(user.id, astrologer.id, now=t0 + minute * 3)
    lifecycle.cancel(cancelled.id, user.id, now=t0 + minute * 4)
    silent = lifecycle.request(user.id, astrologer.id, now=t0 + minute * 5)
    lifecycle.accept(silent.id, astrologer.id, now=t0 + minute * 5)
    db.session.commit()
    periodic.run_due(now=t0 + minute * 5 + timedelta(seconds=app.config["NO_REPLY_SECONDS"] + 1))
    topups.deposit(
        wallet.wallet_of(astrologer.id).id, "1000", idempotency_key="topup:test:astro-round"
    )  # not withdrawable
    payout = payouts.request_for(astrologer.id, "4.00", payout_id="00000000-0000-0000-0000-000000000001")
    boss = accounts.create_user(name="Boss", email="boss@example.com", type=UserType.ADMIN)
    admin.approve_payout(payout.id, admin_id=boss.id, reference="UTR123")
    payouts.request_for(astrologer.id, "2.00", payout_id="00000000-0000-0000-0000-000000000002")  # of 7.00 earned
    db.session.commit()


def _rows():
    """{table: {id: {column: value}}} of the nine seed tables, as the database holds them."""
    snapshot = {}
    with db.engine.connect() as connection:
        for table in TABLES:
            result = connection.execute(sa.text(f"SELECT * FROM {table}")).mappings().all()
            snapshot[table] = {str(row["id"]): dict(row) for row in result}
    return snapshot


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _same(before, after):
    """Equal values; JSON held as text (SQLite) compares by meaning, not spacing."""
    if isinstance(before, str) and isinstance(after, str) and before[:1] in "{[" and after[:1] in "{[":
        return json.loads(before) == json.loads(after)
    return before == after


def _clean(app):
    db.session.remove()
    report = ledger_checker.verify()
    db.session.remove()  # no transaction left open: the migration's ALTERs would wait on its locks
    assert report.ok, "\n".join(report.lines())


def _old(sql):
    with db.engine.connect() as connection:
        return connection.execute(sa.text(sql)).all()


def test_0008_keeps_every_fact_through_a_downgrade_and_an_upgrade(scratch):
    _history(scratch)
    _clean(scratch)
    before = _rows()

    downgrade(revision="0007")
    sqlite = db.engine.dialect.name == "sqlite"
    scale = 100 if sqlite else 1
    ((recharged, spent, sync, metadata, language),) = _old(
        "SELECT p.total_recharged, p.total_spent, p.sync_status, p.sync_metadata, p.preferred_language"
        " FROM user_profiles p JOIN users u ON u.id = p.user_id WHERE u.email = 'round@example.com'"
    )
    # What the old code kept: top-ups in, charges less refunds out (two paid minutes; the silent one came back).
    assert (Decimal(recharged) / scale, Decimal(spent) / scale) == (Decimal("600"), Decimal("20"))
    assert (sync, language) == ("local", "Hindi") and metadata in ({}, "{}")
    ((rating,),) = _old("SELECT rating FROM consultation_sessions WHERE rating IS NOT NULL")
    assert rating == 4
    assert {r[0] for r in _old("SELECT reference_id FROM billing_transactions WHERE type = 'topup'")} >= {"r1"}

    upgrade()
    _clean(scratch)
    after = _rows()
    for table, rows in before.items():
        assert set(after[table]) == set(rows), f"{table}: rows came or went"
        for row_id, row in rows.items():
            for column, value in row.items():
                if (table, column) in LOST:
                    continue
                now = after[table][row_id][column]
                if (table, column) in LOST_KEYS and value is not None:
                    value = {k: v for k, v in _json(value).items() if k not in LOST_KEYS[(table, column)]}
                    now = _json(now)
                assert _same(value, now), f"{table}.{column} of {row_id}: {value!r} became {now!r}"
    ended = [row["session_metadata"] for row in after["consultation_sessions"].values() if row["session_metadata"]]
    assert len(ended) == 3 and all("reason" in (m if isinstance(m, dict) else json.loads(m))["end"] for m in ended)


def test_0019_opens_video_to_existing_astrologers_at_their_call_rate_and_offline(scratch):
    astrologer = accounts.create_user(
        name="Acharya Video",
        email="video@example.com",
        type=UserType.ASTROLOGER,
        astrologer=dict(
            chat_rate_per_minute=Decimal("10.00"),
            call_rate_per_minute=Decimal("30.00"),
            video_rate_per_minute=Decimal("50.00"),
            video_availability=Availability.AVAILABLE,
        ),
    )
    db.session.commit()
    astrologer_id = astrologer.id
    db.session.remove()
    downgrade(revision="0018")
    assert not {"video_rate_per_minute", "video_availability"} & {
        column["name"] for column in sa.inspect(db.engine).get_columns("astrologer_profiles")
    }
    upgrade()
    db.session.remove()
    profile = db.session.execute(db.select(AstrologerProfile).filter_by(astrologer_id=astrologer_id)).scalar_one()
    assert profile.video_rate_per_minute == Decimal("30.00")  # an astrologer never priced video: the call rate
    assert profile.video_availability == Availability.OFFLINE  # and closed until they open it
