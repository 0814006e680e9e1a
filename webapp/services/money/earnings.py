"""What an astrologer earned, by period and by session, and what they may withdraw, read from the
ledger (never from a mirror).

Per session: gross (the user's minute charges), commission (the platform's share, less its
reversals), refunded (what the user got back), net (the astrologer's share less its reversals).
gross - refunded = commission + net = the session's total_cost. Periods (today, the last 7 and 30
days, all time) start at local midnight in REPORTING_TIMEZONE (the astrologer's zone: India's) and
count each ledger row at its own time, so a refund today of last week's session lowers today.

`position` is the earnings balance: what may be withdrawn is what was earned (minute earnings less
reversals) less payouts paid and pending, never more than is available. services/wallet.py
`ensure_can_withdraw` checks a payout against it under the wallet lock.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ...extensions import db
from ...models import BillingKind, BillingStatus, BillingTransaction, ConsultationSession, Payout, User, Wallet
from .. import paging
from .amounts import ZERO, as_money

PER_PAGE = 20


def zone():
    return ZoneInfo(current_app.config["REPORTING_TIMEZONE"])


# ---------------------------------------------------------------- the earnings balance


@dataclass(frozen=True)
class Position:
    """An astrologer's earnings position, from the ledger rows of their wallet."""

    earned: Decimal  #: minute earnings, completed
    reversed: Decimal  #: their share of refunded minutes, taken back
    paid: Decimal  #: payouts paid
    pending: Decimal  #: payouts requested or approved, still held
    available: Decimal  #: the wallet's available balance

    @property
    def net(self):
        """What they earned and kept: earnings less reversals."""
        return self.earned - self.reversed

    @property
    def unpaid(self):
        """Earned and neither paid out nor asked for."""
        return self.net - self.paid - self.pending

    @property
    def withdrawable(self):
        return max(min(self.unpaid, self.available), ZERO)


def position(wallet):
    """The earnings position of `wallet` (lock it first when the answer decides a movement)."""
    kind, status, amount = BillingTransaction.kind, BillingTransaction.status, BillingTransaction.amount
    rows = db.session.execute(
        db.select(kind, status, db.func.sum(amount))
        .where(
            BillingTransaction.wallet_id == wallet.id,
            kind.in_((BillingKind.EARNING, BillingKind.REVERSAL, BillingKind.PAYOUT)),
            status.in_((BillingStatus.COMPLETED, BillingStatus.PENDING)),
        )
        .group_by(kind, status)
    ).all()
    sums = {(k, s): total for k, s, total in rows}

    def total(k, s=BillingStatus.COMPLETED):
        return as_money(sums.get((k, s)))

    return Position(
        earned=total(BillingKind.EARNING),
        reversed=total(BillingKind.REVERSAL),
        paid=total(BillingKind.PAYOUT),
        pending=total(BillingKind.PAYOUT, BillingStatus.PENDING),
        available=wallet.available_balance,
    )


def position_of(astrologer_id):
    return position(_wallet(astrologer_id))


def _wallet(astrologer_id):
    return db.session.execute(db.select(Wallet).filter_by(user_id=astrologer_id)).scalar_one()


# ---------------------------------------------------------------- figures by period and by session


@dataclass(frozen=True)
class Figures:
    gross: Decimal = ZERO
    commission: Decimal = ZERO
    refunded: Decimal = ZERO
    net: Decimal = ZERO
    minutes: int = 0


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    since: object  #: UTC start (None: all time)
    figures: Figures


@dataclass(frozen=True)
class SessionEarning:
    session: ConsultationSession
    first_name: str
    figures: Figures


def _sums(own_wallet_id):
    """Sum expressions over an astrologer's sessions' ledger rows: the columns of Figures."""
    amount, kind, on_own = (
        BillingTransaction.amount,
        BillingTransaction.kind,
        BillingTransaction.wallet_id == own_wallet_id,
    )

    def total(condition, negative=None):
        cases = [(condition, amount)] + ([(negative, -amount)] if negative is not None else [])
        return db.func.coalesce(db.func.sum(sa.case(*cases, else_=None)), 0)

    return (
        total(kind == BillingKind.CHARGE).label("gross"),
        total(kind == BillingKind.COMMISSION, sa.and_(kind == BillingKind.REVERSAL, ~on_own)).label("commission"),
        total(kind == BillingKind.REFUND).label("refunded"),
        total(kind == BillingKind.EARNING, sa.and_(kind == BillingKind.REVERSAL, on_own)).label("net"),
        db.func.count(sa.case((kind == BillingKind.CHARGE, 1), else_=None)).label("minutes"),
    )


def _rows(astrologer_id, own, *columns):
    """A select of `columns` over the completed ledger rows of the astrologer's sessions (`own`: their wallet id)."""
    return (
        db.select(*columns, *_sums(own))
        .join(ConsultationSession, ConsultationSession.id == BillingTransaction.session_id)
        .where(ConsultationSession.astrologer_id == astrologer_id, BillingTransaction.status == BillingStatus.COMPLETED)
    )


