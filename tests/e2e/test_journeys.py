"""The consultation journey in Chromium, two people, against the real server (eventlet, in-process billing)."""

import re

from playwright.sync_api import expect

from webapp.models import Channel

from .conftest import MINUTE_SECONDS, audit, composer_ready, log_in


def go_available(page, channel="chat"):
    page.locator(
        f"#availability-panel form:has(input[name=channel][value={channel}]):has(input[name=status][value=available])"
        " button"
    ).click()
    label = Channel(channel).label
    expect(page.locator("#availability-panel")).to_contain_text(f"{label}: you are now available.")


def start_chat(user_page, astrologer_name):
    user_page.goto("/astrologers?q=" + astrologer_name.split()[0])
    user_page.click(f"text={astrologer_name}")
    user_page.locator("form[action='/consultations'] button").click()
    expect(user_page.locator("body")).to_contain_text(f"Waiting for {astrologer_name}")


def accept_first(astro_page):
    astro_page.locator("#requests-panel button:has-text('Accept')").first.click()
    astro_page.wait_for_url(re.compile(r"/consultations/[0-9a-f-]+$"))


def chatting(astro, astro_email, user, user_email, astrologer_name):
    """The astrologer available, the user's chat request accepted: both pages in the room."""
    log_in(astro, astro_email)
    go_available(astro)
    log_in(user, user_email)
    start_chat(user, astrologer_name)
    accept_first(astro)
    expect(user.locator("[data-live-page=room]")).to_be_visible()


def money(text):
    return float(text.replace("₹", "").replace(",", ""))


def test_visitor_filters_registers_and_tops_up(person):
    page = person()
    page.goto("/astrologers")
    page.evaluate("window.__sameDocument = true")
    page.select_option("#language", "English")
    page.fill("#max_price", "40")
    expect(page).to_have_url(re.compile(r"language=English.*max_price=40"))
    assert page.evaluate("window.__sameDocument") is True  # filtered in place: pushed URL, no navigation
    expect(page.locator(".result-count")).to_contain_text("match your filters")
    audit(page)
    page.locator(".astrologer-name a").first.click()
    expect(page.locator(".start-panel")).to_contain_text("Minimum balance for 5 minutes")
    audit(page)
    page.click("text=Log in to chat")
    page.click("text=Create an account")
    page.fill("#name", "Neha Visitor")
    page.fill("#email", f"neha-{page.evaluate('Date.now()')}@example.com")
    page.fill("#phone", f"+9198{page.evaluate('Date.now()') % 100000000:08d}")
    page.fill("#password", "stars4ever1")
    audit(page)
    page.click("main button[type=submit]")  # not the header's language switcher
    expect(page.locator(".start-panel")).to_contain_text("Recharge")  # back on the profile, told the balance is short
    page.click(".start-panel >> text=Recharge")
    page.evaluate("window.__sameDocument = true")
    page.select_option("#topup-panel select[name=state]", "27")  # Maharashtra: another state than the seller's
    page.click("#topup-panel button[name=preset][value='500']")
    expect(page.locator("#topup-panel")).to_contain_text("₹590")  # ₹500 + GST 18% ₹90, before paying
    audit(page)
    page.click("#topup-panel button[value=pay]")
    expect(page.locator("#topup-panel")).to_contain_text("₹500 was added to your wallet.")
    expect(page.locator("#wallet-balance")).to_have_text("₹500")
    audit(page)
    assert page.evaluate("window.__sameDocument") is True


# Each message's element tree (tags, classes, attribute names; no text, no ids), in the list's order.
MESSAGE_SHAPES = """list => Array.from(list.children).map(function shape(node) {
  return [node.tagName, node.className, node.getAttributeNames().filter(n => n !== "data-client-id").sort().join(" "),
          Array.from(node.children).map(shape)];
})"""


