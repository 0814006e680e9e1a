"""Sign-in and security (/auth/account/security): the name, e-mail address, phone number and password,
the devices signed in, the copy of one's data, and leaving. Each form posts to its own route and comes
back to the page, its refusal shown under its field."""

from flask import abort, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, logout_user

from ...boundary import flash_back, form_again, refusal
from ...extensions import limiter
from ...models import utcnow
from ...ratelimits import configured
from ...services.users import credentials, data_export, email_addresses, erasure, login_sessions, phone_codes
from . import bp
from .forms import ChangePasswordForm, DeleteAccountForm, EmailChangeForm, NameForm, PhoneChangeVerifyForm

_changes_limited = limiter.limit(
    configured("RATELIMIT_ACCOUNT_CHANGES"),
    error_message=lambda: gettext("Too many changes in a short time. Try again in an hour."),
)


def _page(**forms):
    """The page, with any form that was sent (and its errors) in place of its empty one."""
    user = current_user
    forms = {
        "name_form": NameForm(formdata=None, name=user.name),
        "email_form": EmailChangeForm(formdata=None),
        # A number not yet proven is offered for its code; otherwise the form asks for a new one.
        "phone_form": PhoneChangeVerifyForm(formdata=None, phone=None if user.phone_verified_at else user.phone),
        "password_form": ChangePasswordForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
        **forms,
    }
    return render_template(
        "auth/security.html",
        logins=login_sessions.live_for(user.id),
        this_login=session.get("login_id"),
        masked_phone=phone_codes.masked(user.phone),
        leaving=erasure.leaving(user),
        export=data_export.latest(user.id),
        **forms,
    )


def _again(name, make_form):
    """A @refusal answer: the page again, the refusal under its field of the form that was sent."""
    return form_again(make_form, lambda form: _page(**{name: form}))


@bp.get("/account/security")
@login_required
def security():
    return _page()


@bp.post("/account/name")
@login_required
@refusal(_again("name_form", NameForm))
def change_name():
    form = NameForm()
    if not form.validate_on_submit():
        return _page(name_form=form), 422
    credentials.change_name(current_user.id, form.name.data)
    flash(gettext("Your name is saved."), "success")
    return redirect(url_for("auth.security"), code=303)


@bp.post("/account/password")
@login_required
@_changes_limited
@refusal(_again("password_form", ChangePasswordForm))
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(password_form=form), 422
    credentials.change_password(current_user.id, form.current.data, form.password.data,
                                keep_login_id=session.get("login_id"))  # fmt: skip
    flash(gettext("Your password is changed. Every other device is signed out."), "success")
    return redirect(url_for("auth.security"), code=303)


@bp.post("/account/email-address")
@login_required
@_changes_limited
@refusal(_again("email_form", EmailChangeForm))
def change_email():
    form = EmailChangeForm()
    if not form.validate_on_submit():
        return _page(email_form=form), 422
    email_addresses.request_change(current_user.id, form.email.data, form.password.data)
    flash(gettext("We sent a link to %(address)s. Your address changes when you open it.", address=form.email.data),
          "success")  # fmt: skip
    return redirect(url_for("auth.security"), code=303)


@bp.post("/account/phone")
@login_required
@limiter.limit(configured("RATELIMIT_PHONE_CODES"),
               error_message=lambda: gettext("Too many codes asked for. Try again later."))  # fmt: skip
@refusal(_again("phone_form", PhoneChangeVerifyForm))
def change_phone():
    """Both steps of a new number: without a code, one is sent to it; with one, the number is changed."""
    form = PhoneChangeVerifyForm()
    if not form.validate_on_submit():
        return _page(phone_form=form), 422
    if not form.code.data:
        number = phone_codes.send(form.phone.data, "change_phone", user_id=current_user.id,
                                  ip_address=request.remote_addr)  # fmt: skip
        sent = PhoneChangeVerifyForm(formdata=None, phone=number)
        return _page(phone_form=sent, phone_code_sent=phone_codes.masked(number))
    phone_codes.change_phone(current_user.id, form.phone.data, form.code.data)
    flash(gettext("Your mobile number is changed."), "success")
    return redirect(url_for("auth.security"), code=303)


@bp.post("/account/devices/<login_id>/end")
@login_required
@refusal(flash_back("auth.security"))
def end_device(login_id):
    """Sign out one device: another's id, or an ended one, changes nothing."""
    if login_id == session.get("login_id"):
        return redirect(url_for("auth.logout"), code=307)
    if login_sessions.end_own(current_user.id, login_id):
        flash(gettext("That device is signed out."), "success")
    return redirect(url_for("auth.security"), code=303)


@bp.post("/account/delete")
@login_required
@_changes_limited
@refusal(_again("delete_form", DeleteAccountForm))
def delete_account():
    """Leaving. An account without a password asks for a code first (`send_code`), then sends it."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _page(delete_form=form), 422
    if request.form.get("send_code"):
        number = erasure.send_code(current_user, ip_address=request.remote_addr)
        return _page(delete_code_sent=phone_codes.masked(number))
    due = erasure.request(current_user.id, password=form.password.data, code=form.code.data)
    logout_user()
    session.clear()
    return render_template("auth/deletion_scheduled.html", due=due)


@bp.post("/account/export")
@login_required
@_changes_limited
def export_data():
    data_export.request_export(current_user)
    if current_user.email and current_user.email_verified_at:
        flash(gettext("We are preparing your data. We will e-mail %(address)s a link when it is ready.",
                      address=current_user.email), "success")  # fmt: skip
    else:
        flash(gettext("We are preparing your data. The download appears on this page when it is ready."), "success")
    return redirect(url_for("auth.security") + "#export-title", code=303)


@bp.get("/account/export/<token>")
@login_required
def download_export(token):
    """The ZIP, to its owner only (anyone else, or a used link: 404)."""
    found = data_export.open_export(token, current_user.id)
    if found is None:
        abort(404)
    name = f"astroconsult-data-{utcnow():%Y-%m-%d}.zip"
    return send_file(found, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)
