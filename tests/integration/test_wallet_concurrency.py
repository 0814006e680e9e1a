"""32 threads hammer one wallet at once: deposits, minute charges and holds, some with repeated keys.

Proves on PostgreSQL that row locks serialize the money: no negative balance,
no lost update, one row per idempotency key, and a clean ledger.
"""

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import BillingKind, BillingStatus, BillingTransaction, ConsultationSession
from webapp.services import wallet
from webapp.services.billing import charges
from webapp.services.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    NothingToRefund,
    NotWithdrawable,
    RefundTooLarge,
)
from webapp.services.money import earnings, holds, ledger_checker, payouts, refunds, topups
from webapp.services.users import accounts

pytestmark = pytest.mark.postgres

THREADS = 32
ROUNDS = 4


def _hammer(app, operation, refused):
    """Run operation(n, round) ROUNDS times in each of THREADS threads started together, each call
    committed on its own; a refusal in `refused` rolls back, anything else (a deadlock, a lost update
    caught by a CHECK) is a failure. Asserts no thread got stuck and nothing failed."""
    start = threading.Barrier(THREADS)
    failures = []

    def worker(n):
        with app.app_context():
            start.wait()
            for round_ in range(ROUNDS):
                try:
                    operation(n, round_)
                    db.session.commit()
                except refused:
                    db.session.rollback()
                except Exception as error:
                    db.session.rollback()
                    failures.append(repr(error))
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    assert failures == []


def test_concurrent_operations_on_one_wallet_keep_the_ledger_exact(app, make_user, make_astrologer, fund, make_session):
    accounts.platform_user()
    db.session.commit()
    user, astrologer = make_user(), make_astrologer()
    fund(user, "100.00", key="topup:test:initial")
    session_id = make_session(user, astrologer, rate=Decimal("3.00")).id
    wallet_id = wallet.wallet_of(user.id).id

    def operation(n, round_):
        kind = (n + round_) % 4
        if kind == 0:  # repeated keys: 4 distinct deposits, each attempted 8 times
            topups.deposit(wallet_id, "10.00", idempotency_key=f"topup:race:{n % 4}")
        elif kind == 1:  # each minute 1..16 attempted by two threads
            charges.charge_minute(session_id, (n * ROUNDS + round_) % 16 + 1, commission_percent=30)
        elif kind == 2:  # repeated hold keys
            holds.hold(wallet_id, "7.00", idempotency_key=f"hold:race:{n % 6}")
        else:  # distinct minutes
            charges.charge_minute(session_id, 100 + n * ROUNDS + round_, commission_percent=30)

    _hammer(app, operation, InsufficientBalance)

    db.session.expire_all()
    rows = db.session.query(BillingTransaction).filter_by(wallet_id=wallet_id).all()
    keys = [row.idempotency_key for row in rows]
    assert len(keys) == len(set(keys)), "one row per idempotency key"
    assert len([k for k in keys if k.startswith("topup:race:")]) == 4
    assert len([k for k in keys if k.startswith("hold:race:")]) <= 6

    def total(type):
        return sum((r.amount for r in rows if r.kind == type and r.status == BillingStatus.COMPLETED), Decimal("0.00"))

    user_wallet = wallet.wallet_of(user.id)
    # No lost update: the balance is exactly what the ledger rows say happened.
    assert user_wallet.current_balance == total(BillingKind.TOPUP) - total(
        BillingKind.CHARGE
    )  # 100.00 initial included
    assert user_wallet.held_balance == total(BillingKind.HOLD)
    assert user_wallet.available_balance >= 0 and user_wallet.held_balance >= 0
    session = db.session.get(ConsultationSession, session_id)
    assert session.billed_minutes == len([r for r in rows if r.kind == BillingKind.CHARGE])
    report = ledger_checker.verify()
    assert report.ok, "\n".join(report.lines())


def test_payout_requests_racing_earnings_and_refunds_never_pay_out_more_than_was_earned(
    app, make_user, make_astrologer, fund, make_session
):
    """One astrologer: threads earn minutes, refund sessions and request payouts at once. Under the
    wallet lock a payout sees every earning and reversal before it, so paid + pending <= earned."""
    accounts.platform_user()
    db.session.commit()
    astrologer = make_astrologer()
    sessions = []
    for _ in range(4):
        payer = make_user()
        fund(payer, "1000.00")
        sessions.append(make_session(payer, astrologer, rate=Decimal("10.00")).id)
    astrologer_wallet = wallet.wallet_of(astrologer.id).id

    def operation(n, round_):
        kind = (n + round_) % 4
        if kind in (0, 1):  # minutes earned on the four sessions
            charges.charge_minute(sessions[n % 4], n * ROUNDS + round_ + 1, commission_percent=30)
        elif kind == 2:  # payouts of 3.50, some keys repeated
            payouts.request_payout(astrologer_wallet, "3.50", payout_id=f"race-{n % 12}")
        else:  # a refund of 2.00 on one of the sessions
            session_id = sessions[n % 4]
            refunds.refund(session_id, number=refunds.next_refund_number(session_id), amount="2.00", reason="race")

    # Two refunds may take the same number: one wins (IntegrityError for the other, nothing written).
    refused = (InsufficientBalance, NotWithdrawable, NothingToRefund, RefundTooLarge, IdempotencyConflict,
               sa.exc.IntegrityError)  # fmt: skip
    _hammer(app, operation, refused)

    db.session.expire_all()
    position = earnings.position_of(astrologer.id)
    assert position.paid + position.pending <= position.net
    assert position.pending == Decimal("3.50") * len(
        {row.idempotency_key for row in db.session.query(BillingTransaction).filter_by(kind=BillingKind.PAYOUT)}
    )
    report = ledger_checker.verify()
    assert report.ok, "\n".join(report.lines())
