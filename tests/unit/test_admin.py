"""The admin console: role checks on every route, ledgers with filters/totals/CSV, refunds, people,
approvals, payouts, the audit trail."""

import csv
import io
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db, socketio
from webapp.models import (
    AuditEntry,
    BillingKind,
    BillingStatus,
    BillingTransaction,
    PayoutStatus,
    SessionStatus,
    UserStatus,
    UserType,
    utcnow,
)
from webapp.services import wallet
from webapp.services.billing import charges
from webapp.services.consultations import lifecycle
from webapp.services.money import ledger_checker
from webapp.services.money import payouts as payout_service

from ..conftest import AuthActions, csrf_token_from

D = Decimal


@pytest.fixture
def finished(consult):
    """A completed session of 3 minutes at 10.00 between Priya and an astrologer."""
    astrologer = consult.astrologer(name="Acharya Ledger", rate=D("10.00"))
    user = consult.user(email="priya@example.com", name="Priya Ledger")
    t0 = utcnow() + timedelta(seconds=1)  # after the top-up, so the ledger reads in time order
    session = consult.reply(consult.accept(consult.request(user, astrologer, now=t0), now=t0), now=t0)
    for minute in (2, 3):
        charges.charge_minute(session.id, minute, commission_percent=30, now=t0 + timedelta(minutes=minute - 1))
    lifecycle.end(session.id, by_user_id=user.id, now=t0 + timedelta(minutes=3))
    db.session.commit()
    return session, user, astrologer


def _token(client):
    return csrf_token_from(client.get("/admin").get_data(as_text=True))


ADMIN_ROUTES = [
    ("get", "/admin"),
    ("get", "/admin/ledger/billing"),
    ("get", "/admin/ledger/wallet"),
    ("get", "/admin/ledger/verify"),
    ("get", "/admin/tax"),
    ("get", "/admin/topups/{topup}/refund"),
    ("post", "/admin/topups/{topup}/refund"),
    ("get", "/admin/sessions/{session}"),
    ("post", "/admin/sessions/{session}/refund"),
    ("post", "/admin/sessions/{session}/refund-from/1"),
    ("get", "/admin/audit"),
    ("get", "/admin/users"),
    ("get", "/admin/users/{user}"),
    ("post", "/admin/users/{user}/status"),
    ("post", "/admin/astrologers/{astrologer}/approve"),
    ("get", "/admin/payouts"),
    ("post", "/admin/payouts/{payout}/approve"),
    ("post", "/admin/payouts/{payout}/reject"),
    ("get", "/admin/payouts/{payout}"),
    ("post", "/admin/payouts/{payout}/paid"),
    ("get", "/admin/flags"),
    ("post", "/admin/flags/{flag}"),
]


def test_every_admin_route_is_listed_here(app):
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")}
    listed = {path.replace("{session}", "<uuid:session_id>").replace("{user}", "<uuid:user_id>")
              .replace("{astrologer}", "<uuid:astrologer_id>").replace("{payout}", "<uuid:payout_id>").replace("{flag}", "<uuid:flag_id>").replace("{topup}", "<uuid:topup_id>").replace("/1", "/<int:minute>") for _, path in ADMIN_ROUTES}  # fmt: skip
    assert routes == listed


@pytest.mark.parametrize("role", [None, UserType.USER, UserType.ASTROLOGER])
@pytest.mark.parametrize("method, path", ADMIN_ROUTES)
def test_non_admins_are_kept_out(app, make_user, finished, role, method, path):
    session, user, astrologer = finished
    url = path.format(
        session=session.id,
        user=user.id,
        astrologer=astrologer.id,
        payout=uuid.uuid4(),
        flag=uuid.uuid4(),
        topup=uuid.uuid4(),
    )
    client = app.test_client()
    token = {}
    if role:
        person = make_user(
            type=role,
            **({"chat_rate_per_minute": "10", "call_rate_per_minute": "10"} if role == UserType.ASTROLOGER else {}),
        )
        AuthActions(client).login(person.email)
        token = {"csrf_token": csrf_token_from(client.get("/astrologers").get_data(as_text=True))}
    response = client.get(url) if method == "get" else client.post(url, data=token)
    if role is None:
        assert response.status_code in (302, 400)  # to the login page (GET) or refused before (POST without CSRF)
    else:
        assert response.status_code == 403
    db.session.refresh(session)
    assert session.total_cost == D("30.00")


