"""Charging the next minute of many sessions at once, set-based (PostgreSQL only).

The same legs (minutes.legs_sql), keys, wallet entries (chained per wallet) and totals as
charges.charge_minute, with no per-row Python: the batch is claimed into a temporary table in the
database (billing_claim), and a few statements over it lock, charge and advance it. In the one lock
order (services/locks.py): the astrologers' profiles, their due sessions (FOR UPDATE SKIP LOCKED, so
any number of runners share the work), then the wallets in id order. Sessions it cannot charge
plainly (a free minute, a minute overdue beyond the grace, a short or frozen wallet, a key already
used, a capped session's last minute) are dropped from the claim and left for the per-session path,
which applies the end rules. What comes back to Python is what participants are told after the
commit: a BatchCharge per session.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from ...extensions import db
from .. import locks, wallet
from ..sql_arrays import array_literal
from . import minutes

#: A session the batch may charge: active, its next minute due within the grace, not a free one, and
#: not the last minute of a cap or past it (the per-session path warns of the last and ends at the cap).
DUE = """
    s.status = 'active' AND s.next_charge_at <= :now AND s.next_charge_at >= :oldest
    AND s.billed_minutes + s.free_minutes + 1 > :free_first
    AND (s.cap_minutes IS NULL OR s.billed_minutes + s.free_minutes + 1 < s.cap_minutes)
"""

CLAIM = "billing_claim"
#: The claim: one row per session, emptied at every commit (and gone with a rollback that made it).
CLAIM_TABLE = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {CLAIM} (
    session_id uuid PRIMARY KEY, user_id uuid NOT NULL, astrologer_id uuid NOT NULL, minute integer NOT NULL,
    rate numeric(10, 2) NOT NULL, due_at timestamptz NOT NULL, started_at timestamptz NOT NULL
) ON COMMIT DELETE ROWS
"""
CLAIMED_COLUMNS = (
    "s.id, s.user_id, s.astrologer_id, s.billed_minutes + s.free_minutes + 1, s.rate_per_minute, s.next_charge_at,"
    " s.started_at"
)

#: Every statement below joins the claim (thousands of rows) to a table of up to millions; each says
#: `column = ANY(ARRAY(SELECT ... FROM the claim))`, so the table is read by its index, never scanned
#: whole (the planner prices a scan of a cached table below thousands of index probes: true at a few
#: thousand rows, a whole-table scan per statement at a million).
DEBIT_KEY = minutes.minute_key_sql("c.session_id", "c.minute", "debit")

#: Claimed sessions the batch cannot charge (the user's wallet, locked now, is not active or does not
#: cover the minute; the minute's key is already used): back to the per-session path.
UNPAYABLE = f"""
DELETE FROM {CLAIM} WHERE session_id IN (
    SELECT c.session_id FROM {CLAIM} c JOIN wallets w ON w.user_id = c.user_id
    WHERE w.user_id = ANY(ARRAY(SELECT user_id FROM {CLAIM}))
      AND (w.status <> 'active' OR w.available_balance < c.rate OR c.rate <= 0)
    UNION ALL
    SELECT c.session_id FROM {CLAIM} c JOIN billing_transactions b ON b.idempotency_key = {DEBIT_KEY}
    WHERE b.idempotency_key = ANY(ARRAY(SELECT {DEBIT_KEY} FROM {CLAIM} c))
)
"""

EARNED = f"""
UPDATE astrologer_profiles a SET total_earnings = a.total_earnings + v.earned, updated_at = :now
FROM (SELECT astrologer_id, sum({minutes.share_sql("rate")}) AS earned FROM {CLAIM} GROUP BY astrologer_id) v
WHERE a.astrologer_id = v.astrologer_id AND v.earned > 0
  AND a.astrologer_id = ANY(ARRAY(SELECT astrologer_id FROM {CLAIM}))
"""

ADVANCED = f"""
UPDATE consultation_sessions s
SET total_cost = s.total_cost + c.rate, billed_minutes = s.billed_minutes + 1,
    next_charge_at = c.started_at + c.minute * make_interval(secs => :minute_seconds), updated_at = :now
FROM {CLAIM} c WHERE s.id = c.session_id AND s.id = ANY(ARRAY(SELECT session_id FROM {CLAIM}))
RETURNING s.id::text AS session_id, s.user_id::text AS user_id, s.astrologer_id::text AS astrologer_id, c.minute,
          s.billed_minutes, s.total_cost, c.rate
"""


@dataclass(frozen=True)
class BatchCharge:
    """One minute charged by `charge_due_batch`."""

    session_id: str
    user_id: str
    astrologer_id: str
    minute: int
    billed_minutes: int
    total_cost: Decimal
    balance: Decimal  # the user's available balance after the charge
    rate: Decimal


def charge_due_batch(now, *, limit, minute_seconds, grace_seconds, commission_percent, free_first_minutes):
    """Charge the next minute of up to `limit` due sessions; returns the BatchCharges. The caller
    commits before the next batch: a batch takes its locks in the one order only at the start of a
    transaction (a second one would lock profiles after the first one's wallets), and the commit
    empties the claim."""
    window = {"now": now, "oldest": now - timedelta(seconds=grace_seconds), "free_first": free_first_minutes}
    candidates = (
        f"SELECT s.astrologer_id FROM consultation_sessions s WHERE {DUE} ORDER BY s.next_charge_at LIMIT :limit"
    )
    astrologers = locks.batch_profiles(candidates, {**window, "limit": limit})
    if not astrologers:
        return []
    # The rest of the transaction is this batch: sorts and hashes of its own rows in memory, and no
    # JIT compile (100+ ms a statement here, for statements that run a few hundred).
    db.session.execute(db.text("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off"))
    db.session.execute(db.text(CLAIM_TABLE))
    claimed = locks.batch_sessions(
        CLAIM, CLAIMED_COLUMNS, DUE, {**window, "limit": limit, "astrologers": array_literal(astrologers)}
    )
    if not claimed:
        return []
    db.session.execute(db.text(f"ANALYZE {CLAIM}"))  # a temporary table has no statistics until asked
    house = str(wallet.platform_wallet().user_id)
    locks.batch_wallets(CLAIM, house)
    if claimed == db.session.execute(db.text(UNPAYABLE)).rowcount:
        return []
    split = {"commission_percent": commission_percent, "house": house}
    balances = wallet.post_legs_sql(minutes.legs_sql(CLAIM), split, now)
    db.session.execute(db.text(EARNED), {**split, "now": now})
    advanced = db.session.execute(db.text(ADVANCED), {"minute_seconds": minute_seconds, "now": now}).all()
    return [
        BatchCharge(
            session_id=row.session_id,
            user_id=row.user_id,
            astrologer_id=row.astrologer_id,
            minute=row.minute,
            billed_minutes=row.billed_minutes,
            total_cost=row.total_cost,
            balance=balances[row.user_id],
            rate=row.rate,
        )
        for row in advanced
    ]
