"""GST on top-ups and the tax invoice of each: the price a payer sees, the split by place of supply,
numbers without gaps per financial year (also under concurrency), and `ledger verify` holding the tax
leg to what the gateway captured."""

import io
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from webapp.extensions import db
from webapp.models import BillingKind, BillingTransaction, InvoiceKind, TaxInvoice
from webapp.services import wallet
from webapp.services.money import invoices, ledger_checker, payments, taxes, topups
from webapp.services.users import accounts

D = Decimal


def _paid(user, amount="500", state="29", now=None):
    """A top-up through the demo gateway's signed webhook; its invoice."""
    transaction, checkout = payments.start_topup(user.id, amount, buyer_state=state, now=now)
    total, _ = topups.price_of(transaction)
    body, headers = payments.provider("demo").webhook_for(
        checkout.order_id, payments.CAPTURED, total, now or transaction.created_at
    )
    payments.handle_webhook("demo", body, headers, now=now or transaction.created_at)
    db.session.commit()
    return invoices.invoice_of(transaction.id)


@pytest.mark.parametrize(
    ("inclusive", "percent", "typed", "credit", "tax", "total"),
    [
        (False, "18", "500", "500.00", "90.00", "590.00"),
        (False, "18", "99.99", "99.99", "18.00", "117.99"),
        (True, "18", "500", "423.73", "76.27", "500.00"),
        (False, "0", "500", "500.00", "0.00", "500.00"),
    ],
)
def test_the_price_of_a_top_up(app, inclusive, percent, typed, credit, tax, total):
    config = {**app.config, "TOPUP_TAX_INCLUSIVE": inclusive, "TOPUP_TAX_PERCENT": D(percent)}
    price = taxes.topup_price(D(typed), config)
    assert (price.credit, price.tax, price.total) == (D(credit), D(tax), D(total))


def test_cgst_and_sgst_inside_the_sellers_state_igst_outside(app):
    inside = taxes.split(D("17.99"), D("99.95"), D("18"), "29", "29")
    assert (inside.cgst, inside.sgst, inside.igst) == (D("9.00"), D("8.99"), D("0.00"))
    outside = taxes.split(D("17.99"), D("99.95"), D("18"), "07", "29")
    assert (outside.cgst, outside.sgst, outside.igst) == (D("0.00"), D("0.00"), D("17.99"))


def test_invoice_numbers_run_per_financial_year_from_april_in_india(app, make_user):
    user = make_user()
    march_31 = datetime(2027, 3, 31, 18, 0, tzinfo=UTC)  # 23:30 in India: still 2026-27
    april_1 = datetime(2027, 3, 31, 18, 31, tzinfo=UTC)  # 00:01 on 1 April in India: 2027-28
    numbers = [_paid(user, now=moment).number for moment in (march_31, march_31, april_1)]
    assert numbers == ["AC/2627/000001", "AC/2627/000002", "AC/2728/000001"]


def test_the_invoice_names_seller_buyer_place_of_supply_and_the_tax(app, make_user):
    user = make_user(name="Ravi Kumar", email="ravi@example.com")
    invoice = _paid(user, "1000", state="27")
    assert invoice.seller == {"name": app.config["SELLER_NAME"], "address": app.config["SELLER_ADDRESS"],
                              "gstin": "29AABCA1234C1ZB"}  # fmt: skip
    assert (invoice.buyer_name, invoice.buyer_email, invoice.buyer_state) == ("Ravi Kumar", "ravi@example.com", "27")
    assert (invoice.sac_code, invoice.tax_name, invoice.tax_percent) == ("999799", "GST", D("18.00"))
    assert (invoice.taxable_value, invoice.igst, invoice.total) == (D("1000.00"), D("180.00"), D("1180.00"))
    assert accounts.billing_state_of(user.id) == "27"  # asked again next time as the default


def test_ledger_verify_holds_the_tax_leg_to_what_was_captured(app, make_user):
    user = make_user()
    _paid(user)
    assert ledger_checker.verify().ok
    topup = db.session.query(BillingTransaction).filter_by(kind=BillingKind.TOPUP).one()
    topup.details = {**topup.details, "total": "600.00"}  # as if the gateway had captured ₹600
    db.session.flush()
    report = ledger_checker.verify()
    assert not report.ok and any("captured 600.00" in line for line in report.lines())
    db.session.rollback()