def test_overview_shows_figures_chart_and_the_way_to_the_ledger_check(admin_client, finished, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(ledger_checker, "verify", lambda: pytest.fail("the overview ran the full ledger check"))
        page = admin_client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/ledger/verify"' in page
    assert "Consultation revenue" in page and "₹30" in page and "<svg" in page
    assert "/admin/ledger/billing?type=charge&amp;status=completed&amp;date_from=" in page


def test_billing_ledger_filters_totals_and_paging(admin_client, finished, consult):
    session, user, astrologer = finished
    consult.user(email="ravi@example.com", name="Ravi Other")
    page = admin_client.get("/admin/ledger/billing?user=priya&type=charge").get_data(as_text=True)
    assert "3 rows" in page and "charge × 3 = ₹30" in page
    assert "Ravi Other" not in page
    by_session = admin_client.get(f"/admin/ledger/billing?session={session.id}").get_data(as_text=True)
    assert (
        "charge × 3 = ₹30" in by_session and "earning × 3 = ₹21" in by_session and "commission × 3 = ₹9" in by_session
    )
    future = (utcnow() + timedelta(days=2)).date().isoformat()
    assert "0 rows" in admin_client.get(f"/admin/ledger/billing?date_from={future}").get_data(as_text=True)
    partial = admin_client.get("/admin/ledger/billing?type=topup", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert partial.startswith('<div id="ledger-rows">') and "Ravi Other" in partial
    for bad in ("session=nope", "date_from=yesterday", "type=evil", "page=-3", "status=weird"):
        assert admin_client.get(f"/admin/ledger/billing?{bad}").status_code == 200


def test_billing_csv_is_the_whole_filtered_set_in_a_stable_order(admin_client, finished):
    session, _, _ = finished
    response = admin_client.get(f"/admin/ledger/billing?session={session.id}&type=charge&format=csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header = rows[0]
    assert header[:6] == ["created_at", "id", "user_id", "session_id", "transaction_type", "amount"]  # the seed's names
    assert {"payment_method", "external_transaction_id", "processed_at", "kind", "minute"} <= set(header)
    column = {name: header.index(name) for name in header}
    assert [(r[column["transaction_type"]], r[column["kind"]], r[column["amount"]], r[column["minute"]],
             r[column["payment_method"]]) for r in rows[1:]] == [
        ("debit", "charge", "10.00", "1", "wallet"),
        ("debit", "charge", "10.00", "2", "wallet"),
        ("debit", "charge", "10.00", "3", "wallet"),
    ]  # fmt: skip


def test_wallet_ledger_and_its_csv(admin_client, finished):
    page = admin_client.get("/admin/ledger/wallet?user=priya").get_data(as_text=True)
    assert "transfer × 3 = ₹30" in page and "deposit × 1 = ₹500" in page  # the seed's types
    debits = admin_client.get("/admin/ledger/wallet?user=priya&type=debit").get_data(as_text=True)
    assert "3 rows" in debits  # the direction still filters
    rows = list(
        csv.reader(io.StringIO(admin_client.get("/admin/ledger/wallet?user=priya&format=csv").get_data(as_text=True)))
    )
    header = rows[0]
    assert header[:7] == [
        "created_at", "id", "wallet_id", "transaction_type", "amount", "balance_before", "balance_after"
    ] and len(rows) == 5  # fmt: skip
    assert [r[6] for r in rows[1:]] == ["500.00", "490.00", "480.00", "470.00"]  # balance_after, chained
    assert [r[3] for r in rows[1:]] == ["deposit", "transfer", "transfer", "transfer"]
    assert {"reference_id", "updated_at", "direction"} <= set(header)


def test_session_page_and_refunds(admin_client, finished):
    session, user, astrologer = finished
    page = admin_client.get(f"/admin/sessions/{session.id}").get_data(as_text=True)
    for text in (
        "Minute 1 charged",
        "Minute 3 charged",
        "Accepted",
        "Ended (ended by the user)",
        "Priya Ledger",
        "Acharya Ledger",
    ):
        assert text in page
    token = _token(admin_client)
    over = admin_client.post(
        f"/admin/sessions/{session.id}/refund",
        data={"scope": "part", "amount": "30.01", "reason": "test", "number": "1", "csrf_token": token},
    )
    assert over.status_code == 422 and "At most ₹30" in over.get_data(as_text=True)
    no_reason = admin_client.post(
        f"/admin/sessions/{session.id}/refund",
        data={"scope": "part", "amount": "5", "reason": "", "number": "1", "csrf_token": token},
    )
    assert no_reason.status_code == 422
    # A blank amount no longer means "everything": the full refund is a choice of its own.
    blank = admin_client.post(
        f"/admin/sessions/{session.id}/refund",
        data={"scope": "part", "amount": "", "reason": "x", "number": "1", "csrf_token": token},
    )
    assert blank.status_code == 422 and "Enter the amount to refund" in blank.get_data(as_text=True)
    unchosen = admin_client.post(
        f"/admin/sessions/{session.id}/refund", data={"amount": "", "reason": "x", "number": "1", "csrf_token": token}
    )
    assert unchosen.status_code == 422 and "Choose a full refund or an amount." in unchosen.get_data(as_text=True)
    data = {"scope": "part", "amount": "15.00", "reason": "Half, the answer was cut short", "number": "1",
            "csrf_token": token}  # fmt: skip
    # Asked first: who gets how much back; nothing moves until the admin confirms.
    asked = admin_client.post(f"/admin/sessions/{session.id}/refund", data=data)
    question = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Refund ₹15 to Priya Ledger?" in question and 'value="yes"' in question
    db.session.refresh(session)
    assert session.total_cost == D("30.00")
    dialog = admin_client.post(f"/admin/sessions/{session.id}/refund", data=data, headers={"X-Ask-First": "1"})
    assert "Refund ₹15 to Priya Ledger?" in dialog.get_data(as_text=True) and "<html" not in dialog.get_data(
        as_text=True
    )
    data["confirmed"] = "yes"
    assert admin_client.post(f"/admin/sessions/{session.id}/refund", data=data).status_code == 303
    assert admin_client.post(f"/admin/sessions/{session.id}/refund", data=data).status_code == 303  # double submit
    db.session.refresh(session)
    assert session.total_cost == D("15.00")
    refunds = db.session.query(BillingTransaction).filter_by(session_id=session.id, kind=BillingKind.REFUND).all()
    assert [r.amount for r in refunds] == [D("15.00")]
    reversals = sorted(
        r.amount
        for r in db.session.query(BillingTransaction).filter_by(session_id=session.id, kind=BillingKind.REVERSAL)
    )
    assert reversals == [D("4.50"), D("10.50")]  # 70/30 of 15.00, exactly
    assert db.session.query(AuditEntry).filter_by(action="refund", object_id=session.id).count() == 1
    assert "Refunded (Half, the answer was cut short)" in admin_client.get(f"/admin/sessions/{session.id}").get_data(
        as_text=True
    )
    assert ledger_checker.verify().ok


def test_people_search_and_suspension_ends_open_sessions(app, admin_client, consult):
    astrologer, user = consult.astrologer(), consult.user(email="suspect@example.com", name="Sam Suspect")
    session = consult.accept(consult.request(user, astrologer))
    http = app.test_client()
    AuthActions(http).login("suspect@example.com")
    sock = socketio.test_client(app, flask_test_client=http)
    assert sock.is_connected()
    found = admin_client.get("/admin/users?q=suspect").get_data(as_text=True)
    assert "Sam Suspect" in found
    suspend = {"status": "suspended", "csrf_token": _token(admin_client)}
    asked = admin_client.post(f"/admin/users/{user.id}/status", data=suspend).get_data(as_text=True)
    assert "Suspend Sam Suspect?" in asked and "1 ends now and is billed to this minute" in asked
    db.session.refresh(session)
    assert session.status == SessionStatus.ACTIVE  # nothing until confirmed
    response = admin_client.post(f"/admin/users/{user.id}/status", data={**suspend, "confirmed": "yes"})
    assert response.status_code == 303
    db.session.refresh(session), db.session.refresh(user)
    assert user.status == UserStatus.SUSPENDED
    assert session.status == SessionStatus.COMPLETED and session.end_reason.value == "admin_ended"
    assert not sock.is_connected()  # their socket was dropped
    assert not socketio.test_client(app, flask_test_client=http).is_connected()  # and cannot come back
    assert "Log out" not in http.get("/astrologers").get_data(as_text=True)  # logged out of the web too
    admin_client.post(f"/admin/users/{user.id}/status", data={"status": "active", "csrf_token": _token(admin_client)})
    db.session.refresh(user)
    assert user.status == UserStatus.ACTIVE
    actions = [a for (a,) in db.session.query(AuditEntry.action).filter_by(object_id=user.id)]
    assert actions == ["user.status", "user.status"]


def test_approving_an_astrologer_lists_them(admin_client, client, make_astrologer):
    pending = make_astrologer(name="Newly Approved", is_approved=False)
    assert "Newly Approved" not in client.get("/astrologers").get_data(as_text=True)
    admin_client.post(f"/admin/astrologers/{pending.id}/approve", data={"csrf_token": _token(admin_client)})
    assert "Newly Approved" in client.get("/astrologers").get_data(as_text=True)


def test_payout_flow(app, admin_client, finished, earn, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_MINIMUM", D("500.00"))
    _, _, astrologer = finished
    earn(astrologer, "979.00")  # 21 earned in the session + 979
    astro = app.test_client()
    AuthActions(astro).login(astrologer.email)
    token = csrf_token_from(astro.get("/dashboard/earnings").get_data(as_text=True))
    too_small = astro.post(
        "/dashboard/payouts", data={"amount": "499.99", "payout_id": str(uuid.uuid4()), "csrf_token": token}
    )
    assert too_small.status_code == 422 and "The minimum payout is ₹500." in too_small.get_data(as_text=True)
    payout_id = str(uuid.uuid4())
    for _ in range(2):  # a double submit is one request
        astro.post("/dashboard/payouts", data={"amount": "600", "payout_id": payout_id, "csrf_token": token})
    payouts = db.session.query(BillingTransaction).filter_by(kind=BillingKind.PAYOUT).all()
    assert [(p.amount, p.status) for p in payouts] == [(D("600.00"), BillingStatus.PENDING)]
    assert "Acharya Ledger" in admin_client.get("/admin/payouts").get_data(as_text=True)
    approve = {"reference": "UTR2026120212345", "csrf_token": _token(admin_client)}
    asked = admin_client.post(f"/admin/payouts/{payouts[0].id}/approve", data=approve).get_data(as_text=True)
    assert "Approve a payout of ₹600 to Acharya Ledger?" in asked and "UTR2026120212345" in asked
    db.session.refresh(payouts[0])
    assert payouts[0].status == BillingStatus.PENDING
    admin_client.post(f"/admin/payouts/{payouts[0].id}/approve", data={**approve, "confirmed": "yes"})
    db.session.refresh(payouts[0])
    assert payouts[0].status == BillingStatus.COMPLETED
    assert (payouts[0].payment_method, payouts[0].external_transaction_id) == ("bank_transfer", "UTR2026120212345")
    assert payouts[0].processed_at is not None and payouts[0].entries[0].reference_id == "UTR2026120212345"
    assert wallet.wallet_of(astrologer.id).current_balance == D("400.00")
    assert db.session.query(AuditEntry).filter_by(action="payout.approve").count() == 1
    paid = admin_client.get("/admin/payouts?status=paid").get_data(as_text=True)
    assert "UTR2026120212345" in paid and "Acharya Ledger" in paid  # a paid payout stays listed
    assert ledger_checker.verify().ok


def test_rejecting_a_payout_needs_a_reason_and_returns_the_money(app, admin_client, finished, earn):
    _, _, astrologer = finished
    earn(astrologer, "979.00")
    payout = payout_service.request_for(astrologer.id, "500", payout_id=uuid.uuid4())
    db.session.commit()
    refused = admin_client.post(
        f"/admin/payouts/{payout.id}/reject", data={"reason": "", "csrf_token": _token(admin_client)}
    )
    assert refused.status_code == 303
    db.session.refresh(payout)
    assert payout.status == PayoutStatus.REQUESTED
    admin_client.post(
        f"/admin/payouts/{payout.id}/reject",
        data={"reason": "Bank details missing", "csrf_token": _token(admin_client), "confirmed": "yes"},
    )
    db.session.refresh(payout)
    assert payout.status == PayoutStatus.REJECTED and payout.transaction.status == BillingStatus.CANCELLED
    assert wallet.wallet_of(astrologer.id).available_balance == D("1000.00")
    listed = admin_client.get("/admin/payouts?status=rejected").get_data(as_text=True)
    assert "Bank details missing" in listed


def test_verify_page_reports(admin_client, finished):
    response = admin_client.get("/admin/ledger/verify")
    assert response.status_code == 200 and response.get_data(as_text=True).count("<strong>OK</strong>") == 9


def test_status_date_and_order_filters_and_totals_match_the_csv(admin_client, finished, consult):
    session, user, _ = finished
    from webapp.services.money import payments

    payments.start_topup(user.id, "100", now=utcnow() + timedelta(hours=1))  # a pending top-up, the newest row
    db.session.commit()
    pending = admin_client.get("/admin/ledger/billing?status=pending").get_data(as_text=True)
    assert "1 row" in pending and "topup × 1 = ₹100" in pending
    today = (utcnow() + timedelta(days=1)).date().isoformat()
    everything = admin_client.get(f"/admin/ledger/billing?date_to={today}").get_data(as_text=True)
    count = int(everything.split(" row")[0].rsplit(">", 1)[-1].strip())
    rows = list(
        csv.reader(
            io.StringIO(admin_client.get(f"/admin/ledger/billing?date_to={today}&format=csv").get_data(as_text=True))
        )
    )
    assert len(rows) - 1 == count  # the CSV is the whole filtered set, not a page
    newest = admin_client.get("/admin/ledger/billing").get_data(as_text=True)
    oldest = admin_client.get("/admin/ledger/billing?sort=oldest").get_data(as_text=True)
    first_pending, first_hold = 'pill-pending">pending', "<td>hold"
    assert newest.index(first_pending) < newest.index(first_hold)
    assert oldest.index(first_hold) < oldest.index(first_pending)