def _figures(row):
    return Figures(as_money(row.gross), as_money(row.commission), as_money(row.refunded), as_money(row.net),
                   row.minutes or 0)  # fmt: skip


#: The periods the earnings page shows, by key: (label, days back from today's midnight; None: all time).
SPANS = {"today": ("Today", 0), "7d": ("Last 7 days", 6), "30d": ("Last 30 days", 29), "all": ("All time", None)}


def periods(astrologer_id, now, keys=tuple(SPANS)):
    """The periods `keys` (default: today, the last 7 and 30 days, all time), each a Period."""
    midnight = now.astimezone(zone()).replace(hour=0, minute=0, second=0, microsecond=0)
    own, found = _wallet(astrologer_id).id, []
    for key in keys:
        label, days = SPANS[key]
        since = None if days is None else midnight - timedelta(days=days)
        query = _rows(astrologer_id, own)
        if since is not None:
            query = query.where(BillingTransaction.created_at >= since)
        found.append(Period(key, label, since, _figures(db.session.execute(query).one())))
    return found


def between(astrologer_id, start, end):
    """The astrologer's Figures for ledger rows written in [start, end) (the weekly summary)."""
    query = _rows(astrologer_id, _wallet(astrologer_id).id).where(
        BillingTransaction.created_at >= start, BillingTransaction.created_at < end
    )
    return _figures(db.session.execute(query).one())


def earned_between(start, end):
    """Ids of the astrologers with minute earnings in [start, end)."""
    return (
        db.session.execute(
            db.select(ConsultationSession.astrologer_id)
            .join(BillingTransaction, BillingTransaction.session_id == ConsultationSession.id)
            .where(
                BillingTransaction.kind == BillingKind.EARNING,
                BillingTransaction.status == BillingStatus.COMPLETED,
                BillingTransaction.created_at >= start,
                BillingTransaction.created_at < end,
            )
            .distinct()
        )
        .scalars()
        .all()
    )


def by_session(astrologer_id, sessions):
    """{session id: Figures} of these sessions (the session lists' "You earned")."""
    ids = [s.id for s in sessions]
    if not ids:
        return {}
    rows = db.session.execute(
        _rows(astrologer_id, _wallet(astrologer_id).id, BillingTransaction.session_id)
        .where(BillingTransaction.session_id.in_(ids))
        .group_by(BillingTransaction.session_id)
    ).all()
    found = {row.session_id: _figures(row) for row in rows}
    return {session_id: found.get(session_id, Figures()) for session_id in ids}


def _sessions_query(astrologer_id):
    """The astrologer's accepted sessions, newest first, each with its payer's name and its figures."""
    own = _wallet(astrologer_id).id
    sums = _rows(astrologer_id, own, BillingTransaction.session_id).group_by(BillingTransaction.session_id).subquery()
    return (
        db.select(ConsultationSession, User.name, *(sums.c[name] for name in Figures.__dataclass_fields__))
        .join(User, User.id == ConsultationSession.user_id)
        .outerjoin(sums, sums.c.session_id == ConsultationSession.id)
        .where(ConsultationSession.astrologer_id == astrologer_id, ConsultationSession.started_at.is_not(None))
        .order_by(ConsultationSession.started_at.desc(), ConsultationSession.id)
    )


def _earning(row):
    return SessionEarning(row[0], (row.name or "").split(" ")[0] or "—", _figures(row))


def sessions_page(astrologer_id, page=1, per_page=PER_PAGE):
    """A paging.Page of SessionEarning, newest first (sessions that were accepted)."""
    return paging.page_of(_sessions_query(astrologer_id), page, per_page).map(_earning)


def all_sessions(astrologer_id):
    """Every SessionEarning, newest first, streamed (the CSV export)."""
    for row in db.session.execute(_sessions_query(astrologer_id).execution_options(yield_per=500)):
        yield _earning(row)


def reversal_reasons(astrologer_id, session_ids):
    """{session id: [why each refund took back part of the astrologer's earnings]} for these sessions."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        db.select(BillingTransaction.session_id, BillingTransaction.details)
        .where(
            BillingTransaction.wallet_id == _wallet(astrologer_id).id,
            BillingTransaction.kind == BillingKind.REVERSAL,
            BillingTransaction.session_id.in_(list(session_ids)),
        )
        .order_by(BillingTransaction.created_at)
    ).all()
    reasons = {}
    for session_id, details in rows:
        if (details or {}).get("reason"):
            reasons.setdefault(session_id, []).append(details["reason"])
    return reasons


def payouts_page(astrologer_id, page=1, per_page=PER_PAGE):
    query = db.select(Payout).where(Payout.astrologer_id == astrologer_id).order_by(Payout.requested_at.desc())
    return paging.page_of(query, page, per_page, scalars=True)
