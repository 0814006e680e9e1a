"""The AI features from a user's phone, against the real server whose language model is the suite's
OpenAI-compatible stand-in: describing a concern on the listing finds an available astrologer who
fits, and a past consultation's summary is asked for (with consent), appears when the job has written
it, and is deleted. axe-core checks each step."""

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import ConsultationSession, User

from .conftest import audit, log_in


def test_a_user_describes_a_concern_and_finds_who_fits(e2e_app, people, phone):
    astro_email = people.astrologer(name="Kamala Vivahyog")
    user_email = people.user()
    with e2e_app.app_context():
        astrologer = db.session.execute(db.select(User).filter_by(email=astro_email)).scalar_one()
        astrologer.astrologer_profile.about = "Delayed marriages, horoscope matching and family harmony."
        astrologer.astrologer_profile.chat_availability = "available"
        db.session.commit()
    page = phone()
    log_in(page, user_email)
    page.goto("/astrologers")
    form = page.locator("#concern-match")
    expect(form.locator("summary")).to_have_text("Not sure whom to ask? Describe your concern")
    form.locator("summary").click()  # folded, so the results come first on a phone
    audit(page)
    form.locator("textarea").fill("My marriage keeps getting delayed and my horoscope worries my parents")
    form.locator("input[name=consent]").check()
    form.get_by_role("button", name="Find astrologers for me").click()
    result = page.locator("section#concern-match")
    expect(result).to_contain_text("Kamala Vivahyog", timeout=15_000)  # polled until the job answered
    expect(result).to_contain_text("Works with")
    audit(page)
    result.get_by_role("link", name="Kamala Vivahyog").click()
    expect(page.locator("h1")).to_have_text("Kamala Vivahyog")


def test_a_user_keeps_a_summary_of_a_reading_then_deletes_it(e2e_app, yesterdays_session, phone):
    user_email, _ = yesterdays_session
    with e2e_app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=user_email)).scalar_one()
        session_id = db.session.execute(db.select(ConsultationSession.id).filter_by(user_id=user.id)).scalar_one()
    page = phone()
    log_in(page, user_email)
    page.goto(f"/consultations/{session_id}")
    panel = page.locator("#ai-summary")
    expect(panel).to_contain_text("Keep a short summary of this reading")
    panel.get_by_role("button", name="Get my summary").click()
    assert panel.locator("input[name=consent]").evaluate("box => box.validity.valueMissing")  # consent comes first
    panel.locator("input[name=consent]").check()
    panel.get_by_role("button", name="Get my summary").click()
    expect(page.locator("#ai-summary")).to_contain_text("What was said", timeout=15_000)
    expect(page.locator("#ai-summary")).to_contain_text("Saturn is strong in your chart this year.")
    expect(page.locator("#ai-summary")).to_contain_text("Will my career change?")
    audit(page)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#ai-summary").get_by_role("button", name="Delete my summary").click()
    expect(page.locator("#ai-summary")).to_contain_text("Keep a short summary of this reading")
    expect(page.locator("#ai-summary input[name=consent]")).to_have_count(0)  # consent is asked once
