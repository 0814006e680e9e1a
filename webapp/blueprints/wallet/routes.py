"""Wallet pages. Top-ups start here and finish at the provider's checkout."""

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from ...boundary import refusal
from ...extensions import limiter
from ...ratelimits import configured, user_or_address
from ...services import wallet
from ...services.money import invoices, payments, statements
from ...templating import wants_partial
from ..payments.routes import render_checkout
from . import bp
from .forms import PRESETS, topup_form


def _statement():
    return statements.statement(wallet.wallet_of(current_user.id).id, page=request.args.get("page", 1, type=int))


def _page(form=None, status=200):
    return render_template(
        "wallet/index.html",
        wallet=wallet.wallet_of(current_user.id),
        statement=_statement(),
        form=form or topup_form(),
        presets=PRESETS,
    ), status


@bp.get("/wallet")
@login_required
def index():
    return _page()


def _form_again(form):
    """The top-up form with its errors (422): the partial for htmx, else the page."""
    if wants_partial():
        return render_template("wallet/_topup.html", form=form, presets=PRESETS), 422
    return _page(form, 422)


def _topup_refused(error):
    form = topup_form()
    form.amount.errors = [error.message]
    return _form_again(form)


@bp.post("/wallet/topups")
@login_required
@limiter.limit(
    configured("RATELIMIT_TOPUP"), key_func=user_or_address, error_message=lambda: gettext("Too many top-ups started.")
)
@refusal(_topup_refused)
def topup():
    form = topup_form()
    if not form.validate_on_submit():
        return _form_again(form)
    order, checkout = payments.start_topup(
        current_user.id, form.amount.parsed, buyer_state=form.state.data, provider_name=form.provider.data
    )
    if wants_partial():
        return render_checkout(order)  # in place, so the page (or a chat) is never left
    return redirect(
        url_for("payments.checkout", provider_name=order.details["provider"], order_id=checkout.order_id), code=303
    )


@bp.get("/wallet/transactions")
@login_required
def transactions():
    if wants_partial():
        return render_template("wallet/_transactions.html", statement=_statement())
    return redirect(url_for("wallet.index", page=request.args.get("page", 1, type=int)))


@bp.get("/wallet/balance")
@login_required
def balance():
    return render_template(
        "wallet/_balance_badge.html", nav_balance=wallet.wallet_of(current_user.id).available_balance
    )


@bp.get("/wallet/invoices/<uuid:invoice_id>.pdf")
@login_required
def invoice(invoice_id):
    """A top-up's tax invoice (or a credit note), for its buyer (and admins)."""
    found = invoices.document(invoice_id, current_user)
    if found is None:
        abort(404)
    document, pdf = found
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{document.number.replace("/", "-")}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
