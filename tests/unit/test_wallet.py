"""The wallet ledger: every operation, its idempotency, and every refusal (nothing written on refusal)."""

import uuid
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import (
    BillingKind,
    BillingStatus,
    BillingTransaction,
    PayoutStatus,
    User,
    UserStatus,
    UserType,
    WalletStatus,
    WalletTransaction,
)
from webapp.services import wallet
from webapp.services.billing import charges, minutes
from webapp.services.errors import (
    AccountSuspended,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    NotAllowed,
    NothingToRefund,
    NotWithdrawable,
    OrderClosed,
    PayoutClosed,
    RefundTooLarge,
    UnknownOrder,
    WalletFrozen,
)
from webapp.services.money import amounts, holds, ledger_checker, payouts, refunds, topups
from webapp.services.users import accounts

D = Decimal


def _balances(user):
    w = wallet.wallet_of(user.id)
    db.session.refresh(w)
    return w.current_balance, w.available_balance, w.held_balance


def _rows():
    return db.session.query(BillingTransaction).count(), db.session.query(WalletTransaction).count()


def _assert_ledger_clean():
    report = ledger_checker.verify()
    assert report.ok, "\n".join(report.lines())


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def astrologer(make_astrologer):
    return make_astrologer()


@pytest.fixture(autouse=True)
def platform(app):
    accounts.platform_user()
    db.session.commit()


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    "value",
    ["abc", "", "-5", "0", "0.00", "10.005", "NaN", "Infinity", "1e9", "100,00", "1,0000", "10,00,00", "1.000,50",
     "+5", "5.", ".5", "1 000", "١٠٠"],
)  # fmt: skip
def test_parse_amount_refuses_bad_amounts(value):
    with pytest.raises(InvalidAmount):
        amounts.parse_amount(value)


@pytest.mark.parametrize(
    "value, expected",
    [("10", D("10.00")), ("10.5", D("10.50")), (" 99.99 ", D("99.99")), (D("1"), D("1.00")),
     ("1,000", D("1000.00")), ("1,00,000", D("100000.00")), ("100,000.50", D("100000.50")),
     ("12,34,567.89", D("1234567.89"))],
)  # fmt: skip
def test_parse_amount_accepts_paise(value, expected):
    assert amounts.parse_amount(value) == expected


def test_parse_amount_refuses_float():
    with pytest.raises(TypeError):
        amounts.parse_amount(10.5)


@pytest.mark.parametrize(
    "value, message", [("49.99", "minimum top-up is ₹50"), ("100000.01", "maximum top-up is ₹1,00,000")]
)
def test_topup_amount_bounds(app, value, message):
    with pytest.raises(InvalidAmount, match=message):
        amounts.parse_topup_amount(value)


@pytest.mark.parametrize(
    "rate, percent, share, commission",
    [
        (D("10.00"), 30, D("7.00"), D("3.00")),
        (D("9.99"), 30, D("6.99"), D("3.00")),  # 6.993 rounds half-up to 6.99
        (D("0.05"), 30, D("0.04"), D("0.01")),  # 0.035 rounds half-up to 0.04
        (D("15.00"), 0, D("15.00"), D("0.00")),
        (D("15.00"), 100, D("0.00"), D("15.00")),
    ],
)
def test_split_minute_sums_exactly(rate, percent, share, commission):
    assert minutes.split_minute(rate, percent) == (share, commission)
    assert share + commission == rate


# ---------------------------------------------------------------- deposits and top-ups


def test_deposit_credits_and_chains_an_entry(user):
    topups.deposit(wallet.wallet_of(user.id).id, "250.00", idempotency_key="topup:demo:a")
    topups.deposit(wallet.wallet_of(user.id).id, "50.50", idempotency_key="topup:demo:b")
    db.session.commit()
    assert _balances(user) == (D("300.50"), D("300.50"), D("0.00"))
    entries = db.session.query(WalletTransaction).order_by(WalletTransaction.seq).all()
    assert [(e.seq, e.balance_before, e.balance_after) for e in entries] == [
        (1, D("0.00"), D("250.00")),
        (2, D("250.00"), D("300.50")),
    ]
    assert user.profile.current_balance == D("300.50") and user.profile.total_credited == D("300.50")
    assert user.profile.total_debited == D("0.00")
    assert {(e.direction.value, e.transaction_type.value) for e in entries} == {("credit", "deposit")}
    deposit = entries[0].billing_transaction
    assert (deposit.kind.value, deposit.transaction_type.value, deposit.payment_method) == ("topup", "credit", "manual")
    assert entries[0].reference_id == str(deposit.id)  # no outside reference: the billing transaction's id
    _assert_ledger_clean()


