"""Astrologer money: only earnings are withdrawable, payouts as a lifecycle, the earnings page, the
admin trail (audit page, payouts by status, the conversation and refund-from-minute)."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import AuditEntry, BillingKind, BillingStatus, BillingTransaction, PayoutStatus, UserType
from webapp.services import wallet
from webapp.services.admin import actions as admin
from webapp.services.billing import charges
from webapp.services.errors import NotAllowed, NotWithdrawable, PayoutClosed, PayoutTooSoon
from webapp.services.messaging import chat
from webapp.services.money import _payout_providers as payout_providers
from webapp.services.money import earnings, ledger_checker, payouts, refunds, topups

from ..conftest import AuthActions, csrf_token_from

D = Decimal
ROWS = {"HX-Request": "true"}  # the audit page's rows alone, as its filters ask for them


@pytest.fixture
def astro(make_astrologer):
    return make_astrologer(name="Acharya Payout", email="astro-pay@example.com")


@pytest.fixture
def boss(make_user):
    return make_user(email="boss@example.com", type=UserType.ADMIN, name="Boss Admin")


def _client(app, email):
    client = app.test_client()
    AuthActions(client).login(email)
    return client


def _position(astrologer):
    return earnings.position_of(astrologer.id)


# ---------------------------------------------------------------- deposits never leave as payouts


def test_money_paid_in_is_never_withdrawable(astro, earn):
    earn(astro, "200.00")
    topups.deposit(wallet.wallet_of(astro.id).id, "500.00", idempotency_key="topup:test:astro-in")
    db.session.commit()
    with pytest.raises(NotWithdrawable, match=r"at most ₹200 "):
        payouts.request_for(astro.id, "600", payout_id=uuid.uuid4())
    db.session.rollback()
    assert db.session.query(BillingTransaction).filter_by(kind=BillingKind.PAYOUT).count() == 0
    payouts.request_for(astro.id, "200", payout_id=uuid.uuid4())
    db.session.commit()
    assert _position(astro).withdrawable == D("0.00") and wallet.wallet_of(astro.id).available_balance == D("500.00")


def test_the_laundering_path_is_refused_over_http(app, astro, earn):
    earn(astro, "200.00")
    client = _client(app, astro.email)
    page = client.get("/wallet").get_data(as_text=True)
    assert "cannot be topped up" in page and 'name="amount"' not in page
    token = csrf_token_from(page)
    topup = client.post("/wallet/topups", data={"amount": "500", "state": "29", "csrf_token": token})
    assert topup.status_code == 422 and "holds their earnings" in topup.get_data(as_text=True)
    form = csrf_token_from(client.get("/dashboard/earnings").get_data(as_text=True))
    refused = client.post(
        "/dashboard/payouts", data={"amount": "600", "payout_id": str(uuid.uuid4()), "csrf_token": form}
    )
    assert refused.status_code == 422
    assert "You can withdraw at most ₹200 now" in refused.get_data(as_text=True)
    assert db.session.query(BillingTransaction).filter(BillingTransaction.kind.in_(["payout", "topup"]),
                                                       BillingTransaction.wallet_id == wallet.wallet_of(astro.id).id).count() == 0  # fmt: skip


def test_withdrawable_follows_earnings_refunds_payouts_and_rejections(astro, earn, boss):
    first = earn(astro, "1000.00")
    requested = payouts.request_for(astro.id, "600", payout_id=uuid.uuid4())
    db.session.commit()
    assert _position(astro).withdrawable == D("400.00")
    refunds.refund(first.id, number=1, amount="100.00", reason="cut short")  # reverses 100 of their earnings
    db.session.commit()
    assert (_position(astro).net, _position(astro).withdrawable) == (D("900.00"), D("300.00"))
    with pytest.raises(Exception, match="not yet paid out"):  # would take back money already asked for
        refunds.refund(first.id, number=2, amount="400.00", reason="all of it")
    db.session.rollback()
    admin.reject_payout(requested.id, admin_id=boss.id, reason="Wrong bank account")
    db.session.commit()
    assert _position(astro).withdrawable == D("900.00")
    paid = admin.approve_payout(payouts.request_for(astro.id, "500", payout_id=uuid.uuid4()).id, admin_id=boss.id)
    db.session.commit()
    assert paid.status == PayoutStatus.PAID and paid.provider == "demo" and paid.provider_reference.startswith("DEMO-")
    position = _position(astro)
    assert (position.paid, position.pending, position.withdrawable) == (D("500.00"), D("0.00"), D("400.00"))
    assert ledger_checker.verify().ok


def test_each_step_moves_money_once_however_often_it_is_retried(app, astro, earn, boss, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_PROVIDER", "manual")
    earn(astro, "800.00")
    request_id = uuid.uuid4()
    payout = payouts.request_for(astro.id, "700", payout_id=request_id)
    assert payouts.request_for(astro.id, "700", payout_id=request_id).id == payout.id  # a double submit
    for _ in range(2):
        admin.approve_payout(payout.id, admin_id=boss.id)
    db.session.commit()
    assert payout.status == PayoutStatus.APPROVED and wallet.wallet_of(astro.id).held_balance == D("700.00")
    with pytest.raises(PayoutClosed):
        admin.reject_payout(payout.id, admin_id=boss.id, reason="too late: it was sent")
    db.session.rollback()
    for _ in range(2):
        admin.mark_payout_paid(payout.id, admin_id=boss.id, reference="UTR99887766")
    db.session.commit()
    rows = db.session.query(BillingTransaction).filter_by(kind=BillingKind.PAYOUT).all()
    assert [(r.amount, r.status, r.external_transaction_id, len(r.entries)) for r in rows] == [
        (D("700.00"), BillingStatus.COMPLETED, "UTR99887766", 1)
    ]
    assert wallet.wallet_of(astro.id).current_balance == D("100.00")
    actions = [a for (a,) in db.session.query(AuditEntry.action).order_by(AuditEntry.created_at)]
    assert actions == ["payout.approve", "payout.paid"]  # one entry per step, not per retry


def test_a_payout_the_provider_fails_is_withdrawable_again(app, astro, earn, boss, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_PROVIDER", "manual")
    earn(astro, "300.00")
    payout = payouts.request_for(astro.id, "300", payout_id=uuid.uuid4())
    admin.approve_payout(payout.id, admin_id=boss.id)
    step = payouts.fail(payout.id, reason="Account closed at the bank")
    assert step.changed and not payouts.fail(payout.id, reason="again").changed
    db.session.commit()
    assert payout.status == PayoutStatus.FAILED and payout.transaction.status == BillingStatus.FAILED
    assert _position(astro).withdrawable == D("300.00") and ledger_checker.verify().ok


def test_minimum_and_schedule_are_configurable(app, astro, earn, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_MINIMUM", D("500.00"))
    monkeypatch.setitem(app.config, "PAYOUT_INTERVAL_DAYS", 7)
    earn(astro, "2000.00")
    now = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    with pytest.raises(Exception, match=r"minimum payout is ₹500\."):
        payouts.request_for(astro.id, "499.99", payout_id=uuid.uuid4(), now=now)
    payouts.request_for(astro.id, "500", payout_id=uuid.uuid4(), now=now)
    db.session.commit()
    with pytest.raises(PayoutTooSoon, match="once every 7 days"):
        payouts.request_for(astro.id, "500", payout_id=uuid.uuid4(), now=now + timedelta(days=6))
    db.session.rollback()
    payouts.request_for(astro.id, "500", payout_id=uuid.uuid4(), now=now + timedelta(days=7))
    db.session.commit()


def test_only_astrologers_request_payouts(make_user, fund):
    person = make_user()
    fund(person, "900.00")
    with pytest.raises(NotAllowed):
        payouts.request_for(person.id, "500", payout_id=uuid.uuid4())


def test_providers_share_one_interface():
    assert set(payout_providers.PROVIDERS) == {"demo", "manual"}
    assert all(issubclass(p, payout_providers.PayoutProvider) for p in payout_providers.PROVIDERS.values())


# ---------------------------------------------------------------- the earnings page


def _ledger_sum(kind, **where):
    rows = db.session.query(BillingTransaction).filter_by(kind=kind, status=BillingStatus.COMPLETED, **where)
    return sum((row.amount for row in rows), D("0.00"))


def test_earnings_figures_are_sums_of_ledger_rows(app, astro, make_user, fund, make_session):
    payer = make_user(name="Meera Kapoor")
    fund(payer, "500.00")
    session = make_session(payer, astro, rate=D("13.37"))  # awkward: 30% of 13.37 is 4.011
    for minute in (1, 2, 3):
        charges.charge_minute(session.id, minute, commission_percent=30)
    db.session.commit()
    refunds.refund(session.id, number=1, amount="5.55", reason="a dropped minute")
    db.session.commit()
    own = wallet.wallet_of(astro.id).id
    net = _ledger_sum(BillingKind.EARNING) - _ledger_sum(BillingKind.REVERSAL, wallet_id=own)
    gross, refunded = _ledger_sum(BillingKind.CHARGE), _ledger_sum(BillingKind.REFUND)
    house = wallet.platform_wallet().id
    commission = _ledger_sum(BillingKind.COMMISSION) - _ledger_sum(BillingKind.REVERSAL, wallet_id=house)
    (row,) = earnings.sessions_page(astro.id).items
    assert (row.first_name, row.figures.minutes) == ("Meera", 3)
    assert (row.figures.gross, row.figures.refunded, row.figures.net, row.figures.commission) == (
        gross, refunded, net, commission)  # fmt: skip
    assert row.figures.net + row.figures.commission == gross - refunded == session.total_cost
    client = _client(app, astro.email)
    page = client.get("/dashboard/earnings").get_data(as_text=True)
    assert f"₹{net:,.2f}" in page and "Meera" in page and "Kapoor" not in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert (
        "You earned" in dashboard
        and f"₹{net:,.2f}" in dashboard
        and f"₹{session.total_cost:,.2f}</td>" not in dashboard
    )
    exported = list(csv.reader(io.StringIO(client.get("/dashboard/earnings?format=csv").get_data(as_text=True))))
    assert exported[0][:7] == ["date", "user", "minutes", "gross", "commission", "refunded", "net"]
    assert exported[1][1:7] == ["Meera", "3", str(gross), str(commission), str(refunded), str(net)]
    partial = client.get("/dashboard/earnings?page=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="earning-sessions"' in partial and "<h1>" not in partial  # the pager's partial


def test_periods_start_at_midnight_in_india(astro, earn):
    now = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)  # 10:00 in Kolkata
    earn(astro, "10.00", now=datetime(2026, 12, 1, 18, 40, tzinfo=UTC))  # 00:10 on 2 Dec in Kolkata: today
    earn(astro, "20.00", now=datetime(2026, 12, 1, 18, 20, tzinfo=UTC))  # 23:50 on 1 Dec: yesterday
    earn(astro, "40.00", now=datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    earn(astro, "80.00", now=datetime(2026, 10, 1, 12, 0, tzinfo=UTC))
    figures = {p.key: p.figures.net for p in earnings.periods(astro.id, now)}
    assert figures == {"today": D("10.00"), "7d": D("30.00"), "30d": D("70.00"), "all": D("150.00")}


# ---------------------------------------------------------------- the admin trail


def test_admin_reads_the_conversation_and_refunds_from_a_minute(app, astro, boss, make_user, fund, make_session):
    payer = make_user(name="Ravi Kumar")
    fund(payer, "500.00")
    session = make_session(payer, astro, rate=D("10.00"))
    chat.send(session.id, payer.id, "m1", "Will I get the job? Call me on 9876543210")
    chat.send(session.id, astro.id, "m2", "Jupiter favours you.")
    db.session.commit()  # one use case per transaction, as production runs them (the lock-order watch)
    for minute in (1, 2, 3, 4):
        charges.charge_minute(session.id, minute, commission_percent=30)
    db.session.commit()
    client = _client(app, boss.email)
    page = client.get(f"/admin/sessions/{session.id}").get_data(as_text=True)
    assert "Jupiter favours you." in page and "9876543210" not in page  # masked as they saw it
    assert "Refund from minute 3" in page
    client.get(f"/admin/sessions/{session.id}")  # read again at once: one audit entry
    assert db.session.query(AuditEntry).filter_by(action="session.read", object_id=session.id).count() == 1
    token = csrf_token_from(page)
    number = refunds.next_refund_number(session.id)
    for _ in range(2):  # a double click is one refund
        response = client.post(
            f"/admin/sessions/{session.id}/refund-from/3",
            data={"number": number, "csrf_token": token, "confirmed": "yes"},
        )
        assert response.status_code == 303
    db.session.refresh(session)
    assert session.total_cost == D("20.00")  # minutes 3 and 4 given back
    assert _ledger_sum(BillingKind.REFUND) == D("20.00")
    assert (
        client.post(
            f"/admin/sessions/{session.id}/refund-from/9", data={"number": 2, "csrf_token": token, "confirmed": "yes"}
        ).status_code
        == 422
    )
    trail = client.get(f"/admin/audit?target={session.id}", headers=ROWS).get_data(as_text=True)
    assert "Read a conversation" in trail and "Refunded a session" in trail and "Refund from minute 3" in trail
    assert "{&#34;" not in trail and '{"' not in trail  # readable fields, not raw JSON


def test_the_audit_page_filters_and_exports(app, astro, boss, earn, make_user):
    other = make_user(email="other-admin@example.com", type=UserType.ADMIN, name="Other Admin")
    earn(astro, "900.00")
    first = payouts.request_for(astro.id, "500", payout_id=uuid.uuid4())
    second = payouts.request_for(astro.id, "300", payout_id=uuid.uuid4())
    admin.approve_payout(first.id, admin_id=boss.id)
    admin.reject_payout(second.id, admin_id=other.id, reason="Duplicate request")
    db.session.commit()
    client = _client(app, boss.email)
    everything = client.get("/admin/audit", headers=ROWS).get_data(as_text=True)
    assert "Approved a payout" in everything and "Rejected a payout" in everything
    by_actor = client.get("/admin/audit?actor=other", headers=ROWS).get_data(as_text=True)
    assert "Rejected a payout" in by_actor and "Approved a payout" not in by_actor
    by_action = client.get("/admin/audit?action=payout.approve", headers=ROWS).get_data(as_text=True)
    assert "Approved a payout" in by_action and "Duplicate request" not in by_action
    assert "No entries match." in client.get("/admin/audit?since=2030-01-01").get_data(as_text=True)
    assert client.get("/admin/audit?since=not-a-date&target=nope&page=-4").status_code == 200
    exported = list(csv.reader(io.StringIO(client.get("/admin/audit?format=csv").get_data(as_text=True))))
    assert exported[0][:3] == ["when_utc", "actor", "action"]
    assert {row[2] for row in exported[1:]} == {"payout.approve", "payout.reject"}
    payout_page = client.get(f"/admin/payouts/{second.id}").get_data(as_text=True)
    assert "Duplicate request" in payout_page and "Rejected a payout" in payout_page
    person = client.get(f"/admin/users/{astro.id}").get_data(as_text=True)
    assert "Duplicate request" in person and "DEMO-" in person  # paid and rejected payouts stay visible


def test_the_overview_shows_the_last_verification(app, boss):
    client = _client(app, boss.email)
    assert "has not been verified yet" in client.get("/admin").get_data(as_text=True)
    assert app.test_cli_runner().invoke(args=["ledger", "verify"]).exit_code == 0
    page = client.get("/admin").get_data(as_text=True)
    assert "Consistent" in page and "flask ledger verify" in page


def test_the_periodic_loop_verifies_on_its_schedule(app, monkeypatch):
    from webapp import scheduler

    monkeypatch.setitem(app.config, "LEDGER_VERIFY_SECONDS", 3600)
    now = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    assert scheduler.verify_ledger_if_due(app, now).ok
    assert scheduler.verify_ledger_if_due(app, now + timedelta(minutes=59)) is None
    assert scheduler.verify_ledger_if_due(app, now + timedelta(minutes=60)).ok
    monkeypatch.setitem(app.config, "LEDGER_VERIFY_SECONDS", 0)
    assert scheduler.verify_ledger_if_due(app, now + timedelta(days=1)) is None
