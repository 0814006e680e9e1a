"""What the admin console reads: the overview, the two ledgers with filters and totals, CSV
exports of a whole filtered set, people, and a session's timeline. Read-only."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext

from ...extensions import db
from ...models import (
    OPEN_PAYOUT_STATUSES,
    OPEN_SESSION_STATUSES,
    BillingKind,
    BillingStatus,
    BillingTransaction,
    BillingTransactionType,
    ConnectionStatus,
    ConsultationSession,
    Message,
    Payout,
    PayoutStatus,
    SessionParticipant,
    SessionStatus,
    User,
    UserStatus,
    UserType,
    Wallet,
    WalletDirection,
    WalletTransaction,
    WalletTransactionType,
)
from ...models.enums import label_of
from .. import paging
from ..money import invoices
from ..money.amounts import format_money

PER_PAGE = 50
ZERO = Decimal("0.00")


#: What the `type` filter of each ledger accepts: the seed's transaction_type values first, then the
#: product's kinds (and, on the wallet ledger, the direction of an entry).
BILLING_KINDS = frozenset(t.value for t in BillingKind)
BILLING_SEED_TYPES = frozenset(t.value for t in BillingTransactionType)
WALLET_SEED_TYPES = frozenset(t.value for t in WalletTransactionType)
DIRECTIONS = frozenset(t.value for t in WalletDirection)
BILLING_FILTER_TYPES = BILLING_SEED_TYPES | BILLING_KINDS
WALLET_FILTER_TYPES = WALLET_SEED_TYPES | DIRECTIONS | BILLING_KINDS


@dataclass(frozen=True)
class LedgerFilter:
    """Filters of both ledgers; every field already validated (bad input became None)."""

    user: str = ""
    type: str | None = None
    status: str | None = None
    session: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    oldest_first: bool = False

    def params(self, **changes):
        values = {
            "user": self.user or None,
            "type": self.type,
            "status": self.status,
            "session": self.session,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "sort": "oldest" if self.oldest_first else None,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def _day_start(day):
    return datetime.combine(day, time.min, tzinfo=UTC)


def user_match(text):
    """People whose name, e-mail or phone contains `text` (LIKE's wildcards in it are literal)."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return sa.or_(
        User.name.ilike(pattern, escape="\\"),
        User.email.ilike(pattern, escape="\\"),
        User.phone.ilike(pattern, escape="\\"),
    )


# ---------------------------------------------------------------- billing ledger


def _shared_filters(query, f, created_at):
    """The filters both ledgers apply alike (the billing row is joined in both); `created_at` is
    the ledger's own time column."""
    if f.user:
        query = query.where(user_match(f.user))
    if f.status:
        query = query.where(BillingTransaction.status == f.status)
    if f.session:
        query = query.where(BillingTransaction.session_id == f.session)
    if f.date_from:
        query = query.where(created_at >= _day_start(f.date_from))
    if f.date_to:
        query = query.where(created_at < _day_start(f.date_to + timedelta(days=1)))
    return query


def _billing_query(f):
    query = db.select(BillingTransaction).join(User, User.id == BillingTransaction.user_id)
    if f.type in BILLING_SEED_TYPES:  # a wallet ledger's word names nothing here
        query = query.where(BillingTransaction.transaction_type == f.type)
    elif f.type in BILLING_KINDS:
        query = query.where(BillingTransaction.kind == f.type)
    return _shared_filters(query, f, BillingTransaction.created_at)


@dataclass(frozen=True)
class Totals:
    """The whole filtered set of a ledger: type -> (count, sum), and the row count."""

    by_type: dict
    count: int


def _totals(query, kind, amount):
    by_type = {
        key.value: (n, total or ZERO)
        for key, n, total in db.session.execute(
            query.with_only_columns(kind, db.func.count(), db.func.sum(amount)).group_by(kind)
        )
    }
    return Totals(by_type=by_type, count=sum(n for n, _ in by_type.values()))