def test_deposit_repeated_key_moves_no_money(user):
    first = topups.deposit(wallet.wallet_of(user.id).id, "100", idempotency_key="topup:demo:x")
    again = topups.deposit(wallet.wallet_of(user.id).id, "100", idempotency_key="topup:demo:x")
    db.session.commit()
    assert again.id == first.id
    assert _balances(user)[0] == D("100.00") and _rows() == (1, 1)


def test_deposit_same_key_different_amount_is_a_conflict(user):
    topups.deposit(wallet.wallet_of(user.id).id, "100", idempotency_key="topup:demo:x")
    with pytest.raises(IdempotencyConflict):
        topups.deposit(wallet.wallet_of(user.id).id, "200", idempotency_key="topup:demo:x")


def test_topup_is_pending_until_completed_once(user):
    order = topups.create_topup(wallet.wallet_of(user.id).id, "500", provider="demo", order_id="o1")
    db.session.commit()
    assert order.status == BillingStatus.PENDING and _balances(user)[0] == D("0.00")
    # The payer pays ₹500 + 18% GST: the gateway captures ₹590, the wallet gets ₹500, the tax account ₹90.
    completed, changed = topups.complete_topup("demo", "o1", payment_id="p1", amount="590.00")
    db.session.commit()
    assert changed and completed.status == BillingStatus.COMPLETED and completed.external_transaction_id == "p1"
    assert completed.processed_at is not None and completed.entries[0].reference_id == "p1"
    again, changed = topups.complete_topup("demo", "o1", payment_id="p1", amount="590.00")
    assert not changed and again.id == order.id
    assert _balances(user)[0] == D("500.00") and wallet.tax_wallet().current_balance == D("90.00")
    assert _rows() == (2, 2)  # the top-up and its tax leg
    _assert_ledger_clean()


def test_topup_refusals_change_nothing(user):
    topups.create_topup(wallet.wallet_of(user.id).id, "500", provider="demo", order_id="o1")
    db.session.commit()
    with pytest.raises(UnknownOrder):
        topups.complete_topup("demo", "nope", payment_id="p1", amount="590.00")
    db.session.rollback()
    topups.complete_topup("demo", "o1", payment_id="p1", amount="590.00")
    with pytest.raises(OrderClosed):
        topups.complete_topup("demo", "o1", payment_id="p2", amount="590.00")  # a second payment for a paid order
    with pytest.raises(OrderClosed):
        topups.fail_topup("demo", "o1", payment_id="p1")
    db.session.commit()
    assert _balances(user)[0] == D("500.00")


def test_failed_topup_moves_nothing_and_cannot_complete_later(user):
    topups.create_topup(wallet.wallet_of(user.id).id, "500", provider="demo", order_id="o1")
    _, changed = topups.fail_topup("demo", "o1", payment_id="p1")
    assert changed
    _, changed = topups.fail_topup("demo", "o1", payment_id="p1")
    assert not changed
    with pytest.raises(OrderClosed):
        topups.complete_topup("demo", "o1", payment_id="p1", amount="590")
    db.session.commit()
    assert _balances(user)[0] == D("0.00") and _rows() == (1, 0)


def test_frozen_wallet_or_suspended_user_cannot_start_a_topup(user):
    wallet.wallet_of(user.id).status = WalletStatus.FROZEN
    with pytest.raises(WalletFrozen, match="frozen"):
        topups.create_topup(wallet.wallet_of(user.id).id, "500", provider="demo", order_id="o1")
    wallet.wallet_of(user.id).status = WalletStatus.ACTIVE
    user.status = UserStatus.SUSPENDED
    with pytest.raises(AccountSuspended):
        topups.create_topup(wallet.wallet_of(user.id).id, "500", provider="demo", order_id="o2")


