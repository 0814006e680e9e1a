"""Register, log in, log out. Errors re-render the form with the input kept."""

from urllib.parse import urlsplit

from flask import (
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from ... import i18n
from ...boundary import form_again, refusal
from ...extensions import csrf, limiter
from ...models import UserType
from ...ratelimits import (
    DEVICE_COOKIE,
    DEVICE_MAX_AGE,
    configured,
    device_cookie_for,
    known_device,
    login_account,
    login_device,
    registration_taken,
)
from ...services.ai import language_model as ai
from ...services.astrology import birth_chart
from ...services.errors import ValidationFailed
from ...services.notifications import mail
from ...services.users import accounts, email_addresses, erasure, languages, login_sessions, onboarding, time_zones
from ...templating import wants_partial
from . import bp
from .forms import BirthDetailsForm, LanguageForm, LoginForm, RegisterForm, TimeZoneForm


def safe_next(target):
    """`target` if it is a path on this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def sign_in(user):
    """Start a login session for `user` (committed with the request) and put it in the cookie. The
    CSRF secret is replaced, so no token from before the sign-in is accepted after it."""
    login = login_sessions.start(user.id, user_agent=request.user_agent.string, ip_address=request.remote_addr)
    session.pop("csrf_token", None)  # Flask-WTF keeps its secret under this key
    g.pop("csrf_token", None)
    login_user(user)
    session["login_id"] = str(login.id)
    if erasure.cancel(user.id):
        flash(gettext("Welcome back: your account will not be deleted."), "success")

    @after_this_request
    def remember_device(response):
        """This browser has now signed in as `user`: its later attempts at the account count apart."""
        response.set_cookie(
            DEVICE_COOKIE,
            device_cookie_for(user.id),
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
        return response


def sign_out():
    """End this browser's login session on the server too, so a copy of the cookie is worth nothing."""
    login_sessions.end(session.get("login_id"))
    logout_user()
    session.clear()


def home_for(user):
    """Where a user lands after logging in: astrologers on their dashboard, admins in the console, users in the marketplace."""
    if user.type == UserType.ASTROLOGER:
        return url_for("dashboard.index")
    if user.type == UserType.ADMIN:
        return url_for("admin.index")
    return url_for("astrologers.index")


@bp.post("/language")
def language():
    """The header's switcher: the account keeps the choice (every browser, e-mail and notification);
    a visitor's is kept in a cookie. Back to the page it was chosen on."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return redirect(url_for("astrologers.index"))
    if current_user.is_authenticated:
        languages.store(current_user.id, form.language.data)
    response = redirect(safe_next(form.next.data) or url_for("astrologers.index"))
    response.set_cookie(
        i18n.COOKIE, form.language.data, max_age=i18n.COOKIE_SECONDS, secure=request.is_secure, httponly=True,
        samesite="Lax",
    )  # fmt: skip
    return response


def _register_page(form):
    return render_template("auth/register.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    configured("RATELIMIT_REGISTER"),
    methods=["POST"],
    error_message=lambda: gettext("Too many new accounts from your network."),
)
@limiter.limit(
    configured("RATELIMIT_REGISTER_TAKEN"),
    methods=["POST"],
    deduct_when=registration_taken,  # each answer that an address has an account tells something: few allowed
    error_message=lambda: gettext("Too many sign-ups with details that already have an account."),
    scope="register-taken",
)
@refusal(form_again(RegisterForm, _register_page))
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        user = accounts.register_user(
            name=form.name.data, email=form.email.data, phone=form.phone.data, password=form.password.data
        )
        sign_in(user)
        time_zones.adopt_browser_zone(user.id, form.time_zone.data)
        languages.store(user.id, form.locale.data)
        email_addresses.send_verification(user)
        if form.share_chart.data:
            birth_chart.share(user.id)
        flash(gettext("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
        return redirect(safe_next(request.args.get("next")) or home_for(user))
    return _register_page(form), 422 if form.errors else 200


def _login_page(form):
    return render_template("auth/login.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    configured("RATELIMIT_LOGIN"),
    methods=["POST"],
    error_message=lambda: gettext("Too many sign-in attempts from your network."),
)
@limiter.limit(
    configured("RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT"),
    key_func=login_account,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,  # only failed attempts count
    exempt_when=known_device,  # the owner's own browsers have their own count (ratelimits.py)
    error_message=lambda: gettext("Too many failed sign-in attempts for this account."),
)
@limiter.limit(
    configured("RATELIMIT_LOGIN_FAILURES_PER_DEVICE"),
    key_func=login_device,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
    exempt_when=lambda: not known_device(),
    error_message=lambda: gettext("Too many failed sign-in attempts from this browser."),
)
@refusal(form_again(lambda: LoginForm(next=request.args.get("next", "")), _login_page))
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = accounts.authenticate(form.identifier.data, form.password.data)
        sign_in(user)
        time_zones.adopt_browser_zone(user.id, form.time_zone.data)
        flash(gettext("Welcome back, %(name)s.", name=user.name), "success")
        return redirect(safe_next(form.next.data) or home_for(user))
    return _login_page(form), 422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    sign_out()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every login session of the account: other browsers and phones are signed out at their next
    request, and their open consultation rooms are closed."""
    login_sessions.end_all(current_user.id)
    logout_user()
    session.clear()
    flash(gettext("You are logged out on every device."), "info")
    return redirect(url_for("auth.login"))


def _details_form():
    profile = current_user.profile
    return BirthDetailsForm(
        obj=profile,
        language=(profile.preferences or {}).get("language", ""),
        time_zone=time_zones.name_of(profile),
        current_zone=time_zones.name_of(profile),
    )


def _account_page(form):
    return render_template(
        "auth/account.html",
        form=form,
        logins=login_sessions.live_for(current_user.id),
        this_login=session.get("login_id"),
        ai_consent=ai.consented_at(current_user.profile) if ai.enabled() else None,
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
@refusal(form_again(_details_form, _account_page, status=422))
def account():
    """Your details: the optional birth details, bio and language astrologers receive in a consultation."""
    form = _details_form()
    if form.validate_on_submit():
        accounts.update_details(
            current_user.id,
            birth_date=form.birth_date.data,
            birth_time=form.birth_time.data,
            birth_place=form.birth_place.data or None,
            bio=form.bio.data,
            language=form.language.data or None,
        )
        if form.time_zone.data != time_zones.name_of(current_user.profile):  # a change, not the default kept
            time_zones.set_zone(current_user.id, form.time_zone.data)
        flash(gettext("Your details are saved."), "success")
        return redirect(safe_next(request.args.get("next")) or url_for("auth.account"))
    return _account_page(form), 422 if form.errors else 200


@bp.post("/account/time-zone")
@login_required
def time_zone():
    """The browser's zone, sent once (static/js/app.js): 204 when stored, 422 with the reason."""
    form = TimeZoneForm()
    if not form.validate_on_submit():
        return jsonify(error="bad_request", message=gettext("Send a time zone such as Asia/Kolkata.")), 422
    try:
        time_zones.set_zone(current_user.id, form.time_zone.data)
    except ValidationFailed as error:
        return jsonify(error="bad_request", message=error.message), 422
    return "", 204


@bp.post("/onboarding/done")
@login_required
def onboarding_done():
    """The first-run panel is dismissed for good: htmx removes it (an empty answer), a form post
    goes back to the listing."""
    onboarding.finish(current_user.id)
    if wants_partial():
        return ""
    return redirect(url_for("astrologers.index"), code=303)


def _handoff_refused(error):
    return render_template(
        "errors/error.html", status=error.status, title="Sign-in failed", message=error.message
    ), error.status


@bp.get("/handoff")
@refusal(_handoff_refused)
def handoff():
    """The main backend's sign-in link: a one-time HS256 token; `next` may only point into this site."""
    from ...services.users import handoff as handoffs

    user = handoffs.redeem(request.args.get("token"))
    sign_in(user)
    return redirect(safe_next(request.args.get("next")) or home_for(user))


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the authority, and mail clients' one-click POST carries no CSRF token
def email_unsubscribe(token):
    """A category of e-mail turned off from the link in a message, without logging in: GET shows the
    button (mail scanners follow links), POST turns it off (also what List-Unsubscribe-Post sends)."""
    found = mail.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user_id, category = found
    done = False
    if request.method == "POST":
        done = mail.unsubscribe(user_id, category) is not None
        if not done:
            abort(404)
    return render_template("auth/unsubscribe.html", token=token, category_name=mail.CATEGORIES[category], done=done)


@bp.post("/account/ai-consent")
@login_required
def withdraw_ai_consent():
    """The person takes back their consent to send their messages to the AI provider."""
    ai.withdraw_consent(current_user.id)
    flash(gettext("Nothing of yours will be sent to the AI provider unless you agree again."), "success")
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/email")
@login_required
def email_preferences():
    """Which categories of e-mail the person receives (the account page's checkboxes)."""
    offered = mail.categories_for(current_user)
    wanted = [category for category in request.form.getlist("category") if category in offered]
    kept = set(mail.CATEGORIES) - set(offered) - mail.turned_off(current_user.profile)  # not on this page
    mail.set_categories(current_user.id, set(wanted) | kept)
    flash(gettext("Your e-mail choices are saved."), "success")
    return redirect(url_for("auth.account"), code=303)
