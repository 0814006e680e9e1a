"""Dashboard routes (astrologers only). Each panel saves through htmx and re-renders in place."""

import itertools
import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_htmx import make_response
from flask_login import current_user

from ...boundary import form_again, refusal
from ...csv_export import csv_response
from ...models import Channel, UserType, utcnow
from ...models.enums import label_of
from ...services import wallet
from ...services.astrologers import astrologer_profile, marketplace, performance
from ...services.consultations import lifecycle, lookup, queue
from ...services.money import earnings, payouts
from ...templating import page_or_partial, wants_partial
from ..auth.guards import role_required
from . import bp
from .forms import AvailabilityForm, PayoutForm, ProfileForm


def _availability_panel(notice=None, status=200):
    profile = astrologer_profile.profile_of(current_user.id)
    return render_template("dashboard/_availability.html", profile=profile, derived=_derived(), notice=notice), status


def _derived():
    """{channel: derived status} of the astrologer, for the availability panel."""
    return dict(zip(marketplace.CHANNELS, marketplace.availability(current_user.id), strict=True))


def _profile_panel(form=None, notice=None, status=200):
    profile = astrologer_profile.profile_of(current_user.id)
    return render_template("dashboard/_profile.html", form=form or ProfileForm(obj=profile), notice=notice), status


def _requests_panel(notice=None, status=200):
    return render_template(
        "dashboard/_requests.html", requests=queue.requests_for(current_user.id), notice=notice
    ), status


def _page(form=None, status=200):
    profile = astrologer_profile.profile_of(current_user.id)
    return render_template(
        "dashboard/index.html",
        profile=profile,
        derived=_derived(),
        form=form or ProfileForm(obj=profile),
        requests=queue.requests_for(current_user.id),
        **_history(),
        periods=earnings.periods(current_user.id, utcnow(), keys=("today", "7d")),
        position=earnings.position_of(current_user.id),
        as_astrologer=True,
        endpoint="dashboard.sessions",
    ), status


def _history():
    """A page of the astrologer's sessions with what they earned from each (net of refunds)."""
    history = lookup.history(current_user.id, as_astrologer=True, page=request.args.get("page", 1, type=int))
    return {"history": history, "earned": earnings.by_session(current_user.id, history.items)}


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
    if wants_partial():
        return _requests_panel(("error", error.message), error.status)
    flash(error.message, "error")
    return redirect(url_for("dashboard.index"))


@bp.post("/requests/<uuid:session_id>/accept")
@role_required(UserType.ASTROLOGER)
@refusal(_answer_refused)
def accept(session_id):
    lifecycle.accept(session_id, current_user.id)
    room = url_for("consultations.show", session_id=session_id)
    if wants_partial():
        return make_response("", redirect=room)
    return redirect(room, code=303)


@bp.post("/requests/<uuid:session_id>/decline")
@role_required(UserType.ASTROLOGER)
@refusal(_answer_refused)
def decline(session_id):
    lifecycle.decline(session_id, current_user.id)
    message = gettext("Request declined; the user was told and nothing was charged.")
    if wants_partial():
        return _requests_panel(("info", message))
    flash(message, "info")
    return redirect(url_for("dashboard.index"))


@bp.get("/sessions")
@role_required(UserType.ASTROLOGER)
def sessions():
    """The astrologer's session history (paged partial for htmx)."""
    if wants_partial():
        return render_template(
            "consultations/_history.html", **_history(), as_astrologer=True, endpoint="dashboard.sessions"
        )
    return redirect(url_for("dashboard.index"))


CHOOSE_AVAILABILITY = _l("Choose available, unavailable or offline for chat, call or video.")


