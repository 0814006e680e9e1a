"""Dashboard routes (astrologers only). Each panel saves through htmx and re-renders in place."""

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user

from ...extensions import db, htmx
from ...models import UserType
from ...services import admin, astrologer_profile, marketplace, performance, wallet
from ...services.consultations import lifecycle, lookup, queue
from ...services.errors import DomainError, ValidationFailed
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
    db.session.commit()


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


def _answer_request(decide, session_id):
    """Run accept or decline; a refusal re-renders the requests panel (htmx) or flashes. None when it went through."""
    try:
        decide(session_id, current_user.id)
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:  # not this astrologer's request: nothing to show
            abort(404)
        if htmx:
            return _requests_panel(("error", error.message), error.status)
        flash(error.message, "error")
        return redirect(url_for("dashboard.index"))
    db.session.commit()
    return None


@bp.post("/requests/<uuid:session_id>/accept")
@role_required(UserType.ASTROLOGER)
def accept(session_id):
    refused = _answer_request(lifecycle.accept, session_id)
    if refused:
        return refused
    room = url_for("consultations.show", session_id=session_id)
    if htmx:
        return make_response("", redirect=room)
    return redirect(room, code=303)


@bp.post("/requests/<uuid:session_id>/decline")
@role_required(UserType.ASTROLOGER)
def decline(session_id):
    refused = _answer_request(lifecycle.decline, session_id)
    if refused:
        return refused
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
        return render_template(
            "consultations/_history.html", history=history, as_astrologer=True, endpoint="dashboard.sessions"
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
    db.session.commit()
    message = f"{form.channel.data.capitalize()}: you are now {form.status.data}."
    if htmx:
        return _availability_panel(("success", message))
    flash(message, "success")
    return redirect(url_for("dashboard.index"))


@bp.post("/profile")
@role_required(UserType.ASTROLOGER)
def profile():
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            astrologer_profile.update_profile(
                current_user.id,
                chat_rate_per_minute=form.chat_rate_per_minute.data,
                call_rate_per_minute=form.call_rate_per_minute.data,
                max_concurrent_sessions=form.max_concurrent_sessions.data,
                languages=form.languages.data,
                specializations=form.specializations.data,
                about=form.about.data,
            )
        except ValidationFailed as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            db.session.commit()
            if htmx:
                return _profile_panel(notice=("success", "Profile saved. New rates apply to new sessions only."))
            flash("Profile saved. New rates apply to new sessions only.", "success")
            return redirect(url_for("dashboard.index"))
    if htmx:
        return _profile_panel(form, status=422)
    return _page(form, 422)


@bp.post("/payouts")
@role_required(UserType.ASTROLOGER)
def payouts():
    """Request a payout of available earnings (at least INR 500); payout_id makes a double submit one request."""
    try:
        payout_id = uuid.UUID(request.form.get("payout_id", ""))
        admin.request_payout(current_user.id, request.form.get("amount", ""), payout_id=payout_id)
    except (DomainError, ValueError) as error:
        db.session.rollback()
        flash(getattr(error, "message", "Enter an amount such as 500."), "error")
        return redirect(url_for("dashboard.index"), code=303)
    db.session.commit()
    flash("Payout requested; the amount is held until an admin sends it.", "success")
    return redirect(url_for("dashboard.index"), code=303)
