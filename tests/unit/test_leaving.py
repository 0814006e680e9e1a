"""Leaving with one's data and leaving for good, as a person and the law would check it: the export holds
every table the person appears in and only they can fetch it; a deletion waits its grace (signing in
cancels it), says what stops it and what happens to the balance, and when carried out leaves no trace of
the person's name, e-mail or phone in any text column of any table while `flask ledger verify` stays clean."""

import io
import json
import zipfile
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage

from webapp.extensions import db
from webapp.models import BillingKind, BillingTransaction, Message, TaxInvoice, User, UserStatus, utcnow
from webapp.services import jobs, periodic
from webapp.services.astrology import birth_chart
from webapp.services.consultations import lifecycle, ratings
from webapp.services.messaging import attachments, chat
from webapp.services.money import payments
from webapp.services.users import accounts, data_export, erasure, login_sessions
from webapp.services.users.email_addresses import send_verification

from ..conftest import DEMO_PASSWORD, AuthActions

NAME, EMAIL, PHONE = "Zephyrine Quasimodo", "zephyrine.q@example.com", "+919812300077"
NEEDLES = ("Zephyrine", "Quasimodo", EMAIL, PHONE, PHONE[1:], "98123 00077")


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": AuthActions(client).csrf_token(), **data})


@pytest.fixture
def person(app, consult, queued):
    """Someone with a bit of everything: details, a chart consent, a consultation with words, a photo, a
    rating and a review, a follow, notifications about them, a top-up, a pending link, a login."""
    astrologer = consult.astrologer(name="Pandit Ravi Shastri")
    user = consult.user(balance="300.00", name=NAME, email=EMAIL, phone=PHONE)
    accounts.update_details(user.id, birth_date=date(1990, 5, 17), birth_time=time(6, 30),
                            birth_place=None, bio="Zephyrine, asking about work")  # fmt: skip
    birth_chart.share(user.id)
    db.session.commit()
    _, checkout = payments.start_topup(user.id, "100", buyer_state="27")  # a tax invoice in their name
    payments.demo_checkout(checkout.order_id, "pay", user.id)
    db.session.commit()
    session = consult.accept(consult.request(user, astrologer))
    chat.send(session.id, user.id, "c-1", "Namaste, I am Zephyrine Quasimodo from Pune.")
    consult.reply(session)
    photo = io.BytesIO()
    Image.new("RGB", (8, 8)).save(photo, "PNG")
    photo.seek(0)
    attachments.send(session.id, user.id, None, FileStorage(photo, "my palm.png"), utcnow())
    db.session.commit()
    lifecycle.end(session.id, by_user_id=user.id, now=utcnow())
    ratings.rate(session.id, user.id, 5, review="Zephyrine says: very kind")
    from webapp.services.astrologers import follows

    follows.follow(user, astrologer.id)
    login_sessions.start(user.id, user_agent="Mozilla/5.0 (Zephyrine's phone)", ip_address="10.1.2.3")
    user.email_verified_at = None
    send_verification(user)
    db.session.commit()
    return user, astrologer, session


def test_the_export_holds_every_table_the_person_appears_in_and_only_they_can_fetch_it(app, person, queued):
    user, astrologer, session = person
    owner = app.test_client()
    AuthActions(owner).login(EMAIL)
    queued.clear()
    assert _post(owner, "/auth/account/export").status_code == 303
    for delivery_id in list(queued):
        jobs.perform(delivery_id)
    page = owner.get("/auth/account/security").get_data(as_text=True)
    link = page.split('href="/auth/account/export/')[1].split('"')[0]
    stranger = app.test_client()
    AuthActions(stranger).login(astrologer.email)
    assert stranger.get(f"/auth/account/export/{link}").status_code == 404  # not theirs
    assert app.test_client().get(f"/auth/account/export/{link}").status_code == 302  # signed in only
    response = owner.get(f"/auth/account/export/{link}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    expected = set(data_export.tables_of(user.id))
    assert {"users", "user_profiles", "wallets", "consultation_sessions", "messages", "billing_transactions",
            "wallet_transactions", "attachments", "follows", "login_sessions", "notifications"} <= expected  # fmt: skip
    # Every table with a row naming the person is in the ZIP, as JSON and CSV.
    for table in db.metadata.sorted_tables:
        fks = [c for c in table.columns if any(fk.column.table.name == "users" for fk in c.foreign_keys)]
        if not fks or table.name in data_export.SKIPPED_TABLES:
            continue
        has_rows = db.session.execute(sa.select(sa.func.count()).select_from(table).where(
            sa.or_(*[c == user.id for c in fks]))).scalar_one()  # fmt: skip
        if has_rows:
            assert {f"{table.name}.json", f"{table.name}.csv"} <= names, table.name
    profile = json.loads(archive.read("users.json"))[0]
    assert profile["email"] == EMAIL and "password_hash" not in profile
    words = [m["content"] for m in json.loads(archive.read("messages.json"))]
    assert "Namaste, I am Zephyrine Quasimodo from Pune." in words and "Namaste, tell me more." in words
    assert any(name.startswith("attachments/") and name.endswith("my palm.jpg") for name in names)
    assert json.loads(archive.read("consultation_sessions.json"))[0]["astrologer_rating"] == "5.00"
    # The copy lives 24 hours.
    periodic.run_due(utcnow() + timedelta(hours=25))
    assert owner.get(f"/auth/account/export/{link}").status_code == 404


def test_deletion_says_what_stops_it(app, consult, make_user, auth):
    astrologer = consult.astrologer(email="busy-astro@example.com")
    user = consult.user(email="busy@example.com")
    consult.accept(consult.request(user, astrologer))
    auth.login("busy@example.com")
    page = auth.client.get("/auth/account/security").get_data(as_text=True)
    assert "consultation that has not ended" in page and ">Delete my account</button>" not in page
    refused = _post(auth.client, "/auth/account/delete", password=DEMO_PASSWORD)
    assert refused.status_code == 409 and "consultation that has not ended" in refused.get_data(as_text=True)
    assert db.session.get(User, user.id).deletion_due_at is None


def test_an_astrologer_with_earnings_or_a_payout_is_told_to_settle_first(app, make_astrologer, earn):
    astrologer = make_astrologer(email="earner@example.com")
    earn(astrologer, "200.00")
    assert any("earnings not yet paid out" in reason for reason in erasure.blockers(astrologer))


def test_a_wrong_password_deletes_nothing_and_signing_in_cancels_a_deletion(app, person, queued):
    user, _, _ = person
    client = app.test_client()
    AuthActions(client).login(EMAIL)
    page = client.get("/auth/account/security").get_data(as_text=True)
    assert "Your wallet holds ₹" in page and "gives it up" in page  # the balance, said before confirming
    wrong = _post(client, "/auth/account/delete", password="not it")
    assert wrong.status_code == 422 and db.session.get(User, user.id).deletion_due_at is None
    done = _post(client, "/auth/account/delete", password=DEMO_PASSWORD)
    assert done.status_code == 200 and "Your account will be deleted" in done.get_data(as_text=True)
    assert client.get("/wallet").status_code == 302  # signed out
    db.session.expire_all()
    assert db.session.get(User, user.id).deletion_due_at is not None
    back = app.test_client()
    welcome = AuthActions(back).login(EMAIL, follow_redirects=True)
    assert "your account will not be deleted" in welcome.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).deletion_due_at is None
    assert periodic.run_due(utcnow() + timedelta(days=8))["accounts_erased"] == 0


