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


def statement(wallet_id, page=1, per_page=20):
    """Page `page` of the wallet's statement: a paging.Page of StatementLines, newest first."""
    query = (
        db.select(BillingTransaction, WalletTransaction.balance_after)
        .outerjoin(WalletTransaction, WalletTransaction.billing_transaction_id == BillingTransaction.id)
        .where(BillingTransaction.wallet_id == wallet_id)
        .order_by(BillingTransaction.created_at.desc(), BillingTransaction.id.desc())
    )
    return paging.page_of(query, page, per_page).map(lambda row: StatementLine(*row))