# ---------------------------------------------------------------- holds


def test_hold_and_release(user, fund):
    fund(user, "100.00")
    held = holds.hold(wallet.wallet_of(user.id).id, "50", idempotency_key="session:s1:hold")
    assert _balances(user) == (D("100.00"), D("50.00"), D("50.00"))
    again = holds.hold(wallet.wallet_of(user.id).id, "50", idempotency_key="session:s1:hold")
    assert again.id == held.id and _balances(user)[2] == D("50.00")
    released = holds.release(held)
    assert holds.release(held).id == released.id  # released once, whatever the retries
    db.session.commit()
    assert _balances(user) == (D("100.00"), D("100.00"), D("0.00"))
    assert db.session.query(WalletTransaction).count() == 1  # holds do not touch current
    _assert_ledger_clean()


def test_hold_refusals_write_nothing(user, fund):
    fund(user, "20.00")
    rows = _rows()
    with pytest.raises(InsufficientBalance, match="does not cover"):
        holds.hold(wallet.wallet_of(user.id).id, "20.01", idempotency_key="h1")
    wallet.wallet_of(user.id).status = WalletStatus.FROZEN
    with pytest.raises(WalletFrozen):
        holds.hold(wallet.wallet_of(user.id).id, "1", idempotency_key="h2")
    db.session.rollback()
    assert _rows() == rows and _balances(user) == (D("20.00"), D("20.00"), D("0.00"))


# ---------------------------------------------------------------- charges


def test_charge_minute_splits_between_astrologer_and_platform(user, astrologer, fund, make_session):
    fund(user, "100.00")
    session = make_session(user, astrologer, rate=D("9.99"))
    charge = charges.charge_minute(session.id, 1, commission_percent=30)
    db.session.commit()
    assert (charge.debit.amount, charge.earning.amount, charge.commission.amount) == (D("9.99"), D("6.99"), D("3.00"))
    assert charge.debit.idempotency_key == f"session:{session.id}:minute:1:debit"
    assert charge.earning.idempotency_key.endswith(":minute:1:credit")
    assert _balances(user)[0] == D("90.01")
    assert _balances(astrologer)[0] == D("6.99")
    assert wallet.platform_wallet().current_balance == D("3.00")
    db.session.refresh(session)
    assert (session.total_cost, session.billed_minutes) == (D("9.99"), 1)
    assert user.profile.total_debited == D("9.99") and astrologer.astrologer_profile.total_earnings == D("6.99")
    assert astrologer.profile.total_credited == D("6.99")
    assert [
        (leg.transaction_type.value, leg.entries[0].transaction_type.value)
        for leg in (charge.debit, charge.earning, charge.commission)
    ] == [
        ("debit", "transfer"),
        ("credit", "transfer"),
        ("credit", "fee"),
    ]
    _assert_ledger_clean()


def test_charging_a_minute_twice_moves_money_once(user, astrologer, fund, make_session):
    fund(user, "100.00")
    session = make_session(user, astrologer)
    first = charges.charge_minute(session.id, 1, commission_percent=30)
    second = charges.charge_minute(session.id, 1, commission_percent=30)
    db.session.commit()
    assert second.debit.id == first.debit.id and second.earning.id == first.earning.id
    db.session.refresh(session)
    assert session.billed_minutes == 1 and _balances(user)[0] == D("90.00")
    _assert_ledger_clean()


def test_a_minute_the_user_cannot_pay_is_refused_and_writes_nothing(user, astrologer, fund, make_session):
    fund(user, "15.00")
    session = make_session(user, astrologer, rate=D("10.00"))
    charges.charge_minute(session.id, 1, commission_percent=30)
    db.session.commit()
    rows = _rows()
    with pytest.raises(InsufficientBalance):
        charges.charge_minute(session.id, 2, commission_percent=30)
    db.session.rollback()
    assert _rows() == rows and _balances(user)[0] == D("5.00")
    db.session.refresh(session)
    assert session.billed_minutes == 1