def test_a_deletion_erases_the_person_and_keeps_the_ledger_whole(app, person, queued):
    user, astrologer, session = person
    user_id = user.id
    client = app.test_client()
    AuthActions(client).login(EMAIL)
    now = utcnow()
    assert _post(client, "/auth/account/delete", password=DEMO_PASSWORD).status_code == 200
    assert periodic.run_due(now + timedelta(days=6))["accounts_erased"] == 0  # the grace holds
    assert periodic.run_due(now + timedelta(days=7, minutes=1))["accounts_erased"] == 1
    db.session.expire_all()
    gone = db.session.get(User, user_id)
    assert gone.status == UserStatus.DELETED and gone.name == "Deleted user" and gone.phone is None
    assert gone.profile.birth_date is None and gone.profile.bio is None and gone.profile.preferences is None
    # The balance was given up to the platform, in the ledger under its own keys.
    forfeit = db.session.execute(
        sa.select(BillingTransaction).where(BillingTransaction.kind == BillingKind.FORFEIT)
    ).scalar_one()
    assert forfeit.user_id == user_id and forfeit.amount > Decimal("0")
    assert gone.wallet.current_balance == 0
    # The tax invoice is kept, its figures and place of supply whole, naming nobody.
    invoice = db.session.execute(sa.select(TaxInvoice).where(TaxInvoice.user_id == user_id)).scalar_one()
    assert (invoice.buyer_name, invoice.buyer_email, invoice.buyer_state, invoice.total) == (
        "Deleted user",
        None,
        "27",
        Decimal("118.00"),
    )
    # The astrologer reads "Message removed" where the person's words were.
    words = [m.content for m in db.session.execute(
        sa.select(Message).where(Message.session_id == session.id)).scalars()]  # fmt: skip
    assert "Namaste, tell me more." in words
    astro = app.test_client()
    AuthActions(astro).login(astrologer.email)
    page = astro.get(f"/consultations/{session.id}").get_data(as_text=True)
    assert "Message removed" in page and "Zephyrine" not in page
    # No text column of any table holds the person's name, e-mail or phone.
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (sa.String, sa.Text)) or "JSON" in repr(column.type):
                for needle in NEEDLES:
                    hits = db.session.execute(
                        sa.select(sa.func.count()).select_from(table).where(
                            sa.cast(column, sa.Text).contains(needle))).scalar_one()  # fmt: skip
                    if hits:
                        found.append(f"{table.name}.{column.name} holds {needle!r}")
    assert found == []
    from flask.testing import FlaskCliRunner

    result = FlaskCliRunner(app).invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    refused = AuthActions(app.test_client()).login(EMAIL)
    assert refused.status_code == 401  # nobody has this address any more


def test_an_account_without_a_password_confirms_with_a_code(app, client):
    from webapp.services.notifications import sms

    _post(client, "/auth/phone", phone="98765 11111")
    code = next(c for p, c in sms.console_codes() if p == "+919876511111")
    _post(client, "/auth/phone/verify", phone="+919876511111", code=code, name="Code Only")
    page = client.get("/auth/account/security").get_data(as_text=True)
    assert "Text me a code to confirm" in page
    sent = _post(client, "/auth/account/delete", send_code="1")
    assert sent.status_code == 200 and "We sent a 6-digit code to +91 ••••• •1111" in sent.get_data(as_text=True)
    code = next(c for p, c in sms.console_codes() if p == "+919876511111")
    assert _post(client, "/auth/account/delete", code="000000" if code != "000000" else "111111").status_code == 422
    assert _post(client, "/auth/account/delete", code=code).status_code == 200