def billing_page(f, per_page=PER_PAGE):
    """A paging.Page of (BillingTransaction, name, email) rows of the filtered set."""
    created = BillingTransaction.created_at.asc() if f.oldest_first else BillingTransaction.created_at.desc()
    query = _billing_query(f).add_columns(User.name, User.email).order_by(created, BillingTransaction.id)
    return paging.page_of(query, f.page, per_page)


def billing_totals(f):
    return _totals(_billing_query(f), BillingTransaction.kind, BillingTransaction.amount)


#: The seed's column names, then the product's additions, then the joined person.
BILLING_COLUMNS = (
    "created_at", "id", "user_id", "session_id", "transaction_type", "amount", "currency", "description",
    "payment_method", "external_transaction_id", "status", "processed_at", "updated_at", "kind", "wallet_id",
    "minute", "idempotency_key", "user_name", "user_email",
)  # fmt: skip


def billing_csv_rows(f):
    """Every row of the filtered set, oldest first, in BILLING_COLUMNS order (streamed)."""
    yield BILLING_COLUMNS
    query = (
        _billing_query(f)
        .add_columns(User.name, User.email)
        .order_by(BillingTransaction.created_at, BillingTransaction.id)
    )
    for row in db.session.execute(query.execution_options(yield_per=1000)):
        t = row[0]
        yield (
            t.created_at.isoformat(), t.id, t.user_id, t.session_id or "", t.transaction_type.value, t.amount,
            t.currency, t.description or "", t.payment_method or "", t.external_transaction_id or "", t.status.value,
            t.processed_at.isoformat() if t.processed_at else "", t.updated_at.isoformat(), t.kind.value, t.wallet_id,
            t.minute or "", t.idempotency_key, row.name, row.email,
        )  # fmt: skip


# ---------------------------------------------------------------- wallet ledger


def _wallet_query(f):
    query = (
        db.select(WalletTransaction)
        .join(Wallet, Wallet.id == WalletTransaction.wallet_id)
        .join(User, User.id == Wallet.user_id)
        .join(BillingTransaction, BillingTransaction.id == WalletTransaction.billing_transaction_id)
    )
    if f.type in WALLET_SEED_TYPES:
        query = query.where(WalletTransaction.transaction_type == f.type)
    elif f.type in DIRECTIONS:
        query = query.where(WalletTransaction.direction == f.type)
    elif f.type in BILLING_KINDS:
        query = query.where(BillingTransaction.kind == f.type)
    return _shared_filters(query, f, WalletTransaction.created_at)


def wallet_page(f, per_page=PER_PAGE):
    """A paging.Page of (WalletTransaction, name, cause, session id) rows of the filtered set."""
    if f.oldest_first:
        order = (WalletTransaction.created_at.asc(), WalletTransaction.seq)
    else:
        order = (WalletTransaction.created_at.desc(), WalletTransaction.seq.desc())
    columns = (User.name, BillingTransaction.kind.label("cause"), BillingTransaction.session_id)
    return paging.page_of(_wallet_query(f).add_columns(*columns).order_by(*order), f.page, per_page)


def wallet_totals(f):
    return _totals(_wallet_query(f), WalletTransaction.transaction_type, WalletTransaction.amount)


#: The seed's column names, then the product's additions, then the cause's kind, session and person.
WALLET_COLUMNS = (
    "created_at", "id", "wallet_id", "transaction_type", "amount", "balance_before", "balance_after",
    "description", "reference_id", "updated_at", "seq", "direction", "billing_transaction_id", "kind",
    "session_id", "user_name",
)  # fmt: skip


def wallet_csv_rows(f):
    yield WALLET_COLUMNS
    query = (
        _wallet_query(f)
        .add_columns(User.name, BillingTransaction.kind.label("cause"), BillingTransaction.session_id)
        .order_by(WalletTransaction.created_at, WalletTransaction.wallet_id, WalletTransaction.seq)
    )
    for row in db.session.execute(query.execution_options(yield_per=1000)):
        e = row[0]
        yield (
            e.created_at.isoformat(), e.id, e.wallet_id, e.transaction_type.value, e.amount, e.balance_before,
            e.balance_after, e.description or "", e.reference_id or "", e.updated_at.isoformat(), e.seq,
            e.direction.value, e.billing_transaction_id, row.cause.value, row.session_id or "", row.name,
        )  # fmt: skip


