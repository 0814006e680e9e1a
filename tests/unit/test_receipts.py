"""E-mail receipts through the background jobs, against a real SMTP server (aiosmtpd) the test starts:
what arrives, once; retries; dead deliveries; the unsubscribe link that needs no login."""

import email
import email.policy
import io
import re
import socket
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from webapp.extensions import db
from webapp.models import Delivery, TaxInvoice, UserType
from webapp.services import jobs
from webapp.services.money import payments
from webapp.services.notifications import receipts

from ..conftest import AuthActions


class Inbox:
    """An SMTP server's handler: keeps what it accepts; refuses the next `refuse` messages with a
    temporary error (451), or every one with `reject` (550)."""

    def __init__(self):
        self.messages, self.refuse, self.reject = [], 0, False

    async def handle_DATA(self, server, session, envelope):
        if self.reject:
            return "550 5.1.1 mailbox unavailable"
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


@pytest.fixture
def inbox(app, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    # The app lives for the whole session: a periodic pass of an earlier test, at the real time, may
    # have asked this week's summaries already. Each test starts as a process that has asked none.
    app.extensions.pop(receipts.WEEK_DONE, None)
    yield handler
    controller.stop()


def top_up(user, amount="500.00"):
    _, checkout = payments.start_topup(user.id, amount)
    db.session.commit()
    payments.demo_checkout(checkout.order_id, "pay", user.id)
    db.session.commit()
    return checkout


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_a_top_up_is_receipted_once_in_text_and_html(app, inbox, queued, consult):
    user = consult.user(balance=None, email="payer@example.com")
    checkout = top_up(user)
    (delivery_id,) = queued
    assert jobs.perform(delivery_id).status == "sent"
    assert jobs.perform(delivery_id).status == "sent"  # a retried job sends nothing again
    ((to, message),) = inbox.messages
    assert to == ["payer@example.com"]
    assert message["Subject"] == "Receipt: ₹500 added to your AstroConsult wallet"
    text, html = parts(message)
    assert "₹500 was added to your AstroConsult wallet (upi)" in text and "IST" in text
    assert "₹500 added to your wallet" in html
    # What was paid with its GST, and the tax invoice attached as a PDF.
    invoice = db.session.query(TaxInvoice).one()
    assert "You paid: ₹590 (GST ₹90 included)" in text and f"Tax invoice: {invoice.number} (attached)" in text
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == invoice.number.replace("/", "-") + ".pdf"
    assert invoice.number in PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert message["List-Unsubscribe"].startswith("<http") and message["List-Unsubscribe-Post"]
    # The same top-up reported again asks for nothing more.
    receipts.topup_completed(payments.order_for_user("demo", checkout.order_id, user.id))
    db.session.commit()
    assert len(queued) == 1 and db.session.execute(db.select(db.func.count(Delivery.id))).scalar_one() == 1


def test_the_unsubscribe_link_works_without_logging_in_and_the_next_receipt_is_skipped(
    app, inbox, queued, consult, client
):
    user = consult.user(balance=None, email="leaver@example.com")
    top_up(user)
    jobs.perform(queued[0])
    text, _ = parts(inbox.messages[0][1])
    link = re.search(r"Turn them off: (\S+)", text).group(1)
    path = link.split("5000", 1)[-1] if ":5000" in link else link
    page = client.get(path)
    assert page.status_code == 200 and "Turn them off" in page.get_data(as_text=True)
    done = client.post(path)
    assert done.status_code == 200 and "you will not receive these" in done.get_data(as_text=True)
    assert client.get(path.replace("unsubscribe/", "unsubscribe/x")).status_code == 404  # a forged token
    top_up(user, "100.00")
    assert jobs.perform(queued[1]).status == "skipped"
    assert len(inbox.messages) == 1


def test_a_completed_consultation_is_receipted_with_its_refund(app, inbox, queued, consult):
    astrologer = consult.astrologer(rate=Decimal("10.00"))
    user = consult.user(email="asker@example.com")
    session = consult.accept(consult.request(user, astrologer))
    queued.clear()  # the funding top-up's receipt
    later = session.started_at + timedelta(seconds=app.config["NO_REPLY_SECONDS"] + 1)
    from webapp.services import periodic

    periodic.run_due(later)  # the astrologer never replied: ended, every charge refunded
    (delivery_id,) = queued
    assert jobs.perform(delivery_id).status == "sent"
    ((_, message),) = inbox.messages
    text, html = parts(message)
    assert message["Subject"].startswith(f"Receipt: your chat with {astrologer.name}")
    assert "Charged: ₹10" in text and "Refunded: ₹10" in text and "You paid: ₹0" in text
    assert "Refunded" in html and f"/consultations/{session.id}" in text


def test_a_name_stored_with_a_line_separator_keeps_the_subject_one_line(app, inbox, queued, consult):
    """Names are refused with U+2028 or U+0085 now (attack round three); one stored before still sends."""
    astrologer = consult.astrologer(rate=Decimal("10.00"))
    astrologer.name = "Pandit\u2028Bcc: evil@example.com\x85Rao"  # as stored before the rule
    db.session.commit()
    user = consult.user(email="asker2@example.com")
    session = consult.accept(consult.request(user, astrologer))
    queued.clear()
    from webapp.services import periodic

    periodic.run_due(session.started_at + timedelta(seconds=app.config["NO_REPLY_SECONDS"] + 1))
    assert jobs.perform(queued[0]).status == "sent"
    ((to, message),) = inbox.messages
    assert to == ["asker2@example.com"] and message["Bcc"] is None
    assert message["Subject"].startswith("Receipt: your chat with Pandit Bcc: evil@example.com Rao")


def receipt_worked_here(app, consult, queued, email, monkeypatch, waits):
    """A top-up's receipt worked by the in-process runner with `waits` retries (no waiting); its row after."""
    monkeypatch.setitem(app.config, "JOB_BACKOFF_SECONDS", (0,) * waits)
    top_up(consult.user(balance=None, email=email))
    jobs.run_here(app, list(queued))
    delivery = db.session.get(Delivery, queued[0])
    db.session.refresh(delivery)
    return delivery


def test_a_failing_send_is_retried_and_sends_once(app, inbox, queued, consult, monkeypatch):
    inbox.refuse = 2  # the server says "try later" twice
    delivery = receipt_worked_here(app, consult, queued, "patient@example.com", monkeypatch, waits=3)
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert len(inbox.messages) == 1


def test_a_delivery_that_keeps_failing_is_dead_with_its_reason_for_admins(
    app, inbox, queued, consult, make_user, monkeypatch
):
    inbox.reject = True
    delivery = receipt_worked_here(app, consult, queued, "nowhere@example.com", monkeypatch, waits=2)
    assert (delivery.status, delivery.attempts) == ("dead", 3)
    assert "550" in delivery.last_error
    make_user(email="boss@example.com", type=UserType.ADMIN)
    admin = app.test_client()
    AuthActions(admin).login("boss@example.com")
    page = admin.get("/admin").get_data(as_text=True)
    assert "Undelivered" in page and "550" in page and delivery.key in page


def test_without_a_mail_server_nothing_is_asked(app, queued, consult):
    top_up(consult.user(balance=None, email="quiet@example.com"))
    assert queued == [] and db.session.execute(db.select(Delivery)).first() is None


def test_e_mail_choices_on_the_account_page(app, consult, client):
    user = consult.user(balance=None, email="chooser@example.com")
    auth = AuthActions(client)
    auth.login("chooser@example.com")
    assert 'name="category" value="receipts" checked' in client.get("/auth/account").get_data(as_text=True)
    assert client.post("/auth/account/email", data={"csrf_token": auth.csrf_token()}).status_code == 303
    db.session.refresh(user.profile)
    assert user.profile.preferences["email_off"] == ["receipts"]  # a user's only category; the others kept on


def test_each_step_of_a_payout_is_mailed_to_the_astrologer(app, inbox, queued, consult, earn, make_user):
    from webapp.services import wallet
    from webapp.services.money import payouts

    astrologer = consult.astrologer(email="earner@example.com")
    earn(astrologer, "900.00")
    queued.clear()
    admin_user = make_user(type=UserType.ADMIN)
    first = payouts.request_payout(wallet.wallet_of(astrologer.id).id, "500", payout_id=uuid.uuid4())
    db.session.commit()
    payouts.reject(first.id, reason="bank details do not match", actor_id=admin_user.id)
    db.session.commit()
    for delivery_id in queued:
        assert jobs.perform(delivery_id).status == "sent"
    subjects = [message["Subject"] for _, message in inbox.messages]
    assert subjects == ["Payout requested: ₹500", "Payout rejected: ₹500"]
    text, _ = parts(inbox.messages[1][1])
    assert "not approved: bank details do not match" in text and "withdrawable again" in text


def test_the_weekly_summary_goes_out_once_the_week_is_over(app, inbox, queued, consult, earn):
    from datetime import UTC, datetime

    astrologer = consult.astrologer(email="weekly@example.com")
    earn(astrologer, "300.00", now=datetime(2026, 12, 2, 6, 0, tzinfo=UTC))  # a Wednesday
    earn(astrologer, "50.00", now=datetime(2026, 12, 7, 6, 0, tzinfo=UTC))  # the next week: not in it
    queued.clear()
    monday = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # 09:30 IST, Monday
    assert receipts.weekly_summaries(monday) == 1
    db.session.commit()
    assert receipts.weekly_summaries(monday + timedelta(minutes=1)) == 0  # asked once this week
    (delivery_id,) = queued
    assert jobs.perform(delivery_id).status == "sent"
    ((to, message),) = inbox.messages
    assert to == ["weekly@example.com"] and message["Subject"] == "Your week on AstroConsult: ₹300 earned"
    text, _ = parts(message)
    assert "30 Nov – 06 Dec 2026" in text and "Minutes: 1" in text


def test_a_receipt_is_written_in_the_language_the_receiver_chose(app, inbox, queued, consult):
    """Issue 41: the job writes in the account's language, whatever language the request that asked
    for it was in; an English account keeps English."""
    from webapp.services.users import languages

    hindi = consult.user(balance=None, email="hindi@example.com")
    languages.store(hindi.id, "hi")
    english = consult.user(balance=None, email="english@example.com")
    db.session.commit()
    top_up(hindi)
    top_up(english)
    for delivery_id in queued:
        assert jobs.perform(delivery_id).status == "sent"
    by_address = {to[0]: message for to, message in inbox.messages}
    message = by_address["hindi@example.com"]
    assert message["Subject"] == "रसीद: आपके AstroConsult वॉलेट में ₹500 जोड़े गए"
    text, html = parts(message)
    assert "नमस्ते" in text and "इन्हें बंद करें" in text
    assert '<html lang="hi">' in html and "आपके वॉलेट में ₹500 जुड़ गए" in html
    assert by_address["english@example.com"]["Subject"] == "Receipt: ₹500 added to your AstroConsult wallet"
