"""Paying through Razorpay in a real browser, on a phone: the product served with PAYMENT_PROVIDER=razorpay
against the suite's stand-in (tests/fake_razorpay.py: the API, Standard Checkout's script and payment
window, signed webhooks sent to the server). The payer sees ₹500 + GST ₹90 = ₹590, pays in Razorpay's
window, the page checks the handler's signature through the server, and the wallet is credited once (the
webhooks arriving too change nothing), under the page's Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import BillingKind, BillingTransaction, TaxInvoice, User
from webapp.services import wallet

from ..fake_razorpay import FakeRazorpay, configure
from .conftest import PHONE, LiveServer, _assert_policy_kept, _keep_artifacts, _open_page, audit, log_in


@pytest.fixture(scope="module")
def razorpay_server(e2e_database_url, product_server, tmp_path_factory):
    """A second server on the e2e database (product_server has migrated and seeded it) with Razorpay on."""
    fake = FakeRazorpay()
    server = LiveServer(e2e_database_url, tmp_path_factory.mktemp("razorpay") / "server.log")
    settings = configure({}, fake)
    server.env.update(
        {name: ",".join(value) if isinstance(value, tuple) else value for name, value in settings.items()},
        RUN_BILLING_IN_PROCESS="0",  # product_server bills; one loop is enough
    )
    fake.webhook_url = f"{server.url}/payments/webhook/razorpay"
    server.start()
    yield server, fake
    server.stop()
    fake.stop()


def test_a_top_up_through_razorpays_checkout_on_a_phone(browser, request, razorpay_server, people, e2e_app):
    server, fake = razorpay_server
    email = people.user()
    pages = []
    page = _open_page(browser, server, pages, **PHONE, timezone_id="Asia/Kolkata", locale="en-IN")
    try:
        log_in(page, email)
        page.goto("/wallet")
        page.select_option("#topup-panel select[name=state]", "27")
        page.click("#topup-panel button[name=preset][value='500']")
        panel = page.locator("#topup-panel")
        expect(panel).to_contain_text("You pay")
        expect(panel).to_contain_text("₹590")  # ₹500 + GST 18% ₹90, before paying
        audit(page)
        page.click("[data-razorpay-open]")
        window = page.frame_locator("iframe.standin-razorpay-frame")
        expect(window.locator("h1")).to_have_text("Pay ₹590.0")
        expect(window.locator("main")).to_contain_text(email)  # prefilled
        window.locator("button[value=upi]").click()
        expect(panel).to_contain_text("₹500 was added to your wallet.")
        expect(page.locator("#wallet-balance")).to_have_text("₹500")
        expect(page.locator("#transactions")).to_contain_text("Tax invoice AC/")
        audit(page)
    finally:
        _keep_artifacts(request, pages)
        for opened in pages:
            opened.context.close()
    _assert_policy_kept(pages)
    assert len(fake.webhooks) == 2  # payment.captured and order.paid, delivered to the server
    with e2e_app.app_context():
        user_id = db.session.execute(db.select(User.id).filter_by(email=email)).scalar_one()
        topup = db.session.execute(
            db.select(BillingTransaction).filter_by(user_id=user_id, kind=BillingKind.TOPUP)
        ).scalar_one()
        assert (topup.amount, topup.details["total"], topup.payment_method) == (500, "590.00", "upi")
        assert wallet.wallet_of(user_id).current_balance == 500
        assert db.session.execute(db.select(TaxInvoice).filter_by(user_id=user_id)).scalar_one().total == 590