# ---------------------------------------------------------------- overview


@dataclass(frozen=True)
class Figures:
    topups: Decimal
    revenue: Decimal  # consultation charges
    earnings: Decimal
    commission: Decimal
    refunds: Decimal


def figures(since):
    rows = dict(
        db.session.execute(
            db.select(BillingTransaction.kind, db.func.sum(BillingTransaction.amount))
            .where(BillingTransaction.status == BillingStatus.COMPLETED, BillingTransaction.created_at >= since)
            .group_by(BillingTransaction.kind)
        ).all()
    )
    return Figures(
        topups=rows.get(BillingKind.TOPUP) or ZERO,
        revenue=rows.get(BillingKind.CHARGE) or ZERO,
        earnings=rows.get(BillingKind.EARNING) or ZERO,
        commission=rows.get(BillingKind.COMMISSION) or ZERO,
        refunds=rows.get(BillingKind.REFUND) or ZERO,
    )


def active_sessions():
    return db.session.execute(
        db.select(db.func.count(ConsultationSession.id)).where(ConsultationSession.status == SessionStatus.ACTIVE)
    ).scalar_one()


def connected_people():
    """People with a live socket in an active consultation now."""
    return db.session.execute(
        db.select(db.func.count(sa.distinct(SessionParticipant.user_id)))
        .join(ConsultationSession, ConsultationSession.id == SessionParticipant.session_id)
        .where(
            ConsultationSession.status == SessionStatus.ACTIVE,
            SessionParticipant.connection_status == ConnectionStatus.CONNECTED,
        )
    ).scalar_one()


def daily_revenue(today, days=30):
    """[(day, charges - refunds)] for the last `days` days, oldest first (zero days included)."""
    start = _day_start(today - timedelta(days=days - 1))
    signed = sa.case(
        (BillingTransaction.kind == BillingKind.CHARGE, BillingTransaction.amount),
        (BillingTransaction.kind == BillingKind.REFUND, -BillingTransaction.amount),
        else_=None,
    )
    rows = db.session.execute(
        db.select(BillingTransaction.created_at, signed).where(
            BillingTransaction.status == BillingStatus.COMPLETED,
            BillingTransaction.created_at >= start,
            BillingTransaction.kind.in_([BillingKind.CHARGE, BillingKind.REFUND]),
        )
    ).all()
    totals = {today - timedelta(days=n): ZERO for n in range(days)}
    for created_at, amount in rows:
        day = created_at.date()
        if day in totals and amount is not None:
            totals[day] += amount
    return sorted(totals.items())


# ---------------------------------------------------------------- people and sessions


def people_page(q="", type=None, status=None, page=1, per_page=PER_PAGE):
    """A paging.Page of (User, balance) rows, newest first."""
    query = (
        db.select(User, Wallet.current_balance)
        .outerjoin(Wallet, Wallet.user_id == User.id)
        .where(User.type != UserType.SYSTEM)
    )
    if q:
        query = query.where(user_match(q))
    if type in {t.value for t in UserType}:
        query = query.where(User.type == type)
    if status in {s.value for s in UserStatus}:
        query = query.where(User.status == status)
    return paging.page_of(query.order_by(User.created_at.desc(), User.id), page, per_page)


def session_timeline(session):
    """(when, what) events of a session: requested, offered, accepted, each charge and refund, ended."""
    events = [(session.requested_at, gettext("Requested"))]
    if session.offered_at:
        events.append((session.offered_at, gettext("Offered to the astrologer")))
    if session.started_at:
        events.append((session.started_at, gettext("Accepted")))
    for t in db.session.execute(
        db.select(BillingTransaction)
        .where(
            BillingTransaction.session_id == session.id,
            BillingTransaction.kind.in_(
                [BillingKind.CHARGE, BillingKind.REFUND, BillingKind.HOLD, BillingKind.RELEASE]
            ),
        )
        .order_by(BillingTransaction.created_at, BillingTransaction.minute)
    ).scalars():
        if t.kind == BillingKind.CHARGE:
            label = gettext("Minute %(minute)s charged", minute=t.minute)
        elif t.kind == BillingKind.REFUND:
            label = gettext(
                "Refunded (%(reason)s)", reason=(t.details or {}).get("reason") or gettext("no reason given")
            )
        else:
            label = gettext("Held") if t.kind == BillingKind.HOLD else gettext("Hold released")
        events.append((t.created_at, f"{label}: {format_money(t.amount)}"))
    if session.ended_at:
        ended = label_of(session.end_reason) if session.end_reason else gettext("unknown")
        events.append((session.ended_at, gettext("Ended (%(reason)s)", reason=ended)))
    return sorted(events, key=lambda item: item[0])


