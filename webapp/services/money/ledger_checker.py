"""Ledger verification: the invariants of DESIGN.md, checked over the whole database.

`verify()` is read-only and returns a report; `record()` also stores its result
(ledger_checks): `flask ledger verify` prints it and exits 1 on any breach, the
periodic loop runs it every LEDGER_VERIFY_SECONDS, an admin runs it on demand,
and the admin overview shows the last result. Each breach names the
wallet or session at fault. Sums are computed by the database, compared in
Decimal here.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa

from ... import metrics
from ...extensions import db
from ...models import (
    BILLING_TRANSACTION_TYPES,
    WALLET_ENTRY_TYPES,
    BillingKind,
    BillingStatus,
    BillingTransaction,
    ConsultationSession,
    LedgerCheck,
    Payout,
    PayoutStatus,
    UserProfile,
    Wallet,
    WalletDirection,
    WalletTransaction,
    utcnow,
)
from ..messaging.system_lines import N_
from . import _invoice_checks
from .amounts import ZERO, as_money


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
            _seed_types(),
            _payouts_within_earnings(),
            _paid_topups(),
        ]
    )
    if not report.ok:
        metrics.LEDGER_VERIFY_FAILURES.inc()
    return report


def _signed_entry_amount():
    return sa.case(
        (WalletTransaction.direction == WalletDirection.CREDIT, WalletTransaction.amount),
        else_=-WalletTransaction.amount,
    )


def _wallet_balances():
    check = Check(1, N_("Every wallet: current = available + held, none negative"))
    for wallet in db.session.execute(db.select(Wallet)).scalars():
        balances = (wallet.current_balance, wallet.available_balance, wallet.held_balance)
        if wallet.current_balance != wallet.available_balance + wallet.held_balance or min(balances) < 0:
            check.breaches.append(
                f"wallet {wallet.id}: current {wallet.current_balance} available {wallet.available_balance} "
                f"held {wallet.held_balance}"
            )
    return check


def _wallet_entries():
    check = Check(2, N_("Every wallet: current = sum of its entries, and each entry continues the previous one"))
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
    check = Check(
        3, N_("Every session: debits = credits + commission, total_cost = debits - refunds, minutes = debits")
    )
    amount = BillingTransaction.amount

    def total(type):
        return db.func.coalesce(db.func.sum(sa.case((BillingTransaction.kind == type, amount), else_=None)), 0)

    sums = (
        db.select(
            BillingTransaction.session_id,
            total(BillingKind.CHARGE).label("charges"),
            total(BillingKind.EARNING).label("earnings"),
            total(BillingKind.COMMISSION).label("commissions"),
            total(BillingKind.REFUND).label("refunds"),
            total(BillingKind.REVERSAL).label("reversals"),
            db.func.count(sa.case((BillingTransaction.kind == BillingKind.CHARGE, 1), else_=None)).label("minutes"),
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
            as_money(row.charges),
            as_money(row.earnings),
            as_money(row.commissions),
            as_money(row.refunds),
            as_money(row.reversals),
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


def _completed_sum(type):
    return (
        db.session.execute(
            db.select(db.func.sum(BillingTransaction.amount)).where(
                BillingTransaction.kind == type, BillingTransaction.status == BillingStatus.COMPLETED
            )
        ).scalar()
        or ZERO
    )


def _conservation():
    check = Check(
        4, N_("Money is conserved: all wallets = completed top-ups + their tax - top-ups paid back - payouts")
    )
    wallets = db.session.execute(db.select(db.func.sum(Wallet.current_balance))).scalar() or ZERO
    paid_in = _completed_sum(BillingKind.TOPUP) + _completed_sum(BillingKind.TAX)
    paid_out = sum(
        _completed_sum(kind) for kind in (BillingKind.PAYOUT, BillingKind.TOPUP_REFUND, BillingKind.TAX_REFUND)
    )
    if wallets != paid_in - paid_out:
        check.breaches.append(
            f"wallets hold {wallets}, but paid in {paid_in} - paid out {paid_out} = {paid_in - paid_out}"
        )
    return check


def _paid_topups():
    return Check(
        9,
        N_(
            "Every paid top-up: its wallet credit + its tax = what the gateway captured, with one invoice that says so (and one credit note when paid back); invoice numbers have no gap"
        ),
        breaches=_invoice_checks.breaches(),
    )


def _profile_mirror():
    check = Check(5, N_("Every user profile mirrors its wallet: balance, totals credited and debited, last change"))
    entries = WalletTransaction.amount

    def total(direction):
        return db.func.coalesce(
            db.func.sum(sa.case((WalletTransaction.direction == direction, entries), else_=None)), 0
        )

    sums = (
        db.select(
            WalletTransaction.wallet_id,
            total(WalletDirection.CREDIT).label("credited"),
            total(WalletDirection.DEBIT).label("debited"),
            db.func.max(WalletTransaction.created_at).label("latest"),
        )
        .group_by(WalletTransaction.wallet_id)
        .subquery()
    )
    rows = db.session.execute(
        db.select(Wallet.id, Wallet.user_id, Wallet.current_balance, UserProfile, sums.c.credited, sums.c.debited,
                  sums.c.latest)
        .join(UserProfile, UserProfile.user_id == Wallet.user_id)
        .outerjoin(sums, sums.c.wallet_id == Wallet.id)
    ).all()  # fmt: skip
    for row in rows:
        profile, problems = row.UserProfile, []
        credited, debited = as_money(row.credited), as_money(row.debited)
        if row.current_balance != profile.current_balance:
            problems.append(f"current {row.current_balance}, profile says {profile.current_balance}")
        if profile.total_credited != credited:
            problems.append(f"credits sum to {credited}, total_credited says {profile.total_credited}")
        if profile.total_debited != debited:
            problems.append(f"debits sum to {debited}, total_debited says {profile.total_debited}")
        changed = max(profile.created_at, row.latest) if row.latest is not None else profile.created_at
        if profile.balance_updated_at != changed:
            problems.append(
                f"the balance last changed at {changed}, balance_updated_at says {profile.balance_updated_at}"
            )
        if problems:
            check.breaches.append(f"wallet {row.id} (user {row.user_id}): " + "; ".join(problems))
    return check


def _held_amounts():
    check = Check(6, N_("Every wallet: held = open holds + pending payouts"))
    amount = BillingTransaction.amount
    signed = sa.case(
        (
            sa.and_(BillingTransaction.kind == BillingKind.HOLD, BillingTransaction.status == BillingStatus.COMPLETED),
            amount,
        ),
        (BillingTransaction.kind == BillingKind.RELEASE, -amount),
        (
            sa.and_(BillingTransaction.kind == BillingKind.PAYOUT, BillingTransaction.status == BillingStatus.PENDING),
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


def _seed_types():
    check = Check(7, N_("Every ledger row carries the seed's transaction_type its kind maps to (models/enums.py)"))
    billing = sa.case(
        *((BillingTransaction.kind == kind, seed.value) for kind, seed in BILLING_TRANSACTION_TYPES.items())
    )
    for row in db.session.execute(
        db.select(BillingTransaction.id, BillingTransaction.kind, BillingTransaction.transaction_type).where(
            BillingTransaction.transaction_type != billing
        )
    ):
        check.breaches.append(
            f"billing transaction {row.id}: {row.kind.value} is {BILLING_TRANSACTION_TYPES[row.kind].value}, "
            f"the row says {row.transaction_type.value}"
        )
    wallet_type = sa.case(
        *((BillingTransaction.kind == kind, seed.value) for kind, (_, seed) in WALLET_ENTRY_TYPES.items())
    )
    direction = sa.case(
        *((BillingTransaction.kind == kind, way.value) for kind, (way, _) in WALLET_ENTRY_TYPES.items())
    )
    for row in db.session.execute(
        db.select(
            WalletTransaction.id,
            WalletTransaction.direction,
            WalletTransaction.transaction_type,
            BillingTransaction.kind,
        )
        .join(BillingTransaction, BillingTransaction.id == WalletTransaction.billing_transaction_id)
        .where(
            sa.or_(
                wallet_type.is_(None),
                WalletTransaction.transaction_type != wallet_type,
                WalletTransaction.direction != direction,
            )
        )
    ):
        expected = WALLET_ENTRY_TYPES.get(row.kind)
        check.breaches.append(
            f"wallet entry {row.id} of a {row.kind.value}: "
            + (f"should be a {expected[0].value} {expected[1].value}" if expected else "this kind moves no balance")
            + f", the row says {row.direction.value} {row.transaction_type.value}"
        )
    return check


#: The billing row's status for each payout status.
PAYOUT_BILLING_STATUS = {
    PayoutStatus.REQUESTED: BillingStatus.PENDING,
    PayoutStatus.APPROVED: BillingStatus.PENDING,
    PayoutStatus.PAID: BillingStatus.COMPLETED,
    PayoutStatus.REJECTED: BillingStatus.CANCELLED,
    PayoutStatus.FAILED: BillingStatus.FAILED,
}


def _payouts_within_earnings():
    check = Check(
        8, N_("Every wallet: paid out + pending <= earned (earnings - reversals); every payout matches its row")
    )
    amount, kind, status = BillingTransaction.amount, BillingTransaction.kind, BillingTransaction.status

    def total(condition):
        return db.func.coalesce(db.func.sum(sa.case((condition, amount), else_=None)), 0)

    completed = status == BillingStatus.COMPLETED
    rows = db.session.execute(
        db.select(
            BillingTransaction.wallet_id,
            # The platform's wallet earns commission; an astrologer's, earnings.
            total(sa.and_(kind.in_((BillingKind.EARNING, BillingKind.COMMISSION)), completed)).label("earned"),
            total(sa.and_(kind == BillingKind.REVERSAL, completed)).label("reversed"),
            total(sa.and_(kind == BillingKind.PAYOUT, completed)).label("paid"),
            total(sa.and_(kind == BillingKind.PAYOUT, status == BillingStatus.PENDING)).label("pending"),
        )
        .where(kind.in_((BillingKind.EARNING, BillingKind.COMMISSION, BillingKind.REVERSAL, BillingKind.PAYOUT)))
        .group_by(BillingTransaction.wallet_id)
    ).all()
    for row in rows:
        earned = as_money(row.earned) - as_money(row.reversed)
        out = as_money(row.paid) + as_money(row.pending)
        if out > earned:
            check.breaches.append(
                f"wallet {row.wallet_id}: paid out {as_money(row.paid)} + pending {as_money(row.pending)} "
                f"exceeds earned {earned}"
            )
    for payout, row_status, row_amount, row_wallet in db.session.execute(
        db.select(Payout, BillingTransaction.status, BillingTransaction.amount, BillingTransaction.wallet_id).join(
            BillingTransaction, BillingTransaction.id == Payout.billing_transaction_id
        )
    ):
        if (PAYOUT_BILLING_STATUS[payout.status], payout.amount, payout.wallet_id) != (
            row_status,
            row_amount,
            row_wallet,
        ):
            check.breaches.append(
                f"payout {payout.id}: {payout.status.value} {payout.amount}, its billing row {row_status.value} {row_amount}"
            )
    unmatched = db.session.execute(
        db.select(BillingTransaction.id)
        .outerjoin(Payout, Payout.billing_transaction_id == BillingTransaction.id)
        .where(kind == BillingKind.PAYOUT, Payout.id.is_(None))
    ).scalars()
    for transaction_id in unmatched:
        check.breaches.append(f"billing transaction {transaction_id}: a payout row with no payout")
    return check


def record(trigger, now=None):
    """Verify and store the result (ledger_checks) for the admin overview; the report."""
    started = now or utcnow()
    report = verify()
    db.session.add(
        LedgerCheck(
            started_at=started,
            finished_at=utcnow() if now is None else now,
            trigger=trigger,
            ok=report.ok,
            breach_count=report.breach_count,
            report=list(report.lines()),
        )
    )
    db.session.flush()
    return report


def last_check():
    """The latest stored verification, or None."""
    return db.session.execute(db.select(LedgerCheck).order_by(LedgerCheck.finished_at.desc()).limit(1)).scalar()


def due(now, every_seconds):
    """Whether the periodic loop should verify now: never verified, or the last check is older than `every_seconds`."""
    if not every_seconds:
        return False
    last = last_check()
    return last is None or (now - last.finished_at).total_seconds() >= every_seconds
