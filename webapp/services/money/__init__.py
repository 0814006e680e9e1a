"""Money by use case. Every balance change goes through services/wallet.py, the ledger's one writer
(it stays beside this package, where the project's standards name it).

    amounts.py          Decimal with two places: parsing what people type, formatting one way
    topups.py           money paid in: a provider's order, settled once, or a credit at once
    payments.py         the payment providers behind one interface, and their webhooks
    holds.py            money reserved in a wallet and given back
    refunds.py          refunds of a session's charges, each leg reversed in proportion
    payouts.py          an astrologer's withdrawal as a lifecycle (_payout_providers.py sends it)
    earnings.py         what an astrologer earned and may withdraw, from the ledger
    statements.py       a wallet's statement as its owner reads it
    ledger_checker.py   the ledger's invariants, checked over the whole database

Uses: wallet, locks, billing (the session bar after a top-up), notifications (receipts).
"""
