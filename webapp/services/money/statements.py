"""A wallet's statement, as its owner reads it: newest first, one line per consultation (who with,
when, minutes, total, refunds; the minutes and refunds inside it) and one per other movement
(a top-up with its status, a payout, a credit by hand), with the balance after each. Read-only.

A consultation's rows are every billing row that names its session: the hold and its release, the
minutes (charges for the user; earnings, or commission for the platform, for the others), refunds
and their reversals. Paging counts lines, not rows, so a long consultation is one line of a page.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ...extensions import db
from ...models import BillingKind, BillingStatus, BillingTransaction, ConsultationSession, User, WalletTransaction
from .. import paging
from . import invoices
from .amounts import ZERO

#: The kinds that pay for (or are paid by) a consultation's minutes, in the owner's wallet.
MINUTE_KINDS = (BillingKind.CHARGE, BillingKind.EARNING, BillingKind.COMMISSION)
REFUND_KINDS = (BillingKind.REFUND, BillingKind.REVERSAL)


@dataclass(frozen=True)
class StatementLine:
    transaction: BillingTransaction
    balance_after: Decimal | None  # None when current_balance did not change (holds, pending)
    invoice: object = None  # a paid top-up's tax invoice, or a paid-back one's credit note (models.TaxInvoice)

    @property
    def paid(self):
        """What the payer paid for a top-up (its total with the tax), or None."""
        total = (self.transaction.details or {}).get("total")
        return Decimal(total) if total else None

    @property
    def reason(self):
        """Why a refund was made (what the admin or the end rule wrote), or None."""
        details = self.transaction.details or {}
        return details.get("reason") or None


@dataclass(frozen=True)
class ConsultationLine:
    """The rows of one consultation in this wallet, oldest first."""

    session: ConsultationSession
    other_name: str  # the astrologer for the user; the user for the astrologer (and the platform)
    lines: list
    at: datetime  # the latest row's time: where the line sorts

    @property
    def minutes(self):
        return self._completed(MINUTE_KINDS)

    @property
    def total(self):
        return _sum(self.minutes)

    @property
    def refunds(self):
        return self._completed(REFUND_KINDS)

    @property
    def refunded(self):
        """Refunds in minus reversals out: what came back (for the user) or went back (the others)."""
        return _sum(self.refunds)

    @property
    def balance_after(self):
        moved = [line.balance_after for line in self.lines if line.balance_after is not None]
        return moved[-1] if moved else None

    def _completed(self, kinds):
        """The completed rows of `kinds`, oldest first."""
        return [
            line
            for line in self.lines
            if line.transaction.kind in kinds and line.transaction.status == BillingStatus.COMPLETED
        ]


def _sum(lines):
    return sum((line.transaction.amount for line in lines), ZERO)


def _key():
    return db.func.coalesce(BillingTransaction.session_id, BillingTransaction.id)


def statement(wallet_id, page=1, per_page=20):
    """Page `page` of the wallet's statement: a paging.Page of ConsultationLines and StatementLines."""
    key = _key().label("key")
    latest = db.func.max(BillingTransaction.created_at).label("at")
    keys = paging.page_of(
        db.select(key, latest)
        .where(BillingTransaction.wallet_id == wallet_id)
        .group_by(key)
        .order_by(latest.desc(), key.desc()),
        page,
        per_page,
    )
    wanted = [row.key for row in keys.items]
    rows = db.session.execute(
        db.select(BillingTransaction, WalletTransaction.balance_after)
        .outerjoin(WalletTransaction, WalletTransaction.billing_transaction_id == BillingTransaction.id)
        .where(BillingTransaction.wallet_id == wallet_id, _key().in_(wanted))
        .order_by(BillingTransaction.created_at, BillingTransaction.id)
    ).all()
    found = invoices.documents_of(
        [t.id for t, _ in rows if t.kind == BillingKind.TOPUP],
        [t.details["topup_id"] for t, _ in rows if t.kind == BillingKind.TOPUP_REFUND],
    )
    by_key = {}
    for transaction, balance_after in rows:
        document = found.get((transaction.kind, str((transaction.details or {}).get("topup_id", transaction.id))))
        by_key.setdefault(transaction.session_id or transaction.id, []).append(
            StatementLine(transaction, balance_after, document)
        )
    sessions = _sessions_with_names({k for k, lines in by_key.items() if lines[0].transaction.session_id})
    owner = rows[0][0].user_id if rows else None

    def line_of(row):
        lines = by_key.get(row.key, [])
        if row.key in sessions:
            session, user_name, astrologer_name = sessions[row.key]
            other = astrologer_name if owner == session.user_id else user_name.split()[0]
            return ConsultationLine(session, other, lines, row.at)
        return lines[0]

    return keys.map(line_of)


def _sessions_with_names(session_ids):
    """{session id: (session, user's name, astrologer's name)}."""
    if not session_ids:
        return {}
    astrologer = db.aliased(User)
    rows = db.session.execute(
        db.select(ConsultationSession, User.name, astrologer.name)
        .join(User, User.id == ConsultationSession.user_id)
        .join(astrologer, astrologer.id == ConsultationSession.astrologer_id)
        .where(ConsultationSession.id.in_(session_ids))
    ).all()
    return {session.id: (session, user_name, astrologer_name) for session, user_name, astrologer_name in rows}
