"""What an astrologer earned, by period and by session, read from the ledger (never from a mirror).

Per session: gross (the user's minute charges), commission (the platform's share, less its
reversals), refunded (what the user got back), net (the astrologer's share less its reversals).
gross - refunded = commission + net = the session's total_cost. Periods (today, the last 7 and 30
days, all time) start at local midnight in REPORTING_TIMEZONE (the astrologer's zone: India's) and
count each ledger row at its own time, so a refund today of last week's session lowers today.
"""

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import BillingKind, BillingStatus, BillingTransaction, ConsultationSession, Payout, User
from . import paging, wallet
from .amounts import ZERO

PER_PAGE = 20


def zone():
    return ZoneInfo(current_app.config["REPORTING_TIMEZONE"])


@dataclass(frozen=True)
class Figures:
    gross: object = ZERO
    commission: object = ZERO
    refunded: object = ZERO
    net: object = ZERO
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


def _sums(astrologer_id, own_wallet_id):
    """Sum expressions of an astrologer's sessions' ledger rows: what the columns of Figures are."""
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


def _base(astrologer_id, *columns):
    return (
        db.select(*columns)
        .join(ConsultationSession, ConsultationSession.id == BillingTransaction.session_id)
        .where(ConsultationSession.astrologer_id == astrologer_id, BillingTransaction.status == BillingStatus.COMPLETED)
    )


def _figures(row):
    money = [value if value else ZERO for value in (row.gross, row.commission, row.refunded, row.net)]
    return Figures(*(ZERO + value for value in money), minutes=row.minutes or 0)


def periods(astrologer_id, now):
    """Today, the last 7 days, the last 30 days and all time, each a Period."""
    own = wallet.wallet_of(astrologer_id).id
    midnight = now.astimezone(zone()).replace(hour=0, minute=0, second=0, microsecond=0)
    spans = (
        ("today", "Today", midnight),
        ("7d", "Last 7 days", midnight - timedelta(days=6)),
        ("30d", "Last 30 days", midnight - timedelta(days=29)),
        ("all", "All time", None),
    )
    found = []
    for key, label, since in spans:
        query = _base(astrologer_id, *_sums(astrologer_id, own))
        if since is not None:
            query = query.where(BillingTransaction.created_at >= since)
        found.append(Period(key, label, since, _figures(db.session.execute(query).one())))
    return found


def _sessions_query(astrologer_id):
    return (
        db.select(ConsultationSession, User.name)
        .join(User, User.id == ConsultationSession.user_id)
        .where(ConsultationSession.astrologer_id == astrologer_id, ConsultationSession.started_at.is_not(None))
        .order_by(ConsultationSession.started_at.desc(), ConsultationSession.id)
    )


def by_session(astrologer_id, sessions):
    """{session id: Figures} of these sessions."""
    ids = [s.id for s in sessions]
    if not ids:
        return {}
    own = wallet.wallet_of(astrologer_id).id
    rows = db.session.execute(
        _base(astrologer_id, BillingTransaction.session_id, *_sums(astrologer_id, own))
        .where(BillingTransaction.session_id.in_(ids))
        .group_by(BillingTransaction.session_id)
    ).all()
    found = {row.session_id: _figures(row) for row in rows}
    return {session_id: found.get(session_id, Figures()) for session_id in ids}


def _first_name(name):
    return (name or "").split(" ")[0] or "—"


def sessions_page(astrologer_id, page=1, per_page=PER_PAGE):
    """A paging.Page of SessionEarning, newest first (sessions that were accepted)."""
    found = paging.page_of(_sessions_query(astrologer_id), page, per_page)
    figures = by_session(astrologer_id, [row[0] for row in found.items])
    return found.map(lambda row: SessionEarning(row[0], _first_name(row[1]), figures[row[0].id]))


def all_sessions(astrologer_id, batch=500):
    """Every SessionEarning, newest first, read in batches (the CSV export)."""
    page = 1
    while True:
        found = sessions_page(astrologer_id, page, batch)
        yield from found.items
        if not found.has_more:
            return
        page += 1


def payouts_page(astrologer_id, page=1, per_page=PER_PAGE):
    query = db.select(Payout).where(Payout.astrologer_id == astrologer_id).order_by(Payout.requested_at.desc())
    return paging.page_of(query, page, per_page, scalars=True)
