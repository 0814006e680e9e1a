"""A wallet's statement: its billing transactions, newest first, with the balance after each one
that moved money. Read-only."""

from dataclasses import dataclass
from decimal import Decimal

from ..extensions import db
from ..models import BillingTransaction, WalletTransaction
from . import paging


@dataclass(frozen=True)
class StatementLine:
    transaction: BillingTransaction
    balance_after: Decimal | None  # None when current_balance did not change (holds, pending)


@dataclass(frozen=True)
class Statement:
    lines: list
    page: int
    has_more: bool


def statement(wallet_id, page=1, per_page=20):
    """Page `page` of the wallet's statement."""
    page = paging.clamp_page(page)
    rows = db.session.execute(
        db.select(BillingTransaction, WalletTransaction.balance_after)
        .outerjoin(WalletTransaction, WalletTransaction.billing_transaction_id == BillingTransaction.id)
        .where(BillingTransaction.wallet_id == wallet_id)
        .order_by(BillingTransaction.created_at.desc(), BillingTransaction.id.desc())
        .limit(per_page + 1)
        .offset(paging.offset(page, per_page))
    ).all()
    lines = [StatementLine(transaction, balance_after) for transaction, balance_after in rows[:per_page]]
    return Statement(lines=lines, page=page, has_more=len(rows) > per_page)
