"""Charging the next minute of many sessions at once, set-based (PostgreSQL only).

The same legs (minutes.legs), keys, wallet entries (chained per wallet) and
totals as charges.charge_minute, written in a handful of statements: the
astrologers' profiles, then their sessions claimed with FOR UPDATE SKIP
LOCKED, then wallets in id order (services/locks.py), every row written by
one INSERT or UPDATE over arrays (wallet.post_legs). Sessions it cannot
charge plainly (a free minute, a minute overdue beyond the grace, a short
or frozen wallet, a key already used, a capped session's last minute) are left for the per-session path,
which applies the end rules.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from ...extensions import db
from ...models import BillingKind, WalletStatus
from .. import locks, wallet
from ..amounts import ZERO
from ..sql_arrays import array_literal
from . import minutes

#: A session the batch may charge: active, its next minute due within the grace, not a free one, and
#: not the last minute of a cap or past it (the per-session path warns of the last and ends at the cap).
DUE = """
    status = 'active' AND next_charge_at <= :now AND next_charge_at >= :oldest
    AND billed_minutes + free_minutes + 1 > :free_first
    AND (cap_minutes IS NULL OR billed_minutes + free_minutes + 1 < cap_minutes)
"""


@dataclass(frozen=True)
class BatchCharge:
    """One minute charged by `charge_due_batch`."""

    session_id: object
    user_id: object
    astrologer_id: object
    minute: int
    billed_minutes: int
    total_cost: Decimal
    balance: Decimal  # the user's available balance after the charge
    rate: Decimal


def charge_due_batch(now, *, limit, minute_seconds, grace_seconds, commission_percent, free_first_minutes):
    """Charge the next minute of up to `limit` due sessions; returns the BatchCharges (the caller commits)."""
    # Raw SQL: ids travel as text (cast in the SELECTs, parsed back by CAST(... AS uuid[])), amounts as Decimal.
    window = {"now": now, "oldest": now - timedelta(seconds=grace_seconds), "free_first": free_first_minutes}
    candidates = db.session.execute(
        db.text(f"SELECT id::text, astrologer_id::text FROM consultation_sessions WHERE {DUE}"
                " ORDER BY next_charge_at LIMIT :limit"),
        {**window, "limit": limit},
    ).all()  # fmt: skip
    if not candidates:
        return []
    astrologers = locks.batch_profiles({row.astrologer_id for row in candidates})
    claimed = locks.batch_sessions([row.id for row in candidates if row.astrologer_id in astrologers], DUE, window)
    if not claimed:
        return []
    house = str(wallet.platform_wallet().user_id)
    wallets = locks.batch_wallets_of(
        {row.user_id for row in claimed} | {row.astrologer_id for row in claimed} | {house}
    )
    keys = {row.id: minutes.minute_key(row.id, row.billed_minutes + row.free_minutes + 1, "debit") for row in claimed}
    used = set(
        db.session.execute(
            db.text(
                "SELECT idempotency_key FROM billing_transactions WHERE idempotency_key = ANY(CAST(:keys AS varchar[]))"
            ),
            {"keys": array_literal(keys.values())},
        ).scalars()
    )
    payable = sorted(
        (
            row
            for row in claimed
            if keys[row.id] not in used
            and wallets[row.user_id].status == WalletStatus.ACTIVE.value
            and wallets[row.user_id].available_balance >= row.rate_per_minute
            and row.rate_per_minute > 0
        ),
        key=lambda row: row.id,
    )
    if not payable:
        return []

    legs, earned = [], {}
    for row in payable:
        row_legs = minutes.legs(
            row.id,
            row.billed_minutes + row.free_minutes + 1,
            row.rate_per_minute,
            commission_percent,
            payer=wallets[row.user_id],
            astrologer=wallets[row.astrologer_id],
            house=wallets[house],
            at=row.next_charge_at,
        )
        legs.extend(row_legs)
        share = sum((leg.amount for leg in row_legs if leg.kind == BillingKind.EARNING), ZERO)
        earned[row.astrologer_id] = earned.get(row.astrologer_id, ZERO) + share
    available = wallet.post_legs(legs, wallets, now)
    charges = [
        BatchCharge(
            session_id=row.id,
            user_id=row.user_id,
            astrologer_id=row.astrologer_id,
            minute=row.billed_minutes + row.free_minutes + 1,
            billed_minutes=row.billed_minutes + 1,
            total_cost=row.total_cost + row.rate_per_minute,
            balance=available[wallets[row.user_id].id],
            rate=row.rate_per_minute,
        )
        for row in payable
    ]
    db.session.execute(
        db.text(
            """
            UPDATE astrologer_profiles a SET total_earnings = a.total_earnings + v.earned, updated_at = :now
            FROM unnest(CAST(:users AS uuid[]), CAST(:earned AS numeric[])) AS v(astrologer_id, earned)
            WHERE a.astrologer_id = v.astrologer_id
            """
        ),
        {"users": array_literal(earned), "earned": array_literal(earned.values()), "now": now},
    )
    db.session.execute(
        db.text(
            """
            UPDATE consultation_sessions s
            SET total_cost = s.total_cost + s.rate_per_minute, billed_minutes = s.billed_minutes + 1,
                next_charge_at = s.started_at + v.minute * make_interval(secs => :minute_seconds), updated_at = :now
            FROM unnest(CAST(:ids AS uuid[]), CAST(:minutes AS int[])) AS v(id, minute) WHERE s.id = v.id
            """
        ),
        {
            "ids": array_literal(c.session_id for c in charges),
            "minutes": array_literal(c.minute for c in charges),
            "minute_seconds": minute_seconds,
            "now": now,
        },
    )
    return charges
