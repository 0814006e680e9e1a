"""Consultation routes. A session that is not yours answers 404."""

import uuid

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_htmx import make_response
from flask_login import current_user, login_required

from ...extensions import db, htmx, limiter
from ...models import SessionStatus, UserType
from ...ratelimits import configured, user_or_address
from ...services import chat, marketplace
from ...services.billing import session_bar
from ...services.consultations import lifecycle, lookup, queue, ratings
from ...services.errors import (
    AlreadyInSession,
    DomainError,
    InsufficientBalance,
    SessionNotFound,
)
from ..wallet.forms import PRESETS, TopupForm
from . import bp
from .forms import RatingForm, RequestForm, UserRatingForm


def _session_or_404(session_id):
    try:
        return lookup.get_for_participant(session_id, current_user.id)
    except SessionNotFound:
        abort(404)


def _refused(error, astrologer_id=None):
    db.session.rollback()
    return render_template(
        "consultations/refused.html",
        error=error,
        astrologer_id=astrologer_id,
        recharge=isinstance(error, InsufficientBalance),
        open_session=error.details.get("session_id") if isinstance(error, AlreadyInSession) else None,
    ), error.status


@bp.post("")
@login_required
@limiter.limit(
    configured("RATELIMIT_CONSULTATION_REQUEST"),
    key_func=user_or_address,
    error_message="Too many consultation requests.",
)
def create():
    if current_user.type != UserType.USER:  # before anything else is looked at
        abort(403, "Consultations are started from a user account.")
    form = RequestForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        astrologer_id = uuid.UUID(form.astrologer_id.data)
    except ValueError:
        abort(404)
    try:
        session = lifecycle.request(current_user.id, astrologer_id, form.session_type.data or "chat")
    except AlreadyInSession as error:
        db.session.rollback()  # a lost race broke the transaction: read the winner in a fresh one
        if not error.details.get("session_id"):
            open_session = lookup.open_session_of(current_user.id)
            error.details["session_id"] = str(open_session.id) if open_session else None
        return _refused(error, astrologer_id)
    except DomainError as error:
        return _refused(error, astrologer_id)
    db.session.commit()
    return redirect(url_for("consultations.show", session_id=session.id), code=303)


@bp.get("/<uuid:session_id>")
@login_required
def show(session_id):
    session = _session_or_404(session_id)
    is_user = session.user_id == current_user.id
    if session.status == SessionStatus.WAITING:
        if not is_user:
            return redirect(url_for("dashboard.index"))
        position = queue.queue_position(session)
        return render_template(
            "consultations/waiting.html",
            session=session,
            position=position,
            eta=queue.estimated_wait_seconds(session, position),
        )
    conversation = _conversation(session)
    if session.status == SessionStatus.ACTIVE:
        return render_template(
            "consultations/room.html",
            session=session,
            is_user=is_user,
            state=session_bar.session_state(session, current_user.id),
            form=TopupForm(formdata=None),
            presets=PRESETS,
            **conversation,
        )
    return _summary(session, is_user, conversation)


def _summary(session, is_user, conversation, form=None, user_form=None, error=None, status=200):
    """The summary page: the user may rate the astrologer, the astrologer may rate the user (privately)."""
    completed = session.status == SessionStatus.COMPLETED
    return render_template(
        "consultations/summary.html",
        session=session,
        is_user=is_user,
        **conversation,
        form=form or RatingForm(),
        user_form=user_form or UserRatingForm(),
        can_rate=is_user
        and error is None
        and session.astrologer_rating is None
        and session.billed_minutes >= 1
        and session.total_cost > 0,
        can_rate_user=not is_user and completed and session.user_rating is None,
        suggestions=marketplace.similar_available(session.astrologer_id)
        if is_user and session.status == SessionStatus.CANCELLED and form is None
        else [],
        error=error,
    ), status


@bp.post("/<uuid:session_id>/cancel")
@login_required
def cancel(session_id):
    session = _session_or_404(session_id)
    if session.user_id != current_user.id:
        abort(404)
    try:
        lifecycle.cancel(session_id, current_user.id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("consultations.show", session_id=session_id), code=303)
    db.session.commit()
    flash("Your request was cancelled and the held amount released.", "info")
    return redirect(url_for("consultations.show", session_id=session_id), code=303)


