"""Refunds people see: a refund tells the user (notification centre, push, e-mail) and the astrologer (their
earnings reversed, and why), shows as its own "+" line under the consultation in the wallet statement,
and marks the consultation "refunded" in the history."""

from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import Delivery, Notification, utcnow
from webapp.services.billing import charges
from webapp.services.consultations import lifecycle
from webapp.services.money import refunds

D = Decimal


@pytest.fixture
def refunded(consult):
    astrologer = consult.astrologer(name="Acharya Refund", rate=D("10.00"))
    user = consult.user(email="meera@example.com", name="Meera Iyer")
    t0 = utcnow() + timedelta(seconds=1)
    session = consult.reply(consult.accept(consult.request(user, astrologer, now=t0), now=t0), now=t0)
    for minute in (2, 3):
        charges.charge_minute(session.id, minute, commission_percent=30, now=t0 + timedelta(minutes=minute - 1))
    lifecycle.end(session.id, by_user_id=user.id, now=t0 + timedelta(minutes=3))
    db.session.commit()
    refunds.refund(session.id, number=1, amount="20", reason="The answer was cut short", now=t0 + timedelta(minutes=5))
    db.session.commit()
    return session, user, astrologer


def test_the_user_and_the_astrologer_are_told_with_the_reason(app, refunded):
    session, user, astrologer = refunded
    (told,) = db.session.query(Notification).filter_by(user_id=user.id, kind="refund").all()
    assert told.title == "₹20 refunded to your wallet"
    assert told.body == "For your chat with Acharya Refund: The answer was cut short"
    assert told.url == f"/consultations/{session.id}"
    (reversed_,) = db.session.query(Notification).filter_by(user_id=astrologer.id, kind="reversal").all()
    assert reversed_.title == "₹14 of your earnings reversed"  # 70% of ₹20
    assert reversed_.body == "A refund to Meera for a chat: The answer was cut short"


def test_the_refund_is_e_mailed_when_mail_is_on(app, consult, monkeypatch, queued):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "mail.invalid")
    astrologer, user = consult.astrologer(rate=D("10.00")), consult.user(email="mail@example.com")
    session = consult.reply(consult.accept(consult.request(user, astrologer)))
    lifecycle.end(session.id, by_user_id=user.id)
    db.session.commit()
    result = refunds.refund(session.id, number=1, reason="Goodwill", actor_id=user.id)  # (an admin's, in life)
    db.session.commit()
    assert db.session.query(Delivery).filter_by(key=f"email:refund:{result.refund.id}").one().channel == "email"


def test_the_statement_shows_the_refund_as_its_own_line_and_the_history_marks_it(app, client, auth, refunded):
    session, user, _ = refunded
    auth.login(user.email)
    statement = client.get("/wallet").get_data(as_text=True)
    line = statement.split('class="statement-refund"')[1].split("</p>")[0]
    assert "Refund" in line and "The answer was cut short" in line and "+₹20" in line
    history = client.get("/consultations").get_data(as_text=True)
    assert "refunded ₹20" in history


def test_the_astrologer_sees_the_reversal_with_its_reason_on_the_earnings_page(app, client, auth, refunded):
    _, _, astrologer = refunded
    auth.login(astrologer.email)
    page = client.get("/dashboard/earnings").get_data(as_text=True)
    row = page.split('id="earning-sessions"')[1]
    assert "−₹20" in row and "The answer was cut short" in row