def message_count(session_id):
    return db.session.execute(db.select(db.func.count(Message.id)).where(Message.session_id == session_id)).scalar_one()


def conversation(session_id):
    """Every message of a session in order, as its participants saw it (stored masked), with the sender's name."""
    return db.session.execute(
        db.select(Message, User.name)
        .outerjoin(User, User.id == Message.sender_id)
        .where(Message.session_id == session_id)
        .order_by(Message.seq)
    ).all()


def minutes_of(session_id):
    """The session's charged minutes in order: (minute, charged at, amount)."""
    return db.session.execute(
        db.select(BillingTransaction.minute, BillingTransaction.created_at, BillingTransaction.amount)
        .where(
            BillingTransaction.session_id == session_id,
            BillingTransaction.kind == BillingKind.CHARGE,
            BillingTransaction.status == BillingStatus.COMPLETED,
        )
        .order_by(BillingTransaction.minute)
    ).all()


#: The payouts page's status filter: the open ones (the default), each status, or all.
PAYOUT_VIEWS = {
    "open": OPEN_PAYOUT_STATUSES,
    **{status.value: (status,) for status in PayoutStatus},
    "all": tuple(PayoutStatus),
}


def payouts_page(view="open", astrologer_id=None, page=1, per_page=PER_PAGE):
    """A paging.Page of (Payout, astrologer name): open ones oldest first (the queue), others newest first."""
    statuses = PAYOUT_VIEWS.get(view, OPEN_PAYOUT_STATUSES)
    query = db.select(Payout, User.name).join(User, User.id == Payout.astrologer_id).where(Payout.status.in_(statuses))
    if astrologer_id is not None:
        query = query.where(Payout.astrologer_id == astrologer_id)
    order = Payout.requested_at.asc() if view == "open" else Payout.requested_at.desc()
    return paging.page_of(query.order_by(order, Payout.id), page, per_page)


def open_payout_count():
    return db.session.execute(
        db.select(db.func.count(Payout.id)).where(Payout.status.in_(OPEN_PAYOUT_STATUSES))
    ).scalar_one()


def paid_topups(user_id, limit=20):
    """A person's last top-ups paid through a gateway, with their invoices: [(top-up, invoice, paid back)]."""
    topups = (
        db.session.execute(
            db.select(BillingTransaction)
            .where(
                BillingTransaction.user_id == user_id,
                BillingTransaction.kind == BillingKind.TOPUP,
                BillingTransaction.status == BillingStatus.COMPLETED,
                BillingTransaction.details["order_id"].as_string().is_not(None),
            )
            .order_by(BillingTransaction.created_at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    found = invoices.invoices_of([t.id for t in topups])
    paid_back = set(
        db.session.execute(
            db.select(BillingTransaction.idempotency_key).where(
                BillingTransaction.kind == BillingKind.TOPUP_REFUND, BillingTransaction.user_id == user_id
            )
        ).scalars()
    )
    return [(t, found.get(t.id), f"{t.idempotency_key}:refund" in paid_back) for t in topups]


def open_session_count(user_id):
    """The consultations a person takes part in that are not over (a suspension ends them)."""
    return db.session.execute(
        db.select(db.func.count(ConsultationSession.id)).where(
            sa.or_(ConsultationSession.user_id == user_id, ConsultationSession.astrologer_id == user_id),
            ConsultationSession.status.in_(OPEN_SESSION_STATUSES),
        )
    ).scalar_one()
