"""Issue 42 in a real browser on a phone (390x844, touch), axe on every page: a forgotten password reset
from the link the server mails (a development server writes it to its log), "Continue with phone" with
the code a development server shows, and leaving: the balance said, the deletion scheduled, everyone
signed out, and signing in again calling it off."""

import json
import re
import time

from playwright.sync_api import expect

from .conftest import PASSWORD, audit, log_in


def _logged_link(product_server, address, route):
    """The link of the last mail to `address` the development server wrote to its log (the job runs just
    after the request's commit, so it may take a moment)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = None
        for line in product_server.log_path.read_text(errors="replace").splitlines():
            try:
                message = json.loads(line).get("message", "")
            except ValueError:
                message = line
            if message.startswith(f"e-mail to {address}:"):
                match = re.search(rf"(/auth/{route}/\S+)", message)
                found = match.group(1) if match else found
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address} in the server log")


def test_a_forgotten_password_is_reset_from_the_mailed_link(phone, people, product_server):
    email = people.user(name="Rekha Pillai")
    page = phone()
    page.goto("/auth/login")
    page.get_by_role("link", name="Forgot password?").tap()
    expect(page.locator("h1")).to_have_text("Forgot your password?")
    audit(page)
    page.fill("#email", email)
    page.locator("main button[type=submit]").tap()
    expect(page.locator("[role=status]")).to_contain_text(f"If {email} belongs to an account")
    audit(page)
    page.goto(_logged_link(product_server, email, "reset"))
    expect(page.locator("h1")).to_have_text("Choose a new password")
    audit(page)
    page.fill("#password", "monsoon kite river")
    page.fill("#confirm", "monsoon tide river")
    page.locator("main button[type=submit]").tap()
    expect(page.locator(".errors")).to_contain_text("The two passwords are not the same.")
    page.fill("#password", "monsoon kite river")
    page.fill("#confirm", "monsoon kite river")
    page.locator("main button[type=submit]").tap()
    expect(page.locator(".flash-success")).to_contain_text("Your password is changed")
    audit(page)
    other = phone()
    log_in(other, email, PASSWORD)
    expect(other.locator("main")).to_contain_text("do not match an account")
    log_in(other, email, "monsoon kite river")
    expect(other.locator(".flash-success")).to_contain_text("Welcome back, Rekha Pillai.")


def test_continue_with_phone_makes_an_account_from_a_code(phone):
    number = f"98{time.time_ns() % 100000000:08d}"
    page = phone()
    page.goto("/auth/login")
    page.get_by_role("link", name="Continue with phone").tap()
    expect(page.locator("h1")).to_have_text("Continue with phone")
    audit(page)
    page.fill("#phone", number)
    page.locator("main button[type=submit]").first.tap()
    expect(page.locator("h1")).to_have_text("Enter your code")
    expect(page.locator("[role=status]")).to_contain_text(f"+91 ••••• •{number[-4:]}")
    audit(page)
    codes = phone()
    codes.goto("/auth/phone/dev-codes")
    code = codes.locator(f"li:has-text('+91{number}') [data-code]").first.inner_text()
    page.fill("#code", code)
    page.locator("main form[action$='/auth/phone/verify'] button[type=submit]").tap()
    expect(page.locator("#name-errors")).to_contain_text("You are new here: tell us your name.")
    page.fill("#name", "Gopal Verma")
    page.locator("main form[action$='/auth/phone/verify'] button[type=submit]").tap()
    expect(page.locator(".flash-success")).to_contain_text("Welcome, Gopal Verma! Your account is ready.")
    page.goto("/auth/account/security")
    expect(page.locator("#phone-title + .security-facts")).to_have_text(f"+91 ••••• •{number[-4:]} · confirmed")
    audit(page)


def test_leaving_is_said_plainly_and_signing_in_calls_it_off(phone, people):
    email = people.user(balance="250.00", name="Irfan Qureshi")
    page = phone()
    log_in(page, email)
    page.goto("/auth/account/security")
    leave = page.locator("section:has(#leave-title)")
    expect(leave).to_contain_text("Your wallet holds ₹250. It will not be refunded")
    expect(leave).to_contain_text("Records of payments, invoices and taxes are kept without your name")
    audit(page)
    leave.locator("#password").fill("wrong password")
    leave.locator("button.button-danger").tap()
    expect(page.locator("section:has(#leave-title) .errors")).to_contain_text("That is not your current password.")
    page.locator("section:has(#leave-title) #password").fill(PASSWORD)
    page.locator("section:has(#leave-title) button.button-danger").tap()
    expect(page.locator("h1")).to_have_text("Your account will be deleted")
    audit(page)
    page.goto("/wallet")
    expect(page).to_have_url(re.compile(r"/auth/login"))  # signed out everywhere
    log_in(page, email)
    expect(page.locator(".flash-success").first).to_contain_text("your account will not be deleted")