def test_held_money_does_not_pay_for_minutes(user, astrologer, fund, make_session):
    fund(user, "10.00")
    holds.hold(wallet.wallet_of(user.id).id, "5.00", idempotency_key="other-hold")
    session = make_session(user, astrologer, rate=D("10.00"))
    with pytest.raises(InsufficientBalance):
        charges.charge_minute(session.id, 1, commission_percent=30)


def test_frozen_user_wallet_cannot_be_charged(user, astrologer, fund, make_session):
    fund(user, "100.00")
    session = make_session(user, astrologer)
    wallet.wallet_of(user.id).status = WalletStatus.FROZEN
    db.session.commit()
    with pytest.raises(WalletFrozen):
        charges.charge_minute(session.id, 1, commission_percent=30)


# ---------------------------------------------------------------- refunds


def _charged_session(user, astrologer, fund, make_session, minutes=3, rate=D("10.00")):
    fund(user, "100.00")
    session = make_session(user, astrologer, rate=rate)
    for minute in range(1, minutes + 1):
        charges.charge_minute(session.id, minute, commission_percent=30)
    db.session.commit()
    return session


def test_full_refund_reverses_every_leg(user, astrologer, fund, make_session):
    session = _charged_session(user, astrologer, fund, make_session)
    result = refunds.refund(session.id, number=1, reason="astrologer never replied")
    db.session.commit()
    assert result.refund.amount == D("30.00") and result.refund.idempotency_key == f"session:{session.id}:refund:1"
    assert result.astrologer_reversal.amount == D("21.00") and result.platform_reversal.amount == D("9.00")
    assert _balances(user)[0] == D("100.00") and _balances(astrologer)[0] == D("0.00")
    assert wallet.platform_wallet().current_balance == D("0.00")
    db.session.refresh(session)
    assert session.total_cost == D("0.00") and session.billed_minutes == 3
    assert (user.profile.total_credited, user.profile.total_debited) == (D("130.00"), D("30.00"))
    assert (result.refund.transaction_type.value, result.astrologer_reversal.transaction_type.value) == (
        "refund",
        "debit",
    )
    assert {
        leg.entries[0].transaction_type.value
        for leg in (result.refund, result.astrologer_reversal, result.platform_reversal)
    } == {"refund"}
    _assert_ledger_clean()


def test_partial_refunds_are_proportional_and_end_exact(user, astrologer, fund, make_session):
    session = _charged_session(user, astrologer, fund, make_session, minutes=3, rate=D("9.99"))  # 29.97 charged
    first = refunds.refund(session.id, number=1, amount="10.00", reason="partly unhappy")
    assert first.astrologer_reversal.amount == D("7.00")  # 10 * 20.97 / 29.97 = 6.997 -> 7.00
    assert first.platform_reversal.amount == D("3.00")
    rest = refunds.refund(session.id, number=2, reason="rest")
    db.session.commit()
    assert rest.refund.amount == D("19.97")
    assert _balances(astrologer)[0] == D("0.00") and wallet.platform_wallet().current_balance == D("0.00")
    _assert_ledger_clean()


def test_refund_double_submit_moves_money_once(user, astrologer, fund, make_session):
    session = _charged_session(user, astrologer, fund, make_session)
    first = refunds.refund(session.id, number=1, amount="5.00", reason="r")
    second = refunds.refund(session.id, number=1, amount="5.00", reason="r")
    db.session.commit()
    assert second.refund.id == first.refund.id and _balances(user)[0] == D("75.00")
    assert refunds.next_refund_number(session.id) == 2


def test_refund_refusals(user, astrologer, fund, make_session):
    session = _charged_session(user, astrologer, fund, make_session)
    with pytest.raises(RefundTooLarge, match="At most ₹30"):
        refunds.refund(session.id, number=1, amount="30.01", reason="r")
    with pytest.raises(InvalidAmount):
        refunds.refund(session.id, number=1, amount="0", reason="r")
    refunds.refund(session.id, number=1, reason="all")
    with pytest.raises(NothingToRefund):
        refunds.refund(session.id, number=2, reason="again")
    db.session.commit()
    _assert_ledger_clean()


