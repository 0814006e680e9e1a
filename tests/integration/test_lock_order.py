"""The lock order on PostgreSQL (webapp/services/locks.py): an astrologer's profile, then sessions, then wallets.

Ending a session locks its astrologer's profile, then the session. A charge or a refund writes the
profile's total_earnings, so it must take the profile before the session too; when it took the
session first, an End click during a billing pass deadlocked and the user got a 500 (seen in the
browser call journey). A top-up during a session writes a chat line into it, so it takes the session
before the wallet. Here one transaction holds what the other side of each race holds, and the work
runs beside it: it must wait or skip without holding what the other side needs next.
"""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import BillingTransaction, SessionParticipant, utcnow
from webapp.services import locks, periodic, wallet
from webapp.services.billing import charges, due
from webapp.services.consultations import end_rules, lifecycle
from webapp.services.messaging import chat
from webapp.services.money import ledger_checker, payments, refunds

pytestmark = pytest.mark.postgres


def _beside(app, work, reaching=None):
    """Run work() in its own thread, app context and transaction; returns (thread, result dict).

    With `reaching` (a table name), result["reached"] is set when the work first sends a statement
    that names the table: the point where it would wait for what this test's transaction holds.
    """
    result = {"reached": threading.Event()}

    def mark(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread() is thread and reaching and reaching in statement:
            result["reached"].set()

    def run():
        with app.app_context():
            try:
                result["value"] = work()
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                result["error"] = repr(error)
            finally:
                db.session.remove()
                sa.event.remove(db.engine, "before_cursor_execute", mark)

    thread = threading.Thread(target=run)
    sa.event.listen(db.engine, "before_cursor_execute", mark)
    thread.start()
    return thread, result


def _lock_is_free(take):
    """take() a lock within 2 s, as the other side of the race would; False on a lock timeout."""
    db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
    try:
        take()
        return True
    except sa.exc.OperationalError:
        return False


def _session_lock_is_free(session_id):
    """What `lifecycle.end` takes after the profile."""
    return _lock_is_free(lambda: locks.session(session_id))


@pytest.fixture
def live(app, consult):
    """An active session accepted an hour ago whose minute 2 is due; (session, now)."""
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    session = consult.accept(consult.request(consult.user(), consult.astrologer(), now=t0), now=t0)
    now = t0 + timedelta(seconds=61)
    db.session.execute(sa.update(SessionParticipant).values(last_seen_at=now))  # both still there
    db.session.commit()
    return session, now


def test_a_charge_waits_for_the_profile_without_holding_the_session(app, live):
    session, now = live
    locks.astrologer_profile(session.astrologer_id)  # what ending the session takes first
    thread, result = _beside(
        app,
        lambda: charges.charge_minute(session.id, 2, commission_percent=30, now=now).debit.minute,
        reaching="astrologer_profiles",
    )
    assert result["reached"].wait(timeout=10)
    assert _session_lock_is_free(session.id)  # the end can go on: no deadlock
    db.session.commit()
    thread.join(timeout=30)
    assert result.get("error") is None and result["value"] == 2  # charged once the profile was free


def test_a_refund_waits_for_the_profile_without_holding_the_session(app, live):
    session, now = live
    locks.astrologer_profile(session.astrologer_id)
    thread, result = _beside(
        app,
        lambda: refunds.refund(session.id, number=1, reason="goodwill", now=now).refund.amount,
        reaching="astrologer_profiles",
    )
    assert result["reached"].wait(timeout=10)
    assert _session_lock_is_free(session.id)
    db.session.commit()
    thread.join(timeout=30)
    assert result.get("error") is None and result["value"] == session.rate_per_minute


def test_a_billing_pass_skips_a_session_whose_profile_is_held_and_charges_it_next_pass(app, live):
    session, now = live
    locks.astrologer_profile(session.astrologer_id)
    thread, result = _beside(app, lambda: periodic.run_due(now))
    thread.join(timeout=10)
    assert not thread.is_alive(), "the billing pass waited for the profile while holding the session"
    assert result.get("error") is None and result["value"]["charged"] == 0
    assert _session_lock_is_free(session.id)
    db.session.commit()

    assert periodic.run_due(now)["charged"] == 1
    charges = db.session.query(BillingTransaction).filter_by(session_id=session.id, minute=2).count()
    assert charges == 3  # the user's debit, the astrologer's earning, the commission: once


def test_a_top_up_during_a_session_waits_for_the_session_before_taking_the_wallet(app, live):
    session, now = live
    _, checkout = payments.start_topup(session.user_id, "100.00", now=now)
    db.session.commit()
    locks.session_and_profile(session.id)  # what a billing pass holds before it locks the wallets
    thread, result = _beside(
        app,
        lambda: payments.demo_checkout(checkout.order_id, "pay", session.user_id, now=now)[1],
        reaching="consultation_sessions",
    )
    assert result["reached"].wait(timeout=10)
    user_wallet = wallet.wallet_of(session.user_id).id
    assert _lock_is_free(lambda: locks.wallets(user_wallet))  # the charge can go on: no deadlock
    db.session.commit()
    thread.join(timeout=30)
    assert result.get("error") is None and result["value"] is True  # paid once the session was free
    lines = [m.content for m in chat.history(session.id)]
    assert any(line.startswith("Top-up of") for line in lines)  # the chat heard it


def test_ending_during_a_billing_pass_never_deadlocks(app, consult):
    """The user's End click and the billing runner at the same instant, a few times over."""
    astrologer = consult.astrologer()
    for attempt in range(5):
        t0 = utcnow().replace(microsecond=0) - timedelta(hours=1, minutes=attempt)
        session = consult.accept(consult.request(consult.user(), astrologer, now=t0), now=t0)
        now = t0 + timedelta(seconds=61)
        db.session.execute(sa.update(SessionParticipant).values(last_seen_at=now))
        db.session.commit()
        barrier = threading.Barrier(2)

        def end(session_id=session.id, user_id=session.user_id, now=now, barrier=barrier):
            barrier.wait()
            return lifecycle.end(session_id, by_user_id=user_id, now=now)

        def bill(now=now, barrier=barrier):
            barrier.wait()
            return periodic.run_due(now)

        runs = [_beside(app, end), _beside(app, bill)]
        for thread, _ in runs:
            thread.join(timeout=30)
        assert [result.get("error") for _, result in runs] == [None, None], f"attempt {attempt}"
    report = ledger_checker.verify()
    assert report.ok, "\n".join(report.lines())


# ---------------------------------------------------------------- the watch every test runs under (tests/lock_order.py)


def test_the_watch_sees_the_batch_take_profiles_then_sessions_then_wallets(app, live, lock_order):
    session, now = live
    db.session.commit()
    lock_order.transactions.clear()
    charged, _ = due.charge_due(now, end=end_rules.end_for)
    assert charged == 1
    assert ("astrologer_profiles", "consultation_sessions", "wallets") in lock_order.transactions
    assert db.session.query(BillingTransaction).filter_by(session_id=session.id, minute=2).count() == 3


def test_the_watch_sees_the_per_session_path_in_the_same_order(app, live, lock_order, monkeypatch):
    session, now = live
    db.session.commit()
    monkeypatch.setattr(due, "_charge_in_batches", lambda now: (0, True))  # the path SQLite takes
    lock_order.transactions.clear()
    charged, _ = due.charge_due(now, end=end_rules.end_for)
    assert charged == 1
    (charge,) = lock_order.transactions  # one transaction: it re-locks what it holds, then goes on in order
    assert list(dict.fromkeys(charge)) == ["astrologer_profiles", "consultation_sessions", "wallets"]


def test_the_watch_fails_a_lock_taken_out_of_order(app, live, lock_order):
    session, _ = live
    locks.wallet(wallet.wallet_of(session.user_id).id)
    locks.astrologer_profile(session.astrologer_id)  # a profile after a wallet: the deadlock of the docstring
    db.session.rollback()
    assert len(lock_order.violations) == 1
    assert "astrologer_profiles locked after wallets" in lock_order.violations[0]
    lock_order.violations.clear()  # seen: this test is about the watch


def test_the_watch_forgets_the_order_when_a_transaction_ends(app, live, lock_order):
    session, _ = live
    locks.wallet(wallet.wallet_of(session.user_id).id)
    db.session.commit()
    locks.astrologer_profile(session.astrologer_id)  # a new transaction may start at rank 1
    db.session.commit()
    assert lock_order.violations == []
