"""What admins do and read.

    actions.py      refunds, account status, approvals, payouts; each written to the audit trail
    reports.py      the overview, the two ledgers with filters and totals, CSV exports, timelines
    audit_trail.py  reading the audit trail

Uses: money, users, astrologers, ai (safety flags), notifications.
"""
