"""The birth chart in Chromium: a user on a phone enters birth details with the city autocomplete,
reads "My kundli", shares it when requesting a chat, and the astrologer reads it beside the chat.
Every page is checked with axe-core and for CSP violations (the fixtures)."""

from playwright.sync_api import expect

from .conftest import audit, log_in
from .test_journeys import accept_first, go_available


def test_birth_details_to_the_chart_beside_the_chat(phone, person, people):
    astro_email = people.astrologer(name="Vidya Chartreader", rate="10.00")
    user_email = people.user(balance="200.00", name="Meera Born")
    astro, user = person(), phone()
    log_in(astro, astro_email)
    go_available(astro)
    log_in(user, user_email)

    user.goto("/auth/account")
    user.fill("#birth_date", "1990-05-17")
    user.fill("#birth_time", "08:55")
    user.locator("#birth_place").press_sequentially("Varan", delay=40)
    expect(user.locator("#birth-places option[value='Varanasi, India']")).to_be_attached()  # offered as typed
    audit(user)
    user.fill("#birth_place", "Varanasi")
    user.click("button:has-text('Save')")
    expect(user.locator("#birth_place-errors")).to_contain_text("Choose your place of birth from the list")
    audit(user)
    user.fill("#birth_place", "Varanasi, India")
    user.click("button:has-text('Save')")
    expect(user.locator(".flashes")).to_contain_text("Your details are saved.")

    user.goto("/account/kundli")
    chart = user.locator("svg.kundli-chart")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] >= 300  # the phone's width, readable
    expect(user.locator(".kundli-facts")).to_contain_text("Moon sign")
    expect(user.locator(".kundli-table")).to_contain_text("Nakshatra")
    expect(user.locator('[data-cell="House 1, Gemini"]')).to_contain_text("Asc")
    audit(user)

    user.goto("/astrologers?q=Vidya")
    user.click("text=Vidya Chartreader")
    user.check("#share-chart-chat")
    user.locator(".start-option:has(#start-chat) form button").click()
    expect(user.locator("body")).to_contain_text("Waiting for Vidya Chartreader")
    accept_first(astro)
    panel = astro.locator("[data-kundli-panel]")
    expect(panel).to_have_attribute("open", "")  # beside the chat on a wide screen, open at once
    expect(panel.locator("svg.kundli-chart")).to_be_visible()
    expect(panel).to_contain_text("Born 17 May 1990, 08:55, Varanasi, India")
    expect(astro.locator("#composer-input")).to_be_visible()  # the chat stays usable beside it
    audit(astro)
