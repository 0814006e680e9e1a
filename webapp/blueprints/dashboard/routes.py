"""Dashboard routes (astrologers only). Each panel saves through htmx and re-renders in place."""

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user

from ...boundary import flash_back, form_again, refusal
from ...extensions import htmx
from ...models import UserType
from ...services import admin, astrologer_profile, marketplace, performance, wallet
from ...services.consultations import lifecycle, lookup, queue
from ...services.errors import ValidationFailed
from ...templating import varies_on_htmx
from ..auth.guards import role_required
from . import bp
from .forms import AvailabilityForm, ProfileForm


def _availability_panel(notice=None, status=200):
    profile = astrologer_profile.profile_of(current_user.id)
    chat, call = marketplace.availability(current_user.id)
    return render_template(
        "dashboard/_availability.html", profile=profile, derived={"chat": chat, "call": call}, notice=notice
    ), status


def _profile_panel(form=None, notice=None, status=200):
    profile = astrologer_profile.profile_of(current_user.id)
    return render_template("dashboard/_profile.html", form=form or ProfileForm(obj=profile), notice=notice), status


def _requests_panel(notice=None, status=200):
    return render_template(
        "dashboard/_requests.html", requests=queue.requests_for(current_user.id), notice=notice
    ), status


def _page(form=None, status=200):
    profile = astrologer_profile.profile_of(current_user.id)
    chat, call = marketplace.availability(current_user.id)
    return render_template(
        "dashboard/index.html",
        profile=profile,
        derived={"chat": chat, "call": call},
        form=form or ProfileForm(obj=profile),
        requests=queue.requests_for(current_user.id),
        history=lookup.history(current_user.id, as_astrologer=True),
        wallet=wallet.wallet_of(current_user.id),
        payout_id=uuid.uuid4(),
        as_astrologer=True,
        endpoint="dashboard.sessions",
    ), status


def _seen():
    """The astrologer is at work (last_active_at)."""
    performance.seen_on_dashboard(current_user.id)


@bp.get("")
@role_required(UserType.ASTROLOGER)
def index():
    _seen()
    return _page()


@bp.get("/requests")
@role_required(UserType.ASTROLOGER)
def requests_panel():
    """The live requests panel: offered requests, the queue, active sessions (refreshed on socket events)."""
    _seen()
    return _requests_panel()


def _answer_refused(error, session_id):
    """An accept or decline refused: the requests panel again (htmx) or a flash."""
    if error.status == 404:  # not this astrologer's request: nothing to show
        abort(404)
    if htmx:
        return _requests_panel(("error", error.message), error.status)
    flash(error.message, "error")
    return redirect(url_for("dashboard.index"))


@bp.post("/requests/<uuid:session_id>/accept")
@role_required(UserType.ASTROLOGER)
@refusal(_answer_refused)
def accept(session_id):
    lifecycle.accept(session_id, current_user.id)
    room = url_for("consultations.show", session_id=session_id)
    if htmx:
        return make_response("", redirect=room)
    return redirect(room, code=303)


@bp.post("/requests/<uuid:session_id>/decline")
@role_required(UserType.ASTROLOGER)
@refusal(_answer_refused)
def decline(session_id):
    lifecycle.decline(session_id, current_user.id)
    message = "Request declined; the user was told and nothing was charged."
    if htmx:
        return _requests_panel(("info", message))
    flash(message, "info")
    return redirect(url_for("dashboard.index"))


@bp.get("/sessions")
@role_required(UserType.ASTROLOGER)
def sessions():
    """The astrologer's session history (paged partial for htmx)."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    history = lookup.history(current_user.id, as_astrologer=True, page=page)
    if htmx:
        return varies_on_htmx(
            render_template(
                "consultations/_history.html", history=history, as_astrologer=True, endpoint="dashboard.sessions"
            )
        )
    return redirect(url_for("dashboard.index"))


@bp.post("/availability")
@role_required(UserType.ASTROLOGER)
def availability():
    form = AvailabilityForm()
    if not form.validate_on_submit():
        if htmx:
            return _availability_panel(("error", "Choose available, unavailable or offline for chat or call."), 422)
        flash("Choose available, unavailable or offline for chat or call.", "error")
        return redirect(url_for("dashboard.index"))
    astrologer_profile.set_availability(current_user.id, form.channel.data, form.status.data)
    message = f"{form.channel.data.capitalize()}: you are now {form.status.data}."
    if htmx:
        return _availability_panel(("success", message))
    flash(message, "success")
    return redirect(url_for("dashboard.index"))


def _profile_again(form):
    """The profile form with its errors: the panel for htmx, else the page."""
    return _profile_panel(form)[0] if htmx else _page(form)[0]


@bp.post("/profile")
@role_required(UserType.ASTROLOGER)
@refusal(form_again(ProfileForm, _profile_again, status=422))
def profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _profile_again(form), 422
    astrologer_profile.update_profile(
        current_user.id,
        chat_rate_per_minute=form.chat_rate_per_minute.data,
        call_rate_per_minute=form.call_rate_per_minute.data,
        max_concurrent_sessions=form.max_concurrent_sessions.data,
        languages=form.languages.data,
        specializations=form.specializations.data,
        about=form.about.data,
    )
    if htmx:
        return _profile_panel(notice=("success", "Profile saved. New rates apply to new sessions only."))
    flash("Profile saved. New rates apply to new sessions only.", "success")
    return redirect(url_for("dashboard.index"))


@bp.post("/payouts")
@role_required(UserType.ASTROLOGER)
@refusal(flash_back("dashboard.index"))
def payouts():
    """Request a payout of available earnings (at least INR 500); payout_id makes a double submit one request."""
    try:
        payout_id = uuid.UUID(request.form.get("payout_id", ""))
    except ValueError:
        raise ValidationFailed("amount", "Enter an amount such as 500.") from None
    admin.request_payout(current_user.id, request.form.get("amount", ""), payout_id=payout_id)
    flash("Payout requested; the amount is held until an admin sends it.", "success")
    return redirect(url_for("dashboard.index"), code=303)
