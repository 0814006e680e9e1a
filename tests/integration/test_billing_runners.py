"""Exactly once, proven on PostgreSQL: four runners at once over 300 active sessions for a simulated
ten minutes, with random extra ticks and one runner killed in the middle of a batch."""

import random
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import (
    BillingKind,
    BillingTransaction,
    ConsultationSession,
    SessionParticipant,
    SessionStatus,
    utcnow,
)
from webapp.services import periodic
from webapp.services.billing import _batch as batch
from webapp.services.billing import due
from webapp.services.money import ledger_checker

pytestmark = pytest.mark.postgres

SESSIONS = 300
RUNNERS = 4
MINUTES = 10


class Killed(BaseException):
    """A runner dying mid-batch (not an Exception, so nothing inside the engine catches it)."""


def test_four_runners_charge_every_minute_exactly_once(app, consult, monkeypatch):
    rng = random.Random(20261125)
    minute = timedelta(seconds=app.config["BILLING_MINUTE_SECONDS"])
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=2)
    astrologers = [consult.astrologer(capacity=10, rate=Decimal("10.00")) for _ in range(SESSIONS // 10)]
    for n in range(SESSIONS):
        consult.accept(consult.request(consult.user(), astrologers[n // 10], now=t0), now=t0)
    db.session.execute(sa.update(ConsultationSession).values(astrologer_replied_at=t0))
    db.session.commit()

    # The clock: every minute boundary, plus random extra ticks between them.
    ticks = sorted(
        {k * minute for k in range(1, MINUTES + 1)}
        | {timedelta(seconds=rng.randint(1, MINUTES * 60)) for _ in range(12)}
    )
    doomed = {"tick": ticks[len(ticks) // 2], "after": 25}
    local = threading.local()
    per_session, set_based = due._charge_next, batch.charge_due_batch

    def charge_next(session_id, now):
        if getattr(local, "doomed", False):
            local.charged = getattr(local, "charged", 0) + 1
            if local.charged > doomed["after"]:
                raise Killed()
        return per_session(session_id, now)

    def charge_due_batch(now, **kwargs):
        charged = set_based(now, **kwargs)
        if getattr(local, "doomed", False) and charged:
            raise Killed()  # dies after writing a batch, before its commit
        return charged

    # Whichever path charges (set-based on PostgreSQL, per session elsewhere), one runner dies in it.
    monkeypatch.setattr(due, "_charge_next", charge_next)
    monkeypatch.setattr(batch, "charge_due_batch", charge_due_batch)
    failures = []

    def runner(index, now, barrier):
        local.doomed = index == 0 and now == t0 + doomed["tick"]
        local.charged = 0
        with app.app_context():
            try:
                barrier.wait()
                periodic.run_due(now)
            except Killed:
                pass  # the process died: its open transaction never commits
            except Exception as error:
                failures.append(repr(error))
            finally:
                db.session.remove()

    for offset in ticks:
        now = t0 + offset
        db.session.execute(sa.update(SessionParticipant).values(last_seen_at=now))  # everyone is still there
        db.session.commit()
        barrier = threading.Barrier(RUNNERS)
        threads = [threading.Thread(target=runner, args=(i, now, barrier)) for i in range(RUNNERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    db.session.expire_all()
    sessions = db.session.query(ConsultationSession).all()
    assert len(sessions) == SESSIONS
    assert {s.status for s in sessions} == {SessionStatus.ACTIVE}
    assert {s.billed_minutes for s in sessions} == {MINUTES + 1}  # minute 1 at acceptance, then one per boundary
    debits = (
        db.session.query(BillingTransaction.session_id, sa.func.count())
        .filter(BillingTransaction.kind == BillingKind.CHARGE)
        .group_by(BillingTransaction.session_id)
        .all()
    )
    assert {count for _, count in debits} == {MINUTES + 1}
    keys = db.session.query(
        sa.func.count(BillingTransaction.idempotency_key),
        sa.func.count(sa.distinct(BillingTransaction.idempotency_key)),
    ).one()
    assert keys[0] == keys[1]
    report = ledger_checker.verify()
    assert report.ok, "\n".join(report.lines())
