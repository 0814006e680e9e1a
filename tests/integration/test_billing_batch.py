"""The set-based charging path on PostgreSQL: the same rows, keys and totals as the per-session path."""

from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import BillingKind, BillingTransaction, WalletTransaction, utcnow
from webapp.services import periodic, wallet
from webapp.services.billing import _batch as batch
from webapp.services.money import holds, ledger_checker, topups

pytestmark = pytest.mark.postgres
D = Decimal


def _batch(now, app):
    return batch.charge_due_batch(
        now,
        limit=500,
        minute_seconds=app.config["BILLING_MINUTE_SECONDS"],
        grace_seconds=app.config["DOWNTIME_GRACE_SECONDS"],
        commission_percent=app.config["PLATFORM_COMMISSION_PERCENT"],
        free_first_minutes=app.config["FREE_FIRST_MINUTES"],
    )


def test_a_batch_charges_like_the_per_session_path(app, consult):
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    shared = consult.astrologer(capacity=2, rate=D("9.99"))
    other = consult.astrologer(capacity=2, rate=D("7.77"))
    poor = consult.user(balance="50.00")
    sessions = [
        consult.accept(consult.request(consult.user(), shared, now=t0), now=t0),
        consult.accept(consult.request(consult.user(), shared, now=t0), now=t0),
        consult.accept(consult.request(consult.user(), other, now=t0), now=t0),
        consult.accept(consult.request(poor, other, now=t0 + timedelta(seconds=1)), now=t0 + timedelta(seconds=1)),
    ]
    topups.deposit(wallet.wallet_of(poor.id).id, "1.00", idempotency_key="topup:test:poor")  # 41.00 after minute 1
    db.session.commit()
    now = t0 + timedelta(seconds=61)
    charges = _batch(now, app)
    db.session.commit()
    assert len(charges) == 4
    db.session.expire_all()
    for session in sessions:
        db.session.refresh(session)
        assert session.billed_minutes == 2
        assert session.next_charge_at == session.started_at + timedelta(seconds=120)
    keys = {k for (k,) in db.session.query(BillingTransaction.idempotency_key).filter(BillingTransaction.minute == 2)}
    assert f"session:{sessions[0].id}:minute:2:debit" in keys and f"session:{sessions[0].id}:minute:2:credit" in keys
    # The astrologer with two sessions got two chained entries in one batch.
    seqs = [
        (e.seq, e.balance_before, e.balance_after)
        for e in db.session.query(WalletTransaction)
        .filter_by(wallet_id=wallet.wallet_of(shared.id).id)
        .order_by(WalletTransaction.seq)
    ]
    assert [s for s, _, _ in seqs] == [1, 2, 3, 4]
    assert all(seqs[i][1] == seqs[i - 1][2] for i in range(1, 4))
    assert _batch(now, app) == []  # nothing is due twice
    report = ledger_checker.verify()
    assert report.ok, "\n".join(report.lines())


def test_what_a_batch_cannot_charge_falls_to_the_per_session_path(app, consult):
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    user = consult.user(balance="50.00")
    session = consult.accept(consult.request(user, consult.astrologer(rate=D("10.00")), now=t0), now=t0)
    holds.hold(wallet.wallet_of(user.id).id, "35.00", idempotency_key="drain")  # 5.00 left: minute 2 unpayable
    db.session.commit()
    assert _batch(t0 + timedelta(seconds=60), app) == []
    db.session.rollback()
    periodic.run_due(t0 + timedelta(seconds=60))
    db.session.refresh(session)
    assert session.end_reason.value == "insufficient_balance"
    assert db.session.query(BillingTransaction).filter_by(session_id=session.id, kind=BillingKind.CHARGE).count() == 1


def test_a_batch_tells_each_participant_after_its_commit_in_one_delivery(app, consult, events):
    from webapp.services.notifications import notifier

    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    astrologer = consult.astrologer(capacity=2, rate=D("10.00"))
    users = [consult.user(balance="100.00"), consult.user(balance="100.00")]
    sessions = [consult.accept(consult.request(u, astrologer, now=t0), now=t0) for u in users]
    db.session.commit()
    bulks = []
    remove = notifier.add_sink(lambda event: None, bulk=bulks.append)
    try:
        events.clear()
        charges = _batch(t0 + timedelta(seconds=61), app)
        assert len(charges) == 2 and events == [] and bulks == []  # nothing is heard before the commit
        from webapp.services.billing import session_bar

        assert session_bar.announce_batch_ticks(charges) == []  # 80.00 left: nobody is low
        db.session.commit()
    finally:
        remove()
    # One delivery for the balances and one for the ticks, not one per event.
    assert [len(bulk) for bulk in bulks] == [4, 4]  # two users, the astrologer, the platform; two ticks each
    ticks = [e for e in events if e.name == "billing_tick"]
    for user, session in zip(users, sessions, strict=True):
        mine = [e.payload for e in ticks if e.room == f"user:{user.id}"]
        assert mine == [
            {"session_id": str(session.id), "billed_minutes": 2, "total_cost": "20.00", "balance": "80.00",
             "minutes_left": 8}
        ]  # fmt: skip
    theirs = [e.payload for e in ticks if e.room == f"user:{astrologer.id}"]
    assert sorted(p["session_id"] for p in theirs) == sorted(str(s.id) for s in sessions)
    assert all(p["balance"] is None and p["minutes_left"] is None for p in theirs)  # never the user's money
    balances = {e.room: e.payload["available"] for e in events if e.name == "balance"}
    assert balances[f"user:{users[0].id}"] == "80.00"


def test_a_pass_whose_batches_stop_at_their_limit_leaves_the_rest_to_the_next_batches(app, consult, monkeypatch):
    """At a million sessions the batches of one pass stop at MAX_ROUNDS with more due: the pass must
    not then charge the rest one session at a time (hours, not seconds). It gives the per-session
    path one round, for the sessions due longest (those the batches leave), and the next pass goes on."""
    from webapp.services.billing import due

    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    astrologer = consult.astrologer(capacity=4, rate=D("10.00"))
    sessions = [consult.accept(consult.request(consult.user(), astrologer, now=t0), now=t0) for _ in range(4)]
    db.session.commit()
    monkeypatch.setattr(due, "SET_BATCH_SIZE", 1)
    monkeypatch.setattr(due, "MAX_ROUNDS", 2)
    monkeypatch.setattr(due, "BATCH_SIZE", 1)
    now = t0 + timedelta(seconds=61)
    assert periodic.run_due(now)["charged"] == 3  # two batches of one, then one round of one
    assert periodic.run_due(now)["charged"] == 1  # the next pass: the one left
    for session in sessions:
        db.session.refresh(session)
        assert session.billed_minutes == 2
    assert ledger_checker.verify().ok