def test_request_accept_and_chat_both_ways(person, people):
    astro_email = people.astrologer(name="Gauri Chatwell", rate="10.00")
    user_email = people.user(balance="200.00")
    astro, user = person(), person()
    log_in(astro, astro_email)
    go_available(astro)
    log_in(user, user_email)
    start_chat(user, "Gauri Chatwell")
    expect(astro.locator("#requests-panel")).to_contain_text("Uma Tester")  # live, no reload
    accept_first(astro)
    expect(user.locator("[data-live-page=room]")).to_be_visible()
    composer_ready(user)
    user.fill("#composer-input", "Namaste, I have a question about my career")
    user.press("#composer-input", "Enter")
    expect(astro.locator(".msg-other")).to_contain_text("question about my career")
    composer_ready(astro)
    astro.fill("#composer-input", "Namaste! Tell me more")
    expect(user.locator(".typing")).to_be_visible()
    astro.press("#composer-input", "Enter")
    expect(user.locator(".msg-other")).to_contain_text("Tell me more")
    expect(user.locator(".msg-own .ticks").first).to_have_attribute("data-state", "read")
    audit(user)
    audit(astro)
    # A live message and the same message rendered by the server after a reload are one markup.
    live = user.locator("#messages").evaluate(MESSAGE_SHAPES)
    user.reload()
    expect(user.locator(".msg-other")).to_contain_text("Tell me more")
    assert user.locator("#messages").evaluate(MESSAGE_SHAPES) == live and len(live) >= 3


def test_billing_ticks_warns_tops_up_and_ends_at_zero(person, people):
    astro_email = people.astrologer(name="Hari Meter", rate="30.00")
    user_email = people.user(balance="150.00")  # five minutes at 30
    astro, user = person(), person()
    chatting(astro, astro_email, user, user_email, "Hari Meter")
    composer_ready(astro)
    astro.fill("#composer-input", "Namaste")
    astro.press("#composer-input", "Enter")
    balance = user.locator('[data-bar="balance"]')
    expect(balance).to_have_text("₹120")  # minute 1 at acceptance
    expect(user.locator('[data-bar="billed_minutes"]')).to_have_text("2", timeout=MINUTE_SECONDS * 3000)
    expect(balance).to_have_text("₹90")
    expect(user.locator(".low-balance")).to_be_visible(timeout=MINUTE_SECONDS * 4000)
    expect(user.locator("[data-room-topup]")).to_be_visible()  # the sheet opens by itself
    room_url = user.url
    user.click("[data-room-topup] button[name=preset][value='100']")
    user.click("[data-room-topup] button[value=pay]")
    expect(user.locator(".msg-system").last).to_contain_text("Top-up of ₹100 received.")
    expect(user.locator("[data-room-topup]")).to_be_hidden()  # and closes when the payment lands
    assert user.url == room_url
    expect(astro.locator(".msg-system")).not_to_contain_text(["Top-up"])
    expect(user.locator(".ended-banner")).to_be_visible(timeout=MINUTE_SECONDS * 12000)
    expect(astro.locator(".ended-banner")).to_be_visible()
    expect(user.locator(".msg-system").last).to_contain_text("balance does not cover another minute")
    billed = int(user.locator('[data-bar="billed_minutes"]').inner_text())
    assert billed == 8  # 150 + 100 = 250 pays 8 minutes at 30
    user.click(".ended-banner >> text=See the summary")
    summary = user.locator("section.card").first
    expect(summary).to_contain_text("Ended: balance ran out")
    expect(summary).to_contain_text("₹240")
    audit(user)
    user.click("label[for=rating-0]")
    user.click("text=Send rating")
    expect(user.locator("body")).to_contain_text("Thank you for your rating.")


def test_capacity_one_queues_the_second_user(person, people):
    astro_email = people.astrologer(name="Indu Queue", capacity=1)
    first_email, second_email = people.user(balance="200.00"), people.user(balance="200.00")
    astro, first, second = person(), person(), person()
    log_in(astro, astro_email)
    go_available(astro)
    log_in(first, first_email)
    start_chat(first, "Indu Queue")
    accept_first(astro)
    log_in(second, second_email)
    second.goto("/astrologers?q=Indu")
    second.click("text=Indu Queue")
    expect(second.locator(".start-panel")).to_contain_text("Join the queue")
    second.click("text=Join the queue")
    expect(second.locator("[data-position]")).to_have_text("1")
    first.once("dialog", lambda dialog: dialog.accept())
    first.click(".button-end")
    expect(first.locator("body")).to_contain_text("Consultation ended")
    expect(second.locator("[data-when=offered]")).to_be_visible()
    astro.goto("/dashboard")
    expect(astro.locator("#requests-panel")).to_contain_text("Uma Tester")
    accept_first(astro)
    expect(second.locator("[data-live-page=room]")).to_be_visible()