@bp.post("/availability")
@role_required(UserType.ASTROLOGER)
def availability():
    form = AvailabilityForm()
    if not form.validate_on_submit():
        if wants_partial():
            return _availability_panel(("error", CHOOSE_AVAILABILITY), 422)
        flash(CHOOSE_AVAILABILITY, "error")
        return redirect(url_for("dashboard.index"))
    astrologer_profile.set_availability(current_user.id, form.channel.data, form.status.data)
    message = gettext(
        "%(channel)s: you are now %(status)s.",
        channel=Channel(form.channel.data).label,
        status=label_of(form.status.data),
    )
    if wants_partial():
        return _availability_panel(("success", message))
    flash(message, "success")
    return redirect(url_for("dashboard.index"))


def _profile_again(form):
    """The profile form with its errors: the panel for htmx, else the page."""
    return _profile_panel(form)[0] if wants_partial() else _page(form)[0]


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
        video_rate_per_minute=form.video_rate_per_minute.data,
        max_concurrent_sessions=form.max_concurrent_sessions.data,
        languages=form.languages.data,
        specializations=form.specializations.data,
        about=form.about.data,
    )
    if wants_partial():
        return _profile_panel(notice=("success", gettext("Profile saved. New rates apply to new sessions only.")))
    flash(gettext("Profile saved. New rates apply to new sessions only."), "success")
    return redirect(url_for("dashboard.index"))


def _earnings(form=None):
    """What the earnings page shows."""
    now, own = utcnow(), wallet.wallet_of(current_user.id)
    page = request.args.get("page", 1, type=int)
    sessions = earnings.sessions_page(current_user.id, page)
    return dict(
        periods=earnings.periods(current_user.id, now),
        position=earnings.position(own),
        sessions=sessions,
        reasons=earnings.reversal_reasons(current_user.id, [row.session.id for row in sessions.items]),
        payouts=earnings.payouts_page(current_user.id, request.args.get("payouts_page", 1, type=int)),
        form=form or PayoutForm(payout_id=str(uuid.uuid4()), formdata=None),
        minimum=payouts.minimum(),
        next_request_at=payouts.next_request_at(own.id),
        zone=earnings.zone().key,
    )


def _earnings_csv():
    """Dates with their offset (2026-12-01T10:19+05:30): the file states its zone in every row."""
    zone = earnings.zone()
    header = [("date", "user", "minutes", "gross", "commission", "refunded", "net", "session_id")]
    rows = (
        (row.session.started_at.astimezone(zone).isoformat(timespec="minutes"), row.first_name, row.figures.minutes,
         row.figures.gross, row.figures.commission, row.figures.refunded, row.figures.net, row.session.id)
        for row in earnings.all_sessions(current_user.id)
    )  # fmt: skip
    return csv_response(itertools.chain(header, rows), f"earnings-{utcnow():%Y%m%d-%H%M%S}.csv")


@bp.get("/earnings")
@role_required(UserType.ASTROLOGER)
def earnings_page():
    """Earnings by period and by session, payouts and the payout form; the session table alone for
    htmx (its pager); ?format=csv: every session."""
    if request.args.get("format") == "csv":
        return _earnings_csv()
    return page_or_partial("dashboard/earnings.html", "dashboard/_earnings_sessions.html", **_earnings())


def _payout_refused(error):
    form = PayoutForm()
    form.amount.errors = [error.message]
    return render_template("dashboard/earnings.html", **_earnings(form)), 422


@bp.post("/payouts", endpoint="payouts")
@role_required(UserType.ASTROLOGER)
@refusal(_payout_refused)
def payouts_request():
    """Request a payout of withdrawable earnings (422 naming what is withdrawable when it asks for more)."""
    form = PayoutForm()
    if not form.validate_on_submit():
        return render_template("dashboard/earnings.html", **_earnings(form)), 422
    payouts.request_for(current_user.id, form.amount.data, payout_id=uuid.UUID(form.payout_id.data))
    flash(gettext("Payout requested; the amount is held until an admin approves it and it is sent."), "success")
    return redirect(url_for("dashboard.earnings_page"), code=303)