def test_ledger_verify_finds_a_gap_in_the_numbers(app, make_user):
    user = make_user()
    _paid(user)
    second = _paid(user)
    second.seq, second.number = 3, "AC/2627/000003"
    db.session.flush()
    assert any("a gap" in line for line in ledger_checker.verify().lines())
    db.session.rollback()


@pytest.mark.postgres
def test_twenty_top_ups_paid_at_once_get_twenty_numbers_without_gap_or_duplicate(app, make_user):
    users = [make_user() for _ in range(20)]
    orders = []
    for user in users:
        transaction, checkout = payments.start_topup(user.id, "100", buyer_state="29")
        orders.append((checkout.order_id, topups.price_of(transaction)[0], transaction.created_at))
    db.session.commit()
    start = threading.Barrier(20)

    def pay(order_id, total, at):
        with app.app_context():
            body, headers = payments.provider("demo").webhook_for(order_id, payments.CAPTURED, total, at)
            start.wait()
            payments.handle_webhook("demo", body, headers, now=at)
            db.session.commit()

    threads = [threading.Thread(target=pay, args=order) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = sorted(db.session.execute(db.select(TaxInvoice.seq).filter_by(kind=InvoiceKind.INVOICE)).scalars())
    assert seqs == list(range(1, 21))
    assert wallet.tax_wallet().current_balance == D("360.00")  # 20 × ₹18


def test_the_buyer_downloads_the_invoice_pdf_from_the_statement_and_nobody_else_can(app, client, auth, make_user):
    user = make_user(name="कविता शर्मा", email="kavita@example.com")
    invoice = _paid(user, "500", state="09")
    auth.login(user.email)
    statement = client.get("/wallet").get_data(as_text=True)
    link = f"/wallet/invoices/{invoice.id}.pdf"
    assert link in statement and "Tax invoice AC/2627/000001 (PDF)" in statement.replace(
        str(invoice.number), "AC/2627/000001"
    )
    assert "You paid ₹590, with GST ₹90" in statement
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{invoice.number.replace("/", "-")}.pdf"'
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    # (Shaped Devanagari is drawn as joined glyphs; text extraction gets each syllable, not the whole name.)
    for expected in ("Tax invoice", invoice.number, "29AABCA1234C1ZB", "कवि", "शर्मा", "Uttar Pradesh (09)", "999799",
                     "IGST at 18", "₹90", "₹590", "Rupees Five Hundred and Ninety Only"):  # fmt: skip
        assert expected in text, (expected, text)
    auth.logout()
    auth.login(make_user().email)
    assert client.get(link).status_code == 404


def test_admins_get_the_months_invoices_and_a_csv_for_the_accountant(app, make_user, admin_client):
    inside, outside = make_user(name="Asha Rao"), make_user(name="=HYPERLINK(x)")
    april = datetime(2027, 4, 10, 6, 0, tzinfo=UTC)
    first = _paid(inside, "500", state="29", now=april)
    second = _paid(outside, "1000", state="07", now=april)
    _paid(inside, "200", state="29", now=datetime(2027, 5, 2, 6, 0, tzinfo=UTC))  # another month
    page = admin_client.get("/admin/tax?month=2027-04").get_data(as_text=True)
    assert first.number in page and second.number in page and "AC/2728/000003" not in page
    assert "₹1,770" in page  # 590 + 1,180
    response = admin_client.get("/admin/tax?month=2027-04&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "invoice number,date,buyer,state,taxable value,CGST,SGST,IGST,total,document"
    assert lines[1] == f"{first.number},2027-04-10,Asha Rao,29 Karnataka,500.00,45.00,45.00,0.00,590.00,invoice"
    assert lines[2] == f"{second.number},2027-04-10,'=HYPERLINK(x),07 Delhi,1000.00,0.00,0.00,180.00,1180.00,invoice"
    assert len(lines) == 3


def test_a_payment_that_did_not_match_is_listed_for_admins(app, make_user, admin_client):
    user = make_user(name="Mismatched Payer")
    transaction, checkout = payments.start_topup(user.id, "500", buyer_state="29")
    body, headers = payments.provider("demo").webhook_for(
        checkout.order_id, payments.CAPTURED, D("500.00"), transaction.created_at
    )
    payments.handle_webhook("demo", body, headers, now=transaction.created_at)
    db.session.commit()
    page = admin_client.get("/admin/tax").get_data(as_text=True)
    assert "Mismatched Payer" in page and "Paid 500.00 INR for an order of 590.00 INR" in page
