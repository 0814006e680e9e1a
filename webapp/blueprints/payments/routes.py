"""The demo checkout (pay / fail) and the signed, idempotent provider webhooks."""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_htmx import make_response
from flask_login import current_user, login_required

from ... import metrics
from ...boundary import refusal
from ...extensions import csrf
from ...models import BillingStatus
from ...services.errors import UnknownOrder
from ...services.money import payments
from ...services.money.amounts import format_money
from ...templating import wants_partial
from ..wallet.forms import PRESETS, TopupForm
from . import bp

OUTCOMES = ("pay", "fail")


def _order_or_404(order_id):
    try:
        return payments.order_for_user(payments.DemoProvider.name, order_id, current_user.id)
    except UnknownOrder:
        abort(404)


def _checkout(order, error=None, status=200):
    template = "payments/_demo_checkout.html" if wants_partial() else "payments/demo_checkout.html"
    return render_template(template, order=order, error=error), status


@bp.get("/payments/demo/checkout/<order_id>")
@login_required
def demo_checkout(order_id):
    return _checkout(_order_or_404(order_id))


def _checkout_refused(error, order_id):
    return _checkout(_order_or_404(order_id), error.message, error.status)


@bp.post("/payments/demo/checkout/<order_id>")
@login_required
@refusal(_checkout_refused)
def demo_checkout_submit(order_id):
    order = _order_or_404(order_id)
    outcome = request.form.get("outcome")
    if outcome not in OUTCOMES:
        return _checkout(order, "Choose Pay or Fail.", 400)
    transaction, changed = payments.demo_checkout(
        order_id, outcome, current_user.id, method=request.form.get("method") or "upi"
    )
    _count_settled(transaction, changed)
    if transaction.status == BillingStatus.COMPLETED:
        message, category = (
            gettext("%(amount)s was added to your wallet.", amount=format_money(transaction.amount)),
            "success",
        )
    else:
        message, category = gettext("The payment failed, so nothing was charged or added."), "error"
    if wants_partial():
        page = render_template(
            "wallet/_topup.html", form=TopupForm(formdata=None), presets=PRESETS, notice=(category, message)
        )
        return make_response(page, trigger="wallet-changed")
    flash(message, category)
    return redirect(url_for("wallet.index"), code=303)


@bp.post("/payments/webhook/<provider_name>")
@csrf.exempt  # authenticated by the provider's signature instead
def webhook(provider_name):
    transaction, changed = payments.handle_webhook(provider_name, request.get_data(), request.headers)  # refusals: JSON
    _count_settled(transaction, changed)
    return jsonify(status="processed" if changed else "duplicate", order_status=transaction.status.value)


def _count_settled(transaction, changed):
    if changed:
        metrics.TOPUPS.labels(transaction.status.value).inc()
