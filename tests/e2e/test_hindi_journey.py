"""Issue 41: a person whose phone asks for Hindi goes through the product in Hindi, from sign-up
through a top-up and a consultation to its summary and statement, meeting no English sentence (the
same heuristic as the authorization sweep's: tests/hindi.py), with axe on every page; the
astrologer they consult keeps English, and each reads the platform's chat lines in their own."""

import time

from playwright.sync_api import expect

from ..hindi import english_left
from .conftest import audit, composer_ready, log_in
from .test_journeys import accept_first, go_available


def reads_hindi(page):
    """The page is in Hindi, with no English sentence left, and passes axe."""
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "hi", page.url
    left = english_left(page.content())
    assert left == [], f"English on {page.url}: {left}"
    audit(page)


def test_a_hindi_phone_from_sign_up_to_the_statement(phone, person, people):
    astro_email = people.astrologer(name="Devika Rao", rate="10.00")
    astro = person()
    log_in(astro, astro_email)
    go_available(astro)

    user = phone(locale="hi-IN")
    user.goto("/auth/register")
    reads_hindi(user)
    expect(user.locator("#locale")).to_have_value("hi")  # the browser's language, preselected
    user.fill("#name", "Kavita Sharma")
    user.fill("#email", f"kavita-{time.time_ns()}@example.com")
    user.fill("#phone", f"+9197{time.time_ns() % 100000000:08d}")
    user.fill("#password", "mera-pasword-77")
    user.click("main button[type=submit]")
    expect(user.locator("body")).to_contain_text("स्वागत है, Kavita Sharma! आपका खाता तैयार है।")
    reads_hindi(user)

    user.goto("/wallet")
    reads_hindi(user)
    user.select_option("#topup-panel select[name=state]", "09")  # Uttar Pradesh
    user.click("#topup-panel button[name=preset][value='100']")
    reads_hindi(user)  # the checkout
    user.click("#topup-panel button[value=pay]")
    expect(user.locator("#topup-panel")).to_contain_text("आपके वॉलेट में ₹100 जोड़े गए")
    expect(user.locator("#wallet-balance")).to_have_text("₹100")

    user.goto("/astrologers?q=Devika")
    card = user.locator(".astrologer-card:has-text('Devika Rao')")
    expect(card).to_contain_text("₹10/मिनट")
    reads_hindi(user)
    card.locator("a.button-channel").first.tap()
    user.wait_for_url("**/astrologers/*")
    reads_hindi(user)
    # The price quote is written by the script, from the page's catalog.
    user.select_option("#cap-kind-chat", "minutes")
    user.fill("#cap-value-chat", "20")
    expect(user.locator(".start-option:has(#start-chat) [data-quote-text]")).to_have_text(
        "20 मिनट के बाद रुकेगा: अधिकतम ₹200; शुरू करने के लिए ₹50 रोके जाते हैं।"
    )
    user.locator(".start-option:has(#start-chat) form button").tap()
    expect(user.locator("h1")).to_have_text("Devika Rao का इंतज़ार")
    reads_hindi(user)

    accept_first(astro)
    expect(user.locator("[data-live-page=room]")).to_be_visible()
    # One platform line, each participant in their own language.
    expect(user.locator(".msg-system").first).to_contain_text("सत्र ₹10 प्रति मिनट पर शुरू हुआ।")
    expect(astro.locator(".msg-system").first).to_contain_text("Session started at ₹10 per minute.")
    composer_ready(astro)
    astro.fill("#composer-input", "नमस्ते कविता जी")
    astro.press("#composer-input", "Enter")
    expect(user.locator(".msg-other")).to_contain_text("नमस्ते कविता जी")
    reads_hindi(user)
    user.reload()  # the same line from the server's page
    expect(user.locator(".msg-system").first).to_contain_text("सत्र ₹10 प्रति मिनट पर शुरू हुआ।")

    user.once("dialog", lambda dialog: dialog.accept())
    user.tap(".button-end")
    expect(user.locator("body")).to_contain_text("उपयोगकर्ता ने समाप्त किया")  # the summary
    reads_hindi(user)
    user.goto("/wallet")
    expect(user.locator(".statement-group summary").first).to_contain_text("Devika Rao के साथ चैट")
    reads_hindi(user)
    user.goto("/consultations")
    reads_hindi(user)
