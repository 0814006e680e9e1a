""" "Continue with phone": a six-digit code by SMS, then signed in; a new number makes an account.

POST /auth/phone sends the code and shows the form to type it (with "Send a new code"), POST
/auth/phone/verify signs in. With SMS_PROVIDER=console (development only) the code is in the server
log and on /auth/phone/dev-codes.
"""

from flask import abort, current_app, flash, redirect, render_template, request
from flask_babel import gettext
from flask_login import current_user

from ...boundary import form_again, refusal
from ...extensions import limiter
from ...ratelimits import configured, phone_number
from ...services.errors import CodeTooSoon
from ...services.notifications import sms
from ...services.users import phone_codes, time_zones
from . import bp
from .forms import PhoneForm, PhoneVerifyForm
from .routes import home_for, safe_next, sign_in

_codes_limited = limiter.limit(
    configured("RATELIMIT_PHONE_CODES"), methods=["POST"],
    error_message=lambda: gettext("Too many codes asked for from your network. Try again later."),
)  # fmt: skip
_number_limited = limiter.limit(
    configured("RATELIMIT_PHONE_CODES"), key_func=phone_number, methods=["POST"], scope="phone-number",
    error_message=lambda: gettext("Too many codes asked for this number. Try again later."),
)  # fmt: skip


def _phone_page(form):
    return render_template("auth/phone.html", form=form)


def _verify_page(form):
    return render_template("auth/phone_verify.html", form=form, masked=phone_codes.masked(form.phone.data))


def _sent_again_or_refused(error):
    """A refused send: a resend too soon is said on the code form, anything else on the number form."""
    if isinstance(error, CodeTooSoon) and request.form.get("code_form"):
        return form_again(PhoneVerifyForm, _verify_page)(error)
    return form_again(PhoneForm, _phone_page)(error)


@bp.route("/phone", methods=["GET", "POST"])
@_codes_limited
@_number_limited
@refusal(_sent_again_or_refused)
def phone():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = PhoneForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        number = phone_codes.send(form.phone.data, "sign_in", ip_address=request.remote_addr)
        verify = PhoneVerifyForm(formdata=None, phone=number, next=form.next.data, time_zone=form.time_zone.data)
        return _verify_page(verify)
    return _phone_page(form), 422 if form.errors else 200


@bp.post("/phone/verify")
@limiter.limit(configured("RATELIMIT_PHONE_VERIFY"),
               error_message=lambda: gettext("Too many codes tried from your network. Try again later."))  # fmt: skip
@refusal(form_again(PhoneVerifyForm, _verify_page))
def phone_verify():
    form = PhoneVerifyForm()
    if not form.validate_on_submit():
        return _verify_page(form), 422
    user, created = phone_codes.sign_in(form.phone.data, form.code.data, name=form.name.data, claim=form.claim.data)
    sign_in(user)
    time_zones.adopt_browser_zone(user.id, form.time_zone.data)
    if created:
        flash(gettext("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
    else:
        flash(gettext("Welcome back, %(name)s.", name=user.name), "success")
    return redirect(safe_next(form.next.data) or home_for(user), code=303)


@bp.get("/phone/dev-codes")
def phone_dev_codes():
    """Development only (SMS_PROVIDER=console): the codes this process would have texted, newest first."""
    config = current_app.config
    if config["APP_ENV"] != "development" or config["SMS_PROVIDER"] != "console":
        abort(404)
    return render_template("auth/phone_dev_codes.html", codes=sms.console_codes())
