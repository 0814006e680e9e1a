"""A paying person on a phone (390x844, touch), and a person reading times in their own zone.

Every page a journey visits is checked with axe-core (no serious or critical violation) and, through
the fixtures, for Content-Security-Policy violations."""

import re

from playwright.sync_api import expect

from .conftest import MINUTE_SECONDS, audit, composer_ready, in_viewport, log_in
from .test_journeys import accept_first, go_available


def controls_in_view(page):
    """The composer and End are on screen, whatever else the room shows."""
    for selector in ("#composer-input", ".composer button[type=submit]", ".button-end"):
        assert in_viewport(page.locator(selector)), f"{selector} is off screen at {page.viewport_size}"


def badge_agrees_with_the_bar(page):
    expect(page.locator("#wallet-balance")).to_have_text(page.locator('[data-bar="balance"]').inner_text())


def local_clock(page, selector):
    """What each <time> under `selector` says, and what the browser's own zone says for its instant."""
    return page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector)).map((t) => [t.textContent.trim(),
             new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
               .format(new Date(t.dateTime))])""",
        selector,
    )


def test_a_consultation_on_a_phone_from_the_listing_to_the_rating(phone, person, people):
    astro_email = people.astrologer(name="Devika Phonewell", rate="10.00")
    user_email = people.user(balance="60.00")  # the 5 minutes a chat needs to start, and one more
    astro, user = person(), phone()
    log_in(astro, astro_email)
    go_available(astro)
    audit(astro)
    log_in(user, user_email)

    user.goto("/astrologers")
    expect(user.locator(".astrologer-card").first).to_be_visible()
    assert in_viewport(user.locator(".astrologer-card").first), "no astrologer on the first screen"
    assert not user.locator("#filters").is_visible()  # behind the Filters button, results first
    audit(user)
    user.tap("[data-filters-toggle]")
    expect(user.locator("#filters")).to_be_visible()
    audit(user)
    user.fill("#q", "Devika")
    card = user.locator(".astrologer-card:has-text('Devika Phonewell')")
    expect(card).to_have_count(1)
    card.locator("a.button-channel:has-text('Chat')").tap()

    start = user.locator(".start-option:has(#start-chat) form button")
    expect(start).to_have_text("Start chat")
    assert in_viewport(start), "Start chat is below the fold"
    audit(user)
    # A spending cap, quoted as it is typed: the most it can cost and the hold.
    user.select_option("#cap-kind-chat", "minutes")
    user.fill("#cap-value-chat", "20")
    expect(user.locator(".start-option:has(#start-chat) [data-quote-text]")).to_have_text(
        "Stops after 20 min: at most ₹200; ₹50 held to start."
    )
    start.tap()
    expect(user.locator("body")).to_contain_text("Waiting for Devika Phonewell")
    audit(user)

    accept_first(astro)
    expect(user.locator("[data-live-page=room]")).to_be_visible()
    expect(user.locator('[data-bar="cap_minutes"]')).to_have_text("20 min")
    controls_in_view(user)
    audit(user)
    composer_ready(astro)
    astro.fill("#composer-input", "Namaste! Ask me anything.")
    astro.press("#composer-input", "Enter")
    expect(user.locator(".msg-other")).to_contain_text("Ask me anything")
    # Times in the bubbles are the browser's (India's), not UTC.
    for shown, local in local_clock(user, ".msg time"):
        assert shown == local

    # The on-screen keyboard: Enter adds a line on a touch keyboard, Send sends, and with the
    # viewport shrunk as the keyboard shrinks it, the composer and End stay in view.
    user.locator("#composer-input").tap()
    user.set_viewport_size({"width": 390, "height": 480})
    controls_in_view(user)
    user.keyboard.type("First line")
    user.keyboard.press("Enter")
    user.keyboard.type("second line")
    assert user.locator("#composer-input").input_value() == "First line\nsecond line"
    user.tap(".composer button[type=submit]")
    expect(astro.locator(".msg-other").last).to_contain_text("second line")
    user.set_viewport_size({"width": 390, "height": 844})
    controls_in_view(user)

    # Minutes are billed; the header badge and the session bar show one balance.
    expect(user.locator('[data-bar="billed_minutes"]')).to_have_text("2", timeout=MINUTE_SECONDS * 3000)
    badge_agrees_with_the_bar(user)
    expect(user.locator(".low-balance")).to_be_visible(timeout=MINUTE_SECONDS * 5000)
    sheet = user.locator("[data-room-topup]")
    expect(sheet).to_be_visible()  # the top-up sheet opens by itself, above the composer
    controls_in_view(user)
    audit(user)
    room_url = user.url
    sheet.locator("button[name=preset][value='100']").tap()
    sheet.locator("button[value=pay]").tap()
    expect(sheet).to_be_hidden()  # closed by itself when the payment landed
    assert user.url == room_url
    expect(user.locator(".low-balance")).to_be_hidden()
    badge_agrees_with_the_bar(user)
    expect(astro.locator(".messages")).not_to_contain_text("Top-up")  # the user's business only
    billed = int(user.locator('[data-bar="billed_minutes"]').inner_text())
    expect(user.locator('[data-bar="billed_minutes"]')).to_have_text(str(billed + 1), timeout=MINUTE_SECONDS * 3000)
    badge_agrees_with_the_bar(user)
    controls_in_view(user)

    user.tap("[data-session-more]")  # the rest of the bar, on tap
    expect(user.locator('[data-bar="balance"]')).to_be_visible()
    user.once("dialog", lambda dialog: dialog.accept())
    user.tap(".button-end")
    expect(user.locator("body")).to_contain_text("Ended by the user")  # the summary, at once
    audit(user)
    user.tap("label[for=rating-0]")
    user.tap("text=Send rating")
    expect(user.locator("body")).to_contain_text("Thank you for your rating.")
    audit(user)
    user.goto("/wallet")
    expect(user.locator(".statement-group summary").first).to_contain_text("Chat with Devika Phonewell")
    assert user.evaluate("document.documentElement.scrollWidth") <= 390  # nothing cut off sideways
    audit(user)
    user.locator(".statement-group summary").first.tap()
    expect(user.locator(".statement-rows").first).to_contain_text("Consultation minute 2")
    audit(user)


def test_times_read_in_the_browsers_zone(person, yesterdays_session):
    """Yesterday's 10:00 UTC consultation, read from a browser in New York: 05:00 EST everywhere."""
    user_email, user_name = yesterdays_session
    user = person(timezone_id="America/New_York")
    log_in(user, user_email)
    expect(user.locator("body")).to_have_attribute("data-zone", "America/New_York")  # sent once, then drawn in it
    user.goto("/consultations")
    expect(user.locator("#history")).to_contain_text(re.compile(r"\d{2} \w{3} \d{4}, 05:00 EST"))
    audit(user)
    user.locator("#history tbody a").first.click()
    for shown, local in local_clock(user, ".msg time"):
        assert shown == local and shown.startswith("05:")
    audit(user)
    with user.expect_download() as download:
        user.click("text=Download as text")
    transcript = open(download.value.path(), encoding="utf-8").read()
    assert "Times in America/New_York (EST)" in transcript
    assert re.search(r"\[\d{4}-\d{2}-\d{2} 05:00:10 EST\] Lata Refundme: Will my career change\?", transcript)
    user.goto("/auth/account")
    expect(user.locator("#time_zone")).to_have_value("America/New_York")
    audit(user)
