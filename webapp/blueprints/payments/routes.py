"""A top-up's checkout for every gateway (the demo's pay / fail, Razorpay's signed handler, the return from
Stripe's page) and the signed, idempotent gateway webhooks."""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_htmx import make_response
from flask_login import current_user, login_required

from ... import metrics
from ...boundary import refusal
from ...extensions import csrf, limiter
from ...models import BillingStatus
from ...ratelimits import configured, user_or_address
from ...services.errors import InvalidSignature, UnknownOrder
from ...services.money import payments, topups
from ...services.money.amounts import format_money
from ...templating import wants_partial
from ..wallet.forms import PRESETS, topup_form
from . import bp

OUTCOMES = ("pay", "fail")


def _order_or_404(order_id, provider_name=payments.DemoProvider.name):
    try:
        return payments.order_for_user(provider_name, order_id, current_user.id)
    except UnknownOrder:
        abort(404)


def render_checkout(order, error=None, status=200, waiting=False):
    """A top-up's checkout: the panel for htmx (it replaces the top-up panel), else the page. `waiting`:
    the payer is back from the gateway's page, so a pending order is being confirmed (the panel asks again)."""
    template = "payments/_checkout.html" if wants_partial() else "payments/checkout.html"
    pending = order.status == BillingStatus.PENDING
    pay = payments.checkout_options(order, current_user.id) if pending and not waiting else None
    return render_template(template, order=order, error=error, pay=pay, waiting=waiting), status


@bp.get("/payments/<provider_name>/checkout/<order_id>")
@login_required
def checkout(provider_name, order_id):
    """A top-up's checkout: its price, then the gateway's way to pay (the demo's form, Razorpay's
    Standard Checkout, a link to Stripe's page)."""
    return render_checkout(_order_or_404(order_id, provider_name))


def _checkout_refused(error, order_id):
    return render_checkout(_order_or_404(order_id), error.message, error.status)


@bp.post("/payments/demo/checkout/<order_id>")
@login_required
@refusal(_checkout_refused)
def demo_checkout_submit(order_id):
    order = _order_or_404(order_id)
    outcome = request.form.get("outcome")
    if outcome not in OUTCOMES:
        return render_checkout(order, gettext("Choose Pay or Fail."), 400)
    transaction, changed = payments.demo_checkout(
        order_id, outcome, current_user.id, method=request.form.get("method") or "upi"
    )
    _count_settled(transaction, changed)
    return _settled_panel(transaction)


def _settled_panel(transaction):
    """The top-up panel saying how a payment ended (htmx), or a 303 to the wallet with it flashed."""
    if transaction.status == BillingStatus.COMPLETED:
        message, category = (
            gettext("%(amount)s was added to your wallet.", amount=format_money(transaction.amount)),
            "success",
        )
    elif transaction.status == BillingStatus.PENDING:
        message, category = (
            gettext("Payment received. It is being confirmed and will be in your wallet in a moment."),
            "info",
        )
    else:
        message, category = gettext("The payment failed, so nothing was charged or added."), "error"
    if wants_partial():
        page = render_template(
            "wallet/_topup.html", form=topup_form(formdata=None), presets=PRESETS, notice=(category, message)
        )
        return make_response(page, trigger="wallet-changed")
    flash(message, category)
    return redirect(url_for("wallet.index"), code=303)


def _razorpay_refused(error):
    return render_template("wallet/_topup.html", form=topup_form(formdata=None), presets=PRESETS,
                           notice=("error", error.message)), error.status  # fmt: skip


@bp.post("/payments/razorpay/callback")
@login_required
@limiter.limit(
    configured("RATELIMIT_PAYMENT_CALLBACK"),
    key_func=user_or_address,
    error_message=lambda: gettext("Too many payments checked. Please wait a little."),
)
@refusal(_razorpay_refused)
def razorpay_callback():
    """Razorpay's Standard Checkout handed the page a payment (razorpay.js posts its three fields)."""
    fields = [request.form.get(name, "") for name in ("razorpay_order_id", "razorpay_payment_id", "razorpay_signature")]
    if not all(fields) or any(len(value) > 255 for value in fields):
        return _razorpay_refused(InvalidSignature(gettext("The payment's details are missing.")))
    transaction = payments.razorpay_paid(current_user.id, *fields)
    _count_settled(transaction, transaction.status != BillingStatus.PENDING)
    return _settled_panel(transaction)


@bp.get("/payments/stripe/return")
@login_required
def stripe_return():
    """Back from Stripe's page: the order as it stands (the webhook credits it; while it has not, the
    panel asks again every few seconds)."""
    session_id = request.args.get("session_id", "")
    return render_checkout(_order_or_404(session_id[:255], "stripe"), waiting=True)


@bp.post("/payments/webhook/<provider_name>")
@csrf.exempt  # authenticated by the provider's signature instead
def webhook(provider_name):
    transaction, changed = payments.handle_webhook(provider_name, request.get_data(), request.headers)  # refusals: JSON
    if transaction is None:
        return jsonify(status="ignored")
    _count_settled(transaction, changed)
    mismatch = topups.mismatch_of(transaction)
    if mismatch is not None:
        # Delivered and understood, so acknowledged (a retry would change nothing); the order is closed
        # unpaid and listed for admins on the tax page.
        return jsonify(status="refused", error=mismatch.code, message=mismatch.message, order_status="failed")
    return jsonify(status="processed" if changed else "duplicate", order_status=transaction.status.value)


def _count_settled(transaction, changed):
    if changed:
        metrics.TOPUPS.labels(transaction.status.value).inc()
