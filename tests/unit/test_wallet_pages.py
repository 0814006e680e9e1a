"""The wallet page, top-ups through the demo provider, and the balance badge, as a user sees them."""

import re
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import BillingKind, BillingStatus, BillingTransaction, TaxInvoice, WalletStatus
from webapp.services import wallet
from webapp.services.money import holds, ledger_checker

from ..conftest import AuthActions, csrf_token_from

HTMX = {"HX-Request": "true"}


@pytest.fixture
def user(make_user, auth):
    user = make_user(email="asha@example.com", name="Asha Verma")
    auth.login("asha@example.com")
    return user


def _token(client):
    return csrf_token_from(client.get("/wallet").get_data(as_text=True))


def _topup(client, amount, headers=None):
    return client.post(
        "/wallet/topups", data={"amount": amount, "state": "29", "csrf_token": _token(client)}, headers=headers or {}
    )


def _order_id(response):
    return re.search(
        r"order_demo_[0-9a-f]{32}", response.headers.get("Location", "") + response.get_data(as_text=True)
    ).group(0)


def _pay(client, order_id, outcome="pay", headers=None):
    return client.post(
        f"/payments/demo/checkout/{order_id}",
        data={"outcome": outcome, "csrf_token": _token(client)},
        headers=headers or {},
    )


def _balance(user):
    return wallet.wallet_of(user.id).current_balance


def test_wallet_needs_login(client):
    response = client.get("/wallet")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_wallet_page_shows_balance_presets_and_empty_history(client, user):
    page = client.get("/wallet").get_data(as_text=True)
    assert "Your wallet" in page and "₹0" in page
    for preset in ("₹100", "₹200", "₹500", "₹1,000", "₹2,000"):
        assert preset in page
    assert "No transactions yet" in page


def test_topup_through_the_demo_provider_without_javascript(client, user):
    response = _topup(client, "500")
    assert response.status_code == 303 and "/payments/demo/checkout/order_demo_" in response.headers["Location"]
    order = db.session.query(BillingTransaction).one()
    assert order.status == BillingStatus.PENDING and _balance(user) == 0
    checkout = client.get(response.headers["Location"]).get_data(as_text=True)
    # The price before paying: ₹500 to the wallet + GST 18% ₹90 = ₹590.
    assert "Pay ₹590" in checkout and _order_id(response) in checkout
    assert "Added to your wallet" in checkout and "GST (18%)" in checkout and "₹90" in checkout
    paid = _pay(client, _order_id(response))
    assert paid.status_code == 303 and paid.headers["Location"].endswith("/wallet")
    page = client.get("/wallet").get_data(as_text=True)
    assert "₹500 was added to your wallet." in page
    assert "Top-up" in page and "+₹500" in page
    assert _balance(user) == Decimal("500.00")
    assert ledger_checker.verify().ok
    invoice = db.session.query(TaxInvoice).one()
    assert (invoice.taxable_value, invoice.cgst, invoice.sgst, invoice.igst, invoice.total) == (
        Decimal("500.00"),
        Decimal("45.00"),
        Decimal("45.00"),
        Decimal("0.00"),
        Decimal("590.00"),
    )  # Karnataka, the demo seller's state: CGST + SGST


def test_topup_with_htmx_opens_the_checkout_in_place_and_refreshes_the_badge(client, user):
    response = _topup(client, "200", headers=HTMX)
    assert response.status_code == 200 and "Location" not in response.headers
    panel = response.get_data(as_text=True)
    assert 'id="topup-panel"' in panel and "Pay ₹236" in panel and "<html" not in panel
    paid = _pay(client, _order_id(response), headers=HTMX)
    assert paid.status_code == 200
    assert paid.headers["HX-Trigger"] == "wallet-changed"
    assert "₹200 was added to your wallet." in paid.get_data(as_text=True)
    badge = client.get("/wallet/balance", headers=HTMX).get_data(as_text=True)
    assert 'id="wallet-balance"' in badge and "₹200" in badge


def test_failed_payment_adds_nothing(client, user):
    order_id = _order_id(_topup(client, "500"))
    _pay(client, order_id, outcome="fail")
    assert "The payment failed" in client.get("/wallet").get_data(as_text=True)
    assert _balance(user) == 0
    assert db.session.query(BillingTransaction).one().status == BillingStatus.FAILED
    assert db.session.query(TaxInvoice).count() == 0


def test_paying_twice_adds_the_money_once(client, user):
    order_id = _order_id(_topup(client, "500"))
    _pay(client, order_id)
    again = _pay(client, order_id)
    assert again.status_code == 409 and "already" in again.get_data(as_text=True)
    assert _balance(user) == Decimal("500.00")


def test_checkout_with_a_bad_outcome_is_400(client, user):
    order_id = _order_id(_topup(client, "500"))
    response = _pay(client, order_id, outcome="maybe")
    assert response.status_code == 400 and "Choose Pay or Fail." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "amount, message",
    [
        ("abc", "Enter an amount such as 500"),
        ("-100", "more than zero"),
        ("0", "more than zero"),
        ("100.555", "at most 2 decimal places"),
        ("49.99", "minimum top-up is ₹50"),
        ("100000.01", "maximum top-up is ₹1,00,000"),
        ("", "Enter an amount."),
        ("9" * 20, "too long"),
    ],
)
def test_bad_amounts_get_a_field_error_and_write_nothing(client, user, amount, message):
    response = _topup(client, amount)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.query(BillingTransaction).count() == 0