def test_reconnect_after_a_server_restart(person, people, product_server):
    astro_email = people.astrologer(name="Jaya Restart", rate="10.00")
    user_email = people.user(balance="500.00")
    astro, user = person(), person()
    chatting(astro, astro_email, user, user_email, "Jaya Restart")
    composer_ready(astro)
    astro.fill("#composer-input", "Namaste")
    astro.press("#composer-input", "Enter")
    expect(user.locator(".msg-other")).to_contain_text("Namaste")
    started = user.evaluate("Date.now()")
    product_server.kill()
    expect(user.locator(".connection-banner")).to_be_visible()
    composer_ready(user)
    user.fill("#composer-input", "written during the outage")
    user.press("#composer-input", "Enter")
    product_server.start()
    expect(astro.locator(".msg-other")).to_contain_text("written during the outage", timeout=30_000)
    expect(user.locator(".connection-banner")).to_be_hidden(timeout=30_000)
    for page in (user, astro):
        seqs = page.eval_on_selector_all("#messages [data-seq]", "items => items.map(i => Number(i.dataset.seq))")
        assert seqs == sorted(set(seqs)), "every message once, in order"
        assert page.locator("text=written during the outage").count() == 1
    # The outage was shorter than DOWNTIME_GRACE_SECONDS, so the session went on; every minute was
    # charged once by its boundary, none twice (longer outages end the session: tests/unit/test_billing.py).
    elapsed = (user.evaluate("Date.now()") - started) / 1000
    billed = int(user.locator('[data-bar="billed_minutes"]').inner_text())
    assert billed <= elapsed // MINUTE_SECONDS + 2


def test_admin_finds_yesterdays_session_refunds_half_and_downloads_the_csv(person, yesterdays_session, e2e_app):
    import csv
    import io
    from datetime import timedelta

    from webapp.models import utcnow

    user_email, user_name = yesterdays_session
    admin = person()
    log_in(admin, "admin@example.com", "demo12345")
    expect(admin.locator("h1")).to_have_text("Overview")
    audit(admin)
    admin.click(".admin-nav >> text=People")
    admin.fill("#q", "Refundme")
    expect(admin.locator("#people-rows")).to_contain_text(user_name)
    admin.click(f"#people-rows >> text={user_name}")
    admin.locator("section:has(h2:text('Consultations')) tbody a").first.click()
    timeline = admin.locator(".timeline")
    for minute in (1, 2, 3, 4):
        expect(timeline).to_contain_text(f"Minute {minute} charged")
    conversation = admin.locator("#conversation")  # read as the participants saw it, the number masked
    expect(conversation).to_contain_text("Saturn is strong in your chart this year.")
    expect(conversation).not_to_contain_text("9876543210")
    audit(admin)
    admin.check("input[name=scope][value=part]")  # "everything left" is a choice of its own
    admin.fill("#amount", "20.00")
    admin.fill("#reason", "Half: the answer was cut short")
    admin.click("button:text-is('Refund')")
    dialog = admin.locator("dialog#ask-first")  # asked first, in a native dialog: who and how much
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Refund ₹20 to {user_name}?")
    audit(admin)
    dialog.locator("text=Cancel").click()
    expect(dialog).to_be_hidden()
    admin.click("button:text-is('Refund')")
    dialog.locator("button:text-is('Refund ₹20')").click()
    expect(admin.locator("body")).to_contain_text("Refunded ₹20 to the user.")
    expect(timeline).to_contain_text("Refunded (Half: the answer was cut short)")
    admin.click("button:has-text('Refund from minute 4')")  # the last minute back too, once confirmed
    dialog.locator("button:has-text('Refund from minute 4')").click()
    expect(admin.locator("body")).to_contain_text("Refunded ₹10 (minute 4 on) to the user.")
    admin.click("text=The whole audit trail of this session")
    expect(admin.locator("#ledger-rows")).to_contain_text("Read a conversation")
    expect(admin.locator("#ledger-rows")).to_contain_text("Refund from minute 4")
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    admin.goto(f"/admin/ledger/billing?date_from={yesterday}&date_to={yesterday}&user={user_email}")
    with admin.expect_download() as download:
        admin.click("text=Download CSV")
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    header = rows[0]
    assert header[:5] == ["created_at", "id", "user_id", "session_id", "transaction_type"]  # the seed's names
    kinds = [row[header.index("kind")] for row in rows[1:]]
    assert kinds.count("charge") == 4 and "hold" in kinds
    assert [row[header.index("transaction_type")] for row in rows[1:] if row[header.index("kind")] == "charge"] == [
        "debit"
    ] * 4
    audit(admin)
    admin.goto("/admin/ledger/verify")
    expect(admin.locator(".checks")).not_to_contain_text("BREACH")
    audit(admin)
