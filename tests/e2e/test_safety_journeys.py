"""The safety review from an admin's phone: a consultation in which the astrologer asked to move to
WhatsApp and be paid by UPI ends; the admin finds the flags in the queue, reads the passages and
confirms one with a note, in place (htmx). axe-core checks the queue."""

from datetime import timedelta

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import User, utcnow
from webapp.services.consultations import lifecycle
from webapp.services.messaging import chat

from .conftest import audit, log_in


def test_an_admin_confirms_a_flag_from_the_queue(e2e_app, people, phone):
    astro_email = people.astrologer(name="Bhairav Offplatform")
    user_email = people.user(balance="300.00")
    with e2e_app.app_context():
        astrologer = db.session.execute(db.select(User).filter_by(email=astro_email)).scalar_one()
        user = db.session.execute(db.select(User).filter_by(email=user_email)).scalar_one()
        astrologer.astrologer_profile.chat_availability = "available"
        db.session.commit()
        # An hour ago, in one transaction: the product server's billing pass would end a session this
        # overdue by itself if it ever saw it active.
        t0 = utcnow() - timedelta(hours=1)
        session = lifecycle.request(user.id, astrologer.id, "chat", now=t0)
        lifecycle.accept(session.id, astrologer.id, now=t0)
        chat.send(
            session.id,
            astrologer.id,
            "a1",
            "WhatsApp me and pay 2100 by UPI to bhairav@ybl.",
            now=t0 + timedelta(seconds=20),
        )
        lifecycle.end(session.id, by_user_id=user.id, now=t0 + timedelta(minutes=1))
        astrologer.astrologer_profile.chat_availability = "offline"
        db.session.commit()
    page = phone()
    log_in(page, "admin@example.com", "demo12345")
    page.goto("/admin/flags?astrologer=Bhairav")
    flags = page.locator(".flag")
    expect(flags).to_have_count(2)  # payment outside and contact outside
    expect(page.locator(".flag-passages").first).to_contain_text("bhairav@ybl")
    audit(page)
    payment = page.locator(".flag", has_text="Payment outside")
    payment.locator("input[name=note]").fill("Asked for UPI off the platform; warned.")
    payment.get_by_role("button", name="Confirm").click()
    expect(payment.locator(".flag-decision")).to_contain_text("Confirmed by Admin Demo")
    expect(payment.locator(".flag-decision")).to_contain_text("warned")
    expect(payment.get_by_role("button", name="Confirm")).to_be_disabled()
    page.goto("/admin/flags?astrologer=Bhairav")
    expect(page.locator(".flag")).to_have_count(1)  # the confirmed one has left the open queue