def test_bad_amount_with_htmx_rerenders_the_panel_with_the_error(client, user):
    response = _topup(client, "10", headers=HTMX)
    assert response.status_code == 422
    panel = response.get_data(as_text=True)
    assert 'id="topup-panel"' in panel and "minimum top-up" in panel and 'value="10"' in panel


def test_frozen_wallet_says_so(client, user):
    wallet.wallet_of(user.id).status = WalletStatus.FROZEN
    db.session.commit()
    response = _topup(client, "500")
    assert response.status_code == 422 and "frozen" in response.get_data(as_text=True)
    assert db.session.query(BillingTransaction).count() == 0


def test_topup_without_csrf_is_refused(client, user):
    response = client.post("/wallet/topups", data={"amount": "500"})
    assert response.status_code == 400 and db.session.query(BillingTransaction).count() == 0


def test_someone_elses_checkout_is_404(client, user, auth, make_user):
    order_id = _order_id(_topup(client, "500"))
    auth.logout()
    make_user(email="other@example.com")
    auth.login("other@example.com")
    assert client.get(f"/payments/demo/checkout/{order_id}").status_code == 404
    assert _pay(client, order_id).status_code == 404
    assert _balance(user) == 0


def test_unknown_checkout_is_404(client, user):
    assert client.get("/payments/demo/checkout/order_demo_nope").status_code == 404


def test_transactions_are_paged_newest_first(client, user, fund):
    for n in range(25):
        fund(user, f"{n + 1}.00")
    page = client.get("/wallet").get_data(as_text=True)
    assert page.count('class="statement-item') == 20
    assert page.index("+₹25") < page.index("+₹24")  # newest first
    assert "Older →" in page
    second = client.get("/wallet/transactions?page=2", headers=HTMX)
    html = second.get_data(as_text=True)
    assert second.status_code == 200 and "<html" not in html and html.count('class="statement-item') == 5
    assert "+₹1" in html and "← Newer" in html and "Older →" not in html
    assert client.get("/wallet/transactions?page=2").status_code == 302  # a person gets the whole page


def test_statement_shows_balance_after_and_holds_without_one(client, user, fund):
    fund(user, "100.00")
    holds.hold(wallet.wallet_of(user.id).id, "30.00", idempotency_key="h1")
    db.session.commit()
    page = client.get("/wallet").get_data(as_text=True)
    assert "Held" in page and "₹70" in page  # available shown in the summary
    types = [t for (t,) in db.session.query(BillingTransaction.kind)]
    assert set(types) == {BillingKind.TOPUP, BillingKind.HOLD}


def test_an_amount_is_read_as_written_never_guessed(client, user):
    refused = _topup(client, "100,00")  # not ten thousand
    assert refused.status_code == 422 and "such as 500, 1,000 or 499.50" in refused.get_data(as_text=True)
    assert db.session.query(BillingTransaction).count() == 0
    indian = _topup(client, "1,00,000")
    assert indian.status_code == 303
    assert db.session.query(BillingTransaction).one().amount == Decimal("100000.00")


def test_the_statement_has_one_line_per_consultation_and_top_ups_with_their_status(client, consult, app):
    """A consultation of three paid minutes and a refund is one line (who with, minutes, total,
    refund) that opens to its minutes; a failed top-up is not shown as money received."""
    from webapp.services.billing import charges
    from webapp.services.money import refunds, topups

    astrologer = consult.astrologer(name="Acharya Statement", rate=Decimal("10.00"))
    person = consult.user(balance="500.00", email="statement@example.com")
    session = consult.accept(consult.request(person, astrologer))
    for minute in (2, 3):
        charges.charge_minute(session.id, minute, commission_percent=30)
    db.session.commit()
    refunds.refund(session.id, number=1, amount="5.00", reason="The line dropped for a minute")
    topups.create_topup(wallet.wallet_of(person.id).id, "250.00", provider="demo", order_id="order_failed_1")
    topups.fail_topup("demo", "order_failed_1", payment_id="pay_failed_1")
    db.session.commit()
    AuthActions(client).login("statement@example.com")
    html = client.get("/wallet/transactions", headers=HTMX).get_data(as_text=True)
    assert html.count('class="statement-item') == 3  # the consultation, the failed top-up, the first top-up
    assert html.count("<details") == 1
    assert "Chat with Acharya Statement" in html and "3 min" in html and "−₹30" in html
    assert "refunded ₹5" in html and "The line dropped for a minute" in html
    assert "Consultation minute 3" in html  # inside the line
    failed = re.search(
        r'<li class="statement-item statement-single">(?:(?!</li>).)*₹250(?:(?!</li>).)*</li>', html, re.S
    )
    assert failed and "Failed" in failed.group(0) and "statement-void" in failed.group(0)
    assert "+₹250" not in html
