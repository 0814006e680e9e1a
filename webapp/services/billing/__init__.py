"""Billing: server-authoritative, per started minute, exactly once per minute.

Minute k of a session (k = 1, 2, ...) falls due at started_at + (k - 1) x M
(M = BILLING_MINUTE_SECONDS); minute 1 is charged at acceptance
(charges.start), the rest by the periodic pass (services/periodic.py).
A minute's legs (the user's debit, the astrologer's earning, the platform's
commission) and their idempotency keys
(`session:<id>:minute:<k>:debit|credit|commission`) are defined once, in
minutes.py, and posted by services/wallet.py, so a retried or duplicated
pass moves nothing twice; `next_charge_at` moves forward in the same
transaction as the charge.

    minutes.py      what a minute is: its length, keys, legs, the free-minute allowance
    charges.py      charging one session's minute (at acceptance, and what a batch leaves)
    _batch.py       charging many sessions' next minute set-based (PostgreSQL)
    due.py          the pass's charging: batches first, then one session at a time
    session_bar.py  what participants see: the session bar's state, billing ticks, low-balance warnings

A minute that cannot be charged (the wallet is short, or it is overdue
beyond DOWNTIME_GRACE_SECONDS) is not billing's to end: due.py hands it to
the lifecycle's end rules (services/consultations/end_rules.py).
"""
