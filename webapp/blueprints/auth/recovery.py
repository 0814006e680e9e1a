"""Getting back in and proving an address: "Forgot password?", the reset link, the link that confirms an
address, and "this wasn't me". Each link is looked at with GET (mail scanners follow links) and used
with POST."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from ...boundary import flash_back, form_again, refusal
from ...extensions import limiter
from ...models import UserStatus
from ...ratelimits import configured, forgot_address
from ...services.errors import LinkInvalid
from ...services.users import credentials, email_addresses
from . import bp
from .forms import ForgotForm, ResetForm
from .routes import home_for, safe_next, sign_in


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(
    configured("RATELIMIT_FORGOT"),
    methods=["POST"],
    error_message=lambda: gettext("Too many requests from your network. Try again in an hour."),
)
@limiter.limit(configured("RATELIMIT_FORGOT_PER_EMAIL"), key_func=forgot_address, methods=["POST"],
               error_message=lambda: gettext("Too many reset e-mails for this address. Try again in an hour."),
               scope="forgot-email")  # fmt: skip
def forgot():
    """The same answer whether or not the address has an account (and nearly the same work: the mail is
    sent by a job)."""
    form = ForgotForm()
    if form.validate_on_submit():
        credentials.request_reset(form.email.data)
        return render_template("auth/forgot.html", form=form, sent_to=form.email.data.lower())
    return render_template("auth/forgot.html", form=form, sent_to=None), 422 if form.errors else 200


def _link_refused(error, **_):
    return render_template("auth/link_used.html", message=error.message), error.status


def _reset_page(form, token):
    return render_template("auth/reset.html", form=form, token=token)


def _reset_refused(error, token):
    if isinstance(error, LinkInvalid):
        return _link_refused(error)
    return form_again(ResetForm, lambda form: _reset_page(form, token))(error)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@refusal(_reset_refused)
def reset(token):
    if not credentials.reset_link_valid(token):
        raise LinkInvalid()
    form = ResetForm()
    if form.validate_on_submit():
        user = credentials.reset_password(token, form.password.data)
        if user.status == UserStatus.ACTIVE:
            sign_in(user)
            flash(gettext("Your password is changed, and every other device is signed out."), "success")
            return redirect(home_for(user), code=303)
        return redirect(url_for("auth.login"), code=303)
    return _reset_page(form, token), 422 if form.errors else 200


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
@refusal(_link_refused)
def confirm_email(token):
    """GET shows a button (a scanner's visit confirms nothing); POST proves the address."""
    if request.method == "POST":
        email_addresses.confirm(token)
        return render_template("auth/email_confirmed.html")
    return render_template("auth/email_confirm.html", token=token)


@bp.post("/email/verify")
@login_required
@limiter.limit(
    configured("RATELIMIT_ACCOUNT_CHANGES"),
    error_message=lambda: gettext("Too many e-mails asked for. Try again in an hour."),
)
@refusal(flash_back("auth.account"))
def resend_verification():
    """The banner's "Send the link again"."""
    email_addresses.send_verification(current_user)
    flash(gettext("We sent a new link to %(address)s.", address=current_user.email), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("auth.account"), code=303)


@bp.route("/not-me/<token>", methods=["GET", "POST"])
@refusal(_link_refused)
def not_me(token):
    """From the old address's warning: GET asks, POST locks the account."""
    if request.method == "POST":
        email_addresses.not_me(token)
        return render_template("auth/locked.html")
    if not email_addresses.not_me_link_valid(token):
        raise LinkInvalid()
    return render_template("auth/not_me.html", token=token)
