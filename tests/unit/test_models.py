"""Model constraints: the database refuses what the domain forbids, on both backends."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import (
    AstrologerProfile,
    BillingKind,
    BillingStatus,
    BillingTransaction,
    BillingTransactionType,
    ConsultationSession,
    Message,
    MessageType,
    SessionStatus,
    User,
    UserStatus,
    Wallet,
    WalletDirection,
    WalletTransaction,
    WalletTransactionType,
    utcnow,
)


def _refused():
    """The pending changes violate a constraint: flushing fails and nothing is written."""
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_every_seed_table_exists_with_the_additions(app):
    inspector = sa.inspect(db.engine)
    tables = set(inspector.get_table_names())
    assert {
        "users",
        "user_profiles",
        "astrologer_profiles",
        "consultation_sessions",
        "messages",
        "session_participants",
        "wallets",
        "billing_transactions",
        "wallet_transactions",
    } <= tables
    columns = {c["name"] for c in inspector.get_columns("consultation_sessions")}
    assert {
        "rate_per_minute",
        "billed_minutes",
        "next_charge_at",
        "end_reason",
        "review_text",
        "free_minutes",
    } <= columns
    assert {"seq", "client_message_id"} <= {c["name"] for c in inspector.get_columns("messages")}
    assert {"idempotency_key", "wallet_id"} <= {c["name"] for c in inspector.get_columns("billing_transactions")}


def test_new_user_gets_profile_and_wallet(make_user):
    user = make_user()
    assert user.profile.current_balance == Decimal("0.00")
    assert user.wallet.current_balance == Decimal("0.00")
    assert user.astrologer_profile is None
    assert isinstance(user.id.hex, str)  # UUID primary key


def test_new_astrologer_gets_astrologer_profile(make_astrologer):
    astrologer = make_astrologer(rate=Decimal("25.50"))
    assert astrologer.astrologer_profile.chat_rate_per_minute == Decimal("25.50")
    assert astrologer.wallet is not None and astrologer.profile is not None


def test_timestamps_are_set_and_updated_automatically(make_user):
    user = make_user()
    created, updated = user.created_at, user.updated_at
    assert created.tzinfo is not None and abs(created - utcnow()) < timedelta(minutes=1)
    user.name = "Renamed"
    db.session.commit()
    db.session.refresh(user)
    assert user.created_at == created
    assert user.updated_at > updated


def test_email_is_unique(make_user):
    make_user(email="same@example.com")
    db.session.add(User(name="Twin", email="same@example.com"))
    _refused()


def test_phone_is_unique(make_user):
    make_user(phone="+919812345678")
    db.session.add(User(name="Twin", phone="+919812345678"))
    _refused()


def test_user_needs_an_identifier():
    db.session.add(User(name="Nobody"))
    _refused()


def test_deleted_status_and_deleted_at_go_together(make_user):
    user = make_user()
    user.status = UserStatus.DELETED
    _refused()


def test_one_wallet_per_user(make_user):
    user = make_user()
    db.session.add(Wallet(user_id=user.id))
    _refused()


@pytest.mark.parametrize(
    "current, available, held",
    [
        (Decimal("-1.00"), Decimal("-1.00"), Decimal("0.00")),  # available negative
        (Decimal("-1.00"), Decimal("0.00"), Decimal("-1.00")),  # held negative
        (Decimal("10.00"), Decimal("5.00"), Decimal("4.99")),  # current != available + held
    ],
)
def test_wallet_checks(make_user, current, available, held):
    wallet = make_user().wallet
    wallet.current_balance, wallet.available_balance, wallet.held_balance = current, available, held
    _refused()


@pytest.mark.raw_ledger  # writes money rows by hand
def test_wallet_accepts_consistent_balances(make_user):
    wallet = make_user().wallet
    wallet.current_balance, wallet.available_balance, wallet.held_balance = (
        Decimal("0.30"),
        Decimal("0.10"),
        Decimal("0.20"),
    )
    db.session.commit()  # exact: 0.10 + 0.20 == 0.30, on SQLite too
    db.session.refresh(wallet)
    assert wallet.current_balance == Decimal("0.30")


def test_money_is_decimal_never_float(make_user):
    wallet = make_user().wallet
    wallet.available_balance = 0.1
    with pytest.raises(Exception, match="never float"):
        db.session.flush()
    db.session.rollback()


def _session(user, astrologer, status=SessionStatus.WAITING, **fields):
    session = ConsultationSession(
        user_id=user.id,
        astrologer_id=astrologer.id,
        status=status,
        rate_per_minute=Decimal("20.00"),
        started_at=utcnow() if status != SessionStatus.WAITING else None,
        **fields,
    )
    db.session.add(session)
    return session


def test_one_open_session_per_user(make_user, make_astrologer):
    user, first, second = make_user(), make_astrologer(), make_astrologer()
    _session(user, first)
    db.session.commit()
    _session(user, second, status=SessionStatus.ACTIVE)
    _refused()


def test_closed_sessions_do_not_count_as_open(make_user, make_astrologer):
    user, astrologer = make_user(), make_astrologer()
    _session(user, astrologer, status=SessionStatus.COMPLETED)
    _session(user, astrologer, status=SessionStatus.CANCELLED, cancelled_at=utcnow())
    _session(user, astrologer, status=SessionStatus.ACTIVE)
    db.session.commit()
    assert db.session.query(ConsultationSession).filter_by(user_id=user.id).count() == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"astrologer_rating": Decimal(6)},
        {"astrologer_rating": Decimal(0)},
        {"user_rating": Decimal("5.01")},
        {"user_rating": Decimal("0.99")},
        {"billed_minutes": -1},
        {"total_cost": Decimal("-1")},
        {"duration_minutes": -1},
        {"cancelled_at": utcnow()},  # a completed session was not cancelled
    ],
)
def test_session_checks(make_user, make_astrologer, fields):
    _session(make_user(), make_astrologer(), status=SessionStatus.COMPLETED, **fields)
    _refused()


def test_a_session_with_oneself_is_refused(make_astrologer):
    astrologer = make_astrologer()
    _session(astrologer, astrologer)
    _refused()


def test_message_seq_is_unique_per_session_and_resends_store_once(make_user, make_astrologer):
    user, astrologer = make_user(), make_astrologer()
    session = _session(user, astrologer, status=SessionStatus.ACTIVE)
    db.session.flush()
    db.session.add(Message(session_id=session.id, sender_id=user.id, content="hi", seq=1, client_message_id="c1"))
    db.session.commit()
    db.session.add(Message(session_id=session.id, sender_id=user.id, content="again", seq=1, client_message_id="c2"))
    _refused()
    db.session.add(Message(session_id=session.id, sender_id=user.id, content="hi", seq=2, client_message_id="c1"))
    _refused()


def test_system_messages_need_no_sender_but_text_messages_do(make_user, make_astrologer):
    session = _session(make_user(), make_astrologer(), status=SessionStatus.ACTIVE)
    db.session.flush()
    db.session.add(Message(session_id=session.id, message_type=MessageType.SYSTEM, content="Session started", seq=1))
    db.session.commit()
    db.session.add(Message(session_id=session.id, message_type=MessageType.TEXT, content="who?", seq=2))
    _refused()


def _billing(user, key, amount=Decimal("10.00")):
    transaction = BillingTransaction(
        user_id=user.id,
        wallet_id=user.wallet.id,
        kind=BillingKind.TOPUP,
        transaction_type=BillingTransactionType.CREDIT,
        status=BillingStatus.COMPLETED,
        amount=amount,
        idempotency_key=key,
        processed_at=utcnow(),
    )
    db.session.add(transaction)
    return transaction


@pytest.mark.raw_ledger  # writes money rows by hand
def test_idempotency_key_is_unique(make_user):
    user = make_user()
    _billing(user, "topup:demo:1")
    db.session.commit()
    _billing(user, "topup:demo:1")
    _refused()


def test_ledger_amounts_are_positive(make_user):
    _billing(make_user(), "topup:demo:zero", amount=Decimal("0.00"))
    _refused()


@pytest.mark.raw_ledger  # writes money rows by hand
@pytest.mark.parametrize(
    "entry_type, before, amount, after, accepted",
    [
        (WalletDirection.CREDIT, "10.00", "5.00", "15.00", True),
        (WalletDirection.DEBIT, "10.00", "5.00", "5.00", True),
        (WalletDirection.CREDIT, "10.00", "5.00", "14.99", False),
        (WalletDirection.DEBIT, "10.00", "5.00", "15.00", False),
        (WalletDirection.DEBIT, "1.00", "5.00", "-4.00", False),
    ],
)
def test_wallet_entries_chain_balance_by_amount(make_user, entry_type, before, amount, after, accepted):
    user = make_user()
    transaction = _billing(user, f"k:{entry_type}:{after}")
    db.session.add(
        WalletTransaction(
            wallet_id=user.wallet.id,
            billing_transaction=transaction,
            seq=1,
            direction=entry_type,
            transaction_type=WalletTransactionType.DEPOSIT,
            amount=Decimal(amount),
            balance_before=Decimal(before),
            balance_after=Decimal(after),
            created_at=utcnow(),
        )
    )
    if accepted:
        db.session.commit()
    else:
        _refused()


def test_naive_datetimes_are_refused(make_user):
    user = make_user()
    user.last_login_at = datetime(2026, 1, 1)
    with pytest.raises(Exception, match="naive"):
        db.session.flush()
    db.session.rollback()


def test_datetimes_round_trip_as_aware_utc(make_user):
    user = make_user()
    moment = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    user.last_login_at = moment
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(User, user.id).last_login_at
    assert loaded == moment and loaded.tzinfo is not None and loaded.utcoffset() == timedelta(0)


def test_json_columns_round_trip(make_astrologer):
    astrologer = make_astrologer(specializations=["Vedic", "Tarot"], languages=["Hindi"])
    db.session.expire_all()
    profile = db.session.query(AstrologerProfile).filter_by(astrologer_id=astrologer.id).one()
    assert profile.specializations == ["Vedic", "Tarot"] and profile.languages == ["Hindi"]
    user = db.session.get(User, astrologer.id)
    assert user.sync_metadata is None  # nothing from the main backend
    user.sync_metadata = {"tier": "gold", "tags": ["a", "b"]}
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, astrologer.id).sync_metadata == {"tier": "gold", "tags": ["a", "b"]}
