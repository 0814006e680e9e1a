"""The use cases. No request objects, no rendering: ids, amounts and `now` in; models out, or a
domain error from errors.py. Functions flush; they never commit: webapp/boundary.py ends a
request's or socket event's transaction, and the few places that own their transactions (the
periodic pass, the job runner, the sync API, demo data) are named in one list with their reasons:
tests/unit/test_boundary.py, TRANSACTION_OWNERS.

By feature, as the owner's design groups the work (each package's __init__ is its map: what it
owns, what it uses):

    users/          accounts, sign-in, login sessions, status, the main backend's hand-off and sync
    money/          amounts, top-ups and payment providers, holds, refunds, payouts, earnings,
                    statements, the ledger checker
    billing/        the per-minute charge: what a minute is, charging one, many, what is due
    consultations/  a request through its session to its end, the queue, ratings, calls
    messaging/      chat messages, attachments, transcripts
    astrologers/    the marketplace, an astrologer's profile, figures and followers
    astrology/      the birth chart: computed, stored, drawn
    ai/             the language model and what uses it: safety review, summaries, matching
    notifications/  the notifier and rooms, the inbox, Web Push, e-mail receipts
    admin/          admin actions and what admins read

Shared by all of them, at this level:

    wallet.py       the ledger's writer: the only code that changes balances
    locks.py        every row lock, in the one order
    jobs.py         work done after the commit, once, with retries, by channel
    periodic.py     one pass of the periodic loop
    errors.py, paging.py, payloads.py, sql_arrays.py, demo_data.py

A module whose name starts with an underscore is its package's own: import-linter (.importlinter,
`make lint`) refuses an import of it from outside the package.
"""