def test_refund_refused_when_the_astrologer_was_already_paid_out(user, astrologer, fund, make_session):
    session = _charged_session(user, astrologer, fund, make_session)
    payout = payouts.request_payout(wallet.wallet_of(astrologer.id).id, "21.00", payout_id=uuid.uuid4())
    payouts.approve(payout.id, actor_id=None)
    db.session.commit()
    rows = _rows()
    with pytest.raises(InsufficientBalance, match="astrologer"):
        refunds.refund(session.id, number=1, reason="late complaint")
    db.session.rollback()
    assert _rows() == rows


# ---------------------------------------------------------------- payouts


def test_payout_request_holds_then_approval_pays_out(user, astrologer, fund, make_session):
    _charged_session(user, astrologer, fund, make_session)  # astrologer earned 21.00
    payout_id = uuid.uuid4()
    payout = payouts.request_payout(wallet.wallet_of(astrologer.id).id, "20.00", payout_id=payout_id)
    assert payout.transaction.idempotency_key == f"payout:{payout_id}" and payout.status == PayoutStatus.REQUESTED
    assert payout.transaction.status == BillingStatus.PENDING
    assert _balances(astrologer) == (D("21.00"), D("1.00"), D("20.00"))
    assert payouts.request_payout(wallet.wallet_of(astrologer.id).id, "20.00", payout_id=payout_id).id == payout.id
    assert payouts.approve(payout.id, actor_id=None).changed
    again = payouts.approve(payout.id, actor_id=None)  # approving twice pays once
    assert not again.changed and again.payout.status == PayoutStatus.PAID
    db.session.commit()
    assert payout.transaction.status == BillingStatus.COMPLETED
    assert _balances(astrologer) == (D("1.00"), D("1.00"), D("0.00"))
    with pytest.raises(PayoutClosed):
        payouts.reject(payout.id, reason="too late", actor_id=None)
    _assert_ledger_clean()


def test_rejected_payout_returns_the_money(user, astrologer, fund, make_session):
    _charged_session(user, astrologer, fund, make_session)
    payout = payouts.request_payout(wallet.wallet_of(astrologer.id).id, "21.00", payout_id=uuid.uuid4())
    payouts.reject(payout.id, reason="bank details missing", actor_id=None)
    db.session.commit()
    assert payout.status == PayoutStatus.REJECTED and payout.transaction.status == BillingStatus.CANCELLED
    assert _balances(astrologer) == (D("21.00"), D("21.00"), D("0.00"))
    with pytest.raises(PayoutClosed):
        payouts.approve(payout.id, actor_id=None)
    _assert_ledger_clean()


def test_payout_refusals(user, astrologer, fund):
    fund(user, "100.00")
    with pytest.raises(NotAllowed):
        payouts.request_payout(wallet.wallet_of(user.id).id, "10.00", payout_id=uuid.uuid4())
    with pytest.raises(NotWithdrawable):
        payouts.request_payout(wallet.wallet_of(astrologer.id).id, "1.00", payout_id=uuid.uuid4())
    with pytest.raises(UnknownOrder):
        payouts.approve(fund(user, "1.00").id, actor_id=None)  # a top-up is not a payout


def test_platform_account_is_a_system_user_created_once(app):
    first = accounts.platform_user()
    again = accounts.platform_user()
    assert first.id == again.id and first.type == UserType.SYSTEM
    assert db.session.query(User).filter_by(type=UserType.SYSTEM).count() == 1


def test_every_billing_row_has_a_unique_key(user, astrologer, fund, make_session):
    _charged_session(user, astrologer, fund, make_session)
    keys = [key for (key,) in db.session.query(BillingTransaction.idempotency_key)]
    assert len(keys) == len(set(keys))
    assert {t for (t,) in db.session.query(BillingTransaction.kind)} == {
        BillingKind.TOPUP,
        BillingKind.CHARGE,
        BillingKind.EARNING,
        BillingKind.COMMISSION,
    }