@bp.post("/<uuid:session_id>/end")
@login_required
def end(session_id):
    _session_or_404(session_id)
    try:
        lifecycle.end(session_id, by_user_id=current_user.id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
    summary = url_for("consultations.show", session_id=session_id)
    if htmx:
        return make_response("", redirect=summary)  # a whole-page navigation to the summary
    return redirect(summary, code=303)


@bp.post("/<uuid:session_id>/rating")
@login_required
def rating(session_id):
    session = _session_or_404(session_id)
    if session.user_id != current_user.id:
        abort(403, "Only the user who consulted rates a consultation.")
    form = RatingForm()
    return _rated(
        session,
        form,
        lambda stars: ratings.rate(session_id, current_user.id, stars, form.review.data),
        "Thank you for your rating.",
    )


@bp.post("/<uuid:session_id>/user-rating")
@login_required
def user_rating(session_id):
    """The astrologer's private rating of the user of a completed consultation."""
    session = _session_or_404(session_id)
    if session.astrologer_id != current_user.id:
        abort(403, "Only the astrologer of a consultation rates its user.")
    return _rated(
        session,
        UserRatingForm(),
        lambda stars: ratings.rate_user(session_id, current_user.id, stars),
        "Saved. Only the support team sees your rating of users.",
    )


def _rated(session, form, rate, thanks):
    """Apply a summary page's rating form with `rate(stars)`: back to the summary when it went through,
    the summary with the form's errors or the refusal (422) when not."""
    error = None
    if form.validate_on_submit():
        try:
            rate(int(form.rating.data))
        except DomainError as refused:
            db.session.rollback()
            error = refused.message
        else:
            db.session.commit()
            flash(thanks, "success")
            return redirect(url_for("consultations.show", session_id=session.id), code=303)
    is_user = session.user_id == current_user.id
    forms = {"form": form} if is_user else {"user_form": form}
    return _summary(session, is_user, _conversation(session), error=error, status=422, **forms)


def _conversation(session):
    """The stored messages, and how far the other participant has received and read them (for the ticks)."""
    other = str(session.astrologer_id if session.user_id == current_user.id else session.user_id)
    return {
        "messages": chat.history(session.id, limit=None),
        "other_read_seq": chat.read_state(session.id).get(other, 0),
        "other_delivered_seq": chat.delivery_state(session.id).get(other, 0),
    }


@bp.get("/<uuid:session_id>/messages")
@login_required
def messages(session_id):
    """Messages after `after_seq`, in order: JSON for clients that ask for it, the list items otherwise."""
    session = _session_or_404(session_id)
    after_seq = max(request.args.get("after_seq", 0, type=int) or 0, 0)
    found = chat.history(session.id, after_seq=after_seq)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            session_id=str(session.id),
            messages=[chat.serialize(m) for m in found],
            has_more=len(found) == chat.HISTORY_LIMIT,
        )
    conversation = _conversation(session)
    return render_template(
        "consultations/_messages.html",
        messages=found,
        other_read_seq=conversation["other_read_seq"],
        other_delivered_seq=conversation["other_delivered_seq"],
    )


@bp.get("/<uuid:session_id>/transcript.txt")
@login_required
def transcript(session_id):
    session = _session_or_404(session_id)
    names = {session.user_id: session.user.name, session.astrologer_id: session.astrologer.name}
    return Response(
        chat.transcript(session, names),
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="consultation-{session.id}.txt"'},
    )


@bp.get("")
@login_required
def history():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    as_astrologer = current_user.type == UserType.ASTROLOGER
    sessions = lookup.history(current_user.id, as_astrologer=as_astrologer, page=page)
    template = (
        "consultations/_history.html" if htmx and not htmx.history_restore_request else "consultations/history.html"
    )
    return render_template(template, history=sessions, as_astrologer=as_astrologer, endpoint="consultations.history")
