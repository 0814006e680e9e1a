"""Voice calls in two Chromium contexts with fake media devices (a beeping microphone), against the real
server: connected state, audio level on the receiving side, mute, billing at the call rate, hang-up,
and the end when the balance runs out.
"""

import re

from playwright.sync_api import expect

from .conftest import MINUTE_SECONDS, log_in
from .test_journeys import accept_first, go_available


def test_a_voice_call_carries_audio_both_ways_is_billed_at_the_call_rate_and_hangs_up(caller, people):
    astro_email = people.astrologer(name="Vani Callwell", rate="10.00", call_rate="20.00")
    user_email = people.user(balance="500.00")
    astro, user = caller(), caller()
    log_in(astro, astro_email)
    go_available(astro, "call")
    log_in(user, user_email)
    user.goto("/astrologers?q=Vani")
    user.click("text=Vani Callwell")
    expect(user.locator(".start-option:has(#start-chat)")).to_contain_text("Chat (offline)")  # per channel
    user.locator(".start-option:has(#start-call) form button").click()
    expect(user.locator("body")).to_contain_text("Waiting for Vani Callwell")
    accept_first(astro)
    for page in (user, astro):
        expect(page.locator("[data-call-state]")).to_have_attribute("data-call-state", "connected", timeout=30_000)
    # The fake microphone's tone arrives on each side: the receiving meter moves.
    audible = re.compile(r"^(0\.[1-9]\d\d|1\.000)$")  # data-level >= 0.100, about -54 dBov; silence reads 0.000
    for page in (astro, user):
        expect(page.locator("[data-call]")).to_have_attribute("data-level", audible, timeout=20_000)
    expect(user.locator(".room-head")).to_contain_text("Call · ₹20/min")
    two_or_more_minutes_at_20 = re.compile(r"^₹([2468]0|[1-9]\d*[02468]0)$")
    expect(user.locator('[data-bar="total_cost"]')).to_have_text(
        two_or_more_minutes_at_20, timeout=MINUTE_SECONDS * 3000
    )
    expect(user.locator(".msg-system").first).to_be_visible()  # the chat panel is there beside the call
    user.click("[data-call-mute]")
    expect(user.locator("[data-call-mute]")).to_have_attribute("aria-pressed", "true")
    expect(astro.locator("[data-call]")).to_have_attribute("data-level", "0.000")  # muted: the astrologer hears nothing
    expect(user.locator("[data-call]")).to_have_attribute("data-level", audible)  # the user still hears the astrologer
    user.on("dialog", lambda dialog: dialog.accept())
    user.get_by_role("button", name="End call").click()
    expect(astro.locator("[data-call-state]")).to_have_attribute("data-call-state", "ended")
    expect(astro.locator(".ended-banner")).to_be_visible()


def test_a_call_warns_offers_a_top_up_and_ends_when_the_balance_runs_out(caller, people):
    astro_email = people.astrologer(name="Ravi Shortcall", rate="10.00", call_rate="20.00")
    user_email = people.user(balance="100.00")  # exactly the 5 minutes needed to start, at 20
    astro, user = caller(), caller()
    log_in(astro, astro_email)
    go_available(astro, "call")
    log_in(user, user_email)
    user.goto("/astrologers?q=Ravi")
    user.click("text=Ravi Shortcall")
    user.locator(".start-option:has(#start-call) form button").click()
    accept_first(astro)
    expect(user.locator("[data-call-state]")).to_have_attribute("data-call-state", "connected", timeout=30_000)
    expect(user.locator(".low-balance")).to_be_visible(timeout=MINUTE_SECONDS * 5000)
    expect(user.locator("[data-room-topup] h2").first).to_have_text("Add money without leaving the call")
    for page in (user, astro):
        expect(page.locator("[data-call-state]")).to_have_attribute(
            "data-call-state", "ended", timeout=MINUTE_SECONDS * 5000
        )
    expect(user.locator('[data-bar="balance"]')).to_have_text("₹0")
    expect(user.locator('[data-bar="total_cost"]')).to_have_text("₹100")
