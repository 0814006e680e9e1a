"""The admin's payouts list at 1280 px and on a 390 px phone: each payout's actions (Approve with its
reference, Reject with its reason) stay inside the screen, and on a phone each payout is a card whose
cells are labelled. Approving asks first, in a dialog naming the astrologer and the amount."""

import uuid

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import User
from webapp.services.money import payouts

from .conftest import PHONE, audit, log_in


@pytest.fixture(scope="module")
def requested(e2e_app, product_server):
    """The demo astrologer (earnings over the minimum) asks for ₹500."""
    with e2e_app.app_context():
        astrologer = db.session.execute(db.select(User).filter_by(email="astro@example.com")).scalar_one()
        payout = payouts.request_for(astrologer.id, "500", payout_id=uuid.uuid4())
        db.session.commit()
        return payout.id


def _actions_inside(page):
    width = page.viewport_size["width"]
    row = page.locator("table.ledger tbody tr").first
    for name in ("Approve", "Reject"):
        box = row.locator(f"button:text-is('{name}')").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box, width)
    for field in ("input[name=reference]", "input[name=reason]"):
        box = row.locator(field).bounding_box()
        assert box["x"] + box["width"] <= width, (field, box, width)


def test_payout_actions_stay_on_screen_at_1280_and_on_a_phone(person, requested):
    desk = person(viewport={"width": 1280, "height": 800})
    log_in(desk, "admin@example.com", "demo12345")
    desk.goto("/admin/payouts")
    expect(desk.locator("table.ledger")).to_contain_text("Acharya Demo")
    _actions_inside(desk)
    audit(desk)
    desk.click("button:text-is('Approve')")
    dialog = desk.locator("dialog#ask-first")
    expect(dialog).to_contain_text("Approve a payout of ₹500 to Acharya Demo?")
    dialog.locator("text=Cancel").click()
    phone = person(**PHONE)
    log_in(phone, "admin@example.com", "demo12345")
    phone.goto("/admin/payouts")
    card = phone.locator("table.ledger tbody tr").first
    expect(card.locator("td[data-label='Amount']")).to_have_text("₹500")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    _actions_inside(phone)
    audit(phone)


def test_a_sessions_minutes_and_ledger_are_cards_on_a_phone(person, yesterdays_session, e2e_app):
    from webapp.models import ConsultationSession

    user_email, _ = yesterdays_session
    with e2e_app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=user_email)).scalar_one()
        session_id = db.session.execute(db.select(ConsultationSession.id).filter_by(user_id=user.id)).scalar_one()
    phone = person(**PHONE)
    log_in(phone, "admin@example.com", "demo12345")
    phone.goto(f"/admin/sessions/{session_id}")
    refund_from = phone.locator("button:has-text('Refund from minute 4')")
    box = refund_from.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box  # the action on screen
    minute = phone.locator("section:has(#minutes-title) table.ledger tbody tr").first
    expect(minute.locator("td[data-label='Amount']")).to_have_text("₹10")
    audit(phone)
