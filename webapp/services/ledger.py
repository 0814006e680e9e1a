"""Ledger verification: the invariants of DESIGN.md, checked over the whole database.

Read-only. `verify()` returns a report; `flask ledger verify` prints it and
exits 1 on any breach; the admin console shows it. Each breach names the
wallet or session at fault. Sums are computed by the database, compared in
Decimal here.
"""

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from .. import metrics
from ..extensions import db
from ..models import (
    BillingStatus,
    BillingTransaction,
    BillingType,
    ConsultationSession,
    UserProfile,
    Wallet,
    WalletEntryType,
    WalletTransaction,
)

ZERO = Decimal("0.00")


@dataclass
class Check:
    number: int
    title: str
    breaches: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.breaches


@dataclass
class LedgerReport:
    checks: list

    @property
    def ok(self):
        return all(check.ok for check in self.checks)

    @property
    def breach_count(self):
        return sum(len(check.breaches) for check in self.checks)

    def lines(self):
        for check in self.checks:
            yield f"[{'ok' if check.ok else 'BREACH'}] {check.number}. {check.title}"
            for breach in check.breaches:
                yield f"    - {breach}"
        yield "Ledger is consistent." if self.ok else f"{self.breach_count} breach(es) found."


def verify():
    """Run every invariant check; never writes."""
    report = LedgerReport(
        [
            _wallet_balances(),
            _wallet_entries(),
            _sessions(),
            _conservation(),
            _profile_mirror(),
            _held_amounts(),
        ]
    )
    if not report.ok:
        metrics.LEDGER_VERIFY_FAILURES.inc()
    return report


def _signed_entry_amount():
    return sa.case(
        (WalletTransaction.type == WalletEntryType.CREDIT, WalletTransaction.amount), else_=-WalletTransaction.amount
    )


def _wallet_balances():
    check = Check(1, "Every wallet: current = available + held, none negative")
    for wallet in db.session.execute(db.select(Wallet)).scalars():
        balances = (wallet.current_balance, wallet.available_balance, wallet.held_balance)
        if wallet.current_balance != wallet.available_balance + wallet.held_balance or min(balances) < 0:
            check.breaches.append(
                f"wallet {wallet.id}: current {wallet.current_balance} available {wallet.available_balance} "
                f"held {wallet.held_balance}"
            )
    return check


def _wallet_entries():
    check = Check(2, "Every wallet: current = sum of its entries, and each entry continues the previous one")
    sums = dict(
        db.session.execute(
            db.select(WalletTransaction.wallet_id, db.func.sum(_signed_entry_amount())).group_by(
                WalletTransaction.wallet_id
            )
        ).all()
    )
    for wallet_id, current in db.session.execute(db.select(Wallet.id, Wallet.current_balance)).all():
        total = sums.get(wallet_id) or ZERO
        if total != current:
            check.breaches.append(f"wallet {wallet_id}: current {current} but its entries sum to {total}")
    previous = (
        db.select(
            WalletTransaction.wallet_id,
            WalletTransaction.seq,
            WalletTransaction.balance_before,
            db.func.lag(WalletTransaction.balance_after)
            .over(partition_by=WalletTransaction.wallet_id, order_by=WalletTransaction.seq)
            .label("previous_after"),
            db.func.lag(WalletTransaction.seq)
            .over(partition_by=WalletTransaction.wallet_id, order_by=WalletTransaction.seq)
            .label("previous_seq"),
        )
    ).subquery()
    broken = db.session.execute(
        db.select(previous).where(
            sa.or_(
                sa.and_(previous.c.previous_seq.is_(None), sa.or_(previous.c.seq != 1, previous.c.balance_before != 0)),
                sa.and_(
                    previous.c.previous_seq.is_not(None),
                    sa.or_(
                        previous.c.seq != previous.c.previous_seq + 1,
                        previous.c.balance_before != previous.c.previous_after,
                    ),
                ),
            )
        )
    ).all()
    for row in broken:
        check.breaches.append(
            f"wallet {row.wallet_id}: entry {row.seq} starts at {row.balance_before}, "
            f"the entry before it ({row.previous_seq}) ended at {row.previous_after}"
        )
    return check


