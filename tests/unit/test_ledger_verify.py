"""`flask ledger verify`: clean on honest data, exit 1 naming the culprit on a hand-corrupted row."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.services import wallet
from webapp.services.billing import charges
from webapp.services.money import holds, payouts, refunds
from webapp.services.users import accounts


@pytest.fixture
def history(make_user, make_astrologer, fund, make_session):
    """A little of everything: top-ups, a hold, charged minutes, a partial refund, a pending payout."""
    accounts.platform_user()
    user, astrologer = make_user(), make_astrologer()
    fund(user, "100.00")
    fund(user, "50.00")
    held = holds.hold(wallet.wallet_of(user.id).id, "20.00", idempotency_key="h:1")
    holds.release(held)
    holds.hold(wallet.wallet_of(user.id).id, "10.00", idempotency_key="h:2")
    session = make_session(user, astrologer, rate=Decimal("12.50"))
    for minute in (1, 2, 3):
        charges.charge_minute(session.id, minute, commission_percent=30)
    refunds.refund(session.id, number=1, amount="5.00", reason="test")
    payouts.request_payout(wallet.wallet_of(astrologer.id).id, "10.00", payout_id="p-1")
    db.session.commit()
    return user, astrologer, session


def _verify(app):
    db.session.rollback()  # like a fresh `flask ledger verify` process: no snapshot left open by the test
    return app.test_cli_runner().invoke(args=["ledger", "verify"])


def test_verify_is_clean_on_honest_history(app, history):
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "Ledger is consistent." in result.output
    assert result.output.count("[ok]") == 9


def _corrupt(sql, **params):
    with db.engine.begin() as connection:
        connection.execute(sa.text(sql), params)


def _money(amount):
    """A raw SQL parameter in the column's storage unit (paise on SQLite)."""
    return int(amount * 100) if db.engine.dialect.name == "sqlite" else amount


def _id(value):
    """A raw SQL UUID parameter as the backend stores it."""
    return value.hex if db.engine.dialect.name == "sqlite" else value


@pytest.mark.raw_ledger
def test_verify_catches_a_broken_balance_chain(app, history):
    user, _, _ = history
    wallet_id = wallet.wallet_of(user.id).id
    # Shift entry 2 up by one rupee: its own CHECK still holds, the chain does not.
    _corrupt(
        "UPDATE wallet_transactions SET balance_before = balance_before + :one, balance_after = balance_after + :one"
        " WHERE wallet_id = :wallet AND seq = 2",
        one=_money(Decimal("1")),
        wallet=_id(wallet_id),
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert "[BREACH] 2." in result.output and f"wallet {wallet_id}: entry 2 starts at" in result.output


@pytest.mark.raw_ledger
def test_verify_catches_money_from_nowhere(app, history):
    user, _, _ = history
    wallet_id = wallet.wallet_of(user.id).id
    _corrupt(
        "UPDATE wallets SET current_balance = current_balance + :ten, available_balance = available_balance + :ten"
        " WHERE id = :wallet",
        ten=_money(Decimal("10")),
        wallet=_id(wallet_id),
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"wallet {wallet_id}: current" in result.output and "entries sum to" in result.output  # invariant 2
    assert "[BREACH] 4." in result.output  # conservation
    assert "[BREACH] 5." in result.output  # the profile mirror no longer matches


@pytest.mark.raw_ledger
def test_verify_catches_a_session_total_that_does_not_match_its_charges(app, history):
    _, _, session = history
    _corrupt(
        "UPDATE consultation_sessions SET total_cost = :cost WHERE id = :id",
        cost=_money(Decimal("1")),
        id=_id(session.id),
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"session {session.id}: total_cost 1.00 != debits 37.50 - refunds 5.00" in result.output


@pytest.mark.raw_ledger
def test_verify_catches_a_lost_minute_count(app, history):
    _, _, session = history
    _corrupt("UPDATE consultation_sessions SET billed_minutes = 2 WHERE id = :id", id=_id(session.id))
    result = _verify(app)
    assert result.exit_code == 1 and "billed_minutes 2 != 3 minute debits" in result.output


@pytest.mark.raw_ledger
def test_verify_catches_an_unbalanced_split(app, history):
    _, astrologer, session = history
    _corrupt(
        "UPDATE billing_transactions SET amount = amount + :one WHERE kind = 'earning' AND wallet_id = :wallet"
        " AND minute = 1",
        one=_money(Decimal("1")),
        wallet=_id(wallet.wallet_of(astrologer.id).id),
    )
    result = _verify(app)
    assert result.exit_code == 1 and f"session {session.id}: debits" in result.output


@pytest.mark.raw_ledger
def test_verify_catches_a_held_amount_nobody_asked_for(app, history):
    user, _, _ = history
    wallet_id = wallet.wallet_of(user.id).id
    _corrupt(
        "UPDATE wallets SET available_balance = available_balance - :five, held_balance = held_balance + :five"
        " WHERE id = :wallet",
        five=_money(Decimal("5")),
        wallet=_id(wallet_id),
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"wallet {wallet_id}: held 15.00, but open holds and pending payouts are 10.00" in result.output


@pytest.mark.raw_ledger
@pytest.mark.parametrize(
    "column, text",
    [("total_credited", "credits sum to 155.00"), ("total_debited", "debits sum to 37.50")],
)
def test_verify_catches_profile_totals_that_do_not_mirror_the_wallet(app, history, column, text):
    user, _, _ = history
    _corrupt(
        f"UPDATE user_profiles SET {column} = {column} + :one WHERE user_id = :user",
        one=_money(Decimal("1")),
        user=_id(user.id),
    )
    result = _verify(app)
    assert result.exit_code == 1 and "[BREACH] 5." in result.output and text in result.output


@pytest.mark.raw_ledger
def test_verify_catches_a_balance_time_that_is_not_the_last_change(app, history):
    user, _, _ = history
    _corrupt(
        "UPDATE user_profiles SET balance_updated_at = created_at WHERE user_id = :user",
        user=_id(user.id),
    )
    result = _verify(app)
    assert result.exit_code == 1 and "the balance last changed at" in result.output


@pytest.mark.raw_ledger
def test_verify_catches_a_billing_row_with_the_wrong_seed_type(app, history):
    _corrupt("UPDATE billing_transactions SET transaction_type = 'credit' WHERE kind = 'charge' AND minute = 2")
    result = _verify(app)
    assert result.exit_code == 1 and "[BREACH] 7." in result.output
    assert "charge is debit, the row says credit" in result.output


@pytest.mark.raw_ledger
def test_verify_catches_a_wallet_row_with_the_wrong_seed_type(app, history):
    _corrupt(
        "UPDATE wallet_transactions SET transaction_type = 'fee' WHERE billing_transaction_id IN"
        " (SELECT id FROM billing_transactions WHERE kind = 'refund')"
    )
    result = _verify(app)
    assert result.exit_code == 1 and "of a refund: should be a credit refund, the row says credit fee" in result.output
