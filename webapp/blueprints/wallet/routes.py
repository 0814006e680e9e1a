"""Wallet pages. Top-ups start here and finish at the provider's checkout."""

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from flask_htmx import make_response
from flask_login import current_user, login_required

from ...boundary import refusal
from ...extensions import limiter
from ...ratelimits import configured, user_or_address
from ...services import wallet
from ...services.money import payments, statements
from ...templating import wants_partial
from . import bp
from .forms import PRESETS, TopupForm


def _statement():
    return statements.statement(wallet.wallet_of(current_user.id).id, page=request.args.get("page", 1, type=int))


def _page(form=None, status=200):
    return render_template(
        "wallet/index.html",
        wallet=wallet.wallet_of(current_user.id),
        statement=_statement(),
        form=form or TopupForm(),
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
    form = TopupForm()
    form.amount.errors = [error.message]
    return _form_again(form)


@bp.post("/wallet/topups")
@login_required
@limiter.limit(
    configured("RATELIMIT_TOPUP"), key_func=user_or_address, error_message=lambda: gettext("Too many top-ups started.")
)
@refusal(_topup_refused)
def topup():
    form = TopupForm()
    if not form.validate_on_submit():
        return _form_again(form)
    order, checkout = payments.start_topup(current_user.id, form.amount.parsed)
    if wants_partial() and checkout.embedded:
        # The demo checkout opens in place, so the page (or a chat) is never left.
        return render_template("payments/_demo_checkout.html", order=order)
    if wants_partial():
        return make_response("", redirect=checkout.url)
    return redirect(checkout.url, code=303)


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