def _sessions():
    check = Check(3, "Every session: debits = credits + commission, total_cost = debits - refunds, minutes = debits")
    amount = BillingTransaction.amount

    def total(type):
        return db.func.coalesce(db.func.sum(sa.case((BillingTransaction.type == type, amount), else_=None)), 0)

    sums = (
        db.select(
            BillingTransaction.session_id,
            total(BillingType.CHARGE).label("charges"),
            total(BillingType.EARNING).label("earnings"),
            total(BillingType.COMMISSION).label("commissions"),
            total(BillingType.REFUND).label("refunds"),
            total(BillingType.REVERSAL).label("reversals"),
            db.func.count(sa.case((BillingTransaction.type == BillingType.CHARGE, 1), else_=None)).label("minutes"),
        )
        .where(BillingTransaction.session_id.is_not(None), BillingTransaction.status == BillingStatus.COMPLETED)
        .group_by(BillingTransaction.session_id)
        .subquery()
    )
    rows = db.session.execute(
        db.select(
            ConsultationSession.id, ConsultationSession.total_cost, ConsultationSession.billed_minutes, sums
        ).outerjoin(sums, sums.c.session_id == ConsultationSession.id)
    ).all()
    for row in rows:
        charges, earnings, commissions, refunds, reversals = (
            _money(row.charges),
            _money(row.earnings),
            _money(row.commissions),
            _money(row.refunds),
            _money(row.reversals),
        )
        problems = []
        if charges != earnings + commissions:
            problems.append(f"debits {charges} != credits {earnings} + commission {commissions}")
        if refunds != reversals:
            problems.append(f"refunds {refunds} != reversals {reversals}")
        if row.total_cost != charges - refunds:
            problems.append(f"total_cost {row.total_cost} != debits {charges} - refunds {refunds}")
        if row.billed_minutes != (row.minutes or 0):
            problems.append(f"billed_minutes {row.billed_minutes} != {row.minutes or 0} minute debits")
        if problems:
            check.breaches.append(f"session {row.id}: " + "; ".join(problems))
    return check


def _money(value):
    """Aggregates of Money columns come back as Decimal, except a bare 0 from COALESCE."""
    return value if isinstance(value, Decimal) else Decimal(value or 0).quantize(ZERO)


def _completed_sum(type):
    return (
        db.session.execute(
            db.select(db.func.sum(BillingTransaction.amount)).where(
                BillingTransaction.type == type, BillingTransaction.status == BillingStatus.COMPLETED
            )
        ).scalar()
        or ZERO
    )


def _conservation():
    check = Check(4, "Money is conserved: all wallets = completed top-ups - completed payouts")
    wallets = db.session.execute(db.select(db.func.sum(Wallet.current_balance))).scalar() or ZERO
    topups, payouts = _completed_sum(BillingType.TOPUP), _completed_sum(BillingType.PAYOUT)
    if wallets != topups - payouts:
        check.breaches.append(f"wallets hold {wallets}, but top-ups {topups} - payouts {payouts} = {topups - payouts}")
    return check


def _profile_mirror():
    check = Check(5, "Every user profile mirrors its wallet's current balance")
    rows = db.session.execute(
        db.select(Wallet.id, Wallet.user_id, Wallet.current_balance, UserProfile.current_balance.label("mirror")).join(
            UserProfile, UserProfile.user_id == Wallet.user_id
        )
    ).all()
    for row in rows:
        if row.current_balance != row.mirror:
            check.breaches.append(
                f"wallet {row.id} (user {row.user_id}): current {row.current_balance}, profile says {row.mirror}"
            )
    return check


def _held_amounts():
    check = Check(6, "Every wallet: held = open holds + pending payouts")
    amount = BillingTransaction.amount
    signed = sa.case(
        (
            sa.and_(BillingTransaction.type == BillingType.HOLD, BillingTransaction.status == BillingStatus.COMPLETED),
            amount,
        ),
        (BillingTransaction.type == BillingType.RELEASE, -amount),
        (
            sa.and_(BillingTransaction.type == BillingType.PAYOUT, BillingTransaction.status == BillingStatus.PENDING),
            amount,
        ),
        else_=None,
    )
    expected = dict(
        db.session.execute(
            db.select(BillingTransaction.wallet_id, db.func.sum(signed)).group_by(BillingTransaction.wallet_id)
        ).all()
    )
    for wallet_id, held in db.session.execute(db.select(Wallet.id, Wallet.held_balance)).all():
        should = expected.get(wallet_id) or ZERO
        if held != should:
            check.breaches.append(f"wallet {wallet_id}: held {held}, but open holds and pending payouts are {should}")
    return check
