"""The use cases. No request objects, no rendering: ids, amounts and `now` in; models out, or a
domain error from errors.py. Functions flush; they never commit: webapp/boundary.py ends a
request's or socket event's transaction, and the few entry points that own their transactions
(periodic.py, billing/due.py, consultations/end_rules.py, user_sync.sync) say so.

Where things happen: a minute is charged in billing/ (minutes.py defines it); the ledger is
written by wallet.py alone; row locks are taken in locks.py, in its one order."""
